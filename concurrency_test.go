package convo_test

// Breaking out of an iteration leaves nothing behind (no goroutine, no
// request), and one Client serves many goroutines at once, over few
// connections.

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"runtime/pprof"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"

	"github.com/convokit/convo"
	"github.com/convokit/convo/convotest"
)

// hwVerifyNoLeak checks, after the test and all its cleanups, that no
// goroutine started during the test is left (VerifyNoGoroutineLeft waits
// up to 10 s for goroutines on their way out).
func hwVerifyNoLeak(t *testing.T) {
	ignore := goleak.IgnoreCurrent()
	t.Cleanup(func() { convo.VerifyNoGoroutineLeft(t, ignore) })
}

// hwPagerGoroutines counts the goroutines fetching a pager's pages (inside
// fetchAll: on a request, a channel, a timer), the caller's aside. Right
// after a loop over a pager returns it must not have grown: the iteration's
// work is over at once, not eventually. (A goroutine that has left fetchAll
// is only returning.)
func hwPagerGoroutines() int {
	var stacks strings.Builder
	_ = pprof.Lookup("goroutine").WriteTo(&stacks, 2) // the caller's first
	count := 0
	for i, g := range strings.Split(stacks.String(), "\n\n") {
		if i > 0 && strings.Contains(g, "convo.(*Pager[") && strings.Contains(g, ").fetchAll(") {
			count++
		}
	}
	return count
}

// hwLeakClient returns a client for srv with its own transport (closed at
// the end of the test, so that idle connections are not taken for leaks)
// and the count of the requests it starts, below all of its layers.
func hwLeakClient(t *testing.T, srv *hwServer, opts ...convo.Option) (*convo.Client, *atomic.Int64) {
	t.Helper()
	tr := &http.Transport{}
	t.Cleanup(tr.CloseIdleConnections)
	started := new(atomic.Int64)
	rt := hwRoundTrip(func(r *http.Request) (*http.Response, error) {
		started.Add(1)
		return tr.RoundTrip(r)
	})
	return srv.client(t, append(opts, convo.WithHTTPClient(&http.Client{Transport: rt}))...), started
}

// hwSettle asserts that once the loop has returned the client starts no
// further request and that the server's answers all return (a request in
// flight was abandoned), within a bounded wait. It returns how many
// requests the server received.
func hwSettle(t *testing.T, srv *hwServer, started *atomic.Int64, startedAtReturn int64) int64 {
	t.Helper()
	var last int64 = -1
	stableSince := time.Now()
	settled := hwWaitFor(5*time.Second, func() bool {
		if n := srv.requests.Load(); n != last {
			last, stableSince = n, time.Now()
		}
		return srv.active.Load() == 0 && time.Since(stableSince) > 100*time.Millisecond
	})
	assert.True(t, settled, "a request is still in flight at the server")
	assert.Equal(t, startedAtReturn, started.Load(), "the client started requests after the loop returned")
	return srv.requests.Load()
}

// TestLeakBreakStopsPrefetch: breaking out of All or Pages with prefetching
// on stops the fetching goroutine and its requests: no goroutine is left,
// the server sees no further request, and what was fetched ahead is bounded
// by the prefetch depth.
func TestLeakBreakStopsPrefetch(t *testing.T) {
	// Alone in a process of its own: the goroutines counted are this test's only.
	if !convo.InOwnProcess(t) {
		return
	}
	const prefetch = 3
	for _, p := range convo.Providers() {
		for _, mode := range []string{"All", "Pages"} {
			t.Run(p.Name()+"/"+mode, func(t *testing.T) {
				hwVerifyNoLeak(t)
				fake := hwFake(t, p, 200, convotest.WithLatency(time.Millisecond))
				want := hwListed(t, fake)
				srv := hwServe(t, fake, hwPass)
				c, started := hwLeakClient(t, srv, convo.WithPrefetch(prefetch))

				baseline := hwPagerGoroutines()
				pager := c.Messages.List(context.Background(), hwConv, &convo.MessageListParams{PageSize: 5})
				var got []string
				switch mode {
				case "All":
					for m, err := range pager.All() {
						require.NoError(t, err)
						got = append(got, m.ID)
						if len(got) == 7 { // mid-page 2, once the fetcher is blocked on a full hand-off
							hwWaitFor(5*time.Second, func() bool { return srv.requests.Load() > 2 })
							break
						}
					}
				case "Pages":
					for page, err := range pager.Pages() {
						require.NoError(t, err)
						for _, m := range page.Items {
							got = append(got, m.ID)
						}
						if len(got) >= 10 {
							hwWaitFor(5*time.Second, func() bool { return srv.requests.Load() > 2 })
							break
						}
					}
				}
				assert.Equal(t, baseline, hwPagerGoroutines(), "the prefetcher is gone when the loop returns")
				settled := hwSettle(t, srv, started, started.Load())
				assert.Equal(t, want[:len(got)], got)
				assert.LessOrEqual(t, settled, int64(2+prefetch+1), "fetching ahead is bounded by the prefetch depth")
				assert.Greater(t, settled, int64(2), "prefetching was on")
				srv.CloseClientConnections()
			})
		}
	}
}

