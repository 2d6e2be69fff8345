package convotest

import (
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/convokit/convo"
)

// Live data: a test may change what a running Server serves, between
// requests or during them (from another goroutine, or from a hook given
// with [WithRequestHook]), the way a real account changes while a client
// reads it. Each change is atomic: a request sees the data before it or
// after it. A conversation that gets new messages has its activity fields
// moved as the provider would move them and, where the provider lists
// conversations by activity, moves to its place in the list.

// WithRequestHook calls fn with each request as it arrives, before it is
// answered (and before any latency), on the request's goroutine. fn may
// change the server's data ([Server.AddMessages] and the like): the
// request is then answered from the changed data. It must be safe for
// concurrent use when requests are sent concurrently.
func WithRequestHook(fn func(Request)) Option {
	return func(c *config) { c.hook = fn }
}

// ErrUnknownConversation is returned by the changes that name a
// conversation the server does not serve.
var ErrUnknownConversation = errors.New("convotest: no such conversation")

// AddMessages appends msgs (oldest first, normally newer than the
// conversation's messages) to the conversation with the given id while the
// server runs. The conversation's activity fields follow, as the provider
// would move them: LastMessageAt (and Rentalot's UpdatedAt) to the newest
// message's time if later, MessageCount by the number added, UnreadCount
// (VantaxAI) by the inbound ones, and AgentMessage's last-message
// direction and preview. Where the provider lists conversations by
// activity (VantaxAI, Rentalot, AgentMessage), the conversation moves to
// its place in that order: first, for the newest activity. Vobiz documents
// no order; its list keeps its order.
//
// A message needs an id that the conversation does not hold yet. An error
// (wrapping [ErrUnknownConversation] for an unknown id) changes nothing.
func (s *Server) AddMessages(conversationID string, msgs ...convo.Message) error {
	s.dataMu.Lock()
	defer s.dataMu.Unlock()
	i, ok := s.index[conversationID]
	if !ok {
		return fmt.Errorf("%w: %q", ErrUnknownConversation, conversationID)
	}
	c := &s.data.Conversations[i]
	if err := checkNewMessages(c.Messages, msgs); err != nil {
		return err
	}
	appendMessages(c, msgs)
	s.place(i)
	return nil
}

// AddConversation adds a conversation with its messages (oldest first)
// while the server runs. Its activity fields are derived from the messages
// when they are zero (see [Server.AddMessages]); where the provider lists
// conversations by activity it takes its place in that order, otherwise it
// is listed last. Its id must be new and not empty.
func (s *Server) AddConversation(c convo.Conversation, msgs ...convo.Message) error {
	if c.ID == "" {
		return errors.New("convotest: AddConversation: empty conversation id")
	}
	s.dataMu.Lock()
	defer s.dataMu.Unlock()
	if _, dup := s.index[c.ID]; dup {
		return fmt.Errorf("convotest: AddConversation: conversation %q exists", c.ID)
	}
	if err := checkNewMessages(nil, msgs); err != nil {
		return err
	}
	cd := ConversationData{Conversation: cloneConversation(c)}
	if !c.LastMessageAt.IsZero() || c.MessageCount != 0 {
		// Activity fields given: keep them, and the messages as they are.
		for _, m := range msgs {
			cd.Messages = append(cd.Messages, cloneMessage(m))
		}
	} else {
		appendMessages(&cd, msgs)
	}
	s.data.Conversations = append(s.data.Conversations, cd)
	s.reindex()
	s.place(len(s.data.Conversations) - 1)
	return nil
}

// UpdateConversation replaces the record of the conversation with c.ID,
// keeping its messages and its place in the list: a change that moves no
// activity field, such as a Vobiz status or a VantaxAI tag. The provider's
// documented effects follow as for [Server.ChangeConversation] (Rentalot
// moves updatedAt, unless c changes it).
func (s *Server) UpdateConversation(c convo.Conversation) error {
	return s.ChangeConversation(c.ID, func(rec *convo.Conversation) { *rec = cloneConversation(c) })
}

