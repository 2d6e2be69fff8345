package convotest

import (
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
