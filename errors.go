package convo

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"mime"
	"net/http"
	"sort"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"
)

// Sentinel errors. An [*APIError] matches the sentinel of its status class
// with [errors.Is]; the others are wrapped by errors returned before any
// request is sent.
var (
	ErrUnauthorized = errors.New("convo: unauthorized")      // 401
	ErrForbidden    = errors.New("convo: forbidden")         // 403
	ErrNotFound     = errors.New("convo: not found")         // 404
	ErrValidation   = errors.New("convo: validation failed") // 400, 422
	ErrRateLimited  = errors.New("convo: rate limited")      // 429
	ErrServer       = errors.New("convo: server error")      // 5xx
	// ErrPaymentRequired matches a 402: a subscription that is missing or
	// lapsed, a plan limit reached, a balance too low (VantaxAI
	// subscription_required / limit_reached, Vobiz INSUFFICIENT_BALANCE).
	// Retrying does not help; the account needs attention.
	ErrPaymentRequired = errors.New("convo: payment required") // 402
	ErrUnsupported     = errors.New("convo: not supported by this provider")
	ErrInvalidParams   = errors.New("convo: invalid parameters")

	// ErrInvalidOption is wrapped by the errors of [NewClient].
	ErrInvalidOption = errors.New("convo: invalid option")
	// ErrPaginationStalled is wrapped when a server's pagination does not
	// advance (a repeated cursor, a page that repeats the previous one, or
	// "more" promised with an empty page); iterating on would loop forever.
	ErrPaginationStalled = errors.New("convo: pagination stalled")
	// ErrResponseTooLarge is wrapped when a body exceeds WithMaxResponseBytes.
	ErrResponseTooLarge = errors.New("convo: response too large")
	// ErrUnexpectedResponse is wrapped by [*DecodeError]: a successful
	// response whose body is not the provider's documented JSON.
	ErrUnexpectedResponse = errors.New("convo: unexpected response")
)

// maxErrorBody bounds the copy of a response body kept on an error.
const maxErrorBody = 64 << 10

// APIError is a non-2xx response. Its fields are decoded from any of the
// providers' documented error envelopes or from RFC 9457 problem details;
// a body that is not JSON still gives a readable Message.
type APIError struct {
	StatusCode int
	Code       string            // the provider's machine code, when it sends one
	Message    string            // the provider's human-readable message
	RequestID  string            // from the body or the X-Request-Id header
	Details    map[string]string // field -> message, from any documented shape
	RetryAfter time.Duration     // from Retry-After, when sent

	// Provider is the name of the provider that answered.
	Provider string
	// Method and Path identify the request (the path without the query).
	Method, Path string
	// Type is the problem type URI of an RFC 9457 response.
	Type string
	// RateLimit is the rate-limit state the response reported, or nil.
	RateLimit *RateLimit
	// Body is the start of the raw response body, at most 64 KiB.
	Body []byte
	// Attempts is how many attempts were made; more than 1 when the
	// response is the last of retries that ran out.
	Attempts int
}

