package convo

import (
	"context"
	"fmt"
	"math"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"

	"golang.org/x/time/rate"
)

// DefaultMaxPacingWait is the longest a request waits for a rate-limit
// window reported used up by the provider (see [WithMaxPacingWait]).
// Windows of 60 seconds are usual, so a wait up to a whole window plus
// clock skew is normal; a reset further away (a daily quota, a clock far
// off) fails fast instead of hanging.
const DefaultMaxPacingWait = 2 * time.Minute

// pacingConfig is what the pacing options set.
type pacingConfig struct {
	perSecond  float64 // client-side limit; 0 = none
	burst      int
	maxWait    time.Duration
	maxWaitSet bool
}

// WithRateLimit limits the client to perSecond requests per second on
// average, with bursts of up to burst requests, for providers that publish
// their limits but send no rate-limit headers (for example 120 requests a
// minute: WithRateLimit(2, 1)). Every call waits for its turn; the wait ends
// at once when the call's context is done, and a wait that would outlast
// the context's deadline fails at once. Retries of a call are spaced by the
// retry backoff, not by this limit. perSecond must be positive and finite,
// burst at least 1. Without it (the default) the client sends as fast as it
// is called, paced only by the provider's headers.
//
// The limit is per Client: share one Client to share the budget.
func WithRateLimit(perSecond float64, burst int) Option {
	return func(c *config) error {
		if math.IsNaN(perSecond) || math.IsInf(perSecond, 0) || perSecond <= 0 {
			return invalidOption("WithRateLimit", "requests per second must be positive and finite, got %v", perSecond)
		}
		if burst < 1 {
			return invalidOption("WithRateLimit", "burst must be at least 1, got %d", burst)
		}
		c.pacing.perSecond, c.pacing.burst = perSecond, burst
		return nil
	}
}

// WithMaxPacingWait sets the longest a request waits for a rate-limit
// window the provider reported used up (X-RateLimit-Remaining: 0) to reset
// (X-RateLimit-Reset). A window that resets later fails the call at once,
// before anything is sent, with a [*PacingError]. 0 turns header pacing off:
// requests are then sent regardless and a 429 is handled by the retry
// policy. The default is [DefaultMaxPacingWait].
func WithMaxPacingWait(d time.Duration) Option {
	return func(c *config) error {
		if d < 0 {
			return invalidOption("WithMaxPacingWait", "negative wait %v", d)
		}
		c.pacing.maxWait, c.pacing.maxWaitSet = d, true
		return nil
	}
}

// pacer keeps a client within its rate limits: the windows the provider
// reports in X-RateLimit-* headers, and the optional client-side limit of
// WithRateLimit. It is safe for concurrent use.
//
// Windows are kept per X-RateLimit-Resource. A request does not know its
// resource before the server answers, so the pacer learns it per route (the
// path with its id segments masked): a route whose resource is known waits
// only for that resource's window; a route not seen yet waits for any
// exhausted window. Within a window the pacer counts the requests it lets
// through, so that concurrent requests do not overshoot the last reported
// Remaining, and keeps the lowest Remaining reported for the window, so that
// an older response arriving late does not raise it.
type pacer struct {
	now     func() time.Time
	sleep   func(ctx context.Context, d time.Duration) error
	maxWait time.Duration // 0: header pacing off
	limiter *rate.Limiter // nil: no client-side limit

	mu      sync.Mutex
	windows map[string]*window // by resource ("" when the header is absent)
	routes  map[string]string  // route -> resource it last counted against
}

// window is a provider's rate-limit window.
type window struct {
	remaining int
	reset     time.Time
}

func newPacer(cfg pacingConfig) *pacer {
	p := &pacer{
		now:     time.Now,
		sleep:   sleep,
		maxWait: DefaultMaxPacingWait,
		windows: map[string]*window{},
		routes:  map[string]string{},
	}
	if cfg.maxWaitSet {
		p.maxWait = cfg.maxWait
	}
	if cfg.perSecond > 0 {
		p.limiter = rate.NewLimiter(rate.Limit(cfg.perSecond), cfg.burst)
	}
	return p
}

