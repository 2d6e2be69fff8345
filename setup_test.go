package convo

import (
	"bytes"
	"context"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
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
type logBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *logBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *logBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

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