// Error returns a one-line description: provider, status, code, message,
// request id and, when retries ran out, the number of attempts.
func (e *APIError) Error() string {
	var b strings.Builder
	b.WriteString("convo: ")
	if e.Provider != "" {
		b.WriteString(e.Provider)
		b.WriteString(": ")
	}
	if e.Method != "" {
		b.WriteString(e.Method)
		b.WriteByte(' ')
		b.WriteString(e.Path)
		b.WriteString(": ")
	}
	b.WriteString(strconv.Itoa(e.StatusCode))
	if e.Code != "" {
		b.WriteByte(' ')
		b.WriteString(oneLine(e.Code, 100))
	}
	if e.Message != "" {
		b.WriteString(": ")
		b.WriteString(oneLine(e.Message, 300))
	}
	if len(e.Details) > 0 {
		keys := make([]string, 0, len(e.Details))
		for k := range e.Details {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		b.WriteString(" (")
		for i, k := range keys {
			if i > 0 {
				b.WriteString("; ")
			}
			b.WriteString(oneLine(k, 100))
			b.WriteString(": ")
			b.WriteString(oneLine(e.Details[k], 200))
		}
		b.WriteByte(')')
	}
	if e.RetryAfter > 0 {
		fmt.Fprintf(&b, " [retry after %v]", e.RetryAfter)
	}
	if e.RequestID != "" {
		b.WriteString(" [request id ")
		b.WriteString(oneLine(e.RequestID, 100))
		b.WriteByte(']')
	}
	if e.Attempts > 1 {
		fmt.Fprintf(&b, " [after %d attempts]", e.Attempts)
	}
	return b.String()
}

// oneLine fits a string the server sent into a one-line error message:
// control characters (line breaks included) and runs of spaces become one
// space, and the text is cut at max bytes.
func oneLine(s string, max int) string {
	if len(s) <= max && strings.IndexFunc(s, unicode.IsControl) < 0 {
		return s
	}
	s = strings.Join(strings.FieldsFunc(s, func(r rune) bool { return unicode.IsSpace(r) || unicode.IsControl(r) }), " ")
	return snippet([]byte(s), max)
}

// Is reports whether target is the sentinel of e's status class.
func (e *APIError) Is(target error) bool {
	switch target {
	case ErrUnauthorized:
		return e.StatusCode == http.StatusUnauthorized
	case ErrForbidden:
		return e.StatusCode == http.StatusForbidden
	case ErrPaymentRequired:
		return e.StatusCode == http.StatusPaymentRequired
	case ErrNotFound:
		return e.StatusCode == http.StatusNotFound
	case ErrValidation:
		return e.StatusCode == http.StatusBadRequest || e.StatusCode == http.StatusUnprocessableEntity
	case ErrRateLimited:
		return e.StatusCode == http.StatusTooManyRequests
	case ErrServer:
		return e.StatusCode >= 500 && e.StatusCode <= 599
	}
	return false
}

// DecodeError is a successful response whose body is not the JSON the
// provider documents. It wraps [ErrUnexpectedResponse].
type DecodeError struct {
	Provider   string
	Method     string // the request, when known
	Path       string // escaped, without the query
	StatusCode int
	Snippet    string // the start of the body, at most 200 bytes
	Err        error  // the decoder's reason
}

// Error names the provider, the request, the status, the reason and the
// start of the body.
func (e *DecodeError) Error() string {
	req := ""
	if e.Path != "" {
		req = e.Method + " " + e.Path + ": "
	}
	return fmt.Sprintf("convo: %s: %s%d response is not the documented JSON: %v (body starts %q)",
		e.Provider, req, e.StatusCode, e.Err, e.Snippet)
}

// causeText is the text of err as the cause inside another convo error:
// without the "convo: " every convo error starts with, so that the outer
// error says it once.
func causeText(err error) string { return strings.TrimPrefix(err.Error(), "convo: ") }

// Unwrap returns both ErrUnexpectedResponse and the decoder's reason.
func (e *DecodeError) Unwrap() []error { return []error{ErrUnexpectedResponse, e.Err} }

func newDecodeError(provider, path string, status int, body []byte, err error) *DecodeError {
	return &DecodeError{Provider: provider, Method: http.MethodGet, Path: path, StatusCode: status, Snippet: snippet(body, 200), Err: err}
}

// snippet returns at most n bytes of b, cut at a rune boundary.
func snippet(b []byte, n int) string {
	if len(b) <= n {
		return string(b)
	}
	for n > 0 && !utf8.RuneStart(b[n]) {
		n--
	}
	return string(b[:n]) + "…"
}

// wireError is the union of every documented error envelope:
//
//	Vobiz:        {"status":"error","error":{"code","message","details"},"requestId"}
//	VantaxAI:     {"success":false,"message":"…","errors":[…]}
//	Rentalot:     {"error":{"code","message","details":[{"field","message"}]}}
//	AgentMessage: {"success":false,"error":{"code","message","request_id","details":{…}}}
//	RFC 9457:     {"type","title","status","detail"}
type wireError struct {
	Error     json.RawMessage `json:"error"`
	Message   string          `json:"message"`
	Code      string          `json:"code"`
	Errors    json.RawMessage `json:"errors"`
	Details   json.RawMessage `json:"details"`
	RequestID string          `json:"requestId"`
	ReqID     string          `json:"request_id"`
	Type      string          `json:"type"`
	Title     string          `json:"title"`
	Detail    string          `json:"detail"`
}

type wireErrorBody struct {
	Code      string          `json:"code"`
	Message   string          `json:"message"`
	RequestID string          `json:"request_id"`
	ReqID     string          `json:"requestId"`
	Details   json.RawMessage `json:"details"`
}

// newAPIError builds the error of a non-2xx response from its status,
// headers and (bounded) body.
func newAPIError(provider string, method, path string, status int, h http.Header, body []byte) *APIError {
	e := &APIError{
		Provider:   provider,
		Method:     method,
		Path:       path,
		StatusCode: status,
		RequestID:  h.Get("X-Request-Id"),
		RateLimit:  parseRateLimit(h),
	}
	e.RetryAfter, _ = parseRetryAfter(h.Get("Retry-After"), time.Now())
	if len(body) > maxErrorBody {
		body = body[:maxErrorBody]
	}
	e.Body = bytes.Clone(body)
	if !decodeErrorBody(e, body) {
		e.Message = plainMessage(status, h.Get("Content-Type"), body)
	}
	if e.Message == "" {
		e.Message = firstNonEmpty(http.StatusText(status), "HTTP "+strconv.Itoa(status))
	}
	return e
}

// decodeErrorBody fills e from a JSON error envelope and reports whether the
// body was one.
func decodeErrorBody(e *APIError, body []byte) bool {
	body = bytes.TrimSpace(body)
	if len(body) == 0 || body[0] != '{' {
		return false
	}
	var w wireError
	if json.Unmarshal(body, &w) != nil {
		return false
	}
	e.Code, e.Message = w.Code, w.Message
	details := w.Details
	if len(w.Error) > 0 && w.Error[0] == '{' {
		var inner wireErrorBody
		if json.Unmarshal(w.Error, &inner) == nil {
			e.Code = firstNonEmpty(inner.Code, e.Code)
			e.Message = firstNonEmpty(inner.Message, e.Message)
			e.RequestID = firstNonEmpty(inner.RequestID, inner.ReqID, e.RequestID)
			if len(inner.Details) > 0 {
				details = inner.Details
			}
		}
	} else if len(w.Error) > 0 && w.Error[0] == '"' {
		var s string
		if json.Unmarshal(w.Error, &s) == nil {
			e.Message = firstNonEmpty(e.Message, s)
		}
	}
	if w.Type != "" || w.Title != "" || w.Detail != "" { // RFC 9457
		e.Type = w.Type
		e.Message = firstNonEmpty(w.Detail, w.Title, e.Message) // the problem's machine identifier is Type
	}
	e.RequestID = firstNonEmpty(w.RequestID, w.ReqID, e.RequestID)
	e.Details = decodeDetails(details)
	if e.Details == nil {
		e.Details = decodeDetails(w.Errors)
	}
	return true
}

// decodeDetails accepts the documented detail shapes: an object of
// field -> message, an array of {field, message} objects, or an array of
// strings (keyed by position).
func decodeDetails(raw json.RawMessage) map[string]string {
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 {
		return nil
	}
	out := map[string]string{}
	switch raw[0] {
	case '{':
		var m map[string]json.RawMessage
		if json.Unmarshal(raw, &m) != nil {
			return nil
		}
		for k, v := range m {
			out[k] = rawText(v)
		}
	case '[':
		var items []json.RawMessage
		if json.Unmarshal(raw, &items) != nil {
			return nil
		}
		for i, it := range items {
			var fm struct {
				Field   string `json:"field"`
				Path    string `json:"path"`
				Param   string `json:"param"`
				Message string `json:"message"`
			}
			if len(it) > 0 && it[0] == '{' && json.Unmarshal(it, &fm) == nil {
				key := firstNonEmpty(fm.Field, fm.Path, fm.Param, "["+strconv.Itoa(i)+"]")
				out[key] = firstNonEmpty(fm.Message, rawText(it))
				continue
			}
			out["["+strconv.Itoa(i)+"]"] = rawText(it)
		}
	default:
		return nil
	}
	if len(out) == 0 {
		return nil
	}
	return out
}

// rawText returns a JSON string's value, or the JSON text of anything else.
func rawText(v json.RawMessage) string {
	var s string
	if json.Unmarshal(v, &s) == nil {
		return s
	}
	return string(v)
}

// plainMessage makes a readable message of a body that is not JSON, such as
// an HTML page from a proxy.
func plainMessage(status int, contentType string, body []byte) string {
	text := http.StatusText(status)
	if text == "" {
		text = "HTTP " + strconv.Itoa(status)
	}
	mt, _, _ := mime.ParseMediaType(contentType)
	body = bytes.TrimSpace(body)
	if len(body) == 0 {
		return text
	}
	if mt == "text/plain" && utf8.Valid(body) {
		return snippet(bytes.Join(bytes.Fields(body), []byte(" ")), 200)
	}
	if mt == "" {
		mt = "unknown"
	}
	return text + " (non-JSON " + mt + " body)"
}

func firstNonEmpty(s ...string) string {
	for _, v := range s {
		if v != "" {
			return v
		}
	}
	return ""
}

// parseRetryAfter reads a Retry-After value in seconds or as an HTTP date;
// ok is false when the header is absent or unreadable.
func parseRetryAfter(v string, now time.Time) (d time.Duration, ok bool) {
	v = strings.TrimSpace(v)
	if v == "" {
		return 0, false
	}
	const maxSecs = int64(365 * 24 * time.Hour / time.Second)
	if secs, err := strconv.ParseInt(v, 10, 64); err == nil {
		return time.Duration(min(max(secs, 0), maxSecs)) * time.Second, true
	}
	if t, err := http.ParseTime(v); err == nil {
		return max(t.Sub(now), 0), true
	}
	return 0, false
}

func invalidParams(format string, args ...any) error {
	return fmt.Errorf("%w: "+format, append([]any{ErrInvalidParams}, args...)...)
}

func unsupported(provider, what string) error {
	return fmt.Errorf("%w: %s does not document %s", ErrUnsupported, provider, what)
}
