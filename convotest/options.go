package convotest

import "time"

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
