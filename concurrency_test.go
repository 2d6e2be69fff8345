package convo_test

// Breaking out of an iteration leaves nothing behind (no goroutine, no
// request), and one Client serves many goroutines at once.

import (
	"context"
	"fmt"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"

	"github.com/convokit/convo"
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
	buf := make([]byte, 1<<20)
	for {
		n := runtime.Stack(buf, true)
		if n < len(buf) {
			buf = buf[:n]
			break
		}
		buf = make([]byte, 2*len(buf))
	}
	count := 0
	for i, g := range strings.Split(string(buf), "\n\n") {
		if i > 0 && strings.Contains(g, "convo.(*Pager[") && strings.Contains(g, ").fetchAll(") {
			count++
		}
	}
	return count
}

// hwStarts counts the requests the client starts, below all of its layers.
type hwStarts struct {
	base    http.RoundTripper
	started atomic.Int64
}

func (rt *hwStarts) RoundTrip(r *http.Request) (*http.Response, error) {
	rt.started.Add(1)
	return rt.base.RoundTrip(r)
}

// hwLeakClient returns a client of p with its own transport (closed at the
// end of the test, so that idle connections are not taken for leaks) and
// the counter of the requests it starts.
func hwLeakClient(t *testing.T, p convo.Provider, url string, opts ...convo.Option) (*convo.Client, *hwStarts) {
	t.Helper()
	tr := &http.Transport{}
	t.Cleanup(tr.CloseIdleConnections)
	rt := &hwStarts{base: tr}
	return hwNewClient(t, p, url, append(opts, convo.WithHTTPClient(&http.Client{Transport: rt}))...), rt
}

