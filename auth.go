package convo

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strings"
)

// Authenticator sets the credentials of one outgoing request. convo calls it
// once per attempt (retries included), only for requests to the configured
// base URL's scheme, host and port: never for a redirect elsewhere.
//
// Implementations must be safe for concurrent use. A non-nil error fails the
// call before anything is sent and is not retried.
type Authenticator interface {
	Authenticate(req *http.Request) error
}

// XAuth authenticates with the X-Auth-ID and X-Auth-Token headers.
func XAuth(authID, authToken string) Authenticator {
	return xAuth{id: &authID, token: &authToken}
}

// Bearer authenticates with an "Authorization: Bearer <token>" header, the
// scheme of API keys and JWTs.
func Bearer(token string) Authenticator {
	return bearer{token: &token}
}

// BearerFunc authenticates with a bearer token asked of fn for every attempt,
// for tokens that rotate (JWTs that live minutes). fn receives the
// request's context; its error fails the call, wrapped, before anything is
// sent. fn must be safe for concurrent use.
func BearerFunc(fn func(ctx context.Context) (string, error)) Authenticator {
	return bearerFunc{fn: fn}
}

// The credentials are kept behind pointers: fmt prints a pointer nested in
// a value as an address, whatever the verb and depth, so that a caller's
// struct holding an Authenticator (or a Client) in an unexported field cannot
// print them either. Format covers the Authenticator printed directly.
type xAuth struct{ id, token *string }

func (a xAuth) Authenticate(req *http.Request) error {
	if a.id == nil || a.token == nil || *a.id == "" || *a.token == "" {
		return errors.New("XAuth: empty auth ID or token")
	}
	if err := a.check(); err != nil {
		return err
	}
	req.Header.Set("X-Auth-ID", *a.id)
	req.Header.Set("X-Auth-Token", *a.token)
	return nil
}

// check refuses an auth ID or token that is not a valid header token,
// without echoing it.
func (a xAuth) check() error {
	if a.id == nil || *a.id == "" {
		return errors.New("XAuth: empty auth ID")
	}
	if a.token == nil || *a.token == "" {
		return errors.New("XAuth: empty auth token")
	}
	if a.id != nil {
		if err := checkCredential(*a.id); err != nil {
			return fmt.Errorf("XAuth: auth ID %w", err)
		}
	}
	if a.token != nil {
		if err := checkCredential(*a.token); err != nil {
			return fmt.Errorf("XAuth: auth token %w", err)
		}
	}
	return nil
}

// Format hides the credentials from every fmt verb.
func (a xAuth) Format(f fmt.State, _ rune) { fmt.Fprint(f, "convo.XAuth(REDACTED)") }

type bearer struct{ token *string } // behind a pointer, as xAuth's

func (a bearer) Authenticate(req *http.Request) error {
	if a.token == nil || *a.token == "" {
		return errors.New("Bearer: empty token")
	}
	if err := a.check(); err != nil {
		return err
	}
	req.Header.Set("Authorization", "Bearer "+*a.token)
	return nil
}

// check refuses a token that is not a valid header token, without echoing it.
func (a bearer) check() error {
	if a.token == nil || *a.token == "" {
		return errors.New("Bearer: empty token")
	}
	if a.token != nil {
		if err := checkCredential(*a.token); err != nil {
			return fmt.Errorf("Bearer: token %w", err)
		}
	}
	return nil
}

// Format hides the token from every fmt verb.
func (a bearer) Format(f fmt.State, _ rune) { fmt.Fprint(f, "convo.Bearer(REDACTED)") }

type bearerFunc struct {
	fn func(ctx context.Context) (string, error)
}

func (a bearerFunc) Authenticate(req *http.Request) error {
	if a.fn == nil {
		return errors.New("BearerFunc: nil token function")
	}
	token, err := a.token(req.Context())
	if err != nil {
		return fmt.Errorf("BearerFunc: %w", err)
	}
	if token == "" {
		return errors.New("BearerFunc: token function returned an empty token")
	}
	if err := checkCredential(token); err != nil {
		return fmt.Errorf("BearerFunc: token %w", err)
	}
	req.Header.Set("Authorization", "Bearer "+token)
	return nil
}