// TestLeakBreakAbandonsRequestInFlight: when the loop is left while the
// prefetcher waits on a server that does not answer, the loop returns at
// once, the request is abandoned (the server sees the client leave) and no
// goroutine is left.
func TestLeakBreakAbandonsRequestInFlight(t *testing.T) {
	// Alone in a process of its own: the goroutines counted are this test's only.
	if !convo.InOwnProcess(t) {
		return
	}
	for _, p := range convo.Providers() {
		t.Run(p.Name(), func(t *testing.T) {
			hwVerifyNoLeak(t)
			var abandoned atomic.Int64
			srv := hwServe(t, hwFake(t, p, 50), func(w http.ResponseWriter, r hwRequest) {
				hwPassThenHang(w, r)
				if r.N > 1 && r.Context().Err() != nil {
					abandoned.Add(1)
				}
			})
			c, started := hwLeakClient(t, srv, convo.WithPrefetch(3))

			baseline := hwPagerGoroutines()
			start := time.Now()
			n := 0
			for _, err := range c.Messages.List(context.Background(), hwConv, &convo.MessageListParams{PageSize: 5}).All() {
				require.NoError(t, err)
				n++
				if n == 2 {
					require.True(t, hwWaitFor(5*time.Second, func() bool { return srv.active.Load() == 1 }),
						"the prefetcher has asked for page 2")
					break
				}
			}
			startedAtReturn := started.Load()
			assert.Equal(t, baseline, hwPagerGoroutines(), "the prefetcher is gone when the loop returns")
			assert.Less(t, time.Since(start), 5*time.Second, "breaking out must not wait for the server")
			settled := hwSettle(t, srv, started, startedAtReturn)
			assert.Equal(t, int64(2), settled)
			assert.Equal(t, int64(1), abandoned.Load(), "the request in flight was cancelled")
		})
	}
}

// TestLeakNoGoroutineAfterErrorOrEnd: an iteration that ends (normally,
// with an API error, or with the context) leaves no goroutine either.
func TestLeakNoGoroutineAfterErrorOrEnd(t *testing.T) {
	// Alone in a process of its own: the goroutines counted are this test's only.
	if !convo.InOwnProcess(t) {
		return
	}
	hwVerifyNoLeak(t)
	fake := hwFake(t, convo.VantaxAI, 23)
	want := hwListed(t, fake)
	srv := hwServe(t, fake, hwPass)
	c, started := hwLeakClient(t, srv, convo.WithPrefetch(2))

	ids, err := hwAll(c.Messages.List(context.Background(), hwConv, &convo.MessageListParams{PageSize: 4}).All(), hwMsgID, 100)
	require.NoError(t, err)
	assert.Equal(t, want, ids)

	_, err = hwAll(c.Messages.List(context.Background(), "gone/x", nil).All(), hwMsgID, 100)
	assert.ErrorIs(t, err, convo.ErrNotFound)

	ctx, cancel := context.WithCancel(context.Background())
	n := 0
	for _, err := range c.Messages.List(ctx, hwConv, &convo.MessageListParams{PageSize: 4}).All() {
		if err != nil {
			assert.ErrorIs(t, err, context.Canceled)
			break
		}
		if n++; n == 5 {
			cancel()
		}
		require.Less(t, n, 100)
	}
	cancel()
	hwSettle(t, srv, started, started.Load())
	srv.CloseClientConnections()
}

