package convotest_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/convokit/convo"
	"github.com/convokit/convo/convotest"
)

func faultsOf(reqs []convotest.Request) []convotest.FaultKind {
	out := make([]convotest.FaultKind, len(reqs))
	for i, r := range reqs {
		out[i] = r.Fault
	}
	return out
}

func TestConvotestScriptedServerErrorAndRateLimit(t *testing.T) {
	t.Parallel()
	eachProvider(t, func(t *testing.T, p convo.Provider, w wire) {
		srv := convotest.NewServer(p, convotest.WithFaults(
			convotest.Fault{Kind: convotest.FaultServerError, Nth: 2, Status: 503},
			convotest.Fault{Kind: convotest.FaultRateLimit, Nth: 4, RetryAfter: 1500 * time.Millisecond},
			convotest.Fault{Kind: convotest.FaultRateLimit, Nth: 5},
			convotest.Fault{Kind: convotest.FaultRateLimit, Nth: 6, NoRetryAfter: true},
			convotest.Fault{Kind: convotest.FaultServerError, Nth: 7},
		))
		defer srv.Close()
		h := demoAuth(p)
		want := []struct {
			status     int
			retryAfter string
		}{{200, ""}, {503, ""}, {200, ""}, {429, "2"}, {429, "0"}, {429, ""}, {500, ""}, {200, ""}}
		for i, step := range want {
			resp, body := rawGet(t, srv, "/conversations", h)
			require.Equal(t, step.status, resp.StatusCode, "request %d: %s", i+1, body)
			assert.Equal(t, step.retryAfter, resp.Header.Get("Retry-After"), "request %d", i+1)
			switch step.status {
			case 429:
				w.rateLimited(t, resp.Header, object(t, body))
			case 500, 503:
				w.serverError(t, resp.Header, object(t, body))
			}
			for _, hd := range w.headers {
				assert.NotEmpty(t, resp.Header.Get(hd), "request %d: %s", i+1, hd)
			}
		}
		R, S := convotest.FaultRateLimit, convotest.FaultServerError
		assert.Equal(t, []convotest.FaultKind{0, S, 0, R, R, R, S, 0}, faultsOf(srv.Requests()))
	})
}

func TestConvotestDropFault(t *testing.T) {
	t.Parallel()
	srv := convotest.New(t, convo.VantaxAI, convotest.WithFaults(convotest.Fault{Kind: convotest.FaultDrop, Nth: 2}))
	h := demoAuth(convo.VantaxAI)
	rawGet(t, srv, "/conversations", h)
	_, _, err := tryGet(srv, "/conversations", h)
	require.Error(t, err, "the connection is closed without an answer")
	assert.True(t, errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF), "%v", err)
	resp, _ := rawGet(t, srv, "/conversations", h)
	assert.Equal(t, http.StatusOK, resp.StatusCode)

	reqs := srv.Requests()
	require.Len(t, reqs, 3)
	assert.Equal(t, convotest.FaultDrop, reqs[1].Fault)
	assert.Equal(t, 0, reqs[1].Status)
}

func TestConvotestTruncateFault(t *testing.T) {
	t.Parallel()
	eachProvider(t, func(t *testing.T, p convo.Provider, w wire) {
		srv := convotest.New(t, p, convotest.WithFaults(convotest.Fault{Kind: convotest.FaultTruncate}))
		h := demoAuth(p)
		resp, body, err := tryGet(srv, "/conversations", h)
		require.ErrorIs(t, err, io.ErrUnexpectedEOF, "the body is cut off")
		require.NotNil(t, resp)
		assert.Equal(t, http.StatusOK, resp.StatusCode, "status and headers arrive")
		assert.Contains(t, resp.Header.Get("Content-Type"), "json")
		assert.Greater(t, resp.ContentLength, int64(len(body)))
		assert.NotEmpty(t, body, "part of the body arrives")

		_, full := rawGet(t, srv, "/conversations", h)
		assert.Equal(t, resp.ContentLength, int64(len(full)), "the full answer has the announced length")
		assert.Equal(t, string(full[:len(body)]), string(body), "the cut body is the start of the real one")
		assert.Equal(t, []convotest.FaultKind{convotest.FaultTruncate, 0}, faultsOf(srv.Requests()))
	})
}

func TestConvotestFaultPathAndTimes(t *testing.T) {
	t.Parallel()
	srv := convotest.NewServer(convo.AgentMessage, convotest.WithFaults(
		convotest.Fault{Kind: convotest.FaultServerError, Path: "/conversations/*/messages", Nth: 2, Times: 2},
		convotest.Fault{Kind: convotest.FaultRateLimit, Path: "/conversations", Nth: 3, Times: -1},
	))
	defer srv.Close()
	h := demoAuth(convo.AgentMessage)
	msgs := "/conversations/" + url.PathEscape(firstConversation(t, srv)) + "/messages"
	seq := []struct {
		path   string
		status int
	}{
		{msgs, 200}, {"/conversations", 200}, {msgs, 500}, {msgs, 500}, {"/conversations", 200},
		{msgs, 200}, {"/conversations", 429}, {"/conversations", 429}, {msgs, 200}, {"/conversations", 429},
	}
	for i, s := range seq {
		resp, body := rawGet(t, srv, s.path, h)
		assert.Equal(t, s.status, resp.StatusCode, "request %d %s: %s", i+1, s.path, body)
	}
}

func TestConvotestFaultOrderWhenTwoMatch(t *testing.T) {
	t.Parallel()
	srv := convotest.NewServer(convo.Rentalot, convotest.WithFaults(
		convotest.Fault{Kind: convotest.FaultServerError},
		convotest.Fault{Kind: convotest.FaultRateLimit},
	))
	defer srv.Close()
	var statuses []int
	for range 3 {
		resp, _ := rawGet(t, srv, "/conversations", demoAuth(convo.Rentalot))
		statuses = append(statuses, resp.StatusCode)
	}
	assert.Equal(t, []int{500, 429, 200}, statuses, "the first listed wins; the other fires next")
}

