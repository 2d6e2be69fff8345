package convo

import (
	"context"
	"errors"
	"fmt"
	"math"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// pacingT0 is the fake clock's start, a whole unix second.
var pacingT0 = time.Unix(1_800_000_000, 0)

// pacingClock is an injectable clock: sleeping advances it at once and
// records the wait.
type pacingClock struct {
	mu    sync.Mutex
	t     time.Time
	slept []time.Duration
}

func (c *pacingClock) now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *pacingClock) sleep(ctx context.Context, d time.Duration) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
	c.slept = append(c.slept, d)
	return nil
}

func (c *pacingClock) waits() []time.Duration {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]time.Duration(nil), c.slept...)
}

// pacingHeaders is what the test server reports for one request.
type pacingHeaders struct {
	remaining string // "" = header not sent
	reset     int64  // unix seconds; 0 = header not sent
	resource  string
}

// pacingServer answers Rentalot's GET /conversations/{id} and
// GET /conversations/{id}/messages, with the rate-limit headers chosen by
// report for the n-th request (0-based), and counts the requests.
type pacingServer struct {
	*httptest.Server
	hits atomic.Int64
}

func newPacingServer(t *testing.T, report func(n int, r *http.Request) pacingHeaders) *pacingServer {
	t.Helper()
	s := &pacingServer{}
	s.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		n := int(s.hits.Add(1)) - 1
		h := report(n, r)
		w.Header().Set("X-RateLimit-Limit", "30")
		if h.remaining != "" {
			w.Header().Set("X-RateLimit-Remaining", h.remaining)
		}
		if h.reset != 0 {
			w.Header().Set("X-RateLimit-Reset", strconv.FormatInt(h.reset, 10))
		}
		if h.resource != "" {
			w.Header().Set("X-RateLimit-Resource", h.resource)
		}
		w.Header().Set("Content-Type", "application/json")
		switch {
		case strings.HasSuffix(r.URL.Path, "/messages"):
			fmt.Fprint(w, `{"data":[],"pagination":{"page":1,"limit":20}}`)
			return
		case r.URL.Path == "/conversations":
			fmt.Fprint(w, `{"data":[],"pagination":{"page":1,"limit":20,"total":0,"totalPages":0}}`)
			return
		}
		fmt.Fprint(w, `{"data":{"id":"c1","status":"active"}}`)
	}))
	t.Cleanup(s.Close)
	return s
}

// pacedOnClock returns a new pacingServer that reports as report, a fake
// clock at pacingT0, and a client of the server whose pacer runs on it.
func pacedOnClock(t *testing.T, report func(n int, r *http.Request) pacingHeaders, opts ...Option) (*pacingServer, *pacingClock, *Client) {
	t.Helper()
	srv := newPacingServer(t, report)
	clock := &pacingClock{t: pacingT0}
	return srv, clock, newPacedClient(t, srv, clock, opts...)
}

// getC1 gets conversation c1 through c and requires that it succeeds.
func getC1(t *testing.T, c *Client, msgAndArgs ...any) {
	t.Helper()
	_, err := c.Conversations.Get(context.Background(), "c1")
	require.NoError(t, err, msgAndArgs...)
}

// newPacedClient returns a Rentalot client of srv whose pacer runs on clock.
func newPacedClient(t *testing.T, srv *pacingServer, clock *pacingClock, opts ...Option) *Client {
	t.Helper()
	opts = append([]Option{WithoutAuth(), WithBaseURL(srv.URL), WithMaxRetries(0)}, opts...)
	c, err := NewClient(Rentalot, opts...)
	require.NoError(t, err)
	if clock != nil {
		c.pacer.now, c.pacer.sleep = clock.now, clock.sleep
	}
	return c
}

func TestPacingWaitsForReset(t *testing.T) {
	t.Parallel()
	srv, clock, c := pacedOnClock(t, func(n int, _ *http.Request) pacingHeaders {
		if n == 0 {
			return pacingHeaders{remaining: "0", reset: pacingT0.Unix() + 1, resource: "conversations"}
		}
		return pacingHeaders{remaining: "29", reset: pacingT0.Unix() + 61, resource: "conversations"}
	})

	getC1(t, c)
	assert.Empty(t, clock.waits(), "the first request has nothing to wait for")

	getC1(t, c)
	assert.Equal(t, []time.Duration{time.Second}, clock.waits(), "Remaining 0 with Reset in 1 s: the next request waits 1 s")

	getC1(t, c)
	assert.Equal(t, []time.Duration{time.Second}, clock.waits(), "a new window with requests left: no wait")
	assert.EqualValues(t, 3, srv.hits.Load(), "no request was skipped")
}