// TestConcurrentSharedClient: one Client used by 64 goroutines at once
// (listing conversations and messages with prefetch, fetching
// conversations, resuming from cursors read while iterating) against a
// server that fails one request in ten; every result is exact. Run with
// -race.
func TestConcurrentSharedClient(t *testing.T) {
	t.Parallel()
	const goroutines = 64
	const conversations = 40
	p := convo.VantaxAI
	// VantaxAI lists both conversations and messages in the data's order.
	d := convotest.NewDataset()
	var convs []string
	msgs := map[string][]string{}
	for i := range conversations {
		id := fmt.Sprintf("c%05d", i+1)
		d.AddConversation(convo.Conversation{ID: id, UnreadCount: 3}, hwMessages(id, 15+i%7)...)
		convs = append(convs, id)
		for _, m := range d.Conversations[i].Messages {
			msgs[id] = append(msgs[id], m.ID)
		}
	}
	srv := convotest.New(t, p, convotest.WithData(d), convotest.WithFaultRate(0.1, 7, convotest.FaultServerError))

	// A fresh token for every attempt, from a source that the fake accepts.
	var tokens atomic.Int64
	c, err := srv.Client(
		convo.WithAuth(convo.BearerFunc(func(ctx context.Context) (string, error) {
			tokens.Add(1)
			return convotest.DemoVantaxAIKey, nil
		})),
		convo.WithPrefetch(2), convo.WithMaxRetries(10), convo.WithRetryWait(time.Millisecond, 2*time.Millisecond))
	require.NoError(t, err)
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()

	errs := make(chan error, goroutines*8)
	check := func(g int, what string, want, got []string, err error) {
		switch {
		case err != nil:
			errs <- fmt.Errorf("goroutine %d: %s: %w", g, what, err)
		case fmt.Sprint(want) != fmt.Sprint(got):
			errs <- fmt.Errorf("goroutine %d: %s: got %d items %v…, want %d", g, what, len(got), got[:min(3, len(got))], len(want))
		}
	}
	var wg sync.WaitGroup
	for g := range goroutines {
		wg.Add(1)
		go func() {
			defer wg.Done()
			convID := convs[g%conversations]
			want := msgs[convID]

			ids, err := hwAll(c.Conversations.List(ctx, &convo.ConversationListParams{PageSize: 7}).All(), hwConvID, 1000)
			check(g, "conversations", convs, ids, err)

			pager := c.Messages.List(ctx, convID, &convo.MessageListParams{PageSize: 4})
			var got []string
			stop := make(chan struct{})
			var watcher sync.WaitGroup
			watcher.Add(1)
			go func() { // Cursor may be read from any goroutine while iterating
				defer watcher.Done()
				for {
					select {
					case <-stop:
						return
					default:
						_ = pager.Cursor()
						time.Sleep(100 * time.Microsecond)
					}
				}
			}()
			for m, err := range pager.All() {
				if err != nil {
					check(g, "messages", want, got, err)
					break
				}
				if m.ConversationID != convID || m.Body != hwBody(m.ID) {
					errs <- fmt.Errorf("goroutine %d: message %s mapped wrong: %+v", g, m.ID, m)
				}
				got = append(got, m.ID)
				if len(got) == 3+g%5 {
					break
				}
			}
			close(stop)
			watcher.Wait()
			rest, err := hwAll(c.Messages.List(ctx, convID, &convo.MessageListParams{PageSize: 4, Cursor: pager.Cursor()}).All(), hwMsgID, 1000)
			check(g, "messages resumed", want, append(got, rest...), err)

			conv, err := c.Conversations.Get(ctx, convID)
			if err != nil || conv.ID != convID || conv.UnreadCount != 3 {
				errs <- fmt.Errorf("goroutine %d: get %s: %v %+v", g, convID, err, conv)
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	requests := int64(len(srv.Requests()))
	t.Logf("%d goroutines, %d requests, %d tokens issued", goroutines, requests, tokens.Load())
	assert.GreaterOrEqual(t, tokens.Load(), requests, "a token was asked for every attempt")
}

// TestSharedClientReusesConnections: many goroutines sharing one client
// made with default options open no more connections than they have
// requests in flight; each connection serves many requests.
func TestSharedClientReusesConnections(t *testing.T) {
	const (
		workers = 16
		pages   = 20
	)
	var newConns atomic.Int64
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		n := 0
		if c := r.URL.Query().Get("cursor"); c != "" {
			n, _ = strconv.Atoi(strings.TrimPrefix(c, "c"))
		}
		var b strings.Builder
		b.WriteString(`{"success":true,"data":[`)
		for i := range 50 {
			if i > 0 {
				b.WriteByte(',')
			}
			fmt.Fprintf(&b, `{"id":"m%d_%d","direction":"inbound","body":"hello","created_at":"2026-04-10T03:11:42Z"}`, n, i)
		}
		next := "null"
		if n+1 < pages {
			next = `"c` + strconv.Itoa(n+1) + `"`
		}
		fmt.Fprintf(&b, `],"meta":{"limit":50,"next_cursor":%s}}`, next)
		w.Header().Set("Content-Type", "application/json")
		w.Write([]byte(b.String()))
	}))
	srv.Config.ConnState = func(_ net.Conn, s http.ConnState) {
		if s == http.StateNew {
			newConns.Add(1)
		}
	}
	srv.Start()
	defer srv.Close()

	c, err := convo.NewClient(convo.AgentMessage, convo.WithBaseURL(srv.URL), convo.WithAuth(convo.Bearer("am_live_conns")))
	require.NoError(t, err)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	var wg sync.WaitGroup
	counts := make([]int, workers)
	errs := make([]error, workers)
	for w := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for _, err := range c.Messages.List(ctx, "conv", &convo.MessageListParams{PageSize: 50}).All() {
				if err != nil {
					errs[w] = err
					return
				}
				counts[w]++
			}
		}()
	}
	wg.Wait()
	for w := range workers {
		require.NoError(t, errs[w])
		require.Equal(t, pages*50, counts[w])
	}
	t.Logf("%d goroutines, %d requests: %d connections", workers, workers*pages, newConns.Load())
	// About one connection per goroutine, each serving about 20 requests;
	// the bound is twice that, 10 requests per connection: net/http does
	// not reuse a connection whose request it has not yet seen written
	// 50 ms after the response (persistConn.wroteRequest), which a loaded
	// machine makes happen now and then. What the bound is there to catch
	// is well above it: with http.DefaultTransport's 2 idle connections per
	// host about half of the 320 requests dial, and a body left unread or
	// unclosed makes every request dial.
	assert.LessOrEqual(t, newConns.Load(), int64(2*workers), "connections opened by %d goroutines over %d requests", workers, workers*pages)
}
