package convotest

import (
	"bytes"
	"encoding/json"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"
)

// reply is a complete answer, built before anything is written so that a
// fault can cut it off.
type reply struct {
	status int
	header http.Header
	body   []byte
}

func (s *Server) serve(w http.ResponseWriter, r *http.Request) {
	rel := strings.TrimPrefix(r.URL.Path, s.basePath)
	if !strings.HasPrefix(r.URL.Path, s.basePath) {
		rel = ""
	}
	a := s.arrive(r, rel)
	s.delay(r)
	switch {
	case a.faultKind() == FaultDrop:
		s.record(a.n, a.rec, 0, FaultDrop)
		dropConnection(w)
	case a.fault == nil && s.customHandler(rel) != nil:
		sw := &statusWriter{ResponseWriter: w}
		s.customHandler(rel).ServeHTTP(sw, r)
		s.record(a.n, a.rec, sw.statusOr200(), 0)
	default:
		s.respond(w, r, rel, a)
	}
}

// arrival is what the server decided for a request when it arrived.
type arrival struct {
	n           int         // arrival number
	rec         int         // index of its entry in the request log
	authorized  bool        // it carried valid demo credentials
	fault       *Fault      // the fault to inject, or nil
	rateHeaders http.Header // the rate limit headers of the answer
}

// faultKind returns the kind of the fault to inject, or 0.
func (a *arrival) faultKind() FaultKind {
	if a.fault == nil {
		return 0
	}
	return a.fault.Kind
}

// arrive numbers request r, logs it with its credentials redacted, picks
// its fault and rate limit headers, and shows the log entry to the hook.
func (s *Server) arrive(r *http.Request, rel string) arrival {
	hdr := redactHeader(r.Header)
	a := arrival{authorized: s.api.authorized(r.Header)}

	s.mu.Lock()
	s.n++
	a.n = s.n
	if f, ok := s.pickFault(a.n, rel); ok {
		a.fault = &f
	}
	a.rec = len(s.requests)
	s.requests = append(s.requests, Request{
		N: a.n, Method: r.Method, Path: r.URL.EscapedPath(), RawQuery: r.URL.RawQuery,
		Header: hdr, Authorized: a.authorized,
	})
	a.rateHeaders = s.rateLimitHeaders()
	logged := s.requests[a.rec]
	s.mu.Unlock()

	if s.hook != nil {
		logged.Header = logged.Header.Clone()
		s.hook(logged)
	}
	return a
}

// delay waits the server's latency, or until the request is canceled.
func (s *Server) delay(r *http.Request) {
	if s.latency <= 0 {
		return
	}
	t := time.NewTimer(s.latency)
	select {
	case <-t.C:
	case <-r.Context().Done():
		t.Stop()
	}
}

// respond writes the answer to a request: its fault's or the fake API's,
// with the rate limit and provider headers, cut off by a FaultTruncate.
func (s *Server) respond(w http.ResponseWriter, r *http.Request, rel string, a arrival) {
	var rp reply
	switch a.faultKind() {
	case FaultRateLimit, FaultServerError, FaultStatus:
		rp = s.faultReply(a.n, *a.fault)
	default:
		rp = s.handle(a.n, r, rel, a.authorized)
	}
	for k, v := range a.rateHeaders {
		if _, set := rp.header[k]; !set {
			rp.header[k] = v
		}
	}
	s.api.decorate(a.n, rp.header)
	s.record(a.n, a.rec, rp.status, a.faultKind())
	if a.faultKind() == FaultTruncate {
		truncate(w, rp)
		return
	}
	for k, v := range rp.header {
		w.Header()[k] = v
	}
	w.Header().Set("Content-Length", strconv.Itoa(len(rp.body)))
	w.WriteHeader(rp.status)
	w.Write(rp.body)
}

// handle builds the real answer to a request (which a FaultTruncate may
// then cut off).
func (s *Server) handle(n int, r *http.Request, rel string, authorized bool) reply {
	if r.Method != http.MethodGet {
		rp := s.errorReply(n, &apiError{kind: errMethod, message: "method " + r.Method + " is not allowed; this API is read-only"})
		rp.header.Set("Allow", "GET")
		return rp
	}
	if !authorized {
		return s.errorReply(n, s.api.unauthorized(r.Header))
	}
	// The answer is rendered from the data under the read lock: a change
	// made meanwhile comes before or after it, never half-way.
	s.dataMu.RLock()
	defer s.dataMu.RUnlock()
	body, apiErr := s.route(r, rel)
	if apiErr != nil {
		return s.errorReply(n, apiErr)
	}
	return jsonReply(http.StatusOK, "application/json; charset=utf-8", body)
}

// route dispatches on the path relative to the base path.
func (s *Server) route(r *http.Request, rel string) (any, *apiError) {
	notFound := &apiError{kind: errNotFound, message: "no route for GET " + r.URL.EscapedPath()}
	if rel == "" && r.URL.Path != s.basePath {
		return nil, notFound
	}
	segs := strings.Split(strings.TrimPrefix(escapedRel(r.URL, s.basePath), "/"), "/")
	for i, seg := range segs {
		v, err := url.PathUnescape(seg)
		if err != nil || v == "" {
			return nil, notFound
		}
		segs[i] = v
	}
	if segs[0] != "conversations" {
		return nil, notFound
	}
	switch len(segs) {
	case 1:
		return s.api.listConversations(r.URL.RawQuery)
	case 2:
		if segs[1] == "search" {
			if b, err, ok := s.api.search(r.URL.RawQuery); ok {
				return b, err
			}
		}
		if b, err, ok := s.api.getConversation(segs[1], r.URL.RawQuery); ok {
			return b, err
		}
	case 3:
		if segs[2] == "messages" {
			return s.api.listMessages(segs[1], r.URL.RawQuery)
		}
	}
	return nil, notFound
}

// escapedRel returns the escaped path after the base path.
func escapedRel(u *url.URL, basePath string) string {
	p := u.EscapedPath()
	if strings.HasPrefix(p, basePath) {
		return p[len(basePath):]
	}
	return p
}

func (s *Server) errorReply(n int, e *apiError) reply {
	status, contentType, body := s.api.renderError(n, e)
	return jsonReply(status, contentType, body)
}

func jsonReply(status int, contentType string, v any) reply {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		status = http.StatusInternalServerError
		buf.Reset()
		buf.WriteString(`{"error":"convotest: cannot encode response"}` + "\n")
	}
	h := http.Header{}
	h.Set("Content-Type", contentType)
	return reply{status: status, header: h, body: buf.Bytes()}
}

// rateLimitHeaders counts the request in the current 60-second window and
// returns the provider's rate-limit headers, if it sends any. s.mu is held.
func (s *Server) rateLimitHeaders() http.Header {
	limit, resource := s.api.rateLimit()
	if limit > 0 && s.rateLimit != 0 {
		limit = max(s.rateLimit, 0)
	}
	if limit == 0 {
		return nil
	}
	elapsed := time.Since(s.started)
	w := int(elapsed / time.Minute)
	if w != s.window {
		s.window, s.inWindow = w, 0
	}
	s.inWindow++
	reset := s.started.Add(time.Duration(w+1) * time.Minute)
	h := http.Header{}
	h.Set("X-RateLimit-Limit", strconv.Itoa(limit))
	h.Set("X-RateLimit-Remaining", strconv.Itoa(max(limit-s.inWindow, 0)))
	h.Set("X-RateLimit-Reset", strconv.FormatInt(reset.Unix(), 10))
	h.Set("X-RateLimit-Resource", resource)
	return h
}