func TestPacingNoWait(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		h    pacingHeaders
	}{
		{"requests left", pacingHeaders{remaining: "5", reset: pacingT0.Unix() + 30}},
		{"no reset header", pacingHeaders{remaining: "0"}},
		{"reset in the past", pacingHeaders{remaining: "0", reset: pacingT0.Unix() - 5}},
		{"no remaining header", pacingHeaders{reset: pacingT0.Unix() + 30}},
		{"unparsable remaining", pacingHeaders{remaining: "many", reset: pacingT0.Unix() + 30}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv, clock, c := pacedOnClock(t, func(int, *http.Request) pacingHeaders { return tt.h })
			for range 3 {
				getC1(t, c)
			}
			assert.Empty(t, clock.waits())
			assert.EqualValues(t, 3, srv.hits.Load())
		})
	}
}

func TestPacingKeyedByResource(t *testing.T) {
	t.Parallel()
	_, clock, c := pacedOnClock(t, func(_ int, r *http.Request) pacingHeaders {
		if r.URL.Path == "/conversations/c1/messages" {
			return pacingHeaders{remaining: "10", reset: pacingT0.Unix() + 30, resource: "messages"}
		}
		return pacingHeaders{remaining: "0", reset: pacingT0.Unix() + 30, resource: "conversations"}
	})
	ctx := context.Background()

	drain := func(p *Pager[Message]) {
		t.Helper()
		for _, err := range p.All() {
			require.NoError(t, err)
		}
	}
	drain(c.Messages.List(ctx, "c1", nil))
	getC1(t, c) // exhausts "conversations"

	drain(c.Messages.List(ctx, "c2", nil))
	assert.Empty(t, clock.waits(), "the messages route counts against another resource: no wait")

	_, err := c.Conversations.Get(ctx, "c9")
	require.NoError(t, err)
	assert.Equal(t, []time.Duration{30 * time.Second}, clock.waits(), "the conversation route waits for its own window")

	// The window is over now; exhaust it again and ask on a route never seen
	// (the conversation list): it may count against any window, so it waits.
	clock.mu.Lock()
	clock.t = pacingT0
	clock.mu.Unlock()
	getC1(t, c)
	for _, err := range c.Conversations.List(ctx, nil).All() {
		require.NoError(t, err)
	}
	assert.Len(t, clock.waits(), 2, "an unknown route waits for an exhausted window")
}

func TestPacingCountsRequestsWithinWindow(t *testing.T) {
	t.Parallel()
	// The server keeps reporting Remaining 2 for the same window, as late
	// answers would: the client counts what it sent and keeps the lowest figure.
	_, clock, c := pacedOnClock(t, func(int, *http.Request) pacingHeaders {
		return pacingHeaders{remaining: "2", reset: pacingT0.Unix() + 10}
	})
	for i := range 4 {
		getC1(t, c, "request %d", i)
		if i < 3 {
			assert.Empty(t, clock.waits(), "request %d is within the 2 left after the first", i)
		}
	}
	assert.Equal(t, []time.Duration{10 * time.Second}, clock.waits(), "the 4th request waits for the reset")
}

func TestPacingResetBeyondMaxWait(t *testing.T) {
	t.Parallel()
	srv, clock, c := pacedOnClock(t, func(int, *http.Request) pacingHeaders {
		return pacingHeaders{remaining: "0", reset: pacingT0.Unix() + 600, resource: "conversations"}
	})
	getC1(t, c)

	_, err := c.Conversations.Get(context.Background(), "c1")
	require.Error(t, err)
	assert.ErrorIs(t, err, ErrRateLimited)
	var pe *PacingError
	require.ErrorAs(t, err, &pe)
	assert.Equal(t, 10*time.Minute, pe.Wait)
	assert.Equal(t, DefaultMaxPacingWait, pe.MaxWait)
	assert.Equal(t, "conversations", pe.Resource)
	assert.True(t, pe.Reset.Equal(pacingT0.Add(10*time.Minute)))
	assert.Contains(t, err.Error(), "rate limit used up")
	assert.Empty(t, clock.waits(), "not slept through")
	assert.EqualValues(t, 1, srv.hits.Load(), "the refused request was not sent")

	t.Run("a longer maximum waits", func(t *testing.T) {
		c := newPacedClient(t, srv, clock, WithMaxPacingWait(time.Hour))
		getC1(t, c)
		getC1(t, c)
		assert.Equal(t, []time.Duration{10 * time.Minute}, clock.waits())
	})
	t.Run("0 turns header pacing off", func(t *testing.T) {
		clock := &pacingClock{t: pacingT0}
		before := srv.hits.Load()
		c := newPacedClient(t, srv, clock, WithMaxPacingWait(0))
		for range 3 {
			getC1(t, c)
		}
		assert.Empty(t, clock.waits())
		assert.EqualValues(t, 3, srv.hits.Load()-before)
	})
}

