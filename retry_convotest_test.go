package convo_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/convokit/convo"
	"github.com/convokit/convo/convotest"
)

// The retry tests that run on convotest: its lists of every provider,
// its faults. The others, on servers and transports that fail in exactly
// one way, are in retry_test.go; this file is apart only because a test
// inside the package cannot import convotest (convotest imports convo).

// An attempt cut by the per-attempt timeout (WithTimeout) is retried with
// a fresh timeout: the server holds the first attempt past it and answers
// the second at once.
func TestPerAttemptTimeoutRetried(t *testing.T) {
	t.Parallel()
	release := make(chan struct{})
	srv := convotest.NewServer(convo.VantaxAI, convotest.WithRequestHook(func(r convotest.Request) {
		if r.N == 1 {
			select { // longer than the timeout; ends with the test
			case <-release:
			case <-time.After(5 * time.Second):
			}
		}
	}))
	defer srv.Close()
	defer close(release) // before Close, which waits for the held attempt
	client, err := srv.Client(convo.WithTimeout(200*time.Millisecond), convo.WithRetryWait(time.Millisecond, 10*time.Millisecond), convo.WithMaxRetries(2))
	require.NoError(t, err)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	start := time.Now()
	var n int
	for _, err := range client.Conversations.List(ctx, nil).Pages() {
		require.NoError(t, err, "the timed-out attempt is retried")
		n++
		break
	}
	assert.Equal(t, 1, n)
	assert.Less(t, time.Since(start), 4*time.Second, "the first attempt was cut at its timeout")
	assert.Len(t, srv.Requests(), 2)
}

// e2eFaults is every kind of fault early on, then random faults.
func e2eFaults(seed int64) []convotest.Option {
	return []convotest.Option{
		convotest.WithFaults(
			convotest.Fault{Kind: convotest.FaultServerError, Nth: 1, Status: 503},
			convotest.Fault{Kind: convotest.FaultRateLimit, Nth: 3, RetryAfter: 0},
			convotest.Fault{Kind: convotest.FaultDrop, Nth: 5},
			convotest.Fault{Kind: convotest.FaultTruncate, Nth: 7},
			convotest.Fault{Kind: convotest.FaultServerError, Path: "/conversations/*/messages", Nth: 2, Times: 3, Status: 502},
		),
		convotest.WithFaultRate(0.25, seed),
	}
}

func TestE2ERetriesThroughFaults(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	for _, p := range convo.Providers() {
		for _, prefetch := range []int{0, 2} {
			t.Run(fmt.Sprintf("%s/prefetch=%d", p.Name(), prefetch), func(t *testing.T) {
				t.Parallel()
				opts, params := smallPages(p, 10)
				srv := convotest.New(t, p, append(opts, e2eFaults(int64(len(p.Name())+prefetch))...)...)
				client, err := srv.Client(convo.WithRetryWait(time.Millisecond, 5*time.Millisecond),
					convo.WithMaxRetries(10), convo.WithPrefetch(prefetch))
				require.NoError(t, err)
				d := srv.Dataset()

				convs := all(t, client.Conversations.List(ctx, params).All())
				assert.Equal(t, conversationIDs(d), ids(convs, convID), "every conversation exactly once")
				for _, cd := range d.Conversations[:12] {
					msgs := all(t, client.Messages.List(ctx, cd.Conversation.ID, &convo.MessageListParams{PageSize: 4}).All())
					assert.Equal(t, listedIDs(t, p, cd), ids(msgs, msgIDOf), "every message of %s exactly once", cd.Conversation.ID)
				}

				kinds := map[convotest.FaultKind]int{}
				for _, r := range srv.Requests() {
					kinds[r.Fault]++
				}
				for _, k := range []convotest.FaultKind{convotest.FaultServerError, convotest.FaultRateLimit, convotest.FaultDrop, convotest.FaultTruncate} {
					assert.Positive(t, kinds[k], "%v faults were injected", k)
				}
			})
		}
	}
}

func TestE2ERetryAfterBeyondMaxWait(t *testing.T) {
	t.Parallel()
	srv, client := newServer(t, convo.AgentMessage, convotest.WithFaults(convotest.Fault{Kind: convotest.FaultRateLimit, RetryAfter: 30 * time.Second}))
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	gotErr := lastErr(client.Conversations.List(ctx, nil).All())
	var apiErr *convo.APIError
	require.ErrorAs(t, gotErr, &apiErr)
	assert.ErrorIs(t, gotErr, convo.ErrRateLimited)
	assert.Equal(t, 30*time.Second, apiErr.RetryAfter)
	assert.Equal(t, "RATE_LIMITED", apiErr.Code)
	assert.False(t, errors.Is(ctx.Err(), context.DeadlineExceeded), "not slept through")
	assert.Len(t, srv.Requests(), 1)
}

// Broken bodies, for TestRetryBrokenBodies: each gets the whole body of a
// real answer and sends part of it.

// brokenHijack takes the connection away from the server.
func brokenHijack(t *testing.T, w http.ResponseWriter) net.Conn {
	conn, _, err := http.NewResponseController(w).Hijack()
	require.NoError(t, err)
	return conn
}

