package convo_test

// Hostile servers: oversized, cut-off and malformed bodies, pagination that
// does not advance, and waits that must end with the caller's context. The
// helpers at the top (a provider-faithful list server and HTTP faults) are
// shared with security_test.go, soak_test.go and concurrency_test.go.

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
)

// ---- shared helpers -------------------------------------------------------

// hwConv is the conversation whose messages the list servers serve.
const hwConv = "conv_1"

// hwAuth returns each provider's documented kind of credential.
func hwAuth(p convo.Provider) convo.Authenticator {
	if p.Name() == "vobiz" {
		return convo.XAuth("MA_TESTAUTHID", "test-auth-token")
	}
	return convo.Bearer("test-bearer-token")
}

// hwNewClient returns a client of p for a loopback server with millisecond
// retry waits.
func hwNewClient(t testing.TB, p convo.Provider, baseURL string, opts ...convo.Option) *convo.Client {
	t.Helper()
	all := append([]convo.Option{
		convo.WithBaseURL(baseURL),
		convo.WithAuth(hwAuth(p)),
		convo.WithRetryWait(time.Millisecond, 2*time.Millisecond),
	}, opts...)
	c, err := convo.NewClient(p, all...)
	require.NoError(t, err)
	return c
}

func hwTime(i int) string {
	return time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC).Add(time.Duration(i) * time.Second).Format(time.RFC3339)
}

// hwBody is the text of message id, whatever the provider's wire form.
func hwBody(id string) string { return "body of " + id }

// hwMessage renders message id (the i-th of its list) in p's wire form.
func hwMessage(p convo.Provider, conv, id string, i int) map[string]any {
	ts := hwTime(i)
	switch p.Name() {
	case "vobiz":
		content, _ := json.Marshal(map[string]string{"body": hwBody(id)})
		return map[string]any{"id": id, "account_id": "MA_1", "conversation_id": conv, "direction": "inbound",
			"type": "text", "status": "read", "content": string(content), "created_at": ts}
	case "vantaxai":
		return map[string]any{"id": id, "conversation_id": conv, "channel": "sms", "direction": "inbound",
			"content": hwBody(id), "sender_type": "contact", "status": "delivered", "created_at": ts}
	case "rentalot":
		return map[string]any{"id": id, "conversationId": conv, "direction": "inbound", "content": hwBody(id),
			"channel": "sms", "sentAt": ts, "createdAt": ts}
	default:
		return map[string]any{"id": id, "direction": "inbound", "body": hwBody(id), "channel": "sms",
			"segment_count": 1, "created_at": ts}
	}
}

// hwConversation renders conversation id in p's wire form.
func hwConversation(p convo.Provider, id string, i int) map[string]any {
	ts := hwTime(i)
	switch p.Name() {
	case "vobiz":
		return map[string]any{"id": id, "account_id": "MA_1", "contact_id": "ct_" + id, "category": "service",
			"status": "open", "started_at": ts}
	case "vantaxai":
		return map[string]any{"id": id, "channel": "sms", "contact_id": "ct_" + id, "status": "open",
			"tags": []string{}, "last_message_at": ts, "created_at": ts}
	case "rentalot":
		return map[string]any{"id": id, "contactId": "ct_" + id, "channel": "sms", "status": "active",
			"lastMessageAt": ts, "createdAt": ts}
	default:
		return map[string]any{"id": id, "contact_number": "ct_" + id, "message_count": 1, "last_message_at": ts}
	}
}

// hwCont is how a page continues, in each style's terms.
type hwCont struct {
	More  bool   // has_more (Vobiz, VantaxAI)
	Next  string // next cursor (Vobiz, AgentMessage); "" is null
	Page  int    // page number reported (Rentalot); 0 leaves it out
	Limit int    // page size reported; 0 leaves it at 0
}