// UpdateMessage replaces the record of the message with m.ID in the
// conversation with the given id, keeping its place: a change such as a
// delivery status, with the provider's documented effects as for
// [Server.ChangeMessage].
func (s *Server) UpdateMessage(conversationID string, m convo.Message) error {
	return s.ChangeMessage(conversationID, m.ID, func(rec *convo.Message) { *rec = cloneMessage(m) })
}

// RemoveMessages deletes the messages with the given ids from a
// conversation, as a retention window would, leaving its activity fields
// as they are. A VantaxAI starting_after naming a removed message is then
// refused, as an unknown id is. Ids it does not hold are ignored.
func (s *Server) RemoveMessages(conversationID string, ids ...string) error {
	s.dataMu.Lock()
	defer s.dataMu.Unlock()
	c, err := s.knownConversation(conversationID)
	if err != nil {
		return err
	}
	c.Messages = slices.DeleteFunc(c.Messages, func(m convo.Message) bool { return slices.Contains(ids, m.ID) })
	return nil
}

// ExpireCursors makes every opaque page cursor handed out so far invalid
// (Vobiz and AgentMessage next_cursor): a request that sends one is
// refused with the provider's validation error, as an expired cursor is.
// Page numbers and starting_after ids are not cursors and stay valid.
func (s *Server) ExpireCursors() {
	s.dataMu.Lock()
	defer s.dataMu.Unlock()
	s.epoch++
}

// checkNewMessages refuses a message without an id or with an id that
// existing or an earlier new message holds.
func checkNewMessages(existing, msgs []convo.Message) error {
	seen := make(map[string]bool, len(existing)+len(msgs))
	for _, m := range existing {
		seen[m.ID] = true
	}
	for _, m := range msgs {
		switch {
		case m.ID == "":
			return errors.New("convotest: a message needs an id")
		case seen[m.ID]:
			return fmt.Errorf("convotest: message %q exists", m.ID)
		}
		seen[m.ID] = true
	}
	return nil
}

// appendMessages appends copies of msgs to c and moves its activity fields.
func appendMessages(c *ConversationData, msgs []convo.Message) {
	conv := &c.Conversation
	for _, m := range msgs {
		c.Messages = append(c.Messages, cloneMessage(m))
		at := firstTime(m.SentAt, m.CreatedAt)
		if at.After(conv.LastMessageAt) {
			conv.LastMessageAt = at
		}
		if at.After(conv.UpdatedAt) {
			conv.UpdatedAt = at
		}
		conv.MessageCount++
		if m.Direction == convo.Inbound {
			conv.UnreadCount++
		}
		conv.LastMessageDirection = m.Direction
		conv.LastMessagePreview = preview(m.Body)
		conv.LastMessageBodyRedactedAt = time.Time{}
	}
}

// place moves the conversation at index i to its place in the list when
// the provider lists by activity (newest first, before any with the same
// activity), then rebuilds the index. s.dataMu is held.
func (s *Server) place(i int) {
	if !s.api.listsByActivity() {
		return
	}
	convs := s.data.Conversations
	c := convs[i]
	convs = slices.Delete(convs, i, i+1)
	at := lastActivity(&c)
	j := 0
	for j < len(convs) && lastActivity(&convs[j]).After(at) {
		j++
	}
	s.data.Conversations = slices.Insert(convs, j, c)
	s.reindex()
}

// reindex rebuilds the id index: the first of a repeated id wins.
// s.dataMu is held (or the server is not serving yet).
func (s *Server) reindex() {
	s.index = make(map[string]int, len(s.data.Conversations))
	for i, c := range s.data.Conversations {
		if _, dup := s.index[c.Conversation.ID]; !dup {
			s.index[c.Conversation.ID] = i
		}
	}
}

// conversation returns the conversation with the given id. s.dataMu is
// held.
func (s *Server) conversation(id string) (*ConversationData, bool) {
	i, ok := s.index[id]
	if !ok {
		return nil, false
	}
	return &s.data.Conversations[i], true
}

// knownConversation is conversation, with an error wrapping
// [ErrUnknownConversation] for an id the server does not hold. s.dataMu is
// held.
func (s *Server) knownConversation(id string) (*ConversationData, error) {
	c, ok := s.conversation(id)
	if !ok {
		return nil, fmt.Errorf("%w: %q", ErrUnknownConversation, id)
	}
	return c, nil
}
