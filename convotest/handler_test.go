package convotest_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/convokit/convo"
	"github.com/convokit/convo/convotest"
)

// TestConvotestFaultStatus checks that a scripted status is sent as that
// status, in the provider's documented error envelope with its code, and
// reaches the SDK as an *APIError of the right class.
func TestConvotestFaultStatus(t *testing.T) {
	t.Parallel()
	sentinel := map[int]error{
		400: convo.ErrValidation, 401: convo.ErrUnauthorized, 402: convo.ErrPaymentRequired, 403: convo.ErrForbidden,
		404: convo.ErrNotFound, 422: convo.ErrValidation, 429: convo.ErrRateLimited, 503: convo.ErrServer,
	}
	// The code each provider documents (VantaxAI has no code field: its
	// message is the code).
	code := map[string]map[int]string{
		"vobiz":        {402: "INSUFFICIENT_BALANCE", 403: "FORBIDDEN", 404: "NOT_FOUND", 409: "CONFLICT", 422: "VALIDATION_ERROR", 503: "INTERNAL_ERROR"},
		"vantaxai":     {402: "subscription_required", 403: "forbidden_scope", 404: "not_found", 409: "conflict", 422: "validation_failed", 503: "internal_error"},
		"rentalot":     {402: "payment_required", 403: "forbidden", 409: "conflict", 422: "validation_error", 503: "internal_error"},
		"agentmessage": {402: "PAYMENT_REQUIRED", 403: "FORBIDDEN", 404: "NOT_FOUND", 409: "CONFLICT", 422: "VALIDATION_FAILED", 503: "INTERNAL_ERROR"},
	}
	for _, p := range convo.Providers() {
		for _, status := range []int{400, 401, 402, 403, 404, 409, 418, 422, 429, 503} {
			t.Run(fmt.Sprint(p.Name(), "/", status), func(t *testing.T) {
				srv := convotest.New(t, p, convotest.WithFaults(convotest.Fault{Kind: convotest.FaultStatus, Status: status, Path: "/conversations"}))
				c, err := srv.Client(convo.WithMaxRetries(0))
				require.NoError(t, err)
				var got error
				for _, err := range c.Conversations.List(context.Background(), nil).All() {
					got = err
					break
				}
				var apiErr *convo.APIError
				require.True(t, errors.As(got, &apiErr), "an *APIError: %v", got)
				assert.Equal(t, status, apiErr.StatusCode)
				if s, ok := sentinel[status]; ok {
					assert.ErrorIs(t, got, s)
				}
				want, ok := code[p.Name()][status]
				switch {
				case p == convo.VantaxAI && ok:
					assert.Equal(t, want, apiErr.Message)
				case p == convo.Rentalot && status == 404:
					assert.Equal(t, "application/problem+json", contentType(t, srv, status))
					assert.Contains(t, apiErr.Type, "not-found")
				case ok:
					assert.Equal(t, want, apiErr.Code)
				default:
					assert.NotEmpty(t, apiErr.Code+apiErr.Message, "some code or message")
				}
				reqs := srv.Requests()
				require.Len(t, reqs, 1)
				assert.Equal(t, status, reqs[0].Status)
				assert.Equal(t, convotest.FaultStatus, reqs[0].Fault)

				// The next request gets the real answer.
				n := 0
				for _, err := range c.Conversations.List(context.Background(), nil).All() {
					require.NoError(t, err)
					n++
				}
				assert.Positive(t, n)
			})
		}
	}
}

// contentType is the Content-Type of a fresh server's scripted status.
func contentType(t *testing.T, srv *convotest.Server, status int) string {
	t.Helper()
	s := convotest.New(t, srv.Provider(), convotest.WithFaults(convotest.Fault{Kind: convotest.FaultStatus, Status: status}))
	resp, _ := rawGet(t, s, "/conversations", demoAuth(srv.Provider()))
	require.Equal(t, status, resp.StatusCode)
	return resp.Header.Get("Content-Type")
}

func TestConvotestFaultStatusRetryAfter(t *testing.T) {
	t.Parallel()
	srv := convotest.New(t, convo.AgentMessage, convotest.WithFaults(convotest.Fault{Kind: convotest.FaultStatus, Status: 503, RetryAfter: 2 * time.Second}))
	resp, body := rawGet(t, srv, "/conversations", demoAuth(convo.AgentMessage))
	assert.Equal(t, 503, resp.StatusCode)
	assert.Equal(t, "2", resp.Header.Get("Retry-After"))
	assert.Equal(t, false, at(t, object(t, body), "success"))
}

