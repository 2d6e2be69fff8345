package convo

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/convokit/convo/internal/syncbuf"
)

// Credentials used by the test clients. They must never appear in an error,
// a log line or a formatted value.
const (
	testAuthID    = "MA_TESTACCOUNT"
	testAuthToken = "secret-xauth-token-5f1c"
	testBearer    = "secret-bearer-token-9a7e"
)

// testServer is a loopback stand-in for one provider: a mux mounted under
// the provider's documented base path, and a count of the requests received
// (whatever their path).
type testServer struct {
	*httptest.Server
	requests atomic.Int64
}

// Requests returns how many requests the server has received.
func (s *testServer) Requests() int { return int(s.requests.Load()) }

// setup returns a client of provider p wired to a fresh httptest server, and
// the mux on which the test registers its handlers. Handlers are registered
// with the paths of the provider's reference ("GET /conversations/{id}"): the
// server mounts the mux under the provider's own base path (/v1,
// /api/v1/messaging, …), so the client is exercised with a base URL that has
// a path, as in production.
//
// The client authenticates with the provider's usual scheme (XAuth for
// Vobiz, a bearer token for the others) and retries after 1–10ms; opts are
// applied after these defaults and may override them.
func setup(t *testing.T, p Provider, opts ...Option) (*Client, *http.ServeMux, *testServer) {
	t.Helper()
	mux := http.NewServeMux()
	base, err := url.Parse(p.DefaultBaseURL())
	require.NoError(t, err)
	basePath := base.Path

	root := http.NewServeMux()
	root.Handle(basePath+"/", http.StripPrefix(basePath, mux))
	root.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		t.Errorf("request outside the base path %q: %s %s", basePath, r.Method, r.URL)
		http.Error(w, "outside the base path", http.StatusNotFound)
	})
	srv := &testServer{}
	srv.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		srv.requests.Add(1)
		root.ServeHTTP(w, r)
	}))
	t.Cleanup(srv.Close)

	all := append([]Option{
		WithBaseURL(srv.URL + basePath),
		WithAuth(defaultAuth(p)),
		WithRetryWait(time.Millisecond, 10*time.Millisecond),
	}, opts...)
	client, err := NewClient(p, all...)
	require.NoError(t, err)
	return client, mux, srv
}

// defaultAuth is the credential scheme each provider documents first.
func defaultAuth(p Provider) Authenticator {
	if p == Vobiz {
		return XAuth(testAuthID, testAuthToken)
	}
	return Bearer(testBearer)
}

// testMethod asserts the request's method.
func testMethod(t *testing.T, r *http.Request, want string) {
	t.Helper()
	assert.Equal(t, want, r.Method, "method")
}

// testQuery asserts the request's query holds exactly want: every
// parameter, every value, and nothing else. A nil or empty want means no
// query at all.
func testQuery(t *testing.T, r *http.Request, want url.Values) {
	t.Helper()
	got := r.URL.Query()
	if len(want) == 0 {
		assert.Empty(t, r.URL.RawQuery, "query")
		return
	}
	assert.Equal(t, want, got, "query %q", r.URL.RawQuery)
}

// testHeader asserts one header of the request has exactly one value, want.
// An empty want asserts the header is absent.
func testHeader(t *testing.T, r *http.Request, header, want string) {
	t.Helper()
	if want == "" {
		assert.Empty(t, r.Header.Values(header), "header %s", header)
		return
	}
	assert.Equal(t, []string{want}, r.Header.Values(header), "header %s", header)
}

// fixture returns the content of a file of testdata/.
func fixture(t testing.TB, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", name))
	require.NoError(t, err)
	return b
}

// writeJSON answers with status and body as application/json.
func writeJSON(w http.ResponseWriter, status int, body []byte) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_, _ = w.Write(body)
}

