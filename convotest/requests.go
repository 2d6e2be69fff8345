package convotest

import (
	"net/http"
	"net/url"
)

// Request is a request the server received, as recorded by [Server.Requests].
// Credentials are never recorded: their headers hold "REDACTED".
type Request struct {
	N          int         // 1-based arrival number
	Method     string      // GET for everything the SDK sends
	Path       string      // escaped path, base path included
	RawQuery   string      // the query string as sent
	Header     http.Header // request headers, credentials redacted
	Authorized bool        // the request carried valid demo credentials
	Status     int         // status answered; 0 when dropped or not answered yet
	Fault      FaultKind   // the fault injected, or 0
}

// Query returns the parsed query string; malformed pairs are left out.
func (r Request) Query() url.Values {
	q, _ := url.ParseQuery(r.RawQuery)
	return q
}

// Requests returns the requests received so far, in arrival order. The log
// grows with every request; [Server.ResetRequests] empties it.
func (s *Server) Requests() []Request {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]Request, len(s.requests))
	for i, r := range s.requests {
		r.Header = r.Header.Clone()
		out[i] = r
	}
	return out
}

// ResetRequests forgets the requests recorded so far. Fault counters and
// the random fault sequence are not reset.
func (s *Server) ResetRequests() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.requests = nil
}

// credentialHeaders are redacted in the request log: those of every
// provider, whichever the server fakes, so that a client sending another
// provider's credentials does not see them logged either.
var credentialHeaders = func() []string {
	h := []string{"Authorization", "Cookie"}
	for _, f := range fakes {
		h = append(h, f.credentialHeaders...)
	}
	return h
}()

// redactHeader returns a copy of h with the credentials' values replaced
// by "REDACTED".
func redactHeader(h http.Header) http.Header {
	hdr := h.Clone()
	for _, k := range credentialHeaders {
		if len(hdr.Values(k)) > 0 {
			hdr.Set(k, "REDACTED")
		}
	}
	return hdr
}

// record completes the log entry of request n (at index i unless the log
// was reset meanwhile).
func (s *Server) record(n, i, status int, kind FaultKind) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if i < len(s.requests) && s.requests[i].N == n {
		s.requests[i].Status = status
		s.requests[i].Fault = kind
	}
}
