package convotest

import (
	"net/http"
	"path"

	"github.com/convokit/convo"
)

// TB is what [New] needs of a test: *testing.T, *testing.B, *testing.F
// and any testing.TB have it. It is not testing.TB itself so that this
// package does not import package testing, and a program that imports it
// for [NewServer] (a demo mode) does not link it.
type TB interface {
	Helper()
	Cleanup(func())
}

// New starts a [Server] like [NewServer] and closes it when the test (or
// benchmark) and its subtests end, through tb.Cleanup.
//
//	srv := convotest.New(t, convo.Rentalot, convotest.WithFaults(
//		convotest.Fault{Kind: convotest.FaultStatus, Status: 403}))
func New(tb TB, provider convo.Provider, opts ...Option) *Server {
	tb.Helper()
	s := NewServer(provider, opts...)
	tb.Cleanup(s.Close)
	return s
}

// customHandler answers the requests whose relative path matches pattern.
type customHandler struct {
	pattern string
	handler http.Handler
}

// WithHandler makes h answer every request whose path, relative to the
// base path and unescaped, matches the [path.Match] pattern (like
// [Fault].Path: "/conversations/*/messages", "/conversations/c1"), instead
// of the fake's own answer: to serve a shape the fake does not, or to check
// what the client sends. The request is logged ([Server.Requests], with the
// status h writes), delayed by [WithLatency] and subject to scripted and
// random faults like any other (a fault that fires answers instead of h; a
// FaultTruncate cuts the fake's own answer). Credentials are not checked:
// h sees the request as sent. With several handlers, the first whose
// pattern matches answers. NewServer panics on a malformed pattern or a nil
// handler.
func WithHandler(pattern string, h http.Handler) Option {
	return func(c *config) { c.handlers = append(c.handlers, customHandler{pattern: pattern, handler: h}) }
}

// customHandler returns the handler registered for the relative path rel,
// or nil.
func (s *Server) customHandler(rel string) http.Handler {
	for _, h := range s.handlers {
		if ok, _ := path.Match(h.pattern, rel); ok {
			return h.handler
		}
	}
	return nil
}

// statusWriter records the status a handler writes.
type statusWriter struct {
	http.ResponseWriter
	status int
}

func (w *statusWriter) WriteHeader(status int) {
	if w.status == 0 {
		w.status = status
	}
	w.ResponseWriter.WriteHeader(status)
}

func (w *statusWriter) Write(b []byte) (int, error) {
	if w.status == 0 {
		w.status = http.StatusOK
	}
	return w.ResponseWriter.Write(b)
}

// Unwrap lets http.ResponseController reach the connection.
func (w *statusWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

func (w *statusWriter) statusOr200() int {
	if w.status == 0 {
		return http.StatusOK
	}
	return w.status
}
