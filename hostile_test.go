package convo_test

// Hostile servers: oversized, cut-off and malformed bodies, pagination that
// does not advance, and waits that must end with the caller's context.
//
// The kit at the top is shared with security_test.go, soak_test.go and
// concurrency_test.go. Honest answers come from convotest, the one fake of
// the providers' wire forms and paging; a hostile server (hwServe) sits in
// front of a fake and either answers in a way of its own (a body cut off,
// a connection reset, no answer at all) or passes the request on. The one
// renderer of pages left here, hwStallPage, gives what convotest, an honest
// server, cannot: pagination that does not advance (and, for the redirect
// tests, a page served to a request without credentials).

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"iter"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"runtime"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/convokit/convo"
	"github.com/convokit/convo/convotest"
)

// ---- the kit: data and fakes -------------------------------------------------

// hwConv is the conversation whose messages the tests list.
const hwConv = "conv_1"

// hwBody is the text of message id.
func hwBody(id string) string { return "body of " + id }

// hwMessages returns n messages of conversation conv, oldest first: ids
// conv-m00001 …, each with the body hwBody(id).
func hwMessages(conv string, n int) []convo.Message {
	t0 := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	msgs := make([]convo.Message, n)
	for i := range msgs {
		id := fmt.Sprintf("%s-m%05d", conv, i+1)
		at := t0.Add(time.Duration(i) * time.Second)
		msgs[i] = convo.Message{ID: id, ConversationID: conv, Direction: convo.Inbound, Body: hwBody(id), SentAt: at, CreatedAt: at}
	}
	return msgs
}

// hwFake starts a convotest fake of p whose data is conversation hwConv
// with n messages (hwMessages), then applies opts. It sends no rate-limit
// headers: a client pacing to Rentalot's would spend minutes on a long
// list.
func hwFake(t testing.TB, p convo.Provider, n int, opts ...convotest.Option) *convotest.Server {
	t.Helper()
	d := convotest.NewDataset().AddConversation(convo.Conversation{ID: hwConv}, hwMessages(hwConv, n)...)
	return convotest.New(t, p, append([]convotest.Option{convotest.WithData(d), convotest.WithRateLimit(-1)}, opts...)...)
}

// hwClient returns a client of fake's provider for fake, with its demo
// credentials and millisecond retry waits; opts come last and may
// override them.
func hwClient(t testing.TB, fake *convotest.Server, opts ...convo.Option) *convo.Client {
	t.Helper()
	c, err := fake.Client(append([]convo.Option{convo.WithRetryWait(time.Millisecond, 2*time.Millisecond)}, opts...)...)
	require.NoError(t, err)
	return c
}

// hwListed returns the ids of hwConv's messages in the order fake lists
// them, walked with nothing in the way: what a walk through trouble must
// give too. Each message of the fake's data is there exactly once.
func hwListed(t testing.TB, fake *convotest.Server) []string {
	t.Helper()
	tr := &http.Transport{}
	defer tr.CloseIdleConnections()
	c := hwClient(t, fake, convo.WithHTTPClient(&http.Client{Transport: tr}))
	ids, err := hwAll(c.Messages.List(context.Background(), hwConv, nil).All(), hwMsgID, 100_000)
	require.NoError(t, err)
	cd, ok := fake.Dataset().Conversation(hwConv)
	require.True(t, ok)
	var want []string
	for _, m := range cd.Messages {
		want = append(want, m.ID)
	}
	require.ElementsMatch(t, want, ids)
	return ids
}

// hwAll drains an iterator into ids, stopping at the first error or after
// max items (a bound against a runaway loop).
func hwAll[T any](seq iter.Seq2[T, error], id func(T) string, max int) ([]string, error) {
	var ids []string
	for v, err := range seq {
		if err != nil {
			return ids, err
		}
		ids = append(ids, id(v))
		if len(ids) >= max {
			return ids, fmt.Errorf("more than %d items", max)
		}
	}
	return ids, nil
}

func hwMsgID(m convo.Message) string       { return m.ID }
func hwConvID(c convo.Conversation) string { return c.ID }

// hwRoundTrip is a transport written as a function.
type hwRoundTrip func(*http.Request) (*http.Response, error)

func (f hwRoundTrip) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }

var hwCredentialHeaders = []string{"Authorization", "X-Auth-Id", "X-Auth-Token", "X-Api-Key"}

