package convotest

import (
	"cmp"
	"crypto/subtle"
	"encoding/json"
	"net/http"
	"strings"
	"time"

	"github.com/convokit/convo"
)

// Vobiz: X-Auth-ID + X-Auth-Token or a bearer JWT; {"items":[…]} lists;
// messages paged newest first with limit (1–100, default 50), cursor,
// has_more and next_cursor; errors
// {"status":"error","error":{code,message,details},"timestamp","requestId"}.
type vobizAPI struct{ s *Server }

func newVobiz(s *Server) api { return vobizAPI{s} }

func (vobizAPI) auth() convo.Authenticator {
	return convo.XAuth(DemoVobizAuthID, DemoVobizAuthToken)
}

func (vobizAPI) authorized(h http.Header) bool {
	if h.Get("X-Auth-ID") != "" || h.Get("X-Auth-Token") != "" {
		return equal(h.Get("X-Auth-ID"), DemoVobizAuthID) && equal(h.Get("X-Auth-Token"), DemoVobizAuthToken)
	}
	tok, ok := bearerToken(h)
	return ok && equal(tok, DemoVobizJWT)
}

func (vobizAPI) unauthorized(h http.Header) *apiError {
	if _, ok := bearerToken(h); !ok && h.Get("X-Auth-ID") == "" && h.Get("X-Auth-Token") == "" {
		return &apiError{kind: errUnauthorized, message: "Authentication required",
			details: []fieldError{{"headers", "send X-Auth-ID and X-Auth-Token, or Authorization: Bearer <JWT>"}}}
	}
	return &apiError{kind: errUnauthorized, message: "Invalid authentication credentials",
		details: []fieldError{{"credentials", "the auth ID, auth token or access token is not valid"}}}
}

type vobizError struct {
	Status string `json:"status"`
	Error  struct {
		Code    string            `json:"code"`
		Message string            `json:"message"`
		Details map[string]string `json:"details"`
	} `json:"error"`
	Timestamp string `json:"timestamp"`
	RequestID string `json:"requestId"`
}

func (vobizAPI) renderError(n int, e *apiError) (int, string, any) {
	var status int
	var code string
	switch e.kind {
	case errUnauthorized:
		status, code = http.StatusUnauthorized, "INVALID_CREDENTIALS"
	case errNotFound:
		status, code = http.StatusNotFound, "NOT_FOUND"
	case errMalformed, errInvalid:
		status, code = http.StatusBadRequest, "VALIDATION_ERROR"
	case errRateLimited:
		status, code = http.StatusTooManyRequests, "RATE_LIMITED"
	case errMethod:
		status, code = http.StatusMethodNotAllowed, "METHOD_NOT_ALLOWED"
	case errStatus:
		status, code = e.status, statusCode(e.status, vobizCodes, strings.ToUpper)
	default:
		status, code = max(e.status, http.StatusInternalServerError), "INTERNAL_ERROR"
	}
	var body vobizError
	body.Status = "error"
	body.Error.Code = code
	body.Error.Message = e.message
	body.Error.Details = e.detailMap()
	body.Timestamp = time.Now().UTC().Format(time.RFC3339)
	body.RequestID = vobizRequestID(n)
	return status, "application/json; charset=utf-8", body
}

// vobizCodes are Vobiz's error codes by status (UPPER_SNAKE).
var vobizCodes = map[int]string{
	400: "VALIDATION_ERROR", 401: "INVALID_CREDENTIALS", 402: "INSUFFICIENT_BALANCE", 403: "FORBIDDEN",
	404: "NOT_FOUND", 409: "CONFLICT", 422: "VALIDATION_ERROR", 429: "RATE_LIMITED",
}

func vobizRequestID(n int) string { return "req_" + requestID(n)[16:] }

func (vobizAPI) decorate(int, http.Header) {}

func (vobizAPI) rateLimit() (int, string) { return 0, "" }

// Vobiz documents no order for its conversation list.
func (vobizAPI) listsByActivity() bool { return false }

type vobizList[T any] struct {
	Items      []T     `json:"items"`
	HasMore    *bool   `json:"has_more,omitempty"`
	NextCursor *string `json:"next_cursor,omitempty"`
}

type vobizCursor struct {
	ID    string `json:"id"`
	Epoch int    `json:"e,omitempty"` // see Server.ExpireCursors
}

// page pages n items for a cursor: the items after the cursor's id.
func (a vobizAPI) page(n int, id func(int) string, cursor string, limit int) (from, to int, next *string, more *bool, err *apiError) {
	start := 0
	if cursor != "" {
		var c vobizCursor
		ok := readCursor(cursor, &c) && c.Epoch == a.s.epoch
		if ok {
			start, ok = indexAfter(id, n, c.ID)
		}
		if !ok {
			return 0, 0, nil, nil, malformed("cursor", "invalid or expired cursor")
		}
	}
	from, to = window(n, start, limit)
	hasMore := to < n
	nextCursor := ""
	if hasMore {
		nextCursor = makeCursor(vobizCursor{ID: id(to - 1), Epoch: a.s.epoch})
	}
	return from, to, &nextCursor, &hasMore, nil
}

