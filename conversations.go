package convo

import (
	"context"
	"net/url"
	"strings"
	"time"
	"unicode"
)

// ConversationService lists and fetches conversations. Get it from
// [Client.Conversations].
type ConversationService struct{ c *Client }

// ConversationListParams filters and pages a conversation list. The zero
// value (or a nil pointer) lists every conversation with the provider's
// default page size. A filter the provider does not document is refused
// with an error wrapping [ErrUnsupported]; it is never silently dropped.
type ConversationListParams struct {
	PageSize      int       // sent as the provider's "limit"; 0 = provider default
	Cursor        string    // resume from a Pager.Cursor() value; PageSize then 0 or the one it was made with
	Status        string    // VantaxAI (open, pending, closed), Rentalot (active, archived)
	Channel       string    // VantaxAI: sms, whatsapp, facebook, instagram, email
	ContactID     string    // Rentalot
	SubAccountID  string    // VantaxAI
	PhoneNumberID string    // AgentMessage
	ContactNumber string    // AgentMessage
	Since         time.Time // AgentMessage: conversations active since then
	OptedIn       *bool     // AgentMessage: filter on consent
}

// Conversation is a thread between one of the account's channels or numbers
// and one contact. The first six fields are filled for every provider from
// the nearest documented field; the others are the provider-specific fields,
// zero when the provider does not send them.
//
// The JSON form (snake_case keys, empty fields left out) is convo's own, for
// storing and exporting; it is no provider's wire form.
type Conversation struct {
	ID            string    `json:"id,omitempty"`
	ContactID     string    `json:"contact_id,omitempty"`     // AgentMessage: the contact number, its only contact key
	Channel       string    `json:"channel,omitempty"`        // Vobiz: always "whatsapp"; AgentMessage: empty
	Status        string    `json:"status,omitempty"`         // AgentMessage: empty
	LastMessageAt time.Time `json:"last_message_at,omitzero"` // zero when unknown
	CreatedAt     time.Time `json:"created_at,omitzero"`      // Vobiz: started_at; AgentMessage: zero

	// Vobiz.
	AccountID  string    `json:"account_id,omitempty"` // MA_…
	ChannelID  string    `json:"channel_id,omitempty"` // the WhatsApp channel
	Category   string    `json:"category,omitempty"`   // service, marketing, utility, authentication
	IsBillable bool      `json:"is_billable,omitzero"` // billable under WhatsApp pricing
	StartedAt  time.Time `json:"started_at,omitzero"`  // also Rentalot's startedAt
	ExpiresAt  time.Time `json:"expires_at,omitzero"`  // when the conversation window closes

	// VantaxAI.
	SubAccountID string            `json:"sub_account_id,omitempty"`
	Tags         []string          `json:"tags,omitempty"`
	Metadata     map[string]string `json:"metadata,omitempty"`
	UnreadCount  int               `json:"unread_count,omitzero"`

	// Rentalot.
	PropertyID   string    `json:"property_id,omitempty"`
	MessageCount int       `json:"message_count,omitzero"` // also AgentMessage's message_count
	UpdatedAt    time.Time `json:"updated_at,omitzero"`

	// AgentMessage.
	PhoneNumberID             string    `json:"phone_number_id,omitempty"`
	PhoneNumber               string    `json:"phone_number,omitempty"`   // your number
	ContactNumber             string    `json:"contact_number,omitempty"` // the contact's number
	LastMessageDirection      Direction `json:"last_message_direction,omitempty"`
	LastMessagePreview        string    `json:"last_message_preview,omitempty"`         // "[redacted]" once the retention window removed the body
	LastMessageBodyRedactedAt time.Time `json:"last_message_body_redacted_at,omitzero"` // zero unless redacted
	Consent                   *Consent  `json:"consent,omitempty"`                      // nil when the provider sends none

	// Unreadable lists the fields the server sent in a form convo could not
	// read (a timestamp in no known format); each is left zero. nil when
	// every field was read. See [UnreadableField].
	Unreadable []UnreadableField `json:"unreadable,omitempty"`
}

// Consent is an AgentMessage contact's messaging consent.
type Consent struct {
	OptedIn   bool      `json:"opted_in"`
	OptedInAt time.Time `json:"opted_in_at,omitzero"`
}

func conversationID(c *Conversation) string { return c.ID }

// List returns a pager over the conversations matching p, in the provider's
// order: GET /conversations, with the filters the provider declares
// ([Provider.Filters]). The doc of each provider's variable names its
// parameters, its order and its documentation.
//
// Invalid or unsupported parameters are reported by the first step of the
// iteration, before any request: a filter the provider does not document
// wraps [ErrUnsupported], a value outside a documented set [ErrInvalidParams].
func (s *ConversationService) List(ctx context.Context, p *ConversationListParams) *Pager[Conversation] {
	d := s.c.provider.d
	if p == nil {
		p = &ConversationListParams{}
	}
	q, err := encodeFilters(d.name, d.conversationFilters, p)
	return newPager(ctx, s.c, pagerParams[Conversation]{ep: &d.conversations, filters: q, pageSize: p.PageSize, cursor: p.Cursor, err: err})
}

// Get returns one conversation: GET /conversations/{id}. A provider that
// does not document it ([Provider.Supports] with [OpGetConversation])
// answers an error wrapping [ErrUnsupported]. A conversation that does not exist (or belongs to another
// tenant) is an [*APIError] matching [ErrNotFound].
func (s *ConversationService) Get(ctx context.Context, id string) (*Conversation, error) {
	d := s.c.provider.d
	ep := d.getConversation
	if ep == nil {
		return nil, unsupported(d.name, "GET /conversations/{id}")
	}
	if err := checkID(d.name, "conversation id", id); err != nil {
		return nil, err
	}
	if ctx == nil {
		ctx = context.Background()
	}
	resp, err := s.c.get(ctx, ep.path(url.PathEscape(id)), "", "")
	if err != nil {
		return nil, err
	}
	defer resp.release()
	conv, err := ep.decode(resp.body())
	if err != nil {
		return nil, emptyResponseError(d.name, ep.path(url.PathEscape(id)), resp, err)
	}
	return &conv, nil
}

// checkID refuses ids that cannot be sent as one path segment: empty, "." or
// "..", or holding a control character. Every other id is sent unmodified,
// escaped as one segment.
func checkID(provider, what, id string) error {
	switch {
	case id == "":
		return invalidParams("%s: empty %s", provider, what)
	case id == "." || id == "..":
		return invalidParams("%s: %s %q is a path traversal", provider, what, id)
	case strings.IndexFunc(id, unicode.IsControl) >= 0:
		return invalidParams("%s: %s %q holds a control character", provider, what, id)
	}
	return nil
}