// hwCreds returns the credential headers present in h.
func hwCreds(h http.Header) map[string]string {
	out := map[string]string{}
	for _, k := range hwCredentialHeaders {
		if v := h.Get(k); v != "" {
			out[k] = v
		}
	}
	return out
}

// hwDemoCreds returns the credential headers fake's own client sends: its
// demo credentials, in its provider's scheme. A hostile server asks the fake
// with them, so that its clients may carry any credentials of their own.
func hwDemoCreds(t testing.TB, fake *convotest.Server) map[string]string {
	t.Helper()
	var creds map[string]string
	record := hwRoundTrip(func(r *http.Request) (*http.Response, error) {
		creds = hwCreds(r.Header)
		return nil, errors.New("recorded")
	})
	c, err := fake.Client(convo.WithHTTPClient(&http.Client{Transport: record}), convo.WithMaxRetries(0))
	require.NoError(t, err)
	for range c.Messages.List(context.Background(), hwConv, nil).All() {
		break
	}
	require.NotEmpty(t, creds)
	return creds
}

// ---- the kit: hostile servers ------------------------------------------------

// hwServer is a loopback server in front of a convotest fake. Its answer
// function answers every request, in a hostile way of its own or with the
// fake's honest answer (hwRequest.honest, hwRequest.pass). It counts the
// requests it receives and the answers still running.
type hwServer struct {
	*httptest.Server
	fake             *convotest.Server
	fakeOrigin       string // the fake's scheme and host
	basePath         string // the fake's base path, under which it serves
	upstream         *http.Client
	creds            map[string]string // the fake's demo credentials
	requests, active atomic.Int64
}

// hwRequest is one request to a hostile server, with its 1-based number.
type hwRequest struct {
	*http.Request
	N int64
	s *hwServer
}

// hwServe starts a hostile server in front of fake, closed when the test
// ends, whose every answer is answer's.
func hwServe(t testing.TB, fake *convotest.Server, answer func(w http.ResponseWriter, r hwRequest)) *hwServer {
	t.Helper()
	u, err := url.Parse(fake.URL())
	require.NoError(t, err)
	tr := &http.Transport{}
	s := &hwServer{fake: fake, fakeOrigin: u.Scheme + "://" + u.Host, basePath: u.Path,
		upstream: &http.Client{Transport: tr}, creds: hwDemoCreds(t, fake)}
	s.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		n := s.requests.Add(1)
		s.active.Add(1)
		defer s.active.Add(-1)
		answer(w, hwRequest{Request: r, N: n, s: s})
	}))
	t.Cleanup(func() {
		s.Close()
		tr.CloseIdleConnections()
	})
	return s
}

// baseURL is the base URL of a client of the server: its address, prefix
// and the fake's base path.
func (s *hwServer) baseURL(prefix string) string { return s.URL + prefix + s.basePath }

// client returns a client of the fake's provider for the server, with the
// fake's demo credentials and millisecond retry waits; opts come last.
func (s *hwServer) client(t testing.TB, opts ...convo.Option) *convo.Client {
	t.Helper()
	return hwClient(t, s.fake, append([]convo.Option{convo.WithBaseURL(s.baseURL(""))}, opts...)...)
}

// honest returns the fake's answer to the request, asked with the fake's
// demo credentials whatever the request carries (a hostile server takes
// any): its status and body, or 502 when the fake could not be asked (the
// request's context ended).
func (r hwRequest) honest() (int, []byte) {
	req, err := http.NewRequestWithContext(r.Context(), r.Method, r.s.fakeOrigin+r.URL.RequestURI(), nil)
	if err != nil {
		return http.StatusBadGateway, nil
	}
	for k, v := range r.s.creds {
		req.Header.Set(k, v)
	}
	resp, err := r.s.upstream.Do(req)
	if err != nil {
		return http.StatusBadGateway, nil
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		return http.StatusBadGateway, nil
	}
	return resp.StatusCode, body
}

// pass answers with the fake's honest answer.
func (r hwRequest) pass(w http.ResponseWriter) {
	status, body := r.honest()
	hwWrite(w, status, body)
}

// hwPass is an answer that passes every request on to the fake.
func hwPass(w http.ResponseWriter, r hwRequest) { r.pass(w) }

func hwWrite(w http.ResponseWriter, status int, body []byte) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Content-Length", strconv.Itoa(len(body)))
	w.WriteHeader(status)
	_, _ = w.Write(body)
}

// hwHijack takes the connection away from the server.
func hwHijack(w http.ResponseWriter) net.Conn {
	conn, _, err := http.NewResponseController(w).Hijack()
	if err != nil {
		panic(err)
	}
	return conn
}