func (a vobizAPI) listConversations(raw string) (any, *apiError) {
	convs := a.s.data.Conversations
	if a.s.pageSize == 0 { // as documented: one page, no parameters
		if _, err := parseParams(raw); err != nil {
			return nil, err
		}
		out := vobizList[vobizConversation]{Items: make([]vobizConversation, len(convs))}
		for i := range convs {
			out.Items[i] = renderVobizConversation(&convs[i].Conversation)
		}
		return out, nil
	}
	p, err := parseParams(raw, "cursor")
	if err != nil {
		return nil, err
	}
	from, to, next, more, err := a.page(len(convs), func(i int) string { return convs[i].Conversation.ID }, p.str("cursor"), a.s.pageSize)
	if err != nil {
		return nil, err
	}
	out := vobizList[vobizConversation]{Items: make([]vobizConversation, 0, to-from), HasMore: more, NextCursor: next}
	for i := from; i < to; i++ {
		out.Items = append(out.Items, renderVobizConversation(&convs[i].Conversation))
	}
	return out, nil
}

func (vobizAPI) getConversation(string, string) (any, *apiError, bool) { return nil, nil, false }

func (vobizAPI) search(string) (any, *apiError, bool) { return nil, nil, false }

func (a vobizAPI) listMessages(id, raw string) (any, *apiError) {
	conv, ok := a.s.conversation(id)
	if !ok {
		return nil, conversationNotFound(id)
	}
	p, err := parseParams(raw, "limit", "cursor")
	if err != nil {
		return nil, err
	}
	limit, err := p.integer("limit", 50, 1, 100)
	if err != nil {
		return nil, err
	}
	msgs := conv.Messages
	from, to, next, more, err := a.page(len(msgs), func(i int) string { return newestFirst(msgs, i).ID }, p.str("cursor"), a.s.capLimit(limit))
	if err != nil {
		return nil, err
	}
	out := vobizList[vobizMessage]{Items: make([]vobizMessage, 0, to-from), HasMore: more, NextCursor: next}
	for i := from; i < to; i++ {
		out.Items = append(out.Items, renderVobizMessage(conv, newestFirst(msgs, i)))
	}
	return out, nil
}

type vobizConversation struct {
	ID         string  `json:"id"`
	AccountID  string  `json:"account_id"`
	ChannelID  string  `json:"channel_id"`
	ContactID  string  `json:"contact_id"`
	Category   string  `json:"category"`
	IsBillable bool    `json:"is_billable"`
	StartedAt  *string `json:"started_at"`
	ExpiresAt  *string `json:"expires_at"`
	Status     string  `json:"status"`
}

func renderVobizConversation(c *convo.Conversation) vobizConversation {
	return vobizConversation{
		ID:         c.ID,
		AccountID:  cmp.Or(c.AccountID, DemoVobizAuthID),
		ChannelID:  c.ChannelID,
		ContactID:  c.ContactID,
		Category:   c.Category,
		IsBillable: c.IsBillable,
		StartedAt:  timestamp(firstTime(c.StartedAt, c.CreatedAt)),
		ExpiresAt:  timestamp(c.ExpiresAt),
		Status:     c.Status,
	}
}

type vobizMessage struct {
	ID             string  `json:"id"`
	AccountID      string  `json:"account_id"`
	ChannelID      string  `json:"channel_id"`
	ContactID      string  `json:"contact_id"`
	ConversationID string  `json:"conversation_id,omitempty"` // "may be omitted"
	Direction      string  `json:"direction"`
	Type           string  `json:"type"`
	Status         string  `json:"status"`
	Content        string  `json:"content"`
	MetaMessageID  string  `json:"meta_message_id"`
	CreatedAt      *string `json:"created_at"`
}

func renderVobizMessage(conv *ConversationData, m *convo.Message) vobizMessage {
	c := &conv.Conversation
	return vobizMessage{
		ID:             m.ID,
		AccountID:      cmp.Or(m.AccountID, c.AccountID, DemoVobizAuthID),
		ChannelID:      cmp.Or(m.ChannelID, c.ChannelID),
		ContactID:      cmp.Or(m.ContactID, c.ContactID),
		ConversationID: m.ConversationID,
		Direction:      string(m.Direction),
		Type:           cmp.Or(m.Type, "text"),
		Status:         m.Status,
		Content:        vobizContent(m),
		MetaMessageID:  m.MetaMessageID,
		CreatedAt:      timestamp(firstTime(m.SentAt, m.CreatedAt)),
	}
}

// vobizContent is the JSON-encoded content string: Content as given, else
// the Payload, else {"body": Body}.
func vobizContent(m *convo.Message) string {
	switch {
	case m.Content != "":
		return m.Content
	case len(m.Payload) > 0:
		return string(m.Payload)
	}
	var b strings.Builder
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	enc.Encode(struct {
		Body string `json:"body"`
	}{m.Body}) // a string field: cannot fail
	return strings.TrimSuffix(b.String(), "\n")
}

func equal(a, b string) bool { return subtle.ConstantTimeCompare([]byte(a), []byte(b)) == 1 }

// A Vobiz conversation's status, expiry, category or billing changes in
// place and moves nothing else: Vobiz shows no activity field.
func (vobizAPI) conversationChanged(*convo.Conversation, *convo.Conversation, time.Time) {}

// A Vobiz message's status moves (pending, sent, delivered, read, failed)
// with no other effect; Vobiz documents no redaction.
func (vobizAPI) messageChanged(_ *ConversationData, m *convo.Message, _ bool) bool {
	return m.RedactedAt.IsZero()
}