// brokenTruncate announces the whole body with Content-Length, sends half
// of it and closes the connection.
func brokenTruncate(t *testing.T, w http.ResponseWriter, body []byte) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Content-Length", strconv.Itoa(len(body)))
	w.WriteHeader(http.StatusOK)
	_, _ = w.Write(body[:len(body)/2])
	_ = http.NewResponseController(w).Flush()
	brokenHijack(t, w).Close()
}

// brokenChunked sends half of a chunked body and closes the connection
// before the terminating chunk.
func brokenChunked(t *testing.T, w http.ResponseWriter, body []byte) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(http.StatusOK)
	_, _ = w.Write(body[:len(body)/2])
	_ = http.NewResponseController(w).Flush()
	brokenHijack(t, w).Close()
}

// brokenReset sends the head and half of the body, then resets the
// connection (RST, not FIN).
func brokenReset(t *testing.T, w http.ResponseWriter, body []byte) {
	conn := brokenHijack(t, w)
	fmt.Fprintf(conn, "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: %d\r\n\r\n", len(body))
	_, _ = conn.Write(body[:len(body)/2])
	if tc, ok := conn.(*net.TCPConn); ok {
		_ = tc.SetLinger(0)
	}
	conn.Close()
}

// brokenHangUp closes the connection without answering.
func brokenHangUp(t *testing.T, w http.ResponseWriter, _ []byte) { brokenHijack(t, w).Close() }

// brokenList stands in front of srv and returns a client of it: it passes
// each request on to srv and answers those for which fail reports true
// with broken(srv's answer) instead. It counts the requests.
func brokenList(t *testing.T, srv *convotest.Server, fail func(n int64) bool, broken func(*testing.T, http.ResponseWriter, []byte), opts ...convo.Option) (*convo.Client, *atomic.Int64) {
	t.Helper()
	var n atomic.Int64
	upstream, err := url.Parse(srv.URL())
	require.NoError(t, err)
	front := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		out := r.Clone(r.Context())
		out.RequestURI = ""
		out.URL.Scheme, out.URL.Host = upstream.Scheme, upstream.Host
		resp, err := http.DefaultTransport.RoundTrip(out)
		if !assert.NoError(t, err) {
			return
		}
		body, err := io.ReadAll(resp.Body)
		resp.Body.Close()
		assert.NoError(t, err)
		if fail(n.Add(1)) {
			broken(t, w, body)
			return
		}
		w.Header().Set("Content-Type", resp.Header.Get("Content-Type"))
		w.WriteHeader(resp.StatusCode)
		_, _ = w.Write(body)
	}))
	t.Cleanup(front.Close)
	base := *upstream
	base.Host = front.Listener.Addr().String()
	opts = append([]convo.Option{convo.WithBaseURL(base.String()), convo.WithRetryWait(time.Millisecond, 5*time.Millisecond)}, opts...)
	client, err := srv.Client(opts...)
	require.NoError(t, err)
	return client, &n
}

// TestRetryBrokenBodies: a body cut off (by Content-Length, mid-chunk, by a
// reset) or a connection dropped before the answer is retried, on every
// page of every provider's list, and every item arrives once; a body cut
// off on every attempt ends in an error, never in the items that arrived.
func TestRetryBrokenBodies(t *testing.T) {
	t.Parallel()
	faults := []struct {
		name   string
		broken func(*testing.T, http.ResponseWriter, []byte)
	}{
		{"content-length cut off", brokenTruncate},
		{"chunked cut off", brokenChunked},
		{"connection reset", brokenReset},
		{"dropped before response", brokenHangUp},
	}
	want := letters("a b c d e f g")
	for _, p := range convo.Providers() {
		for _, f := range faults {
			t.Run(p.Name()+"/"+f.name, func(t *testing.T) {
				srv, _ := pagedServer(t, p, want)
				c, n := brokenList(t, srv, func(n int64) bool { return n%2 == 1 }, f.broken) // every page fails once first
				got := messageIDs(t, c.Messages.List(context.Background(), "c1", &convo.MessageListParams{PageSize: 3}), 0)
				assert.Equal(t, want, got)
				assert.Equal(t, int64(6), n.Load(), "3 pages, each failed once")
			})
		}
	}

	t.Run("get", func(t *testing.T) {
		d := convotest.NewDataset().AddConversation(convo.Conversation{ID: "conv_1", Channel: "sms", Status: "open", Tags: []string{"a", "b"}})
		srv, c := newServer(t, convo.VantaxAI, convotest.WithData(d), convotest.WithFaults(convotest.Fault{Kind: convotest.FaultTruncate}))
		conv, err := c.Conversations.Get(context.Background(), "conv_1")
		require.NoError(t, err)
		assert.Equal(t, "conv_1", conv.ID)
		assert.Equal(t, []string{"a", "b"}, conv.Tags)
		assert.Len(t, srv.Requests(), 2)
	})

	t.Run("never half a page", func(t *testing.T) {
		srv, _ := pagedServer(t, convo.Vobiz, letters("a b c"))
		c, n := brokenList(t, srv, func(int64) bool { return true }, brokenTruncate, convo.WithMaxRetries(2))
		var got []string
		var err error
		for m, e := range c.Messages.List(context.Background(), "c1", nil).All() {
			if e != nil {
				err = e
				break
			}
			got = append(got, m.ID)
		}
		require.Error(t, err)
		assert.ErrorIs(t, err, io.ErrUnexpectedEOF)
		assert.Empty(t, got)
		assert.Equal(t, int64(3), n.Load())
	})
}
