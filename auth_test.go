package convo

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestAuthXAuthHeaders(t *testing.T) {
	t.Parallel()
	c, mux, _ := setup(t, Vobiz, WithAuth(XAuth("MA_XXXXXXXX", testAuthToken)))
	var got *http.Request
	mux.HandleFunc("GET /conversations", func(w http.ResponseWriter, r *http.Request) {
		got = r
		writeJSON(w, http.StatusOK, []byte(`{"items":[]}`))
	})
	_, err := drain(c.Conversations.List(testContext(t), nil), 10)
	require.NoError(t, err)
	require.NotNil(t, got)
	testHeader(t, got, "X-Auth-ID", "MA_XXXXXXXX")
	testHeader(t, got, "X-Auth-Token", testAuthToken)
	testHeader(t, got, "Authorization", "")
	testHeader(t, got, "User-Agent", "convo/"+Version)
	testHeader(t, got, "Accept", "application/json")
}

func TestAuthBearerHeaders(t *testing.T) {
	t.Parallel()
	for _, p := range Providers() {
		t.Run(p.Name(), func(t *testing.T) {
			c, mux, _ := setup(t, p, WithAuth(Bearer(testBearer)))
			var got *http.Request
			mux.HandleFunc("GET /", func(w http.ResponseWriter, r *http.Request) {
				got = r
				writeJSON(w, http.StatusOK, []byte(emptyListBody(p)))
			})
			_, err := drain(c.Conversations.List(testContext(t), nil), 10)
			require.NoError(t, err)
			require.NotNil(t, got)
			testHeader(t, got, "Authorization", "Bearer "+testBearer)
			testHeader(t, got, "X-Auth-ID", "")
			testHeader(t, got, "X-Auth-Token", "")
		})
	}
}

func TestAuthNone(t *testing.T) {
	t.Parallel()
	srv := newRawServer(t, func(w http.ResponseWriter, r *http.Request) {
		testHeader(t, r, "Authorization", "")
		writeJSON(w, http.StatusOK, []byte(`{"data":{"id":"r1"}}`))
	})
	c, err := NewClient(Rentalot, WithBaseURL(srv.URL+"/api/v1"), WithoutAuth())
	require.NoError(t, err)
	_, err = c.Conversations.Get(testContext(t), "r1")
	require.NoError(t, err)
	assert.Equal(t, 1, srv.Requests())
}

// TestAuthBearerFuncPerAttempt checks the token function is asked once per
// attempt, retries included, and that each attempt carries the token it got.
func TestAuthBearerFuncPerAttempt(t *testing.T) {
	t.Parallel()
	var calls atomic.Int64
	fn := func(ctx context.Context) (string, error) {
		require.NotNil(t, ctx)
		return fmt.Sprintf("jwt-%d", calls.Add(1)), nil
	}
	var (
		mu     sync.Mutex
		tokens []string
	)
	c, srv := scriptedServer(t, Vobiz, func(n int, w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		tokens = append(tokens, r.Header.Get("Authorization"))
		mu.Unlock()
		testHeader(t, r, "X-Auth-Token", "")
		if n <= 2 {
			writeJSON(w, http.StatusServiceUnavailable, []byte(`{"status":"error","error":{"code":"UNAVAILABLE","message":"later"}}`))
			return
		}
		writeJSON(w, http.StatusOK, []byte(`{"items":[{"id":"c1"}]}`))
	}, WithAuth(BearerFunc(fn)), WithMaxRetries(3))

	items, err := drain(c.Conversations.List(testContext(t), nil), 10)
	require.NoError(t, err)
	require.Len(t, items, 1)
	assert.Equal(t, 3, srv.Requests())
	assert.Equal(t, int64(3), calls.Load(), "one call per attempt")
	assert.Equal(t, []string{"Bearer jwt-1", "Bearer jwt-2", "Bearer jwt-3"}, tokens)
}

