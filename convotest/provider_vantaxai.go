package convotest

import (
	"cmp"
	"net/http"
	"strings"
	"time"

	"github.com/convokit/convo"
)

// VantaxAI: bearer vx_live_… key (or x-api-key); lists
// {"success":true,"data":[…],"pagination":{"total","limit","has_more"}} paged
// with starting_after; errors {"success":false,"message"} and, on 422, an
// "errors" array.
type vantaxAPI struct{ s *Server }

func newVantax(s *Server) api { return vantaxAPI{s} }

func (vantaxAPI) auth() convo.Authenticator { return convo.Bearer(DemoVantaxAIKey) }

func (vantaxAPI) authorized(h http.Header) bool {
	if tok, ok := bearerToken(h); ok {
		return equal(tok, DemoVantaxAIKey)
	}
	return h.Get("X-Api-Key") != "" && equal(h.Get("X-Api-Key"), DemoVantaxAIKey)
}

func (vantaxAPI) unauthorized(h http.Header) *apiError {
	if _, ok := bearerToken(h); !ok && h.Get("X-Api-Key") == "" {
		return &apiError{kind: errUnauthorized, message: "Missing API key"}
	}
	return &apiError{kind: errUnauthorized, message: "Invalid API key"}
}

type vantaxError struct {
	Success bool         `json:"success"`
	Message string       `json:"message"`
	Errors  []fieldError `json:"errors,omitempty"`
}

func (vantaxAPI) renderError(_ int, e *apiError) (int, string, any) {
	body := vantaxError{Message: e.message}
	var status int
	switch e.kind {
	case errUnauthorized:
		status = http.StatusUnauthorized
	case errNotFound:
		status = http.StatusNotFound
	case errMalformed, errInvalid:
		status = http.StatusUnprocessableEntity
		body.Message = "Validation failed"
		body.Errors = e.details
		if body.Errors == nil {
			body.Errors = []fieldError{}
		}
	case errRateLimited:
		status = http.StatusTooManyRequests
	case errMethod:
		status = http.StatusMethodNotAllowed
	case errStatus:
		// VantaxAI documents its codes but no field for them: the
		// message is the code.
		status, body.Message = e.status, statusCode(e.status, vantaxCodes, strings.ToLower)
		if status == http.StatusUnprocessableEntity {
			body.Errors = []fieldError{}
		}
	default:
		status = max(e.status, http.StatusInternalServerError)
	}
	return status, "application/json; charset=utf-8", body
}

// vantaxCodes are VantaxAI's documented error codes by status.
var vantaxCodes = map[int]string{
	400: "validation_failed", 401: "unauthorized", 402: "subscription_required", 403: "forbidden_scope",
	404: "not_found", 409: "conflict", 422: "validation_failed", 429: "rate_limited",
}

func (vantaxAPI) decorate(int, http.Header) {}

func (vantaxAPI) rateLimit() (int, string) { return 0, "" }

// VantaxAI lists conversations by last_message_at, newest first.
func (vantaxAPI) listsByActivity() bool { return true }

type vantaxList[T any] struct {
	Success    bool `json:"success"`
	Data       []T  `json:"data"`
	Pagination struct {
		Total   int  `json:"total"`
		Limit   int  `json:"limit"`
		HasMore bool `json:"has_more"`
	} `json:"pagination"`
}

// page returns the window after starting_after.
func vantaxPage(n int, id func(int) string, after string, limit int) (from, to int, err *apiError) {
	start := 0
	if after != "" {
		var ok bool
		if start, ok = indexAfter(id, n, after); !ok {
			return 0, 0, invalid("starting_after", "no such id in this list")
		}
	}
	from, to = window(n, start, limit)
	return from, to, nil
}

func (a vantaxAPI) listConversations(raw string) (any, *apiError) {
	p, err := parseParams(raw, "sub_account_id", "channel", "status", "limit", "starting_after")
	if err != nil {
		return nil, err
	}
	limit, err := p.integer("limit", 20, 1, 100)
	if err != nil {
		return nil, err
	}
	channel, err := p.enum("channel", "sms", "whatsapp", "facebook", "instagram", "email")
	if err != nil {
		return nil, err
	}
	status, err := p.enum("status", "open", "pending", "closed")
	if err != nil {
		return nil, err
	}
	sub := p.str("sub_account_id")
	var convs []*convo.Conversation
	for i := range a.s.data.Conversations {
		c := &a.s.data.Conversations[i].Conversation
		if (sub == "" || c.SubAccountID == sub) && (channel == "" || c.Channel == channel) && (status == "" || c.Status == status) {
			convs = append(convs, c)
		}
	}
	limit = a.s.capLimit(limit)
	from, to, err := vantaxPage(len(convs), func(i int) string { return convs[i].ID }, p.str("starting_after"), limit)
	if err != nil {
		return nil, err
	}
	out := vantaxList[vantaxConversation]{Success: true, Data: make([]vantaxConversation, 0, to-from)}
	for _, c := range convs[from:to] {
		out.Data = append(out.Data, renderVantaxConversation(c))
	}
	out.Pagination.Total, out.Pagination.Limit, out.Pagination.HasMore = len(convs), limit, to < len(convs)
	return out, nil
}

