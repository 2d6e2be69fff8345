package convo

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"mime"
	"net/http"
	"slices"
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

// Error returns a one-line description: provider, method and path, status,
// code, message, the first validation details, retry wait, request id and,
// when retries ran out, the number of attempts. Like every error of this
// package it is one printable line of at most [MaxErrorTextLen] bytes,
// whatever the server sent; the typed fields hold the full detail.
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
		b.WriteString(oneLine(e.Path, 200))
		b.WriteString(": ")
	}
	b.WriteString(strconv.Itoa(e.StatusCode))
	if e.Code != "" {
		b.WriteByte(' ')
		b.WriteString(oneLine(e.Code, 100))
	}
	if e.Message != "" {
		b.WriteString(": ")
		b.WriteString(oneLine(e.Message, 500))
	}
	if len(e.Details) > 0 {
		keys := make([]string, 0, len(e.Details))
		for k := range e.Details {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		b.WriteString(" (")
		for i, k := range keys {
			if i == maxErrorDetails {
				fmt.Fprintf(&b, "; and %d more", len(keys)-i)
				break
			}
			if i > 0 {
				b.WriteString("; ")
			}
			b.WriteString(oneLine(k, 80))
			b.WriteString(": ")
			b.WriteString(oneLine(e.Details[k], 150))
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
	return errorLine(b.String())
}

// MaxErrorTextLen bounds the Error() text of every error type of this
// package ([*APIError], [*DecodeError], [*RequestError], [*AuthError],
// [*ConversationError], [*PacingError]): at most this many bytes, on one
// line.
const MaxErrorTextLen = 4 << 10

// maxErrorDetails is how many validation details APIError.Error() lists;
// the rest are counted.
const maxErrorDetails = 10

// errorLine makes the final text of an Error() method: one printable line of
// at most MaxErrorTextLen bytes.
func errorLine(s string) string { return oneLine(s, MaxErrorTextLen) }

// oneLine fits text that may come from a server (or a caller's error) into
// one printable line of at most max bytes, so that printing an error can
// neither break a log line in two nor drive the terminal it is shown on:
//
//   - ANSI escape sequences are removed whole: CSI (colours, cursor moves),
//     OSC (window titles, hyperlinks), DCS, SOS, PM and APC strings, and
//     two-byte escapes, whether introduced by ESC or by their C1 code;
//   - every other control character (C0, DEL, C1, line and paragraph
//     separators) and every run of white space becomes one space;
//   - invisible format characters (bidirectional overrides and isolates,
//     zero-width characters, the byte order mark) are dropped, so that the
//     text reads in the order it is stored;
//   - a byte that is not UTF-8 becomes U+FFFD;
//   - the text is cut at a rune boundary, with "…", to at most max bytes.
func oneLine(s string, max int) string {
	if len(s) <= max && cleanLine(s) {
		return s
	}
	var b strings.Builder
	b.Grow(min(len(s), max))
	space := false // a space is due before the next visible rune
	for i := 0; i < len(s); {
		r, size := utf8.DecodeRuneInString(s[i:])
		switch {
		case r == 0x1b || r >= 0x80 && r <= 0x9f:
			i = skipEscape(s, i, size)
			space = b.Len() > 0
			continue
		case r == utf8.RuneError && size == 1:
			r = utf8.RuneError
		case unicode.IsControl(r) || unicode.IsSpace(r) || r == '\u2028' || r == '\u2029':
			space = b.Len() > 0
			i += size
			continue
		case unicode.Is(unicode.Cf, r):
			i += size
			continue
		}
		need := utf8.RuneLen(r)
		if space {
			need++
		}
		if b.Len()+need > max-len("…") && (b.Len()+need > max || i+size < len(s)) {
			b.WriteString("…")
			return b.String()
		}
		if space {
			b.WriteByte(' ')
			space = false
		}
		b.WriteRune(r)
		i += size
	}
	return b.String()
}

// cleanLine reports whether s is printable ASCII with no double space and
// no space at either end: already one clean line.
func cleanLine(s string) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c < 0x20 || c > 0x7e || c == ' ' && (i == 0 || i == len(s)-1 || s[i-1] == ' ') {
			return false
		}
	}
	return true
}