// hwHangUp closes the connection without answering.
func hwHangUp(w http.ResponseWriter, _ []byte) { hwHijack(w).Close() }

// hwTruncate announces the whole body with Content-Length, sends half of it
// and closes the connection.
func hwTruncate(w http.ResponseWriter, body []byte) {
	w.Header().Set("Content-Length", strconv.Itoa(len(body)))
	hwTruncateChunked(w, body)
}

// hwTruncateChunked sends half of a chunked body and closes the connection
// before the terminating chunk.
func hwTruncateChunked(w http.ResponseWriter, body []byte) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(http.StatusOK)
	_, _ = w.Write(body[:len(body)/2])
	_ = http.NewResponseController(w).Flush()
	hwHijack(w).Close()
}

// hwReset sends the head and half of the body, then resets the connection
// (RST, not FIN).
func hwReset(w http.ResponseWriter, body []byte) {
	conn := hwHijack(w)
	fmt.Fprintf(conn, "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: %d\r\n\r\n", len(body))
	_, _ = conn.Write(body[:len(body)/2])
	if tc, ok := conn.(*net.TCPConn); ok {
		_ = tc.SetLinger(0)
	}
	conn.Close()
}

// hwWaitFor polls cond for at most d.
func hwWaitFor(d time.Duration, cond func() bool) bool {
	deadline := time.Now().Add(d)
	for {
		if cond() {
			return true
		}
		if time.Now().After(deadline) {
			return false
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// hwHang blocks an answer until the client goes away (or a guard passes, so
// that a broken client cannot hang the test run).
func hwHang(r hwRequest) {
	select {
	case <-r.Context().Done():
	case <-time.After(30 * time.Second):
	}
}

// hwPassThenHang passes the first request on to the fake and hangs every
// later one until the client goes away.
func hwPassThenHang(w http.ResponseWriter, r hwRequest) {
	if r.N == 1 {
		r.pass(w)
		return
	}
	hwHang(r)
}

// hwCont is how a stalled page continues, in each paging style's terms.
type hwCont struct {
	More  bool   // has_more (Vobiz, VantaxAI)
	Next  string // next cursor (Vobiz, AgentMessage); "" is null
	Page  int    // page number reported (Rentalot); 0 leaves it out
	Limit int    // page size reported; 0 leaves it at 0
}

// hwStallPage renders a page of messages with the given ids (an empty id
// leaves the field out) in p's envelope with continuation c: the pages of
// a server whose pagination does not advance, which convotest, an honest
// server, never sends. The items carry only their ids, all the stall guard
// looks at.
func hwStallPage(p convo.Provider, ids []string, c hwCont) []byte {
	items := []map[string]any{}
	for _, id := range ids {
		item := map[string]any{"content": "text"}
		if id != "" {
			item["id"] = id
		}
		items = append(items, item)
	}
	var next any
	if c.Next != "" {
		next = c.Next
	}
	var env map[string]any
	switch p {
	case convo.Vobiz:
		env = map[string]any{"items": items, "has_more": c.More, "next_cursor": next}
	case convo.VantaxAI:
		env = map[string]any{"success": true, "data": items, "pagination": map[string]any{"limit": c.Limit, "has_more": c.More}}
	case convo.Rentalot:
		pg := map[string]any{"limit": c.Limit}
		if c.Page > 0 {
			pg["page"] = c.Page
		}
		env = map[string]any{"data": items, "pagination": pg}
	default:
		env = map[string]any{"success": true, "data": items, "meta": map[string]any{"limit": c.Limit, "next_cursor": next}}
	}
	b, err := json.Marshal(env)
	if err != nil {
		panic(err)
	}
	return b
}

// ---- bounded memory -------------------------------------------------------

// TestHostileEndlessBodyIsBounded streams a 200 MiB body generated on the
// fly; with a 1 MiB limit the call must fail with ErrResponseTooLarge after
// reading little more than the limit, not retry, and allocate a small
// multiple of the limit.
func TestHostileEndlessBodyIsBounded(t *testing.T) {
	const limit = 1 << 20
	const endless = 200 << 20
	var written atomic.Int64
	chunk := bytes.Repeat([]byte(`{"id":"m","content":"padding padding padding"},`), 700) // ~32 KiB
	srv := hwServe(t, hwFake(t, convo.Vobiz, 0), func(w http.ResponseWriter, r hwRequest) {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusOK)
		_, _ = io.WriteString(w, `{"items":[`)
		for written.Load() < endless {
			n, err := w.Write(chunk)
			written.Add(int64(n))
			if err != nil {
				return
			}
		}
	})
	c := srv.client(t, convo.WithMaxResponseBytes(limit))
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()

	runtime.GC()
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	ids, err := hwAll(c.Messages.List(ctx, hwConv, nil).All(), hwMsgID, 10)
	runtime.ReadMemStats(&after)

	require.Error(t, err)
	assert.ErrorIs(t, err, convo.ErrResponseTooLarge)
	assert.Empty(t, ids)
	assert.Equal(t, int64(1), srv.requests.Load(), "an oversized body is not retried")
	allocated := after.TotalAlloc - before.TotalAlloc
	t.Logf("allocated %d KiB while the server offered %d MiB (wrote %d KiB before the client hung up)",
		allocated>>10, endless>>20, written.Load()>>10)
	// Reading limit+1 bytes into a growing buffer allocates about 4 MiB in
	// all (about twice that under the race detector); reading the body whole
	// would allocate hundreds.
	assert.Less(t, allocated, uint64(12<<20), "allocation must stay a small multiple of the 1 MiB limit")
	srv.CloseClientConnections()
	assert.Less(t, written.Load(), int64(64<<20), "the client must stop reading soon after the limit")
}

// TestHostileContentLengthTooLarge: a declared Content-Length above the
// limit fails before the body is read; the client hangs up at once.
func TestHostileContentLengthTooLarge(t *testing.T) {
	t.Parallel()
	outcome := make(chan string, 4)
	srv := hwServe(t, hwFake(t, convo.VantaxAI, 0), func(w http.ResponseWriter, r hwRequest) {
		w.Header().Set("Content-Type", "application/json")
		w.Header().Set("Content-Length", strconv.Itoa(1<<30))
		w.WriteHeader(http.StatusOK)
		_ = http.NewResponseController(w).Flush()
		select {
		case <-r.Context().Done():
			outcome <- "client hung up"
		case <-time.After(20 * time.Second):
			outcome <- "client kept waiting for the body"
		}
	})
	c := srv.client(t, convo.WithMaxResponseBytes(1<<20))

	_, err := c.Conversations.Get(context.Background(), hwConv)
	require.Error(t, err)
	assert.ErrorIs(t, err, convo.ErrResponseTooLarge)
	assert.Contains(t, err.Error(), "Content-Length")
	assert.Equal(t, int64(1), srv.requests.Load())
	select {
	case got := <-outcome:
		assert.Equal(t, "client hung up", got)
	case <-time.After(15 * time.Second):
		t.Fatal("the server never saw the client hang up")
	}
}

// TestHostileSizeLimitBoundary: a body of exactly the limit is read; one
// byte less of limit fails.
func TestHostileSizeLimitBoundary(t *testing.T) {
	t.Parallel()
	var size atomic.Int64 // of the last body answered
	srv := hwServe(t, hwFake(t, convo.AgentMessage, 3), func(w http.ResponseWriter, r hwRequest) {
		status, body := r.honest()
		size.Store(int64(len(body)))
		hwWrite(w, status, body)
	})
	list := func(limit int64) ([]string, error) {
		c := srv.client(t, convo.WithMaxResponseBytes(limit))
		return hwAll(c.Messages.List(context.Background(), hwConv, nil).All(), hwMsgID, 10)
	}
	ids, err := list(1 << 20)
	require.NoError(t, err)
	require.Len(t, ids, 3, "the whole list is one page")
	body := size.Load()
	for _, tc := range []struct {
		limit int64
		ok    bool
	}{{body, true}, {body - 1, false}} {
		ids, err := list(tc.limit)
		if tc.ok {
			require.NoError(t, err, "limit %d", tc.limit)
			assert.Len(t, ids, 3)
		} else {
			assert.ErrorIs(t, err, convo.ErrResponseTooLarge, "limit %d", tc.limit)
		}
	}
}

// TestHostileErrorBodyCapped: the raw body kept on an APIError is at most
// 64 KiB, even for a 20 MiB error body, and reading it allocates little.
func TestHostileErrorBodyCapped(t *testing.T) {
	const huge = 20 << 20
	chunk := bytes.Repeat([]byte("x"), 32<<10)
	cases := []struct {
		name        string
		status      int
		contentType string
		retries     int
		attempts    int64
	}{
		{"422 json", http.StatusUnprocessableEntity, "application/json", 3, 1},
		{"401 text", http.StatusUnauthorized, "text/plain", 3, 1},
		{"503 retries exhausted", http.StatusServiceUnavailable, "text/html", 2, 3},
		{"503 no retries", http.StatusServiceUnavailable, "application/json", 0, 1},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			srv := hwServe(t, hwFake(t, convo.VantaxAI, 0), func(w http.ResponseWriter, r hwRequest) {
				w.Header().Set("Content-Type", tc.contentType)
				w.WriteHeader(tc.status)
				_, _ = io.WriteString(w, `{"success":false,"message":"`)
				for n := 0; n < huge; n += len(chunk) {
					if _, err := w.Write(chunk); err != nil {
						return
					}
				}
			})
			c := srv.client(t, convo.WithMaxRetries(tc.retries))

			runtime.GC()
			var before, after runtime.MemStats
			runtime.ReadMemStats(&before)
			_, err := c.Conversations.Get(context.Background(), hwConv)
			runtime.ReadMemStats(&after)

			var apiErr *convo.APIError
			require.ErrorAs(t, err, &apiErr)
			assert.Equal(t, tc.status, apiErr.StatusCode)
			assert.Len(t, apiErr.Body, 64<<10, "the raw body is capped at 64 KiB")
			assert.Less(t, len(err.Error()), 1024, "Error() stays one readable line")
			assert.Equal(t, tc.attempts, srv.requests.Load())
			assert.Less(t, after.TotalAlloc-before.TotalAlloc, uint64(4<<20), "a 20 MiB error body is not read whole")
		})
	}
}

