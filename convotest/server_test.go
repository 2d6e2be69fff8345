package convotest_test

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/convokit/convo"
	"github.com/convokit/convo/convotest"
)

func TestConvotestURLAndBasePath(t *testing.T) {
	t.Parallel()
	eachProvider(t, func(t *testing.T, p convo.Provider, w wire) {
		srv := convotest.New(t, p)
		u, err := url.Parse(srv.URL())
		require.NoError(t, err)
		base, err := url.Parse(p.DefaultBaseURL())
		require.NoError(t, err)
		assert.Equal(t, base.Path, u.Path)
		assert.Equal(t, "127.0.0.1", u.Hostname())
		assert.Equal(t, p, srv.Provider())

		resp, body := rawGet(t, srv, "/conversations", demoAuth(p))
		assert.Equal(t, http.StatusOK, resp.StatusCode, "body: %s", body)

		// Outside the base path nothing is served.
		req, err := http.NewRequest(http.MethodGet, strings.TrimSuffix(srv.URL(), base.Path)+"/conversations", nil)
		require.NoError(t, err)
		req.Header = demoAuth(p)
		r2, err := rawClient.Do(req)
		require.NoError(t, err)
		r2.Body.Close()
		assert.Equal(t, http.StatusNotFound, r2.StatusCode)
	})
}

