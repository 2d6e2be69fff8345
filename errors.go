package convo

import (
	"errors"
	"fmt"
	"net/http"
	"sort"
	"strconv"
	"strings"
	"time"
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
	// lapsed, a plan limit reached, a balance too low (codes such as
	// subscription_required, limit_reached, INSUFFICIENT_BALANCE).
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
	writePart(&b, " ", e.Code, 100, "")
	writePart(&b, ": ", e.Message, 500, "")
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
	writePart(&b, " [request id ", e.RequestID, 100, "]")
	if e.Attempts > 1 {
		fmt.Fprintf(&b, " [after %d attempts]", e.Attempts)
	}
	return errorLine(b.String())
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
		writePart(&b, ": ", e.Code, 100, "")
		writePart(&b, ": ", e.Message, 500, "")
		if len(e.Details) > 0 {
			fmt.Fprintf(&b, " (%d details)", len(e.Details))
		}
		writePart(&b, " [request id ", e.RequestID, 100, "]")
		return errorLine(b.String())
	}
	return errorLine(fmt.Sprintf("convo: %s: %s%d response is not the documented JSON: %s (body starts %q)",
		e.Provider, req, e.StatusCode, oneLine(fmt.Sprint(e.Err), 500), e.Snippet))
}

// writePart writes s, made one line of at most max bytes, between before
// and after; nothing when s is empty. It writes the parts of an error's
// text that the server may leave out.
func writePart(b *strings.Builder, before, s string, max int, after string) {
	if s == "" {
		return
	}
	b.WriteString(before)
	b.WriteString(oneLine(s, max))
	b.WriteString(after)
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

// ParamError is a parameter refused before any request was sent. Field
// names what it is about, so that a caller can point at whatever set it (a
// command-line flag, a form field) without reading the message. It matches
// [ErrInvalidParams] (a value out of range or not documented, a malformed
// id, cursor or query) or [ErrUnsupported] (a filter the provider does not
// document) with [errors.Is].
type ParamError struct {
	// Field is the Go name of the params field the error is about
	// ("PageSize", "Cursor", "Status", "Limit", "Query"; for a sync,
	// "PageSize" is the page size of the message lists), or "" when it is
	// about an argument that is no field (a conversation id) or the params
	// as a whole.
	Field string
	// Err is ErrInvalidParams or ErrUnsupported.
	Err error
	msg string // what is wrong, after Err's text
}

// Error returns Err's text and what is wrong: "convo: invalid parameters:
// rentalot conversations: page size 500 is outside 1..100".
func (e *ParamError) Error() string { return e.Err.Error() + ": " + e.msg }

// Unwrap returns Err.
func (e *ParamError) Unwrap() error { return e.Err }

// OptionError is an option of [NewClient] that was refused: Option names
// it, so that a caller can point at whatever set it. It matches
// [ErrInvalidOption] with [errors.Is].
type OptionError struct {
	// Option is the name of the option's function ("WithBaseURL",
	// "WithRetryWait"; "WithAuth" for missing credentials), or "" when the
	// error is about NewClient's provider argument.
	Option string
	msg    string // what is wrong, after ErrInvalidOption's text
}

// Error returns "convo: invalid option: <option>: <what is wrong>".
func (e *OptionError) Error() string { return ErrInvalidOption.Error() + ": " + e.msg }

// Unwrap returns ErrInvalidOption.
func (e *OptionError) Unwrap() error { return ErrInvalidOption }

// invalidParams is a ParamError about no field in particular.
func invalidParams(format string, args ...any) error {
	return invalidField("", format, args...)
}

// invalidField is a ParamError, wrapping ErrInvalidParams, about field.
func invalidField(field, format string, args ...any) error {
	return &ParamError{Field: field, Err: ErrInvalidParams, msg: fmt.Sprintf(format, args...)}
}

// unsupported is an operation the provider does not document.
func unsupported(provider, what string) error {
	return fmt.Errorf("%w: %s does not document %s", ErrUnsupported, provider, what)
}

// unsupportedField is a field (a filter) the provider does not document.
func unsupportedField(provider, field, what string) error {
	return &ParamError{Field: field, Err: ErrUnsupported, msg: provider + " does not document " + what}
}

// invalidOption is an OptionError about option; its message starts with
// the option's name.
func invalidOption(option, format string, args ...any) error {
	return &OptionError{Option: option, msg: option + ": " + fmt.Sprintf(format, args...)}
}

// RequestError is a request that got no usable response: the connection
// failed, the body was cut off or too large, the Authenticator failed, or
// the context ended. It names the provider, method and path once (never the
// query or the full URL) and how many attempts were made; the cause is
// wrapped, with any *url.Error unwrapped to its own cause.
type RequestError struct {
	Provider string
	Method   string
	Path     string // escaped, without the query
	Attempts int    // attempts sent; 0 when the request never left
	Err      error
}

// Error returns "convo: <provider>: GET <path>: [after N attempts: ]<cause>",
// one printable line of at most [MaxErrorTextLen] bytes.
func (e *RequestError) Error() string {
	var b strings.Builder
	b.WriteString("convo: ")
	b.WriteString(e.Provider)
	b.WriteString(": ")
	b.WriteString(e.Method)
	b.WriteByte(' ')
	b.WriteString(e.Path)
	b.WriteString(": ")
	if e.Attempts > 1 {
		fmt.Fprintf(&b, "after %d attempts: ", e.Attempts)
	}
	b.WriteString(causeText(e.Err))
	return errorLine(b.String())
}

// Unwrap returns the cause.
func (e *RequestError) Unwrap() error { return e.Err }

// sizeError is a body over the size limit; it matches ErrResponseTooLarge.
type sizeError struct{ msg string }

func (e *sizeError) Error() string { return "response too large: " + e.msg }

func (e *sizeError) Is(target error) bool { return target == ErrResponseTooLarge }

// ConversationError is the error of one conversation in a sync: listing
// its messages failed. It wraps the cause.
type ConversationError struct {
	ConversationID string
	Err            error
}

// Error names the conversation and the cause.
func (e *ConversationError) Error() string {
	return errorLine(fmt.Sprintf("convo: sync: conversation %q: %s", snippet([]byte(e.ConversationID), 200), causeText(e.Err)))
}

// Unwrap returns the cause.
func (e *ConversationError) Unwrap() error { return e.Err }

// syncListError is a failure of a sync's conversation list.
type syncListError struct{ err error }

func (e *syncListError) Error() string {
	return errorLine("convo: sync: list conversations: " + causeText(e.err))
}
func (e *syncListError) Unwrap() error { return e.err }

// AuthError is returned when the [Authenticator] fails; nothing was sent.
type AuthError struct{ Err error }

// Error describes the failure without any credential.
// It is the cause inside the request's error, which says "convo:" and names
// the request.
func (e *AuthError) Error() string {
	return errorLine("authenticate request: " + fmt.Sprint(e.Err))
}

// Unwrap returns the Authenticator's error.
func (e *AuthError) Unwrap() error { return e.Err }

// PacingError is returned, before any request is sent, when the provider
// reported its rate-limit window used up and the window resets further away
// than the client's maximum pacing wait ([WithMaxPacingWait]). It matches
// [ErrRateLimited] with [errors.Is]. Retry after Reset.
type PacingError struct {
	Resource string        // the window's X-RateLimit-Resource; "" when not sent
	Reset    time.Time     // when the window resets (X-RateLimit-Reset)
	Wait     time.Duration // how long the request would have had to wait
	MaxWait  time.Duration // the client's maximum pacing wait
}

// Error describes the exhausted window.
func (e *PacingError) Error() string {
	res := ""
	if e.Resource != "" {
		res = " for " + strconv.Quote(snippet([]byte(e.Resource), 100))
	}
	return errorLine(fmt.Sprintf("convo: rate limit used up%s until %s (%v away, more than the maximum pacing wait %v)",
		res, e.Reset.UTC().Format(time.RFC3339), e.Wait.Round(time.Second), e.MaxWait))
}

// Is reports whether target is [ErrRateLimited].
func (e *PacingError) Is(target error) bool { return target == ErrRateLimited }