// ---- broken bodies --------------------------------------------------------

// TestHostileUndocumentedBodyIsDecodeError: a complete 200 whose body is not
// the documented JSON is a *DecodeError naming the provider and status with
// a bounded snippet; it is not retried.
func TestHostileUndocumentedBodyIsDecodeError(t *testing.T) {
	t.Parallel()
	html := "<!DOCTYPE html><html><body>" + strings.Repeat("<p>maintenance é</p>", 60) + "</body></html>"
	bodies := []struct {
		name string
		body string
		cut  bool // longer than the snippet
	}{
		{"html", html, true},
		{"other json", `{"unexpected":true}`, false},
		{"json null", `null`, false},
		{"json array", `[1,2,3]`, false},
		{"wrong types", `{"items":"x","data":"x"}`, false},
	}
	for _, p := range convo.Providers() {
		for _, b := range bodies {
			t.Run(p.Name()+"/"+b.name, func(t *testing.T) {
				srv := hwServe(t, hwFake(t, p, 0), func(w http.ResponseWriter, r hwRequest) {
					hwWrite(w, http.StatusOK, []byte(b.body))
				})
				c := srv.client(t)
				_, err := hwAll(c.Messages.List(context.Background(), hwConv, nil).All(), hwMsgID, 10)
				hwCheckDecodeError(t, err, p, b.body, b.cut)
				assert.Equal(t, int64(1), srv.requests.Load(), "a decode error is not retried")

				if p.Supports("conversations.get") {
					_, err := c.Conversations.Get(context.Background(), hwConv)
					hwCheckDecodeError(t, err, p, b.body, b.cut)
				}
			})
		}
	}
}