// TestAuthBearerFuncContext checks the token function receives the call's
// context.
func TestAuthBearerFuncContext(t *testing.T) {
	t.Parallel()
	type key struct{}
	var got any
	fn := func(ctx context.Context) (string, error) {
		got = ctx.Value(key{})
		return "jwt", nil
	}
	c, _ := scriptedServer(t, Rentalot, func(n int, w http.ResponseWriter, r *http.Request) {
		writeJSON(w, http.StatusOK, []byte(`{"data":{"id":"r1"}}`))
	}, WithAuth(BearerFunc(fn)))
	ctx := context.WithValue(testContext(t), key{}, "caller")
	_, err := c.Conversations.Get(ctx, "r1")
	require.NoError(t, err)
	assert.Equal(t, "caller", got)
}

// TestAuthBearerFuncError checks a failing token function fails the call
// with the caller's error wrapped in an *AuthError, sends nothing and is not
// retried.
func TestAuthBearerFuncError(t *testing.T) {
	t.Parallel()
	errVault := errors.New("vault unreachable")
	var calls atomic.Int64
	fn := func(ctx context.Context) (string, error) {
		calls.Add(1)
		return "", errVault
	}
	ops := map[string]func(context.Context, *Client) error{
		"list":     runConvs(nil),
		"messages": runMsgs(nil),
		"get":      runGet("r1"),
		"search":   runSearch(&SearchParams{Query: "x"}),
	}
	for name, op := range ops {
		t.Run(name, func(t *testing.T) {
			calls.Store(0)
			c, _, srv := setup(t, Rentalot, WithAuth(BearerFunc(fn)), WithMaxRetries(3))
			err := op(testContext(t), c)
			require.Error(t, err)
			assert.ErrorIs(t, err, errVault, "the caller's error is reachable")
			var authErr *AuthError
			require.True(t, errors.As(err, &authErr), "an *AuthError: %v", err)
			assert.ErrorIs(t, authErr, errVault)
			var apiErr *APIError
			assert.False(t, errors.As(err, &apiErr))
			assert.Zero(t, srv.Requests(), "nothing sent")
			assert.Equal(t, int64(1), calls.Load(), "not retried")
		})
	}
}

func TestAuthInvalidCredentials(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		auth Authenticator
	}{
		{"bearer func empty token", BearerFunc(func(context.Context) (string, error) { return "", nil })},
		{"bearer func nil", BearerFunc(nil)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, _, srv := setup(t, VantaxAI, WithAuth(tt.auth))
			_, err := firstPage(c.Conversations.List(testContext(t), nil))
			require.Error(t, err)
			var authErr *AuthError
			assert.True(t, errors.As(err, &authErr), "an *AuthError: %v", err)
			assert.Zero(t, srv.Requests(), "nothing sent")
			assert.NotContains(t, err.Error(), "X-Evil")
		})
	}
}

// TestAuthMissingRefused checks that NewClient refuses empty static
// credentials and a client without any, naming the option, unless the
// caller opts out with WithoutAuth.
func TestAuthMissingRefused(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		opts []Option
		says string
	}{
		{"xauth empty token", []Option{WithAuth(XAuth("MA_1", ""))}, "WithAuth: XAuth: empty auth token"},
		{"xauth empty id", []Option{WithAuth(XAuth("", "tok"))}, "WithAuth: XAuth: empty auth ID"},
		{"xauth both empty", []Option{WithAuth(XAuth("", ""))}, "WithAuth: XAuth: empty auth ID"},
		{"bearer empty", []Option{WithAuth(Bearer(""))}, "WithAuth: Bearer: empty token"},
		{"no credentials", nil, "no credentials: pass WithAuth"},
		{"opted out, then credentials removed", []Option{WithAuth(Bearer("t")), WithoutAuth(), WithAuth(Bearer(""))}, "WithAuth: Bearer: empty token"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := NewClient(VantaxAI, tt.opts...)
			assert.Nil(t, c)
			require.ErrorIs(t, err, ErrInvalidOption)
			assert.Contains(t, err.Error(), tt.says)
		})
	}
	for name, opts := range map[string][]Option{
		"without auth":           {WithoutAuth()},
		"credentials win":        {WithoutAuth(), WithAuth(Bearer("vx_live_1"))},
		"last without auth wins": {WithAuth(Bearer("vx_live_1")), WithoutAuth()},
	} {
		c, err := NewClient(VantaxAI, opts...)
		require.NoError(t, err, name)
		assert.NotNil(t, c, name)
	}
}

