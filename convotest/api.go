package convotest

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/convokit/convo"
)

// api is one provider's dialect: authentication, envelopes, paging and
// error shapes. The server core (routing, faults, the request log) is
// written once; each provider_*.go file implements this interface.
type api interface {
	// auth returns the demo credentials as an Authenticator.
	auth() convo.Authenticator
	// authorized reports whether h carries valid demo credentials.
	authorized(h http.Header) bool
	// unauthorized describes why h was refused.
	unauthorized(h http.Header) *apiError
	// renderError turns an error into the provider's status and envelope.
	renderError(n int, e *apiError) (status int, contentType string, body any)
	// decorate adds the provider's per-response headers to answer n.
	decorate(n int, h http.Header)
	// rateLimit returns the limit reported in X-RateLimit-* headers, 0 when
	// the provider sends none.
	rateLimit() (limit int, resource string)
	// listsByActivity reports whether the provider lists conversations
	// newest activity first, so that new activity moves a conversation.
	listsByActivity() bool
	// conversationChanged applies the provider's documented effects of an
	// in-place change of a conversation's record from was to c (change.go)
	// at the server's clock now.
	conversationChanged(c, was *convo.Conversation, now time.Time)
	// messageChanged applies the provider's documented effects of an
	// in-place change of message m of c (newest: it is c's newest
	// message); false when the provider documents no such change (a
	// redaction where there is no retention window).
	messageChanged(c *ConversationData, m *convo.Message, newest bool) bool

	listConversations(rawQuery string) (any, *apiError)
	// getConversation and search report ok=false when the provider does
	// not document the operation (the route is then not found).
	getConversation(id, rawQuery string) (body any, err *apiError, ok bool)
	listMessages(conversationID, rawQuery string) (any, *apiError)
	search(rawQuery string) (body any, err *apiError, ok bool)
}

// fake is one provider's part of the fake, declared in its
// provider_<name>.go file next to the dialect and the demo data it names.
type fake struct {
	provider convo.Provider
	// api returns the provider's dialect for server s.
	api func(s *Server) api
	// demo draws the provider's demo data from g (see DemoDataset).
	demo func(g *gen) *Dataset
	// credentialHeaders are the headers, besides Authorization, that
	// carry the provider's credentials: the request log redacts them.
	credentialHeaders []string
}

// fakes is the registry: one fake for each of convo.Providers().
var fakes = []fake{vobizFake, vantaxFake, rentalotFake, agentMessageFake}

// fakeOf returns the fake of provider p; false for the zero Provider.
func fakeOf(p convo.Provider) (fake, bool) {
	for _, f := range fakes {
		if f.provider == p {
			return f, true
		}
	}
	return fake{}, false
}

// errKind classifies an error; each dialect maps it to its own status and
// code.
type errKind int

const (
	errUnauthorized errKind = iota + 1
	errNotFound
	errMalformed // unknown parameter, value of the wrong type, bad page token
	errInvalid   // a well-formed value out of range, or a required one missing
	errRateLimited
	errServer
	errMethod
	errStatus // a scripted status (FaultStatus): any 4xx or 5xx, in status
)

// apiError is an error answer before a dialect renders it.
type apiError struct {
	kind    errKind
	status  int // errServer: the 5xx to send, 0 meaning 500; errStatus: the status
	message string
	details []fieldError
}

type fieldError struct {
	Field   string `json:"field"`
	Message string `json:"message"`
}

func (e *apiError) detailMap() map[string]string {
	m := make(map[string]string, len(e.details))
	for _, d := range e.details {
		m[d.Field] = d.Message
	}
	return m
}

func malformed(field, msg string) *apiError {
	return &apiError{kind: errMalformed, message: "invalid query parameter " + field + ": " + msg,
		details: []fieldError{{field, msg}}}
}

func invalid(field, msg string) *apiError {
	return &apiError{kind: errInvalid, message: "invalid query parameter " + field + ": " + msg,
		details: []fieldError{{field, msg}}}
}

func conversationNotFound(id string) *apiError {
	return &apiError{kind: errNotFound, message: "conversation " + strconv.Quote(id) + " not found"}
}

// params is a parsed query string that admits only documented parameters.
type params struct{ v url.Values }