func TestPacingCancelDuringWait(t *testing.T) {
	t.Parallel()
	// Real clock: the window resets 30 s from now; cancelling must free the
	// caller at once.
	reset := time.Now().Add(30 * time.Second).Unix()
	srv := newPacingServer(t, func(int, *http.Request) pacingHeaders {
		return pacingHeaders{remaining: "0", reset: reset}
	})
	c := newPacedClient(t, srv, nil)
	getC1(t, c)

	ctx, cancel := context.WithCancel(context.Background())
	time.AfterFunc(50*time.Millisecond, cancel)
	start := time.Now()
	_, err := c.Conversations.Get(ctx, "c1")
	elapsed := time.Since(start)
	require.Error(t, err)
	assert.ErrorIs(t, err, context.Canceled)
	assert.Less(t, elapsed, 10*time.Second, "the wait ended with the context, not with the window")
	assert.EqualValues(t, 1, srv.hits.Load(), "the cancelled request was not sent")
}

func TestWithRateLimitOptionValidation(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		opt  Option
		want string
	}{
		{"zero rate", WithRateLimit(0, 1), "WithRateLimit"},
		{"negative rate", WithRateLimit(-1, 1), "WithRateLimit"},
		{"NaN rate", WithRateLimit(math.NaN(), 1), "WithRateLimit"},
		{"infinite rate", WithRateLimit(math.Inf(1), 1), "WithRateLimit"},
		{"zero burst", WithRateLimit(1, 0), "WithRateLimit"},
		{"negative max pacing wait", WithMaxPacingWait(-time.Second), "WithMaxPacingWait"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := NewClient(Rentalot, WithoutAuth(), tt.opt)
			require.Error(t, err)
			assert.Nil(t, c)
			assert.ErrorIs(t, err, ErrInvalidOption)
			assert.Contains(t, err.Error(), tt.want)
		})
	}
	c, err := NewClient(Rentalot, WithoutAuth(), WithRateLimit(0.5, 1), WithMaxPacingWait(0))
	require.NoError(t, err)
	assert.NotNil(t, c)
}

func TestWithRateLimitSpacesRequests(t *testing.T) {
	t.Parallel()
	srv, clock, c := pacedOnClock(t, func(int, *http.Request) pacingHeaders { return pacingHeaders{} }, WithRateLimit(10, 2))
	for range 5 {
		getC1(t, c)
	}
	// A burst of 2, then one token every 100 ms.
	assert.Equal(t, []time.Duration{100 * time.Millisecond, 100 * time.Millisecond, 100 * time.Millisecond}, clock.waits())
	assert.EqualValues(t, 5, srv.hits.Load())
}

func TestWithRateLimitRespectsContext(t *testing.T) {
	t.Parallel()
	srv := newPacingServer(t, func(int, *http.Request) pacingHeaders { return pacingHeaders{} })
	c := newPacedClient(t, srv, nil, WithRateLimit(0.1, 1)) // one request per 10 s
	getC1(t, c)

	t.Run("deadline too close fails at once", func(t *testing.T) {
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		defer cancel()
		start := time.Now()
		_, err := c.Conversations.Get(ctx, "c1")
		require.Error(t, err)
		assert.ErrorIs(t, err, context.DeadlineExceeded)
		assert.Less(t, time.Since(start), 900*time.Millisecond, "failed before the deadline, without waiting")
	})
	t.Run("cancel ends the wait", func(t *testing.T) {
		ctx, cancel := context.WithCancel(context.Background())
		time.AfterFunc(50*time.Millisecond, cancel)
		_, err := c.Conversations.Get(ctx, "c1")
		require.Error(t, err)
		assert.ErrorIs(t, err, context.Canceled)
	})
	assert.EqualValues(t, 1, srv.hits.Load(), "no waiting request was sent")
}

func TestPacingConcurrentUse(t *testing.T) {
	t.Parallel()
	// Many goroutines through one paced, limited client: run with -race.
	var n atomic.Int64
	srv := newPacingServer(t, func(int, *http.Request) pacingHeaders {
		return pacingHeaders{remaining: strconv.FormatInt(1000-n.Add(1), 10), reset: time.Now().Add(time.Minute).Unix(), resource: "conversations"}
	})
	c := newPacedClient(t, srv, nil, WithRateLimit(1000, 50))
	var wg sync.WaitGroup
	errs := make(chan error, 40)
	for i := range 40 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if i%2 == 0 {
				_, err := c.Conversations.Get(context.Background(), "c1")
				errs <- err
				return
			}
			for _, err := range c.Messages.List(context.Background(), "c1", nil).All() {
				if err != nil {
					errs <- err
					return
				}
			}
			errs <- nil
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		assert.NoError(t, err)
	}
	assert.EqualValues(t, 40, srv.hits.Load())
}

func TestRouteKey(t *testing.T) {
	t.Parallel()
	tests := map[string]string{
		"/conversations":                 "conversations",
		"/conversations/search":          "conversations/*",
		"/conversations/abc":             "conversations/*",
		"/conversations/abc/messages":    "conversations/*/messages",
		"/conversations/a%2Fb/messages/": "conversations/*/messages",
	}
	for in, want := range tests {
		assert.Equal(t, want, routeKey(in), in)
	}
	assert.True(t, errors.Is(&PacingError{}, ErrRateLimited))
}
