package convotest

import (
	"encoding/json"
	"maps"
	"slices"

	"github.com/convokit/convo"
)

// Dataset is the data a [Server] serves, in convo's own model types; the
// server renders it in its provider's wire form. Build one with
// [NewDataset] and its Add methods, as a literal, or start from
// [DemoDataset].
//
// Conversations are listed in the order they appear here (the demo data is
// sorted newest activity first, as every provider lists them). Each
// conversation's messages are in chronological order, oldest first; a
// provider that lists messages newest first (Vobiz, Rentalot) gets them
// reversed. Conversation ids should be unique: only the first of a repeated
// id can be fetched.
//
// Fields are rendered as given; only the fields of the server's provider
// are used. Where a provider's wire form needs a value the model leaves
// zero, the server derives it: a message's conversation id, channel and
// numbers from its conversation; Vobiz content as {"body": Body}; zero
// timestamps are sent as null. Vobiz omits a message's conversation_id when
// its ConversationID is empty, as its documents allow.
type Dataset struct {
	Conversations []ConversationData
}

// ConversationData is one conversation of a [Dataset] with its messages.
type ConversationData struct {
	Conversation convo.Conversation
	// Messages are the conversation's messages, oldest first.
	Messages []convo.Message
	// ContactName is the contact's display name, which Rentalot's search
	// results carry ("" is sent as null).
	ContactName string
}

// NewDataset returns an empty dataset.
func NewDataset() *Dataset { return &Dataset{} }

// AddConversation appends a conversation with its messages (oldest first)
// and returns d.
func (d *Dataset) AddConversation(c convo.Conversation, msgs ...convo.Message) *Dataset {
	d.Conversations = append(d.Conversations, ConversationData{Conversation: c, Messages: msgs})
	return d
}

// AddMessages appends messages (oldest first) to the conversation with
// the given id and returns d. A conversation with only that id is appended
// first when there is none.
func (d *Dataset) AddMessages(conversationID string, msgs ...convo.Message) *Dataset {
	for i := range d.Conversations {
		if d.Conversations[i].Conversation.ID == conversationID {
			d.Conversations[i].Messages = append(d.Conversations[i].Messages, msgs...)
			return d
		}
	}
	return d.AddConversation(convo.Conversation{ID: conversationID}, msgs...)
}

// Conversation returns the conversation with the given id.
func (d *Dataset) Conversation(id string) (ConversationData, bool) {
	for _, c := range d.Conversations {
		if c.Conversation.ID == id {
			return c, true
		}
	}
	return ConversationData{}, false
}

// MessageCount returns the number of messages of all conversations.
func (d *Dataset) MessageCount() int {
	n := 0
	for _, c := range d.Conversations {
		n += len(c.Messages)
	}
	return n
}

// Clone returns a deep copy of d.
func (d *Dataset) Clone() *Dataset {
	if d == nil {
		return &Dataset{}
	}
	out := &Dataset{Conversations: make([]ConversationData, len(d.Conversations))}
	for i, c := range d.Conversations {
		c.Conversation = cloneConversation(c.Conversation)
		c.Messages = slices.Clone(c.Messages)
		for j := range c.Messages {
			cloneMessageRefs(&c.Messages[j])
		}
		out.Conversations[i] = c
	}
	return out
}

func cloneConversation(c convo.Conversation) convo.Conversation {
	c.Tags = slices.Clone(c.Tags)
	c.Unreadable = slices.Clone(c.Unreadable)
	c.Metadata = maps.Clone(c.Metadata)
	if c.Consent != nil {
		consent := *c.Consent
		c.Consent = &consent
	}
	return c
}

func cloneMessage(m convo.Message) convo.Message {
	cloneMessageRefs(&m)
	return m
}

// cloneMessageRefs gives m copies of the slices it shares with another
// message.
func cloneMessageRefs(m *convo.Message) {
	if m.Payload != nil {
		m.Payload = json.RawMessage(slices.Clone([]byte(m.Payload)))
	}
	if m.Metadata != nil {
		m.Metadata = json.RawMessage(slices.Clone([]byte(m.Metadata)))
	}
	if m.MediaURLs != nil {
		m.MediaURLs = slices.Clone(m.MediaURLs)
	}
	if m.Unreadable != nil {
		m.Unreadable = slices.Clone(m.Unreadable)
	}
}