// TestAuthNotInErrorsOrFormatting checks credentials appear neither in the
// errors of a failing call nor in any formatting of the client or the
// authenticators.
func TestAuthNotInErrorsOrFormatting(t *testing.T) {
	t.Parallel()
	c, _ := scriptedServer(t, Vobiz, func(n int, w http.ResponseWriter, r *http.Request) {
		writeJSON(w, http.StatusUnauthorized, fixture(t, "vobiz_error_401.json"))
	})
	_, err := firstPage(c.Conversations.List(testContext(t), nil))
	require.Error(t, err)
	for _, verb := range []string{"%v", "%+v", "%#v", "%s"} {
		assertNoCredential(t, fmt.Sprintf(verb, err))
		assertNoCredential(t, fmt.Sprintf(verb, c))
		assertNoCredential(t, fmt.Sprintf(verb, *c))
		for _, a := range []Authenticator{XAuth(testAuthID, testAuthToken), Bearer(testBearer)} {
			assertNoCredential(t, fmt.Sprintf(verb, a))
		}
	}
}

// recordingTransport accepts any request, whatever its headers, records it
// and answers with an empty page: a transport that would put a bad header
// on the wire as it is.
type recordingTransport struct {
	requests atomic.Int64
	body     string
}

func (rt *recordingTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	rt.requests.Add(1)
	return &http.Response{
		StatusCode: http.StatusOK, Header: http.Header{"Content-Type": {"application/json"}},
		Body: io.NopCloser(strings.NewReader(rt.body)), ContentLength: int64(len(rt.body)), Request: r,
	}, nil
}

// headerAuth is an Authenticator of the caller's that sets a header as given.
type headerAuth struct{ name, value string }

func (a headerAuth) Authenticate(r *http.Request) error {
	r.Header[a.name] = []string{a.value}
	return nil
}

// badHeaderValues are values convo must not send as a credential, each
// holding "s3cr3t" so that an error echoing one is caught; field marks those
// that are no valid header value of any kind either (RFC 9110 allows spaces
// and tabs inside a value, but not inside a token).
var badHeaderValues = []struct {
	name, value string
	field       bool
}{
	{"CRLF injection", "s3cr3t\r\nX-Evil: 1", true},
	{"LF", "s3cr3t\nX-Evil: 1", true},
	{"CR", "s3cr3t\rX", true},
	{"trailing LF", "s3cr3t-token\n", true},
	{"NUL", "s3cr3t\x00x", true},
	{"ESC", "s3cr3t\x1b[31m", true},
	{"other control", "s3cr3t\x01", true},
	{"DEL", "s3cr3t\x7f", true},
	{"C1 control", "s3cr3t\u0085x", true},
	{"non-ASCII", "s3cr3t-tök", true},
	{"bidi override", "s3cr3t\u202ex", true},
	{"invalid UTF-8", "s3cr3t\xff", true},
	{"leading space", " s3cr3t", true},
	{"trailing tab", "s3cr3t\t", true},
	{"space inside", "s3cr3t token", false},
	{"tab inside", "s3cr3t\ttoken", false},
}