// hwSettle asserts that once the loop has returned the client starts no
// further request and that the server's handlers all return (a request in
// flight was abandoned), within a bounded wait. It returns how many
// requests the server received.
func hwSettle(t *testing.T, cnt *hwCounter, rt *hwStarts, startedAtReturn int64) int64 {
	t.Helper()
	var last int64 = -1
	stableSince := time.Now()
	settled := hwWaitFor(5*time.Second, func() bool {
		if n := cnt.requests.Load(); n != last {
			last, stableSince = n, time.Now()
		}
		return cnt.active.Load() == 0 && time.Since(stableSince) > 100*time.Millisecond
	})
	assert.True(t, settled, "a request is still in flight at the server")
	assert.Equal(t, startedAtReturn, rt.started.Load(), "the client started requests after the loop returned")
	return cnt.requests.Load()
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
				l := newHWList(p, hwConv, 200)
				var cnt hwCounter
				srv := httptest.NewServer(cnt.wrap(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
					time.Sleep(time.Millisecond)
					l.ServeHTTP(w, r)
				})))
				defer srv.Close()
				c, rt := hwLeakClient(t, p, srv.URL, convo.WithPrefetch(prefetch))

				baseline := hwPagerGoroutines()
				pager := c.Messages.List(context.Background(), hwConv, &convo.MessageListParams{PageSize: 5})
				var got []string
				switch mode {
				case "All":
					for m, err := range pager.All() {
						require.NoError(t, err)
						got = append(got, m.ID)
						if len(got) == 7 { // mid-page 2, once the fetcher is blocked on a full hand-off
							hwWaitFor(5*time.Second, func() bool { return cnt.requests.Load() > 2 })
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
							hwWaitFor(5*time.Second, func() bool { return cnt.requests.Load() > 2 })
							break
						}
					}
				}
				assert.Equal(t, baseline, hwPagerGoroutines(), "the prefetcher is gone when the loop returns")
				settled := hwSettle(t, &cnt, rt, rt.started.Load())
				assert.Equal(t, l.ids[:len(got)], got)
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
			l := newHWList(p, hwConv, 50)
			var cnt hwCounter
			var abandoned atomic.Int64
			srv := httptest.NewServer(cnt.wrap(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				if cnt.requests.Load() == 1 {
					l.ServeHTTP(w, r)
					return
				}
				hwHang(r)
				if r.Context().Err() != nil {
					abandoned.Add(1)
				}
			})))
			defer srv.Close()
			c, rt := hwLeakClient(t, p, srv.URL, convo.WithPrefetch(3))

			baseline := hwPagerGoroutines()
			start := time.Now()
			n := 0
			for _, err := range c.Messages.List(context.Background(), hwConv, &convo.MessageListParams{PageSize: 5}).All() {
				require.NoError(t, err)
				n++
				if n == 2 {
					require.True(t, hwWaitFor(5*time.Second, func() bool { return cnt.active.Load() == 1 }),
						"the prefetcher has asked for page 2")
					break
				}
			}
			startedAtReturn := rt.started.Load()
			assert.Equal(t, baseline, hwPagerGoroutines(), "the prefetcher is gone when the loop returns")
			assert.Less(t, time.Since(start), 5*time.Second, "breaking out must not wait for the server")
			settled := hwSettle(t, &cnt, rt, startedAtReturn)
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
	l := newHWList(convo.VantaxAI, hwConv, 23)
	var cnt hwCounter
	srv := httptest.NewServer(cnt.wrap(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if strings.Contains(r.URL.Path, "/gone/") {
			hwWrite(w, http.StatusNotFound, []byte(`{"success":false,"message":"not found"}`))
			return
		}
		l.ServeHTTP(w, r)
	})))
	defer srv.Close()
	c, rt := hwLeakClient(t, convo.VantaxAI, srv.URL, convo.WithPrefetch(2))

	ids, err := hwAll(c.Messages.List(context.Background(), hwConv, &convo.MessageListParams{PageSize: 4}).All(), hwMsgID, 100)
	require.NoError(t, err)
	assert.Equal(t, l.ids, ids)

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
	hwSettle(t, &cnt, rt, rt.started.Load())
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
	convs := newHWList(p, "", conversations)
	msgs := map[string]*hwList{}
	for i, id := range convs.ids {
		msgs[id] = newHWList(p, id, 15+i%7)
	}

	var mu sync.Mutex
	rng := rand.New(rand.NewPCG(7, 11))
	fault := func() bool {
		mu.Lock()
		defer mu.Unlock()
		return rng.IntN(10) == 0
	}
	var cnt hwCounter
	srv := httptest.NewServer(cnt.wrap(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !strings.HasPrefix(r.Header.Get("Authorization"), "Bearer rotating-") {
			hwWrite(w, http.StatusUnauthorized, []byte(`{"success":false,"message":"no token"}`))
			return
		}
		if fault() {
			hwWrite(w, http.StatusServiceUnavailable, []byte(`{"success":false,"message":"busy"}`))
			return
		}
		rest := strings.TrimPrefix(r.URL.Path, "/conversations")
		switch {
		case rest == "":
			convs.ServeHTTP(w, r)
		case strings.HasSuffix(rest, "/messages"):
			l, ok := msgs[strings.TrimSuffix(strings.TrimPrefix(rest, "/"), "/messages")]
			if !ok {
				hwWrite(w, http.StatusNotFound, []byte(`{"success":false,"message":"not found"}`))
				return
			}
			l.ServeHTTP(w, r)
		default:
			id := strings.TrimPrefix(rest, "/")
			if _, ok := msgs[id]; !ok {
				hwWrite(w, http.StatusNotFound, []byte(`{"success":false,"message":"not found"}`))
				return
			}
			hwWrite(w, http.StatusOK, []byte(`{"success":true,"data":{"id":"`+id+`","channel":"sms","status":"open","unread_count":3}}`))
		}
	})))
	defer srv.Close()

	var tokens atomic.Int64
	c, err := convo.NewClient(p, convo.WithBaseURL(srv.URL),
		convo.WithAuth(convo.BearerFunc(func(ctx context.Context) (string, error) {
			return fmt.Sprintf("rotating-%d", tokens.Add(1)), nil
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
			convID := convs.ids[g%conversations]
			want := msgs[convID].ids

			ids, err := hwAll(c.Conversations.List(ctx, &convo.ConversationListParams{PageSize: 7}).All(), hwConvID, 1000)
			check(g, "conversations", convs.ids, ids, err)

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
	t.Logf("%d goroutines, %d requests, %d tokens issued", goroutines, cnt.requests.Load(), tokens.Load())
	assert.GreaterOrEqual(t, tokens.Load(), cnt.requests.Load(), "a token was asked for every attempt")
}