// hwEnvelope renders a list page in p's envelope.
func hwEnvelope(p convo.Provider, items []map[string]any, c hwCont) []byte {
	if items == nil {
		items = []map[string]any{}
	}
	var next any
	if c.Next != "" {
		next = c.Next
	}
	var env map[string]any
	switch p.Name() {
	case "vobiz":
		env = map[string]any{"items": items, "has_more": c.More, "next_cursor": next}
	case "vantaxai":
		env = map[string]any{"success": true, "data": items,
			"pagination": map[string]any{"limit": c.Limit, "has_more": c.More}}
	case "rentalot":
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

// hwList is an honest server of one list in a provider's wire form and
// paging style: conversations when conv is "", else conv's messages.
type hwList struct {
	p     convo.Provider
	conv  string
	ids   []string
	index map[string]int
}

func newHWList(p convo.Provider, conv string, n int) *hwList {
	l := &hwList{p: p, conv: conv, index: make(map[string]int, n)}
	prefix := "c"
	if conv != "" {
		prefix = conv + "-m"
	}
	for i := range n {
		id := fmt.Sprintf("%s%05d", prefix, i+1)
		l.ids = append(l.ids, id)
		l.index[id] = i
	}
	return l
}

func (l *hwList) path() string {
	if l.conv == "" {
		return "/conversations"
	}
	return "/conversations/" + url.PathEscape(l.conv) + "/messages"
}

func (l *hwList) defaultLimit() int {
	switch {
	case l.p.Name() == "rentalot", l.p.Name() == "vantaxai" && l.conv == "":
		return 20
	}
	return 50
}

// page answers one request: status and body.
func (l *hwList) page(r *http.Request) (int, []byte) {
	if !strings.HasSuffix(r.URL.EscapedPath(), l.path()) {
		return http.StatusNotFound, []byte(`{"error":{"code":"NOT_FOUND","message":"no such path"}}`)
	}
	q := r.URL.Query()
	limit := l.defaultLimit()
	if v := q.Get("limit"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 {
			return http.StatusBadRequest, []byte(`{"error":{"code":"INVALID_INPUT","message":"bad limit"}}`)
		}
		limit = n
	}
	start, pageNum := 0, 0
	switch l.p.Name() {
	case "vobiz", "agentmessage":
		if c := q.Get("cursor"); c != "" {
			n, err := strconv.Atoi(strings.TrimPrefix(c, "cur_"))
			if err != nil || !strings.HasPrefix(c, "cur_") || n > len(l.ids) {
				return http.StatusBadRequest, []byte(`{"error":{"code":"INVALID_INPUT","message":"bad cursor"}}`)
			}
			start = n
		}
	case "vantaxai":
		if sa := q.Get("starting_after"); sa != "" {
			i, ok := l.index[sa]
			if !ok {
				return http.StatusBadRequest, []byte(`{"success":false,"message":"unknown starting_after"}`)
			}
			start = i + 1
		}
	case "rentalot":
		pageNum = 1
		if v := q.Get("page"); v != "" {
			n, err := strconv.Atoi(v)
			if err != nil || n < 1 {
				return http.StatusBadRequest, []byte(`{"error":{"code":"validation_error","message":"bad page"}}`)
			}
			pageNum = n
		}
		start = min((pageNum-1)*limit, len(l.ids))
	}
	end := min(start+limit, len(l.ids))
	items := make([]map[string]any, 0, end-start)
	for i := start; i < end; i++ {
		if l.conv == "" {
			items = append(items, hwConversation(l.p, l.ids[i], i))
		} else {
			items = append(items, hwMessage(l.p, l.conv, l.ids[i], i))
		}
	}
	c := hwCont{More: end < len(l.ids), Page: pageNum, Limit: limit}
	if c.More {
		c.Next = "cur_" + strconv.Itoa(end)
	}
	return http.StatusOK, hwEnvelope(l.p, items, c)
}

func (l *hwList) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	status, body := l.page(r)
	hwWrite(w, status, body)
}

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
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Content-Length", strconv.Itoa(len(body)))
	w.WriteHeader(http.StatusOK)
	_, _ = w.Write(body[:len(body)/2])
	_ = http.NewResponseController(w).Flush()
	hwHijack(w).Close()
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

// hwCounter counts requests and handlers still running.
type hwCounter struct{ requests, active atomic.Int64 }

func (c *hwCounter) wrap(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		c.requests.Add(1)
		c.active.Add(1)
		defer c.active.Add(-1)
		h.ServeHTTP(w, r)
	})
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

