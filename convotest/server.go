package convotest

import (
	"bytes"
	"encoding/json"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"net/url"
	"path"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/convokit/convo"
)

// DefaultSeed is the seed of the demo dataset a [Server] serves when neither
// [WithData] nor [WithSeed] is given.
const DefaultSeed int64 = 1

// Server is an in-process fake of one provider's conversation API, served
// over loopback HTTP by [httptest]. It speaks the provider's documented wire
// format: its paths under the base path of the provider's default base URL,
// its envelopes, field names, paging, error envelopes, authentication scheme
// and (Rentalot) rate-limit headers. It is strict like the real API: an
// unknown query parameter, a value out of the documented range, a bad page
// token or a wrong credential is refused with the provider's error envelope.
//
// A Server is safe for concurrent use. Close it when done.
type Server struct {
	provider convo.Provider
	api      api
	ts       *httptest.Server
	basePath string
	latency  time.Duration
	pageSize int
	started  time.Time
	hook     func(Request)
	handlers []customHandler

	// dataMu guards the data, which a test may change while the server
	// runs (see live.go); a request reads it under the read lock.
	dataMu sync.RWMutex
	data   *Dataset
	index  map[string]int // conversation id -> index in data
	epoch  int            // cursors made before the last ExpireCursors carry an older one

	mu        sync.Mutex
	n         int // requests received
	requests  []Request
	faults    []faultState
	rng       *rand.Rand // random faults; nil when off
	faultRate float64
	kinds     []FaultKind
	window    int // rate-limit window of the last request (Rentalot)
	inWindow  int // requests counted in that window
	rateLimit int // WithRateLimit's limit; 0: the provider's own
}

// NewServer starts a fake of provider's API on a loopback address and
// returns it. It panics if provider is the zero Provider, as it cannot
// choose a wire format then.
func NewServer(provider convo.Provider, opts ...Option) *Server {
	cfg := config{seed: DefaultSeed}
	for _, o := range opts {
		if o != nil {
			o(&cfg)
		}
	}
	f, ok := fakeOf(provider)
	if !ok {
		panic("convotest: NewServer: unknown provider " + strconv.Quote(provider.Name()))
	}
	base, err := url.Parse(provider.DefaultBaseURL())
	if err != nil {
		panic("convotest: NewServer: " + err.Error())
	}
	s := &Server{
		provider:  provider,
		basePath:  strings.TrimRight(base.Path, "/"),
		latency:   cfg.latency,
		pageSize:  cfg.pageSize,
		started:   time.Now(),
		kinds:     cfg.kinds,
		hook:      cfg.hook,
		rateLimit: cfg.rateLimit,
	}
	if cfg.data != nil {
		s.data = cfg.data.Clone()
	} else {
		s.data = DemoDataset(provider, cfg.seed)
	}
	s.reindex()
	for _, f := range cfg.faults {
		if why := f.check(); why != "" {
			panic("convotest: NewServer: WithFaults: " + why)
		}
		s.faults = append(s.faults, faultState{f: f})
	}
	for _, h := range cfg.handlers {
		if _, err := path.Match(h.pattern, ""); err != nil || h.handler == nil {
			panic("convotest: NewServer: WithHandler: bad pattern " + strconv.Quote(h.pattern) + " or nil handler")
		}
	}
	s.handlers = cfg.handlers
	if cfg.faultRate > 0 {
		s.faultRate = min(cfg.faultRate, 1)
		s.rng = rand.New(rand.NewPCG(uint64(cfg.faultSeed), 0x636f6e766f))
		if len(s.kinds) == 0 {
			s.kinds = []FaultKind{FaultRateLimit, FaultServerError, FaultDrop, FaultTruncate}
		}
	}
	s.api = f.api(s)
	s.ts = httptest.NewServer(http.HandlerFunc(s.serve))
	return s
}

// Provider returns the provider the server fakes.
func (s *Server) Provider() convo.Provider { return s.provider }

// URL returns the base URL of the fake API: the server's loopback address
// followed by the base path of the provider's default base URL, e.g.
// http://127.0.0.1:41234/api/v1/messaging for Vobiz.
func (s *Server) URL() string { return s.ts.URL + s.basePath }

// Options returns the client options that point a [convo.Client] at the
// server with the demo credentials: [convo.WithBaseURL] and
// [convo.WithAuth].
func (s *Server) Options() []convo.Option {
	return []convo.Option{convo.WithBaseURL(s.URL()), convo.WithAuth(s.api.auth())}
}

// Client returns a client of the server's provider configured by
// [Server.Options] followed by opts, which may override them (a later
// [convo.WithAuth] replaces the demo credentials).
func (s *Server) Client(opts ...convo.Option) (*convo.Client, error) {
	return convo.NewClient(s.provider, append(s.Options(), opts...)...)
}

// Close shuts the server down and waits for pending requests to finish.
func (s *Server) Close() { s.ts.Close() }

// Dataset returns a copy of the data the server serves now, changes made
// while it runs included.
func (s *Server) Dataset() *Dataset {
	s.dataMu.RLock()
	defer s.dataMu.RUnlock()
	return s.data.Clone()
}

// Option configures a [Server].
type Option func(*config)

type config struct {
	data      *Dataset
	seed      int64
	faults    []Fault
	faultRate float64
	faultSeed int64
	kinds     []FaultKind
	latency   time.Duration
	pageSize  int
	hook      func(Request)
	handlers  []customHandler
	rateLimit int
}

// WithData serves d instead of the demo dataset. The server keeps a copy:
// changing d afterwards changes nothing.
func WithData(d *Dataset) Option {
	return func(c *config) { c.data = d }
}

// WithSeed serves the demo dataset generated from seed (see [DemoDataset])
// instead of the one of [DefaultSeed]. [WithData] takes precedence.
func WithSeed(seed int64) Option {
	return func(c *config) { c.seed = seed }
}

// WithLatency delays every answer by d, faults included. A request whose
// context ends during the delay is answered at once.
func WithLatency(d time.Duration) Option {
	return func(c *config) { c.latency = max(d, 0) }
}

// WithPageSize caps every page of a list endpoint (conversations and
// messages) at n items, whatever limit the request asks for, and reports
// the capped limit where the provider reports one, like a plan that caps the
// page size. With it, Vobiz's conversation list, which is one page
// otherwise, is paged with has_more and next_cursor and accepts cursor.
// n <= 0 means no cap (the default).
func WithPageSize(n int) Option {
	return func(c *config) { c.pageSize = max(n, 0) }
}

// WithRateLimit reports a limit of perMinute requests a minute in the
// rate-limit headers of a provider that sends them (Rentalot's
// X-RateLimit-*: 120 a minute by default), instead of the provider's own,
// so that a client pacing to the headers can be run through many requests
// at full speed (a benchmark, a large dataset). perMinute < 0 sends no
// rate-limit headers at all; 0 keeps the provider's limit. The fake never
// refuses a request for exceeding the limit (use [WithFaults] for 429s);
// it only reports what is left of the window. Providers that send no
// rate-limit headers are not affected.
func WithRateLimit(perMinute int) Option {
	return func(c *config) { c.rateLimit = perMinute }
}

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