// token asks fn for a token, but waits for it only as long as ctx lasts: a
// function that ignores its context (blocked on a lock, a slow vault) cannot
// keep the caller past its deadline or cancellation. fn then runs on in its
// own goroutine until it returns, and its late token is dropped, never sent.
// That goroutine is the only one started, and it ends when fn returns.
func (a bearerFunc) token(ctx context.Context) (string, error) {
	if ctx.Done() == nil { // nothing can end the wait: no goroutine needed
		return a.fn(ctx)
	}
	if err := ctx.Err(); err != nil {
		return "", err
	}
	type result struct {
		token string
		err   error
	}
	done := make(chan result, 1) // buffered: the goroutine never blocks on a caller that left
	go func() {
		token, err := a.fn(ctx)
		done <- result{token, err}
	}()
	select {
	case r := <-done:
		if err := ctx.Err(); err != nil { // arrived, but too late to be sent
			return "", err
		}
		return r.token, r.err
	case <-ctx.Done():
		return "", ctx.Err()
	}
}

// Format prints no state of the function.
func (a bearerFunc) Format(f fmt.State, _ rune) { fmt.Fprint(f, "convo.BearerFunc(REDACTED)") }

// A header value convo sends must be what the caller meant, whatever the
// transport below does with it: net/http refuses some bad values, a custom
// RoundTripper may write them as they are (a line break then starts a header
// of the attacker's choosing). RFC 9110 (section 5.5) allows in a field
// value visible ASCII, spaces and tabs inside it, and "obs-text" bytes
// 0x80–0xFF whose meaning it leaves undefined. convo is stricter:
//
//   - a credential (an XAuth ID or token, a bearer token) is one token of
//     visible ASCII, 0x21–0x7E: no control character, no DEL, no space or
//     tab, no non-ASCII byte;
//   - any other value (the User-Agent, headers set by a custom
//     Authenticator) is visible ASCII with single spaces or tabs inside, no
//     leading or trailing white space.
//
// The errors say what is wrong and never echo the value.

// checkCredential reports why v cannot be sent as a credential, or nil.
func checkCredential(v string) error {
	for i := 0; i < len(v); i++ {
		if c := v[i]; c < 0x21 || c > 0x7e {
			return fmt.Errorf("holds %s at byte %d (a credential is visible ASCII, without spaces)", describeByte(c), i)
		}
	}
	return nil
}

// checkFieldValue reports why v cannot be sent as a header value, or nil.
func checkFieldValue(v string) error {
	for i := 0; i < len(v); i++ {
		c := v[i]
		switch {
		case c == ' ' || c == '\t':
			if i == 0 || i == len(v)-1 {
				return fmt.Errorf("has leading or trailing white space")
			}
		case c < 0x21 || c > 0x7e:
			return fmt.Errorf("holds %s at byte %d (a header value is visible ASCII)", describeByte(c), i)
		}
	}
	return nil
}

// validFieldName reports whether name is an RFC 9110 token.
func validFieldName(name string) bool {
	if name == "" {
		return false
	}
	for i := 0; i < len(name); i++ {
		c := name[i]
		if c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' ||
			strings.IndexByte("!#$%&'*+-.^_`|~", c) >= 0 {
			continue
		}
		return false
	}
	return true
}

// describeByte names the class of a refused byte without showing it.
func describeByte(c byte) string {
	switch {
	case c == '\r' || c == '\n':
		return "a line break"
	case c == 0:
		return "a NUL byte"
	case c == ' ' || c == '\t':
		return "white space"
	case c == 0x7f:
		return "a DEL character"
	case c < 0x20:
		return "a control character"
	default:
		return "a non-ASCII byte"
	}
}

// checkHeaders validates every header of an outgoing request.
func checkHeaders(h http.Header) error {
	for name, values := range h {
		if !validFieldName(name) {
			return errors.New("a header name is not a valid token")
		}
		for _, v := range values {
			if err := checkFieldValue(v); err != nil {
				return fmt.Errorf("header %s %w", name, err)
			}
		}
	}
	return nil
}

// staticCredentials is implemented by Authenticators whose credentials are
// known in advance, so that NewClient can refuse a bad one before any
// request.
type staticCredentials interface{ check() error }