func (a vantaxAPI) getConversation(id, raw string) (any, *apiError, bool) {
	if _, err := parseParams(raw); err != nil {
		return nil, err, true
	}
	conv, ok := a.s.conversation(id)
	if !ok {
		return nil, &apiError{kind: errNotFound, message: "Conversation not found"}, true
	}
	return struct {
		Success bool               `json:"success"`
		Data    vantaxConversation `json:"data"`
	}{true, renderVantaxConversation(&conv.Conversation)}, nil, true
}

func (vantaxAPI) search(string) (any, *apiError, bool) { return nil, nil, false }

func (a vantaxAPI) listMessages(id, raw string) (any, *apiError) {
	conv, ok := a.s.conversation(id)
	if !ok {
		return nil, &apiError{kind: errNotFound, message: "Conversation not found"}
	}
	p, err := parseParams(raw, "limit", "starting_after")
	if err != nil {
		return nil, err
	}
	limit, err := p.integer("limit", 50, 1, 100)
	if err != nil {
		return nil, err
	}
	msgs := conv.Messages // oldest first
	limit = a.s.capLimit(limit)
	from, to, err := vantaxPage(len(msgs), func(i int) string { return msgs[i].ID }, p.str("starting_after"), limit)
	if err != nil {
		return nil, err
	}
	out := vantaxList[vantaxMessage]{Success: true, Data: make([]vantaxMessage, 0, to-from)}
	for i := from; i < to; i++ {
		out.Data = append(out.Data, renderVantaxMessage(conv, &msgs[i]))
	}
	out.Pagination.Total, out.Pagination.Limit, out.Pagination.HasMore = len(msgs), limit, to < len(msgs)
	return out, nil
}

type vantaxConversation struct {
	ID            string            `json:"id"`
	SubAccountID  string            `json:"sub_account_id"`
	Channel       string            `json:"channel"`
	ContactID     string            `json:"contact_id"`
	Status        string            `json:"status"`
	Tags          []string          `json:"tags"`
	Metadata      map[string]string `json:"metadata"`
	UnreadCount   int               `json:"unread_count"`
	LastMessageAt *string           `json:"last_message_at"`
	CreatedAt     *string           `json:"created_at"`
}

func renderVantaxConversation(c *convo.Conversation) vantaxConversation {
	w := vantaxConversation{
		ID:            c.ID,
		SubAccountID:  c.SubAccountID,
		Channel:       c.Channel,
		ContactID:     c.ContactID,
		Status:        c.Status,
		Tags:          c.Tags,
		Metadata:      c.Metadata,
		UnreadCount:   c.UnreadCount,
		LastMessageAt: timestamp(c.LastMessageAt),
		CreatedAt:     timestamp(c.CreatedAt),
	}
	if w.Tags == nil {
		w.Tags = []string{}
	}
	if w.Metadata == nil {
		w.Metadata = map[string]string{}
	}
	return w
}

type vantaxMessage struct {
	ID             string   `json:"id"`
	ConversationID string   `json:"conversation_id"`
	Channel        string   `json:"channel"`
	Direction      string   `json:"direction"`
	Content        string   `json:"content"`
	Subject        *string  `json:"subject"`
	SenderType     string   `json:"sender_type"`
	MediaURL       []string `json:"media_url"`
	Status         string   `json:"status"`
	CreatedAt      *string  `json:"created_at"`
}

func renderVantaxMessage(conv *ConversationData, m *convo.Message) vantaxMessage {
	sender := m.SenderType
	if sender == "" {
		sender = "ai"
		if m.Direction == convo.Inbound {
			sender = "contact"
		}
	}
	w := vantaxMessage{
		ID:             m.ID,
		ConversationID: cmp.Or(m.ConversationID, conv.Conversation.ID),
		Channel:        cmp.Or(m.Channel, conv.Conversation.Channel),
		Direction:      string(m.Direction),
		Content:        cmp.Or(m.Body, m.Content),
		Subject:        nullable(m.Subject),
		SenderType:     sender,
		MediaURL:       m.MediaURLs,
		Status:         m.Status,
		CreatedAt:      timestamp(firstTime(m.SentAt, m.CreatedAt)),
	}
	if w.MediaURL == nil {
		w.MediaURL = []string{}
	}
	return w
}

// A VantaxAI conversation's status, tags, metadata or unread count change
// in place; last_message_at does not move, nor the list order.
func (vantaxAPI) conversationChanged(*convo.Conversation, *convo.Conversation, time.Time) {}

// A VantaxAI message's status changes with no other effect; VantaxAI
// documents no redaction.
func (vantaxAPI) messageChanged(_ *ConversationData, m *convo.Message, _ bool) bool {
	return m.RedactedAt.IsZero()
}