func TestConvotestFaultRateIsDeterministic(t *testing.T) {
	t.Parallel()
	run := func(seed int64, rate float64, kinds ...convotest.FaultKind) []convotest.FaultKind {
		srv := convotest.New(t, convo.VantaxAI, convotest.WithFaultRate(rate, seed, kinds...))
		for range 40 {
			tryGet(srv, "/conversations?limit=1", demoAuth(convo.VantaxAI)) // faults are the point
		}
		reqs := srv.Requests()
		require.Len(t, reqs, 40)
		return faultsOf(reqs)
	}
	a, b := run(42, 0.5), run(42, 0.5)
	assert.Equal(t, a, b, "same seed, same faults")
	assert.NotEqual(t, a, run(43, 0.5), "another seed, other faults")
	kinds := map[convotest.FaultKind]int{}
	for _, k := range a {
		kinds[k]++
	}
	assert.Greater(t, kinds[0], 5, "some requests pass")
	assert.Len(t, kinds, 5, "all four kinds occur, and clean answers")

	for _, k := range run(1, 0) {
		assert.Zero(t, k)
	}
	for _, k := range run(1, 1, convotest.FaultServerError, convotest.FaultRateLimit) {
		assert.Contains(t, []convotest.FaultKind{convotest.FaultServerError, convotest.FaultRateLimit}, k)
	}
}

func TestConvotestRandomFaultsAnswerAsDocumented(t *testing.T) {
	t.Parallel()
	srv := convotest.New(t, convo.Rentalot, convotest.WithFaultRate(1, 3, convotest.FaultRateLimit, convotest.FaultServerError))
	for range 20 {
		resp, body := rawGet(t, srv, "/conversations", demoAuth(convo.Rentalot))
		switch resp.StatusCode {
		case 429:
			assert.Equal(t, "0", resp.Header.Get("Retry-After"))
		case 500, 502, 503, 504:
			assert.Equal(t, "internal_error", at(t, object(t, body), "error", "code"))
		default:
			t.Errorf("status %d", resp.StatusCode)
		}
	}
}

func TestConvotestFaultKindString(t *testing.T) {
	t.Parallel()
	for k, want := range map[convotest.FaultKind]string{
		0: "none", convotest.FaultRateLimit: "rate-limit", convotest.FaultServerError: "server-error",
		convotest.FaultDrop: "drop", convotest.FaultTruncate: "truncate", 9: "FaultKind(9)",
	} {
		assert.Equal(t, want, k.String(), strconv.Itoa(int(k)))
	}
}

// TestConvotestSDKRetriesThroughFaults drives the SDK through every fault
// kind: each is retried and the list comes out whole.
func TestConvotestSDKRetriesThroughFaults(t *testing.T) {
	t.Parallel()
	for _, kind := range []convotest.FaultKind{convotest.FaultRateLimit, convotest.FaultServerError, convotest.FaultDrop, convotest.FaultTruncate} {
		t.Run(kind.String(), func(t *testing.T) {
			srv := convotest.New(t, convo.Rentalot, convotest.WithFaults(convotest.Fault{Kind: kind, Nth: 2, Times: 2}))
			c := mustClient(t, srv, convo.WithRetryWait(time.Millisecond, 5*time.Millisecond))
			got := collect(t, c.Conversations.List(context.Background(), &convo.ConversationListParams{PageSize: 10}).All())
			assert.Equal(t, ids(convs(srv.Dataset())), ids(got))
			assert.Equal(t, 2, countFaults(srv.Requests(), kind))
		})
	}
}

func countFaults(reqs []convotest.Request, kind convotest.FaultKind) int {
	n := 0
	for _, r := range reqs {
		if r.Fault == kind {
			n++
		}
	}
	return n
}

// TestConvotestFaultStatus checks that a scripted status is sent as that
// status, in the provider's documented error envelope with its code, and
// reaches the SDK as an *APIError of the right class.
func TestConvotestFaultStatus(t *testing.T) {
	t.Parallel()
	sentinel := map[int]error{
		400: convo.ErrValidation, 401: convo.ErrUnauthorized, 402: convo.ErrPaymentRequired, 403: convo.ErrForbidden,
		404: convo.ErrNotFound, 422: convo.ErrValidation, 429: convo.ErrRateLimited, 503: convo.ErrServer,
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
				w := wireOf(t, p)
				want, ok := w.statusCodes[status]
				switch {
				case ok && w.codeInMessage:
					assert.Equal(t, want, apiErr.Message)
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

// A scripted 500, as FaultServerError or as FaultStatus, is answered with
// the provider's own code for a server error, as the SDK reads it.
func TestConvotestScripted500Code(t *testing.T) {
	t.Parallel()
	for _, p := range convo.Providers() {
		for _, kind := range []convotest.FaultKind{convotest.FaultServerError, convotest.FaultStatus} {
			t.Run(p.Name()+"/"+kind.String(), func(t *testing.T) {
				t.Parallel()
				srv := convotest.New(t, p, convotest.WithFaults(convotest.Fault{Kind: kind, Status: 500, Times: 1}))
				c := mustClient(t, srv, convo.WithMaxRetries(0))
				var err error
				for _, err = range c.Conversations.List(context.Background(), nil).Pages() {
					break
				}
				var ae *convo.APIError
				require.True(t, errors.As(err, &ae), "%v", err)
				assert.Equal(t, 500, ae.StatusCode)
				assert.Equal(t, wireOf(t, p).code500, ae.Code)
			})
		}
	}
}