// authTransport applies the per-request headers below the retry layer and
// above the caller's transport, so that every attempt and every redirect hop
// is seen. Credentials are set only on requests to the client's own origin.
type authTransport struct {
	base   http.RoundTripper // nil: the default, resolved per request (defaultBase)
	pooled http.RoundTripper // the client's own transport when no WithHTTPClient was given; nil otherwise
	auth   Authenticator
	origin string
	ua     string
}

func (t *authTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	r := req.Clone(req.Context())
	if r.Header == nil {
		r.Header = make(http.Header)
	}
	for _, h := range credentialHeaders {
		r.Header.Del(h)
	}
	r.Header.Set("User-Agent", t.ua)
	r.Header.Set("Accept", "application/json")
	if t.auth != nil && sameOrigin(r, t.origin) {
		if err := t.auth.Authenticate(r); err != nil {
			closeBody(req)
			return nil, &AuthError{Err: err}
		}
		if rec, ok := r.Context().Value(secretsKey{}).(*secretSet); ok {
			rec.add(r.Header)
		}
	}
	// Whatever set them (an Authenticator of the caller's included), no
	// header reaches the caller's transport unless it is valid.
	if err := checkHeaders(r.Header); err != nil {
		closeBody(req)
		return nil, &AuthError{Err: err}
	}
	base := t.base
	if base == nil {
		base = defaultBase(t.pooled)
	}
	return base.RoundTrip(r)
}

// credentialHeaders are removed from every request before authentication, so
// that a header copied along a redirect never reaches another origin.
var credentialHeaders = [...]string{"Authorization", "X-Auth-ID", "X-Auth-Token", "X-Api-Key"}

func sameOrigin(r *http.Request, origin string) bool {
	o := r.URL.Scheme + "://" + r.URL.Host
	return len(o) == len(origin) && strings.EqualFold(o, origin)
}

func closeBody(req *http.Request) {
	if req.Body != nil {
		req.Body.Close()
	}
}

// secretsKey is the context key of the *secretSet in which the transport
// records the credentials it sent for one call, so that the call can scrub
// them from a server's error response that echoes them.
type secretsKey struct{}

// secretSet is the credentials sent by the attempts of one call.
type secretSet []string

// add records the credential values of h: the whole header value, and for
// Authorization also the token after its scheme.
func (s *secretSet) add(h http.Header) {
	for _, name := range credentialHeaders {
		v := h.Get(name)
		if name == "Authorization" {
			if _, token, ok := strings.Cut(v, " "); ok {
				s.put(token)
			}
		}
		s.put(v)
	}
}

func (s *secretSet) put(v string) {
	v = strings.TrimSpace(v)
	if len(v) < 4 || slices.Contains(*s, v) {
		return
	}
	*s = append(*s, v)
}

// sorted returns the credentials longest first, so that a token is not
// half-replaced as a part of the whole header value.
func (s secretSet) sorted() []string {
	sorted := slices.Clone(s)
	slices.SortFunc(sorted, func(a, b string) int { return len(b) - len(a) })
	return sorted
}

// scrub replaces every recorded credential in v with "REDACTED".
func (s secretSet) scrub(v string) string {
	if len(s) == 0 {
		return v
	}
	for _, secret := range s.sorted() {
		v = strings.ReplaceAll(v, secret, "REDACTED")
	}
	return v
}

// redact replaces every recorded credential in e with "REDACTED".
func (s secretSet) redact(e *APIError) {
	if len(s) == 0 {
		return
	}
	sorted := s.sorted()
	scrub := func(v string) string {
		for _, secret := range sorted {
			v = strings.ReplaceAll(v, secret, "REDACTED")
		}
		return v
	}
	e.Code, e.Message, e.RequestID, e.Type = scrub(e.Code), scrub(e.Message), scrub(e.RequestID), scrub(e.Type)
	if e.Details != nil {
		details := make(map[string]string, len(e.Details))
		for k, v := range e.Details {
			details[scrub(k)] = scrub(v)
		}
		e.Details = details
	}
	for _, secret := range sorted {
		e.Body = bytes.ReplaceAll(e.Body, []byte(secret), []byte("REDACTED"))
	}
}