// serveJSON registers a handler that answers GET pattern with body.
func serveJSON(mux *http.ServeMux, pattern string, body []byte) {
	mux.HandleFunc(pattern, func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, http.StatusOK, body)
	})
}

// firstPage returns the first page of a pager, or its error, without
// fetching the next one.
func firstPage[T any](pg *Pager[T]) (*Page[T], error) {
	for page, err := range pg.Pages() {
		return page, err
	}
	return nil, nil
}

// drain iterates a pager to its end and returns the items, or the first
// error. It gives up after max items so that a broken pager cannot loop.
func drain[T any](pg *Pager[T], max int) ([]T, error) {
	var items []T
	for item, err := range pg.All() {
		if err != nil {
			return items, err
		}
		items = append(items, item)
		if len(items) >= max {
			break
		}
	}
	return items, nil
}

// logBuffer collects the records of a debug-level slog logger.
type logBuffer = syncbuf.Buffer

// newTestLogger returns a JSON logger at debug level writing to a buffer.
func newTestLogger() (*slog.Logger, *logBuffer) {
	b := &logBuffer{}
	return slog.New(slog.NewJSONHandler(b, &slog.HandlerOptions{Level: slog.LevelDebug})), b
}

// testContext returns a context that ends with the test or after a bound,
// so that a hanging call fails the test instead of stalling the suite.
func testContext(t *testing.T) context.Context {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	t.Cleanup(cancel)
	return ctx
}

// newRawServer starts a loopback server with handler and no mux, so that
// paths arrive exactly as sent (a ServeMux would clean or redirect some),
// counting the requests it receives.
func newRawServer(t *testing.T, handler http.HandlerFunc) *testServer {
	t.Helper()
	srv := &testServer{}
	srv.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		srv.requests.Add(1)
		handler(w, r)
	}))
	t.Cleanup(srv.Close)
	return srv
}

// scriptedServer answers the n-th attempt (1-based) with script(n, w, r).
func scriptedServer(t *testing.T, p Provider, script func(n int, w http.ResponseWriter, r *http.Request), opts ...Option) (*Client, *testServer) {
	t.Helper()
	c, mux, srv := setup(t, p, opts...)
	var n atomic.Int64
	mux.HandleFunc("GET /", func(w http.ResponseWriter, r *http.Request) {
		script(int(n.Add(1)), w, r)
	})
	return c, srv
}

// failFirst is a script for scriptedServer that answers the first k
// attempts with fail and the others with body, 200.
func failFirst(k int, fail func(w http.ResponseWriter), body string) func(int, http.ResponseWriter, *http.Request) {
	return func(n int, w http.ResponseWriter, _ *http.Request) {
		if n <= k {
			fail(w)
			return
		}
		writeJSON(w, http.StatusOK, []byte(body))
	}
}

// errorBody answers status with a VantaxAI error naming the attempt.
func errorBody(w http.ResponseWriter, status, attempt int) {
	writeJSON(w, status, []byte(fmt.Sprintf(`{"success":false,"message":"failure on attempt %d"}`, attempt)))
}

// hijackClose drops the connection without answering.
func hijackClose(t *testing.T, w http.ResponseWriter) {
	hj, ok := w.(http.Hijacker)
	if !assert.True(t, ok, "hijacker") {
		return
	}
	conn, _, err := hj.Hijack()
	if assert.NoError(t, err) {
		_ = conn.Close()
	}
}

func parseLog(t *testing.T, b *logBuffer) []logRecord {
	t.Helper()
	var recs []logRecord
	sc := bufio.NewScanner(strings.NewReader(b.String()))
	for sc.Scan() {
		var r logRecord
		require.NoError(t, json.Unmarshal(sc.Bytes(), &r), "log line %q", sc.Text())
		recs = append(recs, r)
	}
	return recs
}