// parseParams refuses a malformed query string, a parameter that is not in
// allowed, and a parameter given more than once.
func parseParams(raw string, allowed ...string) (params, *apiError) {
	v, err := url.ParseQuery(raw)
	if err != nil {
		return params{}, &apiError{kind: errMalformed, message: "malformed query string",
			details: []fieldError{{"query", "malformed query string"}}}
	}
	keys := make([]string, 0, len(v))
	for k := range v {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		known := false
		for _, a := range allowed {
			known = known || k == a
		}
		if !known {
			return params{}, malformed(k, "unknown query parameter")
		}
		if len(v[k]) > 1 {
			return params{}, malformed(k, "given more than once")
		}
	}
	return params{v}, nil
}

func (p params) has(name string) bool { _, ok := p.v[name]; return ok }

func (p params) str(name string) string { return p.v.Get(name) }

// integer reads an integer parameter: def when absent, an error when not an
// integer (malformed) or outside lo..hi (invalid).
func (p params) integer(name string, def, lo, hi int) (int, *apiError) {
	if !p.has(name) {
		return def, nil
	}
	n, err := strconv.Atoi(p.str(name))
	if err != nil {
		return 0, malformed(name, "must be an integer")
	}
	if n < lo || n > hi {
		return 0, invalid(name, fmt.Sprintf("must be between %d and %d", lo, hi))
	}
	return n, nil
}

// enum reads a parameter restricted to allowed values; "" when absent.
func (p params) enum(name string, allowed ...string) (string, *apiError) {
	v := p.str(name)
	if !p.has(name) {
		return "", nil
	}
	for _, a := range allowed {
		if v == a {
			return v, nil
		}
	}
	return "", invalid(name, "must be one of "+strings.Join(allowed, ", "))
}

// capLimit applies WithPageSize.
func (s *Server) capLimit(limit int) int {
	if s.pageSize > 0 && limit > s.pageSize {
		return s.pageSize
	}
	return limit
}

// window returns the bounds of the page of n items that starts at start
// and holds at most limit items.
func window(n, start, limit int) (from, to int) {
	from = min(max(start, 0), n)
	return from, min(from+limit, n)
}

// indexAfter returns the index just after the item whose id is id.
func indexAfter(ids func(int) string, n int, id string) (int, bool) {
	for i := 0; i < n; i++ {
		if ids(i) == id {
			return i + 1, true
		}
	}
	return 0, false
}

// makeCursor encodes v as an opaque page token.
func makeCursor(v any) string {
	b, _ := json.Marshal(v) // plain structs of strings: cannot fail
	return base64.RawURLEncoding.EncodeToString(b)
}

// readCursor decodes a token made by makeCursor.
func readCursor(s string, v any) bool {
	b, err := base64.RawURLEncoding.DecodeString(s)
	if err != nil {
		return false
	}
	dec := json.NewDecoder(strings.NewReader(string(b)))
	dec.DisallowUnknownFields()
	return dec.Decode(v) == nil
}

// timestamp renders t as RFC 3339 in UTC; nil (JSON null) for the zero time.
func timestamp(t time.Time) *string {
	if t.IsZero() {
		return nil
	}
	s := t.UTC().Format(time.RFC3339Nano)
	return &s
}

// nullable renders a string that the provider sends as null when empty.
func nullable(s string) *string {
	if s == "" {
		return nil
	}
	return &s
}

func firstTime(v ...time.Time) time.Time {
	for _, t := range v {
		if !t.IsZero() {
			return t
		}
	}
	return time.Time{}
}

// bearerToken returns the token of an "Authorization: Bearer" header.
func bearerToken(h http.Header) (string, bool) {
	v := h.Get("Authorization")
	const prefix = "Bearer "
	if len(v) < len(prefix) || !strings.EqualFold(v[:len(prefix)], prefix) {
		return "", false
	}
	return strings.TrimSpace(v[len(prefix):]), true
}

// requestID returns the deterministic id of answer n, shaped like a ULID.
func requestID(n int) string {
	const alphabet = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
	var tail [10]byte
	for i := len(tail) - 1; i >= 0; i-- {
		tail[i] = alphabet[n%32]
		n /= 32
	}
	return "01JDEMQH2FZ8K1" + "RX" + string(tail[:])
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

// newestFirst returns the i-th of msgs (kept oldest first) counting from
// the newest, for the providers that list messages newest first: a page
// reads its window of the list in place, with no reversed copy of it.
func newestFirst(msgs []convo.Message, i int) *convo.Message {
	return &msgs[len(msgs)-1-i]
}