// skipEscape returns the index just after the escape sequence or C1 control
// that starts at s[i] (size bytes long), as ECMA-48 delimits them.
func skipEscape(s string, i, size int) int {
	r, _ := utf8.DecodeRuneInString(s[i:])
	j := i + size
	if r != 0x1b {
		return skipControl(s, r, j)
	}
	if j >= len(s) {
		return j
	}
	c := s[j]
	j++
	switch {
	case c >= 0x40 && c <= 0x5f: // ESC Fe is the 7-bit form of a C1 control
		return skipControl(s, rune(c)+0x40, j)
	case c >= 0x20 && c <= 0x2f: // nF: intermediates, then one final byte
		j = skipBytes(s, j, 0x20, 0x2f)
		if j < len(s) {
			j++
		}
		return j
	default: // Fp, Fs: two bytes
		return j
	}
}

// skipControl returns the index just after what the C1 control c, whose
// introducer ends at s[j], delimits: a CSI's parameters and final byte, a
// control string, or nothing more.
func skipControl(s string, c rune, j int) int {
	switch c {
	case 0x9b: // CSI: parameters, intermediates, one final byte
		j = skipBytes(s, j, 0x20, 0x3f)
		if j < len(s) && s[j] >= 0x40 && s[j] <= 0x7e {
			j++
		}
		return j
	case 0x90, 0x98, 0x9d, 0x9e, 0x9f: // DCS, SOS, OSC, PM, APC: a string up to ST or BEL
		return skipControlString(s, j)
	}
	return j
}

// skipControlString returns the index just after the terminator (BEL, ST or
// ESC \) of the control string whose content starts at s[j], or len(s) when
// it is not terminated.
func skipControlString(s string, j int) int {
	for j < len(s) {
		c, n := utf8.DecodeRuneInString(s[j:])
		switch {
		case c == 0x07 || c == 0x9c:
			return j + n
		case c == 0x1b && j+1 < len(s) && s[j+1] == '\\':
			return j + 2
		}
		j += n
	}
	return j
}