func hwCheckDecodeError(t *testing.T, err error, p convo.Provider, body string, cut bool) {
	t.Helper()
	var de *convo.DecodeError
	require.ErrorAs(t, err, &de)
	assert.ErrorIs(t, err, convo.ErrUnexpectedResponse)
	assert.Equal(t, p.Name(), de.Provider)
	assert.Equal(t, http.StatusOK, de.StatusCode)
	assert.Contains(t, err.Error(), p.Name())
	assert.Contains(t, err.Error(), "200")
	assert.True(t, utf8.ValidString(de.Snippet), "the snippet is cut at a rune boundary")
	if cut {
		require.True(t, strings.HasSuffix(de.Snippet, "…"), "a long body is cut with an ellipsis: %q", de.Snippet)
		head := strings.TrimSuffix(de.Snippet, "…")
		assert.LessOrEqual(t, len(head), 200)
		assert.Greater(t, len(head), 190)
		assert.True(t, strings.HasPrefix(body, head))
		assert.Less(t, len(err.Error()), 600)
	} else {
		assert.Equal(t, body, de.Snippet)
	}
}

// ---- waits end with the context --------------------------------------------

// TestHostileContextEndsEveryWait: each wait (backoff, a Retry-After within
// the maximum, the prefetch hand-off, rate-limit pacing, a server that never
// answers or stops mid-body) ends promptly when the context is done, with an
// error wrapping the context's error.
func TestHostileContextEndsEveryWait(t *testing.T) {
	t.Parallel()
	const deadline = 150 * time.Millisecond
	const bound = 10 * time.Second // every wait below is 20 s or more

	// Each case's server is the fake with faults, or a hostile server in
	// front of it with answer.
	cases := []struct {
		name    string
		opts    []convo.Option
		faults  []convotest.Fault
		answer  func(w http.ResponseWriter, r hwRequest)
		wantErr error
		cancel  bool // cancel instead of a deadline
	}{
		{
			name:    "backoff",
			opts:    []convo.Option{convo.WithRetryWait(20*time.Second, 40*time.Second), convo.WithMaxRetries(5)},
			faults:  []convotest.Fault{{Kind: convotest.FaultServerError, Status: http.StatusServiceUnavailable, Times: -1}},
			wantErr: context.DeadlineExceeded,
		},
		{
			name:    "backoff cancelled",
			opts:    []convo.Option{convo.WithRetryWait(20*time.Second, 40*time.Second), convo.WithMaxRetries(5)},
			faults:  []convotest.Fault{{Kind: convotest.FaultDrop, Times: -1}},
			wantErr: context.Canceled,
			cancel:  true,
		},
		{
			name:    "retry-after within the maximum",
			opts:    []convo.Option{convo.WithRetryWait(time.Millisecond, time.Minute)},
			faults:  []convotest.Fault{{Kind: convotest.FaultRateLimit, RetryAfter: 20 * time.Second, Times: -1}},
			wantErr: context.DeadlineExceeded,
		},
		{
			name:    "prefetch hand-off",
			opts:    []convo.Option{convo.WithPrefetch(3)},
			answer:  hwPassThenHang,
			wantErr: context.DeadlineExceeded,
		},
		{
			name:    "client rate limit",
			opts:    []convo.Option{convo.WithRateLimit(0.01, 1)}, // the second request waits 100 s
			wantErr: context.DeadlineExceeded,
		},
		{
			name: "rate-limit window used up",
			answer: func(w http.ResponseWriter, r hwRequest) {
				w.Header().Set("X-RateLimit-Limit", "30")
				w.Header().Set("X-RateLimit-Remaining", "0")
				w.Header().Set("X-RateLimit-Reset", strconv.FormatInt(time.Now().Add(30*time.Second).Unix(), 10))
				r.pass(w)
			},
			wantErr: context.DeadlineExceeded,
		},
		{
			name:    "no answer",
			answer:  func(w http.ResponseWriter, r hwRequest) { hwHang(r) },
			wantErr: context.DeadlineExceeded,
		},
		{
			name: "body stops mid-stream",
			answer: func(w http.ResponseWriter, r hwRequest) {
				_, body := r.honest()
				w.Header().Set("Content-Length", strconv.Itoa(len(body)))
				w.WriteHeader(http.StatusOK)
				_, _ = w.Write(body[:len(body)/2])
				_ = http.NewResponseController(w).Flush()
				hwHang(r)
			},
			wantErr: context.DeadlineExceeded,
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			// run lists with a fresh server and client and a context that
			// ends after d.
			run := func(d time.Duration) (c *convo.Client, ids []string, elapsed time.Duration, err error) {
				fake := hwFake(t, convo.VantaxAI, 10, convotest.WithFaults(tc.faults...))
				if tc.answer != nil {
					c = hwServe(t, fake, tc.answer).client(t, tc.opts...)
				} else {
					c = hwClient(t, fake, tc.opts...)
				}

				var ctx context.Context
				var cancel context.CancelFunc
				if tc.cancel {
					ctx, cancel = context.WithCancel(context.Background())
					time.AfterFunc(d, cancel)
				} else {
					ctx, cancel = context.WithTimeout(context.Background(), d)
				}
				defer cancel()

				start := time.Now()
				ids, err = hwAll(c.Messages.List(ctx, hwConv, &convo.MessageListParams{PageSize: 5}).All(), hwMsgID, 100)
				return c, ids, time.Since(start), err
			}
			firstPageFirst := false
			switch tc.name {
			case "prefetch hand-off", "client rate limit", "rate-limit window used up":
				firstPageFirst = true
			}
			// Where the first page must arrive before the wait, a loaded
			// machine can take longer than the deadline to serve it: then
			// the same again with a longer one (at most 16 times as long,
			// still far below the wait and the bound).
			d := deadline
			c, ids, elapsed, err := run(d)
			for i := 0; firstPageFirst && len(ids) == 0 && errors.Is(err, tc.wantErr) && i < 2; i++ {
				t.Logf("the first page did not arrive within %v; again with %v", d, 4*d)
				d *= 4
				c, ids, elapsed, err = run(d)
			}
			require.Error(t, err)
			assert.ErrorIs(t, err, tc.wantErr)
			assert.Less(t, elapsed, bound, "the wait must end with the context")
			if firstPageFirst {
				assert.Len(t, ids, 5, "the first page arrives before the wait")
			}

			// Get goes through the same waits.
			if tc.name != "prefetch hand-off" {
				ctx2, cancel2 := context.WithTimeout(context.Background(), deadline)
				defer cancel2()
				start := time.Now()
				_, err = c.Conversations.Get(ctx2, hwConv)
				assert.ErrorIs(t, err, context.DeadlineExceeded)
				assert.Less(t, time.Since(start), bound)
			}
		})
	}
}