// captureOutput runs fn with os.Stdout and os.Stderr redirected and returns
// what was written to them.
func captureOutput(t *testing.T, fn func()) string {
	t.Helper()
	r, w, err := os.Pipe()
	require.NoError(t, err)
	stdout, stderr := os.Stdout, os.Stderr
	os.Stdout, os.Stderr = w, w
	done := make(chan string)
	go func() {
		b, _ := io.ReadAll(r)
		done <- string(b)
	}()
	func() {
		defer func() { os.Stdout, os.Stderr = stdout, stderr }()
		fn()
	}()
	require.NoError(t, w.Close())
	out := <-done
	require.NoError(t, r.Close())
	return out
}

// assertNoCredential fails when s holds one of the test credentials.
func assertNoCredential(t *testing.T, s string) {
	t.Helper()
	for _, secret := range []string{testAuthToken, testBearer, "Bearer "} {
		assert.NotContains(t, s, secret, "credential leaked")
	}
}

// logRecord is one JSON line written by the test logger.
type logRecord struct {
	Level    string  `json:"level"`
	Msg      string  `json:"msg"`
	Provider string  `json:"provider"`
	Method   string  `json:"method"`
	Path     string  `json:"path"`
	Status   int     `json:"status"`
	Attempt  int     `json:"attempt"`
	Wait     *int64  `json:"wait"` // nanoseconds; absent when no retry follows
	Error    *string `json:"error"`
}

// fakeTransport answers attempt n (1-based) with script(n, req).
type fakeTransport struct {
	mu     sync.Mutex
	n      int
	script func(n int, req *http.Request) (*http.Response, error)
}

func (f *fakeTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	f.mu.Lock()
	f.n++
	n := f.n
	f.mu.Unlock()
	return f.script(n, req)
}

func (f *fakeTransport) attempts() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.n
}

// fakeResponse is a response with the given status, headers and body.
func fakeResponse(req *http.Request, status int, body io.Reader, header ...string) *http.Response {
	h := http.Header{"Content-Type": {"application/json"}}
	for i := 0; i+1 < len(header); i += 2 {
		h.Set(header[i], header[i+1])
	}
	return &http.Response{StatusCode: status, Header: h, Body: io.NopCloser(body), Request: req, ContentLength: -1}
}

// vantaxConvBody is a one-item, last-page VantaxAI conversation list.
const vantaxConvBody = `{"success":true,"data":[{"id":"conv_ok","status":"open"}],"pagination":{"total":1,"has_more":false}}`

// fakeOK is the same list without a total.
const fakeOK = `{"success":true,"data":[{"id":"conv_ok","status":"open"}],"pagination":{"has_more":false}}`

// fakeClient returns a VantaxAI client whose transport answers attempt n
// with script(n, req), and that transport; it retries after 1–20ms, and
// opts may override that.
func fakeClient(t *testing.T, script func(n int, req *http.Request) (*http.Response, error), opts ...Option) (*Client, *fakeTransport) {
	t.Helper()
	ft := &fakeTransport{script: script}
	opts = append([]Option{
		WithBaseURL("https://api.example.test/v1"), WithAuth(Bearer(testBearer)),
		WithHTTPClient(&http.Client{Transport: ft}), WithRetryWait(time.Millisecond, 20*time.Millisecond),
	}, opts...)
	c, err := NewClient(VantaxAI, opts...)
	require.NoError(t, err)
	return c, ft
}

func ts(t *testing.T, s string) time.Time {
	t.Helper()
	v, err := time.Parse(time.RFC3339, s)
	require.NoError(t, err)
	return v
}

// emptyListBody is an empty last page in the provider's envelope.
func emptyListBody(p Provider) string {
	switch p {
	case Vobiz:
		return `{"items":[],"has_more":false}`
	case VantaxAI:
		return `{"success":true,"data":[],"pagination":{"has_more":false}}`
	case Rentalot:
		return `{"data":[],"pagination":{"page":1,"limit":20},"total":0}`
	default:
		return `{"success":true,"data":[],"meta":{"next_cursor":null}}`
	}
}

