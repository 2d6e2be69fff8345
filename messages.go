package convo

import (
	"context"
	"encoding/json"
	"time"
)

// MessageService lists the messages of a conversation. Get it from
// [Client.Messages].
type MessageService struct{ c *Client }

// MessageListParams pages a message list. The zero value (or a nil pointer)
// lists every message with the provider's default page size.
type MessageListParams struct {
	PageSize int    // sent as the provider's "limit"; 0 = provider default
	Cursor   string // resume from a Pager.Cursor() value; PageSize then 0 or the one it was made with
}

// Direction is the direction of a message.
type Direction string

// The two directions every provider uses.
const (
	Inbound  Direction = "inbound"  // from the contact
	Outbound Direction = "outbound" // from the account (agent, AI, or a person)
)

// Message is one message of a conversation. The first five fields are
// filled for every provider; the others are the provider-specific fields,
// zero when the provider does not send them.
type Message struct {
	ID             string    `json:"id,omitempty"`
	ConversationID string    `json:"conversation_id,omitempty"` // the listed conversation when the wire form lacks it
	Direction      Direction `json:"direction,omitempty"`
	Body           string    `json:"body,omitempty"`   // the text, whatever the provider's wire form; empty once redacted
	SentAt         time.Time `json:"sent_at,omitzero"` // the message's own timestamp

	Channel   string    `json:"channel,omitempty"`   // Vobiz: always "whatsapp"
	Status    string    `json:"status,omitempty"`    // Vobiz: pending, sent, delivered, read, failed; VantaxAI: as sent
	Content   string    `json:"content,omitempty"`   // the provider's content field as sent (Vobiz: a JSON-encoded string)
	CreatedAt time.Time `json:"created_at,omitzero"` // the record's creation time where the provider sends one

	// Vobiz.
	AccountID     string          `json:"account_id,omitempty"`
	ChannelID     string          `json:"channel_id,omitempty"`
	ContactID     string          `json:"contact_id,omitempty"`
	Type          string          `json:"type,omitempty"`            // text, image, document, template, …
	MetaMessageID string          `json:"meta_message_id,omitempty"` // wamid…
	Payload       json.RawMessage `json:"payload,omitempty"`         // the decoded content object (media fields live here); nil when content is not JSON

	// VantaxAI.
	Subject    string   `json:"subject,omitempty"`     // email
	SenderType string   `json:"sender_type,omitempty"` // contact, ai
	MediaURLs  []string `json:"media_urls,omitempty"`  // VantaxAI media_url, AgentMessage media_urls

	// Rentalot.
	Metadata json.RawMessage `json:"metadata,omitempty"` // nil when null or absent

	// AgentMessage.
	PhoneNumberID string    `json:"phone_number_id,omitempty"`
	FromNumber    string    `json:"from_number,omitempty"`
	ToNumber      string    `json:"to_number,omitempty"`
	SegmentCount  int       `json:"segment_count,omitzero"`
	RedactedAt    time.Time `json:"redacted_at,omitzero"` // zero unless the retention window removed the body

	// Unreadable lists the fields the server sent in a form convo could not
	// read (a timestamp in no known format); each is left zero. nil when
	// every field was read. See [UnreadableField].
	Unreadable []UnreadableField `json:"unreadable,omitempty"`
}

func messageID(m *Message) string { return m.ID }

// List returns a pager over the messages of a conversation, in the
// provider's order (newest or oldest first): GET
// /conversations/{id}/messages. The doc of each provider's variable names
// its parameters, its page sizes ([Provider.PageSizeRange]), its order and
// its documentation.
//
// The id is sent unmodified as one escaped path segment (opaque ids
// included). An invalid id or page size is reported by
// the first step of the iteration, before any request.
func (s *MessageService) List(ctx context.Context, conversationID string, p *MessageListParams) *Pager[Message] {
	d := s.c.provider.d
	if p == nil {
		p = &MessageListParams{}
	}
	err := checkID(d.name, "conversation id", conversationID)
	return newPager(ctx, s.c, pagerParams[Message]{ep: &d.messages, scope: conversationID, pageSize: p.PageSize, cursor: p.Cursor, err: err})
}
