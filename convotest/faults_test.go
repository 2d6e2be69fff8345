package convotest_test

import (
	"context"
	"errors"
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
	tests := []struct {
		p         convo.Provider
		code5xx   func(*testing.T, map[string]any)
		code429   func(*testing.T, map[string]any)
		extraHdrs []string
	}{
		{convo.Vobiz, vobizCode("INTERNAL_ERROR", ""), vobizCode("RATE_LIMITED", ""), nil},
		{convo.VantaxAI, vantaxErr(""), vantaxErr(""), nil},
		{convo.Rentalot, rentalotErr("internal_error", ""), rentalotErr("rate_limit_exceeded", ""), []string{"X-RateLimit-Limit"}},
		{convo.AgentMessage, agentErr("INTERNAL_ERROR", ""), agentErr("RATE_LIMITED", ""), []string{"X-Request-Id"}},
	}
	for _, tt := range tests {
		t.Run(tt.p.Name(), func(t *testing.T) {
			srv := convotest.NewServer(tt.p, convotest.WithFaults(
				convotest.Fault{Kind: convotest.FaultServerError, Nth: 2, Status: 503},
				convotest.Fault{Kind: convotest.FaultRateLimit, Nth: 4, RetryAfter: 1500 * time.Millisecond},
				convotest.Fault{Kind: convotest.FaultRateLimit, Nth: 5},
				convotest.Fault{Kind: convotest.FaultRateLimit, Nth: 6, NoRetryAfter: true},
				convotest.Fault{Kind: convotest.FaultServerError, Nth: 7},
			))
			defer srv.Close()
			h := demoAuth(tt.p)
			want := []struct {
				status     int
				retryAfter string
			}{{200, ""}, {503, ""}, {200, ""}, {429, "2"}, {429, "0"}, {429, ""}, {500, ""}, {200, ""}}
			for i, w := range want {
				resp, body := rawGet(t, srv, "/conversations", h)
				require.Equal(t, w.status, resp.StatusCode, "request %d: %s", i+1, body)
				assert.Equal(t, w.retryAfter, resp.Header.Get("Retry-After"), "request %d", i+1)
				switch w.status {
				case 429:
					tt.code429(t, object(t, body))
				case 500, 503:
					tt.code5xx(t, object(t, body))
				}
				for _, hd := range tt.extraHdrs {
					assert.NotEmpty(t, resp.Header.Get(hd), "request %d: %s", i+1, hd)
				}
			}
			R, S := convotest.FaultRateLimit, convotest.FaultServerError
			assert.Equal(t, []convotest.FaultKind{0, S, 0, R, R, R, S, 0}, faultsOf(srv.Requests()))
		})
	}
}

func TestConvotestDropFault(t *testing.T) {
	t.Parallel()
	srv := convotest.NewServer(convo.VantaxAI, convotest.WithFaults(convotest.Fault{Kind: convotest.FaultDrop, Nth: 2}))
	defer srv.Close()
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
	for _, p := range convo.Providers() {
		t.Run(p.Name(), func(t *testing.T) {
			srv := convotest.NewServer(p, convotest.WithFaults(convotest.Fault{Kind: convotest.FaultTruncate}))
			defer srv.Close()
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
		srv := convotest.NewServer(convo.VantaxAI, convotest.WithFaultRate(rate, seed, kinds...))
		defer srv.Close()
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
	srv := convotest.NewServer(convo.Rentalot, convotest.WithFaultRate(1, 3, convotest.FaultRateLimit, convotest.FaultServerError))
	defer srv.Close()
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

func TestConvotestLatency(t *testing.T) {
	t.Parallel()
	const d = 30 * time.Millisecond
	srv := convotest.NewServer(convo.Vobiz, convotest.WithLatency(d))
	defer srv.Close()
	start := time.Now()
	resp, _ := rawGet(t, srv, "/conversations", demoAuth(convo.Vobiz))
	assert.Equal(t, http.StatusOK, resp.StatusCode)
	assert.GreaterOrEqual(t, time.Since(start), d, "answered no earlier than the latency")

	slow := convotest.NewServer(convo.Vobiz, convotest.WithLatency(time.Minute))
	defer slow.Close()
	c := mustClient(t, slow, convo.WithMaxRetries(0))
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Millisecond)
	defer cancel()
	var err error
	for _, e := range c.Conversations.List(ctx, nil).All() {
		err = e
	}
	assert.ErrorIs(t, err, context.DeadlineExceeded, "a caller's deadline ends the wait")
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
			srv := convotest.NewServer(convo.Rentalot, convotest.WithFaults(convotest.Fault{Kind: kind, Nth: 2, Times: 2}))
			defer srv.Close()
			c := mustClient(t, srv, convo.WithRetryWait(time.Millisecond, 5*time.Millisecond))
			got := collect(t, c.Conversations.List(context.Background(), &convo.ConversationListParams{PageSize: 10}).All())
			assert.Equal(t, ids(convs(srv.Dataset())), ids(got))
			assert.Equal(t, 2, countFaults(srv.Requests(), kind))
		})
	}
}

func convs(d *convotest.Dataset) []convo.Conversation {
	out := make([]convo.Conversation, len(d.Conversations))
	for i, c := range d.Conversations {
		out[i] = c.Conversation
	}
	return out
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