// A credential convo cannot send as one header token is refused: a static
// one (XAuth, Bearer) by NewClient, one from a BearerFunc or an
// Authenticator of the caller's when the request is made, before it reaches
// the transport — also a transport that would write any header as it is.
// The error never echoes the value.
func TestAuthHeaderValuesValidated(t *testing.T) {
	t.Parallel()
	newClient := func(p Provider, rt http.RoundTripper, opts ...Option) (*Client, error) {
		return NewClient(p, append([]Option{WithBaseURL("https://api.example.test/v1"),
			WithHTTPClient(&http.Client{Transport: rt}), WithMaxRetries(2)}, opts...)...)
	}
	check := func(t *testing.T, err error) {
		t.Helper()
		require.Error(t, err)
		for _, text := range []string{err.Error(), fmt.Sprintf("%+v", err), fmt.Sprintf("%#v", err)} {
			assert.NotContains(t, text, "s3cr3t", "the error echoes the value")
			assert.NotContains(t, text, "X-Evil")
		}
	}
	for _, tc := range badHeaderValues {
		bad := tc.value
		t.Run(tc.name, func(t *testing.T) {
			static := map[string]Authenticator{
				"XAuth id":    XAuth(bad, "token-ok"),
				"XAuth token": XAuth("MA_OK", bad),
				"Bearer":      Bearer(bad),
			}
			for kind, a := range static {
				rt := &recordingTransport{body: `{"items":[]}`}
				c, err := newClient(Vobiz, rt, WithAuth(a))
				check(t, err)
				assert.Nil(t, c, kind)
				assert.ErrorIs(t, err, ErrInvalidOption, kind)
				assert.Contains(t, err.Error(), "WithAuth", kind)
			}

			rt := &recordingTransport{body: `{"success":true,"data":{"id":"c1"}}`}
			c, err := newClient(VantaxAI, rt,
				WithAuth(BearerFunc(func(context.Context) (string, error) { return bad, nil })))
			require.NoError(t, err, "a token function is asked per request")
			_, err = c.Conversations.Get(testContext(t), "c1")
			check(t, err)
			var authErr *AuthError
			assert.ErrorAs(t, err, &authErr)
			_, err = drain(c.Messages.List(testContext(t), "c1", nil), 10)
			check(t, err)
			assert.ErrorAs(t, err, &authErr)
			assert.Zero(t, rt.requests.Load(), "nothing reached the transport")

			if !tc.field {
				return
			}
			for _, header := range []string{"X-Api-Key", "X-Signature"} {
				rt := &recordingTransport{body: `{"success":true,"data":{"id":"c1"}}`}
				c, err := newClient(VantaxAI, rt, WithAuth(headerAuth{header, bad}))
				require.NoError(t, err)
				_, err = c.Conversations.Get(testContext(t), "c1")
				check(t, err)
				assert.ErrorAs(t, err, &authErr)
				assert.Zero(t, rt.requests.Load(), "a custom Authenticator's header is checked too")
			}

			if strings.Trim(bad, " \t") != bad {
				return // WithUserAgent drops outer spaces and tabs
			}
			c, err = newClient(Vobiz, &recordingTransport{}, WithUserAgent(bad))
			check(t, err)
			assert.Nil(t, c)
			assert.ErrorIs(t, err, ErrInvalidOption)
			assert.Contains(t, err.Error(), "WithUserAgent")
		})
	}

	t.Run("a bad header name", func(t *testing.T) {
		rt := &recordingTransport{}
		c, err := newClient(VantaxAI, rt, WithAuth(headerAuth{"X-Evil\r\nHost", "v"}))
		require.NoError(t, err)
		_, err = c.Conversations.Get(testContext(t), "c1")
		var authErr *AuthError
		require.ErrorAs(t, err, &authErr)
		assert.NotContains(t, err.Error(), "X-Evil")
		assert.Zero(t, rt.requests.Load())
	})

	t.Run("good values pass", func(t *testing.T) {
		rt := &recordingTransport{body: `{"items":[]}`}
		c, err := newClient(Vobiz, rt, WithAuth(XAuth("MA_1x-_.~+/=", "eyJ.abc-_=")), WithUserAgent("acme/1.0 (ops@acme.test; +https://acme.test)\tx"))
		require.NoError(t, err)
		_, err = drain(c.Conversations.List(testContext(t), nil), 10)
		require.NoError(t, err)
		assert.Equal(t, int64(1), rt.requests.Load())
	})
}