// hwHang blocks a handler until the client goes away (or a guard passes, so
// that a broken client cannot hang the test run).
func hwHang(r *http.Request) {
	select {
	case <-r.Context().Done():
	case <-time.After(30 * time.Second):
	}
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
	var cnt hwCounter
	chunk := bytes.Repeat([]byte(`{"id":"m","content":"padding padding padding"},`), 700) // ~32 KiB
	srv := httptest.NewServer(cnt.wrap(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
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
	})))
	defer srv.Close()
	c := hwNewClient(t, convo.Vobiz, srv.URL, convo.WithMaxResponseBytes(limit))
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
	assert.Equal(t, int64(1), cnt.requests.Load(), "an oversized body is not retried")
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
	var cnt hwCounter
	outcome := make(chan string, 4)
	srv := httptest.NewServer(cnt.wrap(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
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
	})))
	defer srv.Close()
	c := hwNewClient(t, convo.VantaxAI, srv.URL, convo.WithMaxResponseBytes(1<<20))

	_, err := c.Conversations.Get(context.Background(), "conv_1")
	require.Error(t, err)
	assert.ErrorIs(t, err, convo.ErrResponseTooLarge)
	assert.Contains(t, err.Error(), "Content-Length")
	assert.Equal(t, int64(1), cnt.requests.Load())
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
	l := newHWList(convo.AgentMessage, hwConv, 3)
	req := httptest.NewRequest(http.MethodGet, "/conversations/"+hwConv+"/messages", nil)
	_, body := l.page(req)
	srv := httptest.NewServer(l)
	defer srv.Close()
	for _, tc := range []struct {
		limit int64
		ok    bool
	}{{int64(len(body)), true}, {int64(len(body)) - 1, false}} {
		c := hwNewClient(t, convo.AgentMessage, srv.URL, convo.WithMaxResponseBytes(tc.limit))
		ids, err := hwAll(c.Messages.List(context.Background(), hwConv, nil).All(), hwMsgID, 10)
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
			var cnt hwCounter
			srv := httptest.NewServer(cnt.wrap(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				w.Header().Set("Content-Type", tc.contentType)
				w.WriteHeader(tc.status)
				_, _ = io.WriteString(w, `{"success":false,"message":"`)
				for n := 0; n < huge; n += len(chunk) {
					if _, err := w.Write(chunk); err != nil {
						return
					}
				}
			})))
			defer srv.Close()
			c := hwNewClient(t, convo.VantaxAI, srv.URL, convo.WithMaxRetries(tc.retries))

			runtime.GC()
			var before, after runtime.MemStats
			runtime.ReadMemStats(&before)
			_, err := c.Conversations.Get(context.Background(), "conv_1")
			runtime.ReadMemStats(&after)

			var apiErr *convo.APIError
			require.ErrorAs(t, err, &apiErr)
			assert.Equal(t, tc.status, apiErr.StatusCode)
			assert.Len(t, apiErr.Body, 64<<10, "the raw body is capped at 64 KiB")
			assert.Less(t, len(err.Error()), 1024, "Error() stays one readable line")
			assert.Equal(t, tc.attempts, cnt.requests.Load())
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
				var cnt hwCounter
				srv := httptest.NewServer(cnt.wrap(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
					hwWrite(w, http.StatusOK, []byte(b.body))
				})))
				defer srv.Close()
				c := hwNewClient(t, p, srv.URL)
				_, err := hwAll(c.Messages.List(context.Background(), hwConv, nil).All(), hwMsgID, 10)
				hwCheckDecodeError(t, err, p, b.body, b.cut)
				assert.Equal(t, int64(1), cnt.requests.Load(), "a decode error is not retried")

				if p.Supports("conversations.get") {
					_, err := c.Conversations.Get(context.Background(), "conv_1")
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

	pageOne := func(p convo.Provider) []byte {
		l := newHWList(p, hwConv, 10)
		_, body := l.page(httptest.NewRequest(http.MethodGet, "/conversations/"+hwConv+"/messages?limit=5", nil))
		return body
	}
	cases := []struct {
		name    string
		opts    []convo.Option
		handler func(w http.ResponseWriter, r *http.Request, n int64)
		wantErr error
		cancel  bool // cancel instead of a deadline
	}{
		{
			name: "backoff",
			opts: []convo.Option{convo.WithRetryWait(20*time.Second, 40*time.Second), convo.WithMaxRetries(5)},
			handler: func(w http.ResponseWriter, r *http.Request, _ int64) {
				hwWrite(w, http.StatusServiceUnavailable, []byte(`{"success":false,"message":"down"}`))
			},
			wantErr: context.DeadlineExceeded,
		},
		{
			name: "backoff cancelled",
			opts: []convo.Option{convo.WithRetryWait(20*time.Second, 40*time.Second), convo.WithMaxRetries(5)},
			handler: func(w http.ResponseWriter, r *http.Request, _ int64) {
				hwHangUp(w, nil)
			},
			wantErr: context.Canceled,
			cancel:  true,
		},
		{
			name: "retry-after within the maximum",
			opts: []convo.Option{convo.WithRetryWait(time.Millisecond, time.Minute)},
			handler: func(w http.ResponseWriter, r *http.Request, _ int64) {
				w.Header().Set("Retry-After", "20")
				hwWrite(w, http.StatusTooManyRequests, []byte(`{"success":false,"message":"slow down"}`))
			},
			wantErr: context.DeadlineExceeded,
		},
		{
			name: "prefetch hand-off",
			opts: []convo.Option{convo.WithPrefetch(3)},
			handler: func(w http.ResponseWriter, r *http.Request, n int64) {
				if n == 1 {
					hwWrite(w, http.StatusOK, pageOne(convo.VantaxAI))
					return
				}
				hwHang(r)
			},
			wantErr: context.DeadlineExceeded,
		},
		{
			name: "client rate limit",
			opts: []convo.Option{convo.WithRateLimit(0.01, 1)}, // the second request waits 100 s
			handler: func(w http.ResponseWriter, r *http.Request, n int64) {
				hwWrite(w, http.StatusOK, pageOne(convo.VantaxAI))
			},
			wantErr: context.DeadlineExceeded,
		},
		{
			name: "rate-limit window used up",
			handler: func(w http.ResponseWriter, r *http.Request, n int64) {
				w.Header().Set("X-RateLimit-Limit", "30")
				w.Header().Set("X-RateLimit-Remaining", "0")
				w.Header().Set("X-RateLimit-Reset", strconv.FormatInt(time.Now().Add(30*time.Second).Unix(), 10))
				hwWrite(w, http.StatusOK, pageOne(convo.VantaxAI))
			},
			wantErr: context.DeadlineExceeded,
		},
		{
			name: "no answer",
			handler: func(w http.ResponseWriter, r *http.Request, _ int64) {
				hwHang(r)
			},
			wantErr: context.DeadlineExceeded,
		},
		{
			name: "body stops mid-stream",
			handler: func(w http.ResponseWriter, r *http.Request, _ int64) {
				body := pageOne(convo.VantaxAI)
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
				var cnt hwCounter
				srv := httptest.NewServer(cnt.wrap(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
					tc.handler(w, r, cnt.requests.Load())
				})))
				t.Cleanup(srv.Close)
				c = hwNewClient(t, convo.VantaxAI, srv.URL, tc.opts...)

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
				_, err = c.Conversations.Get(ctx2, "conv_1")
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
	items := func(p convo.Provider, ids ...string) []map[string]any {
		var out []map[string]any
		for i, id := range ids {
			out = append(out, hwMessage(p, hwConv, id, i))
		}
		return out
	}
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
				return hwEnvelope(convo.Vobiz, items(convo.Vobiz, ids...), hwCont{More: true, Next: "same"})
			},
			wantIDs: []string{"m1", "m2"}, wantText: "repeated cursor", maxReqs: 2,
		},
		{
			name: "agentmessage cursor cycle", p: convo.AgentMessage,
			page: func(n int64, q url.Values) []byte {
				next := map[string]string{"": "c1", "c1": "c2", "c2": "c1"}[q.Get("cursor")]
				id := "m-" + q.Get("cursor")
				return hwEnvelope(convo.AgentMessage, items(convo.AgentMessage, id), hwCont{Next: next})
			},
			wantIDs: []string{"m-", "m-c1"}, wantText: "repeated cursor", maxReqs: 3,
		},
		{
			name: "agentmessage cursor ignored, fresh cursor each time", p: convo.AgentMessage,
			page: func(n int64, q url.Values) []byte {
				return hwEnvelope(convo.AgentMessage, items(convo.AgentMessage, "m1", "m2"), hwCont{Next: fmt.Sprintf("fresh-%d", n)})
			},
			wantIDs: []string{"m1", "m2"}, wantText: "already sent", maxReqs: 2,
		},
		{
			name: "vantaxai starting_after ignored", p: convo.VantaxAI,
			page: func(n int64, q url.Values) []byte {
				return hwEnvelope(convo.VantaxAI, items(convo.VantaxAI, "m1", "m2"), hwCont{More: true, Limit: 2})
			},
			wantIDs: []string{"m1", "m2"}, wantText: "starting_after did not advance", maxReqs: 2,
		},
		{
			name: "rentalot page ignored", p: convo.Rentalot,
			page: func(n int64, q url.Values) []byte {
				return hwEnvelope(convo.Rentalot, items(convo.Rentalot, "m1", "m2"), hwCont{Limit: 2})
			},
			wantIDs: []string{"m1", "m2"}, wantText: "ignored the page number", maxReqs: 2,
		},
		{
			name: "rentalot page ignored, page 1 reported", p: convo.Rentalot,
			page: func(n int64, q url.Values) []byte {
				return hwEnvelope(convo.Rentalot, items(convo.Rentalot, "m1", "m2"), hwCont{Limit: 2, Page: 1})
			},
			wantIDs: []string{"m1", "m2"}, wantText: "asked for page 2, the server answered page 1", maxReqs: 2,
		},
		{
			name: "rentalot items without ids", p: convo.Rentalot,
			page: func(n int64, q url.Values) []byte {
				return hwEnvelope(convo.Rentalot, []map[string]any{{"content": "a"}, {"content": "b"}}, hwCont{Limit: 2})
			},
			wantIDs: []string{""}, wantText: "ignored the page number", maxReqs: 2,
		},
		{
			name: "rentalot pages cycle", p: convo.Rentalot,
			page: func(n int64, q url.Values) []byte {
				pg, _ := strconv.Atoi(q.Get("page"))
				if pg%2 == 1 {
					return hwEnvelope(convo.Rentalot, items(convo.Rentalot, "m1", "m2"), hwCont{Limit: 2})
				}
				return hwEnvelope(convo.Rentalot, items(convo.Rentalot, "m3", "m4"), hwCont{Limit: 2})
			},
			wantIDs: []string{"m1", "m2", "m3", "m4"}, wantText: "ignored the page number", maxReqs: 3,
		},
		{
			name: "vobiz has_more with an empty page", p: convo.Vobiz,
			page: func(n int64, q url.Values) []byte {
				return hwEnvelope(convo.Vobiz, nil, hwCont{More: true, Next: fmt.Sprintf("c%d", n)})
			},
			wantText: "empty page", maxReqs: 1,
		},
		{
			name: "vantaxai has_more with an empty page", p: convo.VantaxAI,
			page: func(n int64, q url.Values) []byte {
				if q.Get("starting_after") == "" {
					return hwEnvelope(convo.VantaxAI, items(convo.VantaxAI, "m1"), hwCont{More: true, Limit: 1})
				}
				return hwEnvelope(convo.VantaxAI, nil, hwCont{More: true, Limit: 1})
			},
			wantIDs: []string{"m1"}, wantText: "empty page", maxReqs: 2,
		},
		{
			name: "agentmessage next cursor with an empty page", p: convo.AgentMessage,
			page: func(n int64, q url.Values) []byte {
				return hwEnvelope(convo.AgentMessage, nil, hwCont{Next: "more"})
			},
			wantText: "empty page", maxReqs: 1,
		},
	}
	for _, tc := range cases {
		for _, prefetch := range []int{0, 2} {
			t.Run(fmt.Sprintf("%s/prefetch=%d", tc.name, prefetch), func(t *testing.T) {
				var cnt hwCounter
				srv := httptest.NewServer(cnt.wrap(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
					hwWrite(w, http.StatusOK, tc.page(cnt.requests.Load(), r.URL.Query()))
				})))
				defer srv.Close()
				c := hwNewClient(t, tc.p, srv.URL, convo.WithPrefetch(prefetch))
				ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
				defer cancel()

				ids, err := hwAll(c.Messages.List(ctx, hwConv, nil).All(), hwMsgID, 100)
				require.Error(t, err)
				assert.ErrorIs(t, err, convo.ErrPaginationStalled)
				assert.Contains(t, err.Error(), tc.wantText)
				assert.Equal(t, tc.wantIDs, ids, "every item at most once, in order")
				assert.LessOrEqual(t, cnt.requests.Load(), tc.maxReqs)

				// Pages stops the same way.
				before := cnt.requests.Load()
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
				assert.LessOrEqual(t, cnt.requests.Load()-before, tc.maxReqs)

				// Nothing keeps running after the error.
				settled := cnt.requests.Load()
				time.Sleep(50 * time.Millisecond)
				assert.Equal(t, settled, cnt.requests.Load())
			})
		}
	}
}

// TestStallRentalotDuplicatePageWithinTotalPages: a page-number server that
// ignores the page but reports totalPages must not hand out the first page
// twice as if it were the second.
func TestStallRentalotDuplicatePageWithinTotalPages(t *testing.T) {
	t.Parallel()
	var cnt hwCounter
	srv := httptest.NewServer(cnt.wrap(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body := `{"data":[` +
			`{"id":"c1","contactId":"ct1","status":"active","createdAt":"2026-01-01T00:00:00Z"},` +
			`{"id":"c2","contactId":"ct2","status":"active","createdAt":"2026-01-01T00:00:00Z"}],` +
			`"pagination":{"limit":2,"total":4,"totalPages":2}}`
		hwWrite(w, http.StatusOK, []byte(body))
	})))
	defer srv.Close()
	c := hwNewClient(t, convo.Rentalot, srv.URL)
	ids, err := hwAll(c.Conversations.List(context.Background(), nil).All(), hwConvID, 100)
	assert.ErrorIs(t, err, convo.ErrPaginationStalled)
	assert.Equal(t, []string{"c1", "c2"}, ids, "no conversation yielded twice")
	assert.Equal(t, int64(2), cnt.requests.Load())
}