// ---- pagination that does not advance --------------------------------------

// TestStallPaginationIsAnError: a server whose pagination does not advance
// ends the iteration with ErrPaginationStalled naming the case, after a
// small bounded number of requests and with no item yielded twice.
func TestStallPaginationIsAnError(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name     string
		p        convo.Provider
		page     func(n int64, q url.Values) []byte // n: 1-based request number
		wantIDs  []string
		wantText string
		maxReqs  int64
	}{
		{
			name: "vobiz repeated cursor", p: convo.Vobiz,
			page: func(n int64, q url.Values) []byte {
				ids := []string{"m1", "m2"}
				if q.Get("cursor") != "" {
					ids = []string{"m3", "m4"}
				}
				return hwStallPage(convo.Vobiz, ids, hwCont{More: true, Next: "same"})
			},
			wantIDs: []string{"m1", "m2"}, wantText: "repeated cursor", maxReqs: 2,
		},
		{
			name: "agentmessage cursor cycle", p: convo.AgentMessage,
			page: func(n int64, q url.Values) []byte {
				next := map[string]string{"": "c1", "c1": "c2", "c2": "c1"}[q.Get("cursor")]
				return hwStallPage(convo.AgentMessage, []string{"m-" + q.Get("cursor")}, hwCont{Next: next})
			},
			wantIDs: []string{"m-", "m-c1"}, wantText: "repeated cursor", maxReqs: 3,
		},
		{
			name: "agentmessage cursor ignored, fresh cursor each time", p: convo.AgentMessage,
			page: func(n int64, q url.Values) []byte {
				return hwStallPage(convo.AgentMessage, []string{"m1", "m2"}, hwCont{Next: fmt.Sprintf("fresh-%d", n)})
			},
			wantIDs: []string{"m1", "m2"}, wantText: "already sent", maxReqs: 2,
		},
		{
			name: "vantaxai starting_after ignored", p: convo.VantaxAI,
			page: func(n int64, q url.Values) []byte {
				return hwStallPage(convo.VantaxAI, []string{"m1", "m2"}, hwCont{More: true, Limit: 2})
			},
			wantIDs: []string{"m1", "m2"}, wantText: "starting_after did not advance", maxReqs: 2,
		},
		{
			name: "rentalot page ignored", p: convo.Rentalot,
			page: func(n int64, q url.Values) []byte {
				return hwStallPage(convo.Rentalot, []string{"m1", "m2"}, hwCont{Limit: 2})
			},
			wantIDs: []string{"m1", "m2"}, wantText: "ignored the page number", maxReqs: 2,
		},
		{
			name: "rentalot page ignored, page 1 reported", p: convo.Rentalot,
			page: func(n int64, q url.Values) []byte {
				return hwStallPage(convo.Rentalot, []string{"m1", "m2"}, hwCont{Limit: 2, Page: 1})
			},
			wantIDs: []string{"m1", "m2"}, wantText: "asked for page 2, the server answered page 1", maxReqs: 2,
		},
		{
			name: "rentalot items without ids", p: convo.Rentalot,
			page: func(n int64, q url.Values) []byte {
				return hwStallPage(convo.Rentalot, []string{"", ""}, hwCont{Limit: 2})
			},
			wantIDs: []string{""}, wantText: "ignored the page number", maxReqs: 2,
		},
		{
			name: "rentalot pages cycle", p: convo.Rentalot,
			page: func(n int64, q url.Values) []byte {
				pg, _ := strconv.Atoi(q.Get("page"))
				if pg%2 == 1 {
					return hwStallPage(convo.Rentalot, []string{"m1", "m2"}, hwCont{Limit: 2})
				}
				return hwStallPage(convo.Rentalot, []string{"m3", "m4"}, hwCont{Limit: 2})
			},
			wantIDs: []string{"m1", "m2", "m3", "m4"}, wantText: "ignored the page number", maxReqs: 3,
		},
		{
			name: "vobiz has_more with an empty page", p: convo.Vobiz,
			page: func(n int64, q url.Values) []byte {
				return hwStallPage(convo.Vobiz, nil, hwCont{More: true, Next: fmt.Sprintf("c%d", n)})
			},
			wantText: "empty page", maxReqs: 1,
		},
		{
			name: "vantaxai has_more with an empty page", p: convo.VantaxAI,
			page: func(n int64, q url.Values) []byte {
				if q.Get("starting_after") == "" {
					return hwStallPage(convo.VantaxAI, []string{"m1"}, hwCont{More: true, Limit: 1})
				}
				return hwStallPage(convo.VantaxAI, nil, hwCont{More: true, Limit: 1})
			},
			wantIDs: []string{"m1"}, wantText: "empty page", maxReqs: 2,
		},
		{
			name: "agentmessage next cursor with an empty page", p: convo.AgentMessage,
			page: func(n int64, q url.Values) []byte {
				return hwStallPage(convo.AgentMessage, nil, hwCont{Next: "more"})
			},
			wantText: "empty page", maxReqs: 1,
		},
	}
	for _, tc := range cases {
		for _, prefetch := range []int{0, 2} {
			t.Run(fmt.Sprintf("%s/prefetch=%d", tc.name, prefetch), func(t *testing.T) {
				srv := hwServe(t, hwFake(t, tc.p, 0), func(w http.ResponseWriter, r hwRequest) {
					hwWrite(w, http.StatusOK, tc.page(r.N, r.URL.Query()))
				})
				c := srv.client(t, convo.WithPrefetch(prefetch))
				ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
				defer cancel()

				ids, err := hwAll(c.Messages.List(ctx, hwConv, nil).All(), hwMsgID, 100)
				require.Error(t, err)
				assert.ErrorIs(t, err, convo.ErrPaginationStalled)
				assert.Contains(t, err.Error(), tc.wantText)
				assert.Equal(t, tc.wantIDs, ids, "every item at most once, in order")
				assert.LessOrEqual(t, srv.requests.Load(), tc.maxReqs)

				// Pages stops the same way.
				before := srv.requests.Load()
				pages := 0
				var perr error
				for _, err := range c.Messages.List(ctx, hwConv, nil).Pages() {
					if err != nil {
						perr = err
						break
					}
					pages++
					require.Less(t, pages, 50, "the iteration must stop")
				}
				assert.ErrorIs(t, perr, convo.ErrPaginationStalled)
				assert.LessOrEqual(t, srv.requests.Load()-before, tc.maxReqs)

				// Nothing keeps running after the error.
				settled := srv.requests.Load()
				time.Sleep(50 * time.Millisecond)
				assert.Equal(t, settled, srv.requests.Load())
			})
		}
	}
}

// TestStallRentalotDuplicatePageWithinTotalPages: a page-number server that
// ignores the page but reports totalPages must not hand out the first page
// twice as if it were the second.
func TestStallRentalotDuplicatePageWithinTotalPages(t *testing.T) {
	t.Parallel()
	srv := hwServe(t, hwFake(t, convo.Rentalot, 0), func(w http.ResponseWriter, r hwRequest) {
		body := `{"data":[` +
			`{"id":"c1","contactId":"ct1","status":"active","createdAt":"2026-01-01T00:00:00Z"},` +
			`{"id":"c2","contactId":"ct2","status":"active","createdAt":"2026-01-01T00:00:00Z"}],` +
			`"pagination":{"limit":2,"total":4,"totalPages":2}}`
		hwWrite(w, http.StatusOK, []byte(body))
	})
	c := srv.client(t)
	ids, err := hwAll(c.Conversations.List(context.Background(), nil).All(), hwConvID, 100)
	assert.ErrorIs(t, err, convo.ErrPaginationStalled)
	assert.Equal(t, []string{"c1", "c2"}, ids, "no conversation yielded twice")
	assert.Equal(t, int64(2), srv.requests.Load())
}
