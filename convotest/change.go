package convotest

import (
	"errors"
	"fmt"
	"time"

	"github.com/convokit/convo"
)

// Changes in place: a test may change a conversation's record or a
// message's record while the server runs, the way an account changes
// without any new message (a conversation closed, tagged or read; a
// delivery status that moves; a body removed by a retention window). Each
// change is atomic, like those of live.go, and has exactly the effects on
// the wire that the provider documents for it, and no other: the record
// served changes, and the provider's own consequences follow (its fake
// file says which).

// ErrUndocumentedChange is returned by a change the server's provider does
// not document, such as a redaction on a provider without a retention
// window.
var ErrUndocumentedChange = errors.New("convotest: the provider documents no such change")

// ErrUnknownMessage is returned by the changes that name a message the
// conversation does not hold.
var ErrUnknownMessage = errors.New("convotest: no such message")

// ChangeConversation changes the record of the conversation with the
// given id in place while the server runs: fn edits a copy of the record
// (a status, tags, metadata, an unread count, consent, a category…), which
// then replaces it atomically. The provider's documented effects follow:
// Rentalot moves updatedAt to the server's clock (later than before),
// unless fn sets it;
// no other provider moves an activity field (last-message time, counts)
// on its own, and the conversation keeps its place in the list. fn must
// not change the id; an error (wrapping [ErrUnknownConversation] for an
// unknown id) changes nothing.
func (s *Server) ChangeConversation(id string, fn func(*convo.Conversation)) error {
	s.dataMu.Lock()
	defer s.dataMu.Unlock()
	c, err := s.knownConversation(id)
	if err != nil {
		return err
	}
	rec := cloneConversation(c.Conversation)
	fn(&rec)
	if rec.ID != id {
		return fmt.Errorf("convotest: ChangeConversation: the id changed from %q to %q", id, rec.ID)
	}
	s.api.conversationChanged(&rec, &c.Conversation, time.Now())
	c.Conversation = rec
	return nil
}

// ChangeMessage changes the record of one message in place while the
// server runs: fn edits a copy of the message (a delivery status,
// metadata…), which then replaces it atomically. The provider's documented
// effects follow (see [Server.RedactMessage] for AgentMessage's
// redaction, which ChangeMessage applies too when fn sets RedactedAt);
// the conversation's activity fields and place do not move. fn must not
// change the id. An error (wrapping [ErrUnknownConversation] or
// [ErrUnknownMessage]) changes nothing.
func (s *Server) ChangeMessage(conversationID, messageID string, fn func(*convo.Message)) error {
	s.dataMu.Lock()
	defer s.dataMu.Unlock()
	c, j, err := s.message(conversationID, messageID)
	if err != nil {
		return err
	}
	m := cloneMessage(c.Messages[j])
	fn(&m)
	if m.ID != messageID {
		return fmt.Errorf("convotest: ChangeMessage: the id changed from %q to %q", messageID, m.ID)
	}
	if !s.api.messageChanged(c, &m, j == len(c.Messages)-1) {
		return fmt.Errorf("%w: %s: a message's redaction", ErrUndocumentedChange, s.provider.Name())
	}
	c.Messages[j] = m
	return nil
}

// RedactMessage removes a message's body as AgentMessage's retention
// window does, at time at: on the wire its body becomes null, redacted_at
// is set and media_urls is emptied; when it is the conversation's newest
// message, the conversation's last_message_preview becomes "[redacted]"
// and last_message_body_redacted_at is set. No activity field moves. Only
// AgentMessage documents it: on another provider it returns an error
// wrapping [ErrUndocumentedChange] and changes nothing.
func (s *Server) RedactMessage(conversationID, messageID string, at time.Time) error {
	if at.IsZero() {
		return errors.New("convotest: RedactMessage: zero time")
	}
	return s.ChangeMessage(conversationID, messageID, func(m *convo.Message) { m.RedactedAt = at })
}

// message returns the conversation and the index of its message with the
// given id. s.dataMu is held.
func (s *Server) message(conversationID, messageID string) (*ConversationData, int, error) {
	c, err := s.knownConversation(conversationID)
	if err != nil {
		return nil, 0, err
	}
	for j := range c.Messages {
		if c.Messages[j].ID == messageID {
			return c, j, nil
		}
	}
	return nil, 0, fmt.Errorf("%w: %q in conversation %q", ErrUnknownMessage, messageID, conversationID)
}

// laterThan returns now, or just after before when now is not later (a
// record whose times lie ahead of the server's clock).
func laterThan(now, before time.Time) time.Time {
	if now.After(before) {
		return now
	}
	return before.Add(time.Millisecond)
}
