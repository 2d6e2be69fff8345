package convo

import "net/http"

// DefaultMaxIdleConnsPerHost is how many idle connections to the provider's
// host the client keeps for reuse when no [WithHTTPClient] is given.
// [http.DefaultTransport] keeps 2: with more goroutines than that sharing a
// client, every response that finds 2 connections idle closes its own, and
// the next request dials (a TLS handshake on a real network) again.
const DefaultMaxIdleConnsPerHost = 64

// stdDefaultTransport is http.DefaultTransport as the program started with
// it; read only.
var stdDefaultTransport = http.DefaultTransport

// newDefaultTransport is the transport of a client made without
// WithHTTPClient: http.DefaultTransport's settings (proxy from the
// environment, dial and TLS timeouts, HTTP/2) with an idle pool sized for
// concurrent use.
func newDefaultTransport() http.RoundTripper {
	t, ok := stdDefaultTransport.(*http.Transport)
	if !ok {
		return nil
	}
	t = t.Clone()
	t.MaxIdleConnsPerHost = DefaultMaxIdleConnsPerHost
	t.MaxIdleConns = max(t.MaxIdleConns, DefaultMaxIdleConnsPerHost)
	return t
}

// defaultBase resolves the transport of a request when the caller gave
// none: the client's own pooled transport, unless the program has replaced
// http.DefaultTransport (an instrumented transport, or a mocking library
// such as gock), which is then honoured, as before.
func defaultBase(pooled http.RoundTripper) http.RoundTripper {
	if pooled != nil && http.DefaultTransport == stdDefaultTransport {
		return pooled
	}
	return http.DefaultTransport
}