func TestConvotestFaultServerErrorAnyStatus(t *testing.T) {
	t.Parallel()
	srv := convotest.New(t, convo.AgentMessage, convotest.WithFaults(convotest.Fault{Kind: convotest.FaultServerError, Status: 403}))
	resp, body := rawGet(t, srv, "/conversations", demoAuth(convo.AgentMessage))
	assert.Equal(t, 403, resp.StatusCode, "the status asked for, not a 500")
	assert.Equal(t, "FORBIDDEN", at(t, object(t, body), "error", "code"))
}

func TestConvotestFaultMisuse(t *testing.T) {
	t.Parallel()
	for name, f := range map[string]convotest.Fault{
		"server error with a 302": {Kind: convotest.FaultServerError, Status: 302},
		"status without one":      {Kind: convotest.FaultStatus},
		"status 200":              {Kind: convotest.FaultStatus, Status: 200},
		"unknown kind":            {Kind: 42},
	} {
		assert.Panics(t, func() { convotest.NewServer(convo.Vobiz, convotest.WithFaults(f)).Close() }, name)
	}
}

// TestConvotestNewCleanup checks that New closes the server when the test
// ends.
func TestConvotestNewCleanup(t *testing.T) {
	t.Parallel()
	var url string
	t.Run("inner", func(t *testing.T) {
		srv := convotest.New(t, convo.Rentalot)
		url = srv.URL()
		resp, _ := rawGet(t, srv, "/conversations", demoAuth(convo.Rentalot))
		assert.Equal(t, http.StatusOK, resp.StatusCode)
	})
	_, err := rawClient.Get(url + "/conversations")
	assert.Error(t, err, "closed when the subtest ended")
}

// New takes what users pass it: a *testing.T, a *testing.B, a *testing.F
// or a testing.TB, and the server of one given as a testing.TB is closed
// when that test ends too.
func TestConvotestNewTakesTestingTB(t *testing.T) {
	t.Parallel()
	_ = func(b *testing.B, f *testing.F) {
		convotest.New(b, convo.Vobiz)
		convotest.New(f, convo.Vobiz)
	}
	var url string
	t.Run("inner", func(t *testing.T) {
		var tb testing.TB = t
		url = convotest.New(tb, convo.Rentalot).URL()
	})
	_, err := rawClient.Get(url + "/conversations")
	assert.Error(t, err, "closed when the subtest ended")
}

func TestConvotestWithHandler(t *testing.T) {
	t.Parallel()
	var calls atomic.Int32
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		calls.Add(1)
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusOK)
		fmt.Fprintf(w, `{"data":[{"id":"m1","conversationId":%q,"direction":"inbound","content":"from the handler %s"}],"pagination":{"page":1,"limit":20}}`,
			"special", r.URL.Query().Get("page"))
	})
	srv := convotest.New(t, convo.Rentalot,
		convotest.WithHandler("/conversations/special/messages", h),
		convotest.WithFaults(convotest.Fault{Kind: convotest.FaultStatus, Status: 503, Path: "/conversations/special/messages", Nth: 2}))
	c, err := srv.Client(convo.WithMaxRetries(0))
	require.NoError(t, err)
	var bodies []string
	for m, err := range c.Messages.List(context.Background(), "special", nil).All() {
		require.NoError(t, err)
		bodies = append(bodies, m.Body)
	}
	assert.Equal(t, []string{"from the handler 1"}, bodies)
	assert.EqualValues(t, 1, calls.Load())

	// Other paths keep the fake's own answers.
	n := 0
	for _, err := range c.Conversations.List(context.Background(), nil).All() {
		require.NoError(t, err)
		n++
	}
	assert.Equal(t, len(srv.Dataset().Conversations), n)

	// A fault that fires answers instead of the handler.
	var got error
	for _, err := range c.Messages.List(context.Background(), "special", nil).All() {
		got = err
	}
	assert.ErrorIs(t, got, convo.ErrServer)
	assert.EqualValues(t, 1, calls.Load())

	reqs := srv.Requests()
	require.NotEmpty(t, reqs)
	assert.Equal(t, "/api/v1/conversations/special/messages", reqs[0].Path)
	assert.Equal(t, http.StatusOK, reqs[0].Status, "the handler's status is logged")

	assert.Panics(t, func() { convotest.NewServer(convo.Rentalot, convotest.WithHandler("[", h)) })
	assert.Panics(t, func() { convotest.NewServer(convo.Rentalot, convotest.WithHandler("/x", nil)) })
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