func TestConvotestConcurrentUse(t *testing.T) {
	t.Parallel()
	srv := convotest.New(t, convo.AgentMessage, convotest.WithFaultRate(0.2, 7, convotest.FaultServerError))
	c := mustClient(t, srv, convo.WithRetryWait(time.Millisecond, 2*time.Millisecond), convo.WithMaxRetries(10))
	d := srv.Dataset()
	var wg sync.WaitGroup
	errs := make(chan error, 8)
	for g := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			cd := d.Conversations[g]
			n := 0
			for _, err := range c.Messages.List(context.Background(), cd.Conversation.ID, &convo.MessageListParams{PageSize: 3}).All() {
				if err != nil {
					errs <- err
					return
				}
				n++
			}
			if n != len(cd.Messages) {
				errs <- fmt.Errorf("%s: %d messages, want %d", cd.Conversation.ID, n, len(cd.Messages))
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	reqs := srv.Requests()
	seen := map[int]bool{}
	for _, r := range reqs {
		assert.False(t, seen[r.N], "arrival numbers are unique")
		seen[r.N] = true
	}
	assert.Len(t, seen, len(reqs))
}

func TestConvotestNewServerPanicsOnZeroProvider(t *testing.T) {
	t.Parallel()
	assert.Panics(t, func() { convotest.NewServer(convo.Provider{}) })
}

func TestConvotestRequestLog(t *testing.T) {
	t.Parallel()
	srv := convotest.New(t, convo.Vobiz)
	c := mustClient(t, srv)
	id := firstConversation(t, srv)
	collect(t, c.Messages.List(context.Background(), id, &convo.MessageListParams{PageSize: 2}).Pages())
	rawGet(t, srv, "/conversations", http.Header{"X-Auth-Id": {convotest.DemoVobizAuthID}, "X-Auth-Token": {"leaked-secret"}})

	reqs := srv.Requests()
	require.GreaterOrEqual(t, len(reqs), 2)
	first := reqs[0]
	assert.Equal(t, 1, first.N)
	assert.Equal(t, http.MethodGet, first.Method)
	assert.Equal(t, "/api/v1/messaging/conversations/"+id+"/messages", first.Path)
	assert.Equal(t, "2", first.Query().Get("limit"))
	assert.True(t, first.Authorized)
	assert.Equal(t, http.StatusOK, first.Status)
	assert.Equal(t, convotest.FaultKind(0), first.Fault)

	last := reqs[len(reqs)-1]
	assert.False(t, last.Authorized)
	assert.Equal(t, http.StatusUnauthorized, last.Status)
	for _, r := range reqs {
		assert.Equal(t, "REDACTED", r.Header.Get("X-Auth-Token"))
		for k, vs := range r.Header {
			for _, v := range vs {
				assert.NotContains(t, v, convotest.DemoVobizAuthToken, k)
				assert.NotContains(t, v, "leaked-secret", k)
			}
		}
		assert.NotContains(t, fmt.Sprintf("%+v", r), convotest.DemoVobizAuthToken)
	}

	// The log is a copy.
	reqs[0].Header.Set("X-Auth-Token", "changed")
	assert.Equal(t, "REDACTED", srv.Requests()[0].Header.Get("X-Auth-Token"))
	srv.ResetRequests()
	assert.Empty(t, srv.Requests())
}

func TestConvotestWithSeed(t *testing.T) {
	t.Parallel()
	a := convotest.New(t, convo.VantaxAI, convotest.WithSeed(5))
	b := convotest.New(t, convo.VantaxAI)
	assert.Equal(t, convotest.DemoDataset(convo.VantaxAI, 5), a.Dataset())
	assert.Equal(t, convotest.DemoDataset(convo.VantaxAI, convotest.DefaultSeed), b.Dataset())
}

// TestConvotestWithRateLimit checks that WithRateLimit changes the limit
// Rentalot's headers report, or turns them off, and that a client pacing to
// the headers follows it.
func TestConvotestWithRateLimit(t *testing.T) {
	t.Parallel()
	headers := func(t *testing.T, p convo.Provider, opts ...convotest.Option) []http.Header {
		t.Helper()
		srv := convotest.New(t, p, opts...)
		var out []http.Header
		for range 3 {
			resp, body := rawGet(t, srv, "/conversations", demoAuth(p))
			require.Equal(t, 200, resp.StatusCode, "%s", body)
			out = append(out, resp.Header)
		}
		return out
	}
	for i, h := range headers(t, convo.Rentalot, convotest.WithRateLimit(100_000)) {
		assert.Equal(t, "100000", h.Get("X-RateLimit-Limit"))
		assert.Equal(t, strconv.Itoa(100_000-1-i), h.Get("X-RateLimit-Remaining"))
		assert.NotEmpty(t, h.Get("X-RateLimit-Reset"))
	}
	for _, h := range headers(t, convo.Rentalot, convotest.WithRateLimit(0)) {
		assert.Equal(t, "120", h.Get("X-RateLimit-Limit"), "0 keeps the provider's limit")
	}
	for _, h := range headers(t, convo.Rentalot, convotest.WithRateLimit(-1)) {
		for _, k := range []string{"X-RateLimit-Limit", "X-RateLimit-Remaining", "X-RateLimit-Reset", "X-RateLimit-Resource"} {
			assert.Empty(t, h.Get(k), k)
		}
	}
	for _, h := range headers(t, convo.VantaxAI, convotest.WithRateLimit(50)) {
		assert.Empty(t, h.Get("X-RateLimit-Limit"), "a provider without rate-limit headers gets none")
	}

	// A client that waits at most a millisecond for a used-up window: with
	// a limit of 2 the third request is refused before it is sent; without
	// headers it is not.
	get := func(opts ...convotest.Option) []error {
		srv := convotest.New(t, convo.Rentalot, opts...)
		c := mustClient(t, srv, convo.WithMaxPacingWait(time.Millisecond))
		var errs []error
		for range 3 {
			var err error
			for _, err = range c.Conversations.List(context.Background(), &convo.ConversationListParams{PageSize: 1}).Pages() {
				break // the first page: one request
			}
			errs = append(errs, err)
		}
		return errs
	}
	errs := get(convotest.WithRateLimit(2))
	require.NoError(t, errs[0])
	require.NoError(t, errs[1])
	var pe *convo.PacingError
	assert.ErrorAs(t, errs[2], &pe)
	for _, err := range get(convotest.WithRateLimit(-1)) {
		assert.NoError(t, err)
	}
}

// TestConvotestCloseDoesNotWaitOutLatency checks that a delay ends with
// the request's context: a request its client abandoned does not keep
// Close waiting for the rest of the latency.
func TestConvotestCloseDoesNotWaitOutLatency(t *testing.T) {
	t.Parallel()
	srv := convotest.NewServer(convo.Vobiz, convotest.WithLatency(time.Minute))
	c, err := srv.Client(convo.WithMaxRetries(0))
	require.NoError(t, err)
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	for _, err := range c.Conversations.List(ctx, nil).All() {
		require.ErrorIs(t, err, context.DeadlineExceeded)
	}
	closed := make(chan struct{})
	go func() {
		srv.Close()
		close(closed)
	}()
	select {
	case <-closed:
	case <-time.After(10 * time.Second):
		t.Fatal("Close still waits for the abandoned request's delay")
	}
}

func TestConvotestAcceptedCredentials(t *testing.T) {
	t.Parallel()
	eachProvider(t, func(t *testing.T, p convo.Provider, w wire) {
		srv := convotest.New(t, p)
		for _, h := range append([]http.Header{demoAuth(p)}, w.accepted...) {
			resp, body := rawGet(t, srv, "/conversations", h)
			assert.Equal(t, http.StatusOK, resp.StatusCode, "body: %s", body)
		}
		assert.True(t, strings.HasPrefix(w.demoKey, w.keyPrefix), "the key prefix of the documents")
	})
}

func TestConvotestMethodNotAllowed(t *testing.T) {
	t.Parallel()
	srv := convotest.New(t, convo.AgentMessage)
	req, err := http.NewRequest(http.MethodPost, srv.URL()+"/conversations", strings.NewReader("{}"))
	require.NoError(t, err)
	req.Header = demoAuth(convo.AgentMessage)
	resp, err := rawClient.Do(req)
	require.NoError(t, err)
	resp.Body.Close()
	assert.Equal(t, http.StatusMethodNotAllowed, resp.StatusCode)
	assert.Equal(t, "GET", resp.Header.Get("Allow"))
}

func TestConvotestLatency(t *testing.T) {
	t.Parallel()
	const d = 30 * time.Millisecond
	srv := convotest.New(t, convo.Vobiz, convotest.WithLatency(d))
	start := time.Now()
	resp, _ := rawGet(t, srv, "/conversations", demoAuth(convo.Vobiz))
	assert.Equal(t, http.StatusOK, resp.StatusCode)
	assert.GreaterOrEqual(t, time.Since(start), d, "answered no earlier than the latency")

	slow := convotest.New(t, convo.Vobiz, convotest.WithLatency(time.Minute))
	c := mustClient(t, slow, convo.WithMaxRetries(0))
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Millisecond)
	defer cancel()
	var err error
	for _, e := range c.Conversations.List(ctx, nil).All() {
		err = e
	}
	assert.ErrorIs(t, err, context.DeadlineExceeded, "a caller's deadline ends the wait")
}

// TestConvotestStrictness sends each provider the requests its fake must
// refuse (its wire's allRefusals) and checks the status and the provider's
// error envelope.
func TestConvotestStrictness(t *testing.T) {
	t.Parallel()
	eachProvider(t, func(t *testing.T, p convo.Provider, w wire) {
		srv := convotest.New(t, p)
		id := url.PathEscape(firstConversation(t, srv))
		for _, tt := range w.allRefusals() {
			t.Run(tt.name, func(t *testing.T) {
				h := tt.header
				if h == nil {
					h = demoAuth(p)
				}
				resp, body := rawGet(t, srv, strings.ReplaceAll(tt.path, "{id}", id), h)
				require.Equal(t, tt.status, resp.StatusCode, "body: %s", body)
				assert.Contains(t, resp.Header.Get("Content-Type"), "json")
				tt.check(t, resp.Header, object(t, body))
				for _, hd := range w.headers {
					assert.NotEmpty(t, resp.Header.Get(hd), hd)
				}
			})
		}
	})
}