// skipBytes returns the index of the first byte of s from j on that is not
// in lo..hi.
func skipBytes(s string, j int, lo, hi byte) int {
	for j < len(s) && s[j] >= lo && s[j] <= hi {
		j++
	}
	return j
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
//
// A 2xx body that is one of the documented error envelopes (a server that
// reports an error with status 200) is a DecodeError too, never an empty
// list: Err is [ErrErrorEnvelope], and Code, Message, RequestID and Details
// hold what the envelope says, decoded as for an [*APIError].
type DecodeError struct {
	Provider   string
	Method     string // the request, when known
	Path       string // escaped, without the query
	StatusCode int
	Snippet    string // the start of the body, at most 200 bytes
	Err        error  // the decoder's reason

	// The error envelope's content, when Err is ErrErrorEnvelope.
	Code, Message, RequestID string
	Details                  map[string]string
}

// ErrErrorEnvelope is the reason of a [*DecodeError] whose 2xx body is one
// of the providers' documented error envelopes.
var ErrErrorEnvelope = errors.New("the body is an error envelope")

// Error names the provider, the request, the status, the reason and the
// start of the body, or what an error envelope says. It is one printable
// line of at most [MaxErrorTextLen] bytes.
func (e *DecodeError) Error() string {
	req := ""
	if e.Path != "" {
		req = e.Method + " " + oneLine(e.Path, 200) + ": "
	}
	if errors.Is(e.Err, ErrErrorEnvelope) {
		var b strings.Builder
		fmt.Fprintf(&b, "convo: %s: %s%d response holds an error envelope", e.Provider, req, e.StatusCode)
		if e.Code != "" {
			b.WriteString(": ")
			b.WriteString(oneLine(e.Code, 100))
		}
		if e.Message != "" {
			b.WriteString(": ")
			b.WriteString(oneLine(e.Message, 500))
		}
		if len(e.Details) > 0 {
			fmt.Fprintf(&b, " (%d details)", len(e.Details))
		}
		if e.RequestID != "" {
			b.WriteString(" [request id ")
			b.WriteString(oneLine(e.RequestID, 100))
			b.WriteByte(']')
		}
		return errorLine(b.String())
	}
	return errorLine(fmt.Sprintf("convo: %s: %s%d response is not the documented JSON: %s (body starts %q)",
		e.Provider, req, e.StatusCode, oneLine(fmt.Sprint(e.Err), 500), e.Snippet))
}

// causeText is the text of err as the cause inside another convo error:
// without the "convo: " every convo error starts with, so that the outer
// error says it once.
func causeText(err error) string {
	if err == nil {
		return "<nil>"
	}
	return strings.TrimPrefix(err.Error(), "convo: ")
}

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

// emptyResponseError is consulted when a 2xx body gave no content: its page
// decoded empty or its body did not decode (decodeErr). A body that is one
// of the documented error envelopes is then a *DecodeError with
// ErrErrorEnvelope and the envelope's content, whatever the status (an error
// envelope is never an empty, complete list); any other undecodable body is
// a *DecodeError with the decoder's reason; otherwise nil. Credentials the
// server echoed are scrubbed.
func emptyResponseError(provider, path string, resp *response, decodeErr error) error {
	body := resp.body()
	if isErrorEnvelope(resp.header.Get("Content-Type"), body) {
		var e APIError
		decodeErrorBody(&e, body)
		e.RequestID = firstNonEmpty(e.RequestID, resp.header.Get("X-Request-Id"))
		resp.secrets.redact(&e)
		de := newDecodeError(provider, path, resp.status, body, ErrErrorEnvelope)
		de.Code, de.Message, de.RequestID, de.Details = e.Code, e.Message, e.RequestID, e.Details
		de.Snippet = resp.secrets.scrub(de.Snippet)
		return de
	}
	if decodeErr == nil {
		return nil
	}
	de := newDecodeError(provider, path, resp.status, body, decodeErr)
	de.Snippet = resp.secrets.scrub(de.Snippet)
	return de
}

// isErrorEnvelope reports whether body is one of the documented error
// envelopes, recognised by its top-level members: "success": false
// (VantaxAI, AgentMessage), "status": "error" (Vobiz), an "error" member
// that is not null, false or empty (Rentalot, and the others' inner
// object), or RFC 9457 problem details (an application/problem+json body,
// or a numeric "status" with a "title" or "detail").
func isErrorEnvelope(contentType string, body []byte) bool {
	body = bytes.TrimSpace(body)
	if len(body) == 0 || body[0] != '{' {
		return false
	}
	var w envelopeMembers
	if decodeJSON(body, &w) != nil {
		return false
	}
	return w.failed() || w.hasError() || w.isProblem(contentType)
}

// envelopeMembers are the top-level members of a body that isErrorEnvelope
// looks at, undecoded.
type envelopeMembers struct {
	Success json.RawMessage `json:"success"`
	Status  json.RawMessage `json:"status"`
	Error   json.RawMessage `json:"error"`
	Title   json.RawMessage `json:"title"`
	Detail  json.RawMessage `json:"detail"`
	Type    json.RawMessage `json:"type"`
}

// failed reports "success": false or "status": "error" (in any case).
func (w *envelopeMembers) failed() bool {
	return string(w.Success) == "false" ||
		isJSONString(w.Status) && strings.EqualFold(rawText(w.Status), "error")
}

// hasError reports an "error" member that is not null, false or empty.
func (w *envelopeMembers) hasError() bool {
	return len(w.Error) > 0 && !slices.Contains([]string{"null", "false", `""`, "{}", "[]"}, string(compactRaw(w.Error)))
}

// isProblem reports RFC 9457 problem details: a numeric "status" with a
// string "title" or "detail", or any of the problem's members in a body
// whose media type is application/problem+json.
func (w *envelopeMembers) isProblem(contentType string) bool {
	if len(w.Status) > 0 && (w.Status[0] == '-' || w.Status[0] >= '0' && w.Status[0] <= '9') && (isJSONString(w.Title) || isJSONString(w.Detail)) {
		return true
	}
	if len(w.Title) == 0 && len(w.Detail) == 0 && len(w.Type) == 0 && len(w.Status) == 0 {
		return false
	}
	mt, _, _ := mime.ParseMediaType(contentType)
	return mt == "application/problem+json"
}

// isJSONString reports whether v is a JSON string.
func isJSONString(v json.RawMessage) bool { return len(v) > 0 && v[0] == '"' }

// compactRaw returns v without insignificant white space.
func compactRaw(v json.RawMessage) []byte {
	var b bytes.Buffer
	if json.Compact(&b, v) != nil {
		return v
	}
	return b.Bytes()
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