// wait blocks until a request to escapedPath may be sent: until the
// provider's window for it has reset, then until the client-side limiter
// grants a token. It returns an error wrapping ctx.Err() as soon as ctx is
// done, and a *PacingError for a window that resets too far away.
func (p *pacer) wait(ctx context.Context, escapedPath string) error {
	if p == nil {
		return nil
	}
	if p.maxWait > 0 {
		route := routeKey(escapedPath)
		for {
			until, resource := p.reserve(route)
			if until.IsZero() {
				break
			}
			d := until.Sub(p.now())
			if d > p.maxWait {
				return &PacingError{Resource: resource, Reset: until, Wait: d, MaxWait: p.maxWait}
			}
			if err := p.sleep(ctx, d); err != nil {
				return fmt.Errorf("waiting for the rate-limit window to reset: %w", err)
			}
			// Check again: another response may have reported a new window.
		}
	}
	if p.limiter == nil {
		return nil
	}
	now := p.now()
	r := p.limiter.ReserveN(now, 1)
	d := r.DelayFrom(now)
	if d <= 0 {
		return nil
	}
	if deadline, ok := ctx.Deadline(); ok && now.Add(d).After(deadline) {
		r.CancelAt(now)
		return fmt.Errorf("rate limit: waiting %v would pass the context deadline: %w", d, context.DeadlineExceeded)
	}
	if err := p.sleep(ctx, d); err != nil {
		r.CancelAt(p.now())
		return fmt.Errorf("waiting for the client rate limit: %w", err)
	}
	return nil
}

// reserve returns the reset time of an exhausted window that route must
// wait for (zero when it may go), with that window's resource. When route
// may go, the request is counted against its window.
func (p *pacer) reserve(route string) (time.Time, string) {
	now := p.now()
	p.mu.Lock()
	defer p.mu.Unlock()
	resource, known := p.routes[route]
	if known {
		w := p.windows[resource]
		switch {
		case w == nil:
		case !now.Before(w.reset):
			delete(p.windows, resource) // the window is over; the next answer tells the new one
		case w.remaining <= 0:
			return w.reset, resource
		default:
			w.remaining--
		}
		return time.Time{}, ""
	}
	// A route not seen yet may count against any window: wait for the one
	// that resets last among those used up.
	var until time.Time
	var res string
	for r, w := range p.windows {
		switch {
		case !now.Before(w.reset):
			delete(p.windows, r)
		case w.remaining <= 0 && w.reset.After(until):
			until, res = w.reset, r
		}
	}
	return until, res
}

// observe records the rate-limit state a response to escapedPath reported;
// the caller passes only states whose Remaining was sent. One without a
// usable X-RateLimit-Reset changes nothing.
func (p *pacer) observe(escapedPath string, rl *RateLimit) {
	if p == nil || p.maxWait == 0 || rl.Reset.IsZero() {
		return
	}
	rem := max(rl.Remaining, 0)
	route := routeKey(escapedPath)
	p.mu.Lock()
	defer p.mu.Unlock()
	p.routes[route] = rl.Resource
	w := p.windows[rl.Resource]
	switch {
	case w == nil || rl.Reset.After(w.reset): // a new window
		p.windows[rl.Resource] = &window{remaining: rem, reset: rl.Reset}
	case rl.Reset.Equal(w.reset):
		w.remaining = min(w.remaining, rem)
	}
	// An answer about an older window, arriving late, is ignored.
}

// routeKey masks the id segments of a REST path (every second segment:
// /conversations/{id}/messages) so that all requests of one endpoint share
// a key.
func routeKey(escapedPath string) string {
	segs := strings.Split(strings.Trim(escapedPath, "/"), "/")
	for i := 1; i < len(segs); i += 2 {
		segs[i] = "*"
	}
	return strings.Join(segs, "/")
}

// RateLimit is a provider's rate-limit state as reported by its response
// headers.
type RateLimit struct {
	Limit     int       // requests allowed per window
	Remaining int       // requests left in the current window
	Reset     time.Time // when the window resets; zero when not sent
	Resource  string    // what the request counted against
}

func parseRateLimit(h http.Header) *RateLimit {
	rl, _ := readRateLimit(h)
	return rl
}

// readRateLimit reads the X-RateLimit-* headers; remainingOK reports whether
// X-RateLimit-Remaining was a number (a missing one reads as 0, which must
// not be taken for a used-up window).
func readRateLimit(h http.Header) (rl *RateLimit, remainingOK bool) {
	lim, rem, reset := h.Get("X-RateLimit-Limit"), h.Get("X-RateLimit-Remaining"), h.Get("X-RateLimit-Reset")
	if lim == "" && rem == "" && reset == "" {
		return nil, false
	}
	rl = &RateLimit{Resource: h.Get("X-RateLimit-Resource")}
	rl.Limit, _ = strconv.Atoi(strings.TrimSpace(lim))
	var err error
	rl.Remaining, err = strconv.Atoi(strings.TrimSpace(rem))
	if secs, err := strconv.ParseInt(strings.TrimSpace(reset), 10, 64); err == nil && secs > 0 {
		rl.Reset = time.Unix(secs, 0)
	}
	return rl, err == nil
}
