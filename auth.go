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

// XAuth authenticates with the X-Auth-ID and X-Auth-Token headers (Vobiz).
func XAuth(authID, authToken string) Authenticator {
	return xAuth{id: &authID, token: &authToken}
}

// Bearer authenticates with an "Authorization: Bearer <token>" header, the
// scheme of VantaxAI (vx_live_…), Rentalot (ra_…), AgentMessage (am_live_…)
// and Vobiz JWTs.
func Bearer(token string) Authenticator {
	return bearer{token: &token}
}

// BearerFunc authenticates with a bearer token asked of fn for every attempt,
// for tokens that rotate (Vobiz JWTs live 30 minutes). fn receives the
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
	req.Header.Set("X-Auth-ID", *a.id)
	req.Header.Set("X-Auth-Token", *a.token)
	return nil
}

// Format hides the credentials from every fmt verb.
func (a xAuth) Format(f fmt.State, _ rune) { fmt.Fprint(f, "convo.XAuth(REDACTED)") }

type bearer struct{ token *string } // behind a pointer, as xAuth's

func (a bearer) Authenticate(req *http.Request) error {
	if a.token == nil || *a.token == "" {
		return errors.New("Bearer: empty token")
	}
	return setBearer(req, *a.token)
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
	token, err := a.fn(req.Context())
	if err != nil {
		return fmt.Errorf("BearerFunc: %w", err)
	}
	if token == "" {
		return errors.New("BearerFunc: token function returned an empty token")
	}
	return setBearer(req, token)
}

// Format prints no state of the function.
func (a bearerFunc) Format(f fmt.State, _ rune) { fmt.Fprint(f, "convo.BearerFunc(REDACTED)") }

func setBearer(req *http.Request, token string) error {
	if strings.ContainsAny(token, "\r\n") {
		return errors.New("bearer token holds a line break")
	}
	req.Header.Set("Authorization", "Bearer "+token)
	return nil
}

// AuthError is returned when the [Authenticator] fails; nothing was sent.
type AuthError struct{ Err error }

// Error describes the failure without any credential.
// It is the cause inside the request's error, which says "convo:" and names
// the request.
func (e *AuthError) Error() string { return "authenticate request: " + e.Err.Error() }

// Unwrap returns the Authenticator's error.
func (e *AuthError) Unwrap() error { return e.Err }

// authTransport applies the per-request headers below the retry layer and
// above the caller's transport, so that every attempt and every redirect hop
// is seen. Credentials are set only on requests to the client's own origin.
type authTransport struct {
	base   http.RoundTripper // nil: http.DefaultTransport, resolved per request
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
	base := t.base
	if base == nil {
		base = http.DefaultTransport
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

// redact replaces every recorded credential in e with "REDACTED".
func (s secretSet) redact(e *APIError) {
	if len(s) == 0 {
		return
	}
	// The longest first, so that a token is not half-replaced as a part of
	// the whole header value.
	sorted := slices.Clone(s)
	slices.SortFunc(sorted, func(a, b string) int { return len(b) - len(a) })
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