// A token function that ignores its context cannot keep the caller: Get,
// All and Sync return with the context's error once it ends, nothing is
// sent with the token that arrives afterwards, and the goroutine that
// waited for the function ends when the function returns.
func TestAuthBearerFuncIgnoringContext(t *testing.T) {
	// Alone in a process of its own: the goroutines counted are this test's only.
	if !InOwnProcess(t) {
		return
	}
	ops := map[string]func(ctx context.Context, c *Client) error{
		"get": func(ctx context.Context, c *Client) error {
			_, err := c.Conversations.Get(ctx, "c1")
			return err
		},
		"all": func(ctx context.Context, c *Client) error {
			_, err := drain(c.Messages.List(ctx, "c1", nil), 10)
			return err
		},
		"sync": func(ctx context.Context, c *Client) error {
			for _, err := range c.Sync(ctx, nil) {
				if err != nil {
					return err
				}
			}
			return nil
		},
	}
	for name, op := range ops {
		for _, ending := range []string{"deadline", "cancel"} {
			t.Run(name+"/"+ending, func(t *testing.T) {
				ignore := goleak.IgnoreCurrent()
				release := make(chan struct{})
				called := make(chan struct{})
				returned := make(chan struct{})
				fn := func(context.Context) (string, error) { // ignores its context
					defer close(returned)
					close(called)
					<-release
					return "late-token", nil
				}
				rt := &recordingTransport{body: `{"success":true,"data":[],"pagination":{"has_more":false}}`}
				c, err := NewClient(VantaxAI, WithBaseURL("https://api.example.test/v1"),
					WithHTTPClient(&http.Client{Transport: rt}), WithAuth(BearerFunc(fn)))
				require.NoError(t, err)

				// The context ends once the call waits for the token
				// function: a cancel as soon as the function is called, a
				// deadline that a loaded machine may reach before the call
				// gets that far (then the same again with a longer one).
				var ctx context.Context
				var cancel context.CancelFunc
				want := context.DeadlineExceeded
				if ending == "cancel" {
					ctx, cancel = context.WithCancel(context.Background())
					go func() {
						select {
						case <-called:
							cancel()
						case <-ctx.Done():
						}
					}()
					want = context.Canceled
				}
				call := func(timeout time.Duration) error {
					if ending == "deadline" {
						ctx, cancel = context.WithTimeout(context.Background(), timeout)
					}
					done := make(chan error, 1)
					go func() { done <- op(ctx, c) }()
					select {
					case err := <-done:
						return err
					case <-time.After(10 * time.Second):
						close(release)
						t.Fatal("the call waited for the token function past its context")
						return nil
					}
				}
				timeout := 50 * time.Millisecond
				err = call(timeout)
				for i := 0; ending == "deadline" && !isClosed(called) && i < 3; i++ {
					cancel()
					timeout *= 4
					t.Logf("the deadline came before the token function was called; again with %v", timeout)
					err = call(timeout)
				}
				defer cancel()
				require.True(t, isClosed(called), "the token function was called: %v", err)
				require.Error(t, err)
				assert.ErrorIs(t, err, want)
				assert.NotContains(t, err.Error(), "late-token")

				close(release)
				select {
				case <-returned:
				case <-time.After(10 * time.Second):
					t.Fatal("the token function did not return after its release")
				}
				VerifyNoGoroutineLeft(t, ignore) // waits, bounded, for the waiting goroutine to end
				assert.Zero(t, rt.requests.Load(), "nothing is sent with a token that arrives late")
			})
		}
	}
}

// endingContext is a context whose end the test controls step by step: end
// makes Err report DeadlineExceeded before Done is closed, the moment in
// which a token function may return just as its caller's context ends.
type endingContext struct {
	context.Context
	done chan struct{}
	err  atomic.Value
}

func (c *endingContext) Done() <-chan struct{} { return c.done }
func (c *endingContext) end()                  { c.err.Store(context.DeadlineExceeded) }
func (c *endingContext) Err() error {
	if err, ok := c.err.Load().(error); ok {
		return err
	}
	return nil
}

// A token that the function returns as the context ends is not used: the
// context's end wins over a result that arrives with it.
func TestAuthBearerFuncTokenAtContextEnd(t *testing.T) {
	t.Parallel()
	ctx := &endingContext{Context: context.Background(), done: make(chan struct{})}
	defer close(ctx.done)
	a := BearerFunc(func(context.Context) (string, error) {
		ctx.end()
		return "late-token", nil
	})
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, "https://api.example.test/v1/conversations", nil)
	require.NoError(t, err)
	err = a.Authenticate(req)
	require.ErrorIs(t, err, context.DeadlineExceeded)
	assert.Empty(t, req.Header.Get("Authorization"), "the late token was set")
}

// isClosed reports whether ch is closed.
func isClosed(ch chan struct{}) bool {
	select {
	case <-ch:
		return true
	default:
		return false
	}
}