func runConvs(p *ConversationListParams) func(context.Context, *Client) error {
	return func(ctx context.Context, c *Client) error {
		_, err := drain(c.Conversations.List(ctx, p), 100)
		return err
	}
}

func runMsgs(p *MessageListParams) func(context.Context, *Client) error {
	return func(ctx context.Context, c *Client) error {
		_, err := drain(c.Messages.List(ctx, "c1", p), 100)
		return err
	}
}

func runSearch(p *SearchParams) func(context.Context, *Client) error {
	return func(ctx context.Context, c *Client) error {
		_, err := drain(c.Search.Messages(ctx, p), 100)
		return err
	}
}

func runGet(id string) func(context.Context, *Client) error {
	return func(ctx context.Context, c *Client) error {
		_, err := c.Conversations.Get(ctx, id)
		return err
	}
}

// newTestClient returns a client of p for a server, closed when the test
// ends, that answers every request with h, bytes exactly as h writes them;
// the client sends a bearer token and retries after 1–5ms, and opts may
// override these.
func newTestClient(t *testing.T, p Provider, h http.HandlerFunc, opts ...Option) *Client {
	t.Helper()
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	opts = append([]Option{WithBaseURL(srv.URL), WithAuth(Bearer("test-token")),
		WithRetryWait(time.Millisecond, 5*time.Millisecond)}, opts...)
	c, err := NewClient(p, opts...)
	require.NoError(t, err)
	return c
}

// collect iterates the pager, stopping after max items when max > 0.
func collect[T any](t *testing.T, pg *Pager[T], max int, id func(*T) string) []string {
	t.Helper()
	var ids []string
	for item, err := range pg.All() {
		require.NoError(t, err)
		ids = append(ids, id(&item))
		if max > 0 && len(ids) == max {
			break
		}
	}
	return ids
}

// The decoding tests of the provider_<name>_test.go files serve the
// provider's wire fixtures of testdata/ (and the documented shapes no
// fixture shows) from a loopback server and check every documented field
// of the typed models, through the real request path.

// pageSummary is what a page says besides its items: how many it holds,
// whether more follow, and the list's total where the provider reports one.
type pageSummary struct {
	Items      int
	HasMore    bool
	TotalKnown bool
	Total      int
}

// requirePageSummary stops the test unless page says what want says, so that
// the caller may then index the items it counted.
func requirePageSummary[T any](t *testing.T, page *Page[T], want pageSummary, msgAndArgs ...any) {
	t.Helper()
	require.Equal(t, want, pageSummary{len(page.Items), page.HasMore, page.TotalKnown, page.Total}, msgAndArgs...)
}

// servedConversations serves body as p's conversation list and returns the
// first page a client decodes from it.
func servedConversations(t *testing.T, p Provider, body []byte) *Page[Conversation] {
	t.Helper()
	c, mux, _ := setup(t, p)
	serveJSON(mux, "GET /conversations", body)
	page, err := firstPage(c.Conversations.List(testContext(t), nil))
	require.NoError(t, err)
	return page
}

// servedMessages serves body as the message list of p's conversation conv
// and returns the first page a client decodes from it.
func servedMessages(t *testing.T, p Provider, conv string, body []byte) *Page[Message] {
	t.Helper()
	c, mux, _ := setup(t, p)
	serveJSON(mux, "GET /conversations/{id}/messages", body)
	page, err := firstPage(c.Messages.List(testContext(t), conv, nil))
	require.NoError(t, err)
	return page
}

// servedLists returns a client of p whose server answers every
// conversation list with convs and every message list with msgs.
func servedLists(t *testing.T, p Provider, convs, msgs string) *Client {
	t.Helper()
	c, mux, _ := setup(t, p)
	serveJSON(mux, "GET /conversations", []byte(convs))
	serveJSON(mux, "GET /conversations/{id}/messages", []byte(msgs))
	return c
}
