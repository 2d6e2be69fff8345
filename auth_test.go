package convo

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestAuthXAuthHeaders(t *testing.T) {
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
	srv := newRawServer(t, func(w http.ResponseWriter, r *http.Request) {
		testHeader(t, r, "Authorization", "")
		writeJSON(w, http.StatusOK, []byte(`{"data":{"id":"r1"}}`))
	})
	c, err := NewClient(Rentalot, WithBaseURL(srv.URL+"/api/v1"))
	require.NoError(t, err)
	_, err = c.Conversations.Get(testContext(t), "r1")
	require.NoError(t, err)
	assert.Equal(t, 1, srv.Requests())
}

// TestAuthBearerFuncPerAttempt checks the token function is asked once per
// attempt, retries included, and that each attempt carries the token it got.
func TestAuthBearerFuncPerAttempt(t *testing.T) {
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
	tests := []struct {
		name string
		auth Authenticator
	}{
		{"xauth empty token", XAuth("MA_1", "")},
		{"xauth empty id", XAuth("", "tok")},
		{"bearer empty", Bearer("")},
		{"bearer line break", Bearer("tok\r\nX-Evil: 1")},
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

// TestAuthNotInErrorsOrFormatting checks credentials appear neither in the
// errors of a failing call nor in any formatting of the client or the
// authenticators.
func TestAuthNotInErrorsOrFormatting(t *testing.T) {
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
