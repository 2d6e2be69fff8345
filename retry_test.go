package convo_test

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"gopkg.in/h2non/gock.v1"

	"github.com/convokit/convo"
	"github.com/convokit/convo/convotest"
)

// Retry behaviour, all of it: which outcomes are retried, how many times,
// after what wait (the backoff, a Retry-After), and what the caller gets
// when the retries run out. The tests run on servers and transports that
// fail in exactly one way (the kit of the package's own tests, lent by
// export_test.go), on the retry policy's pure functions, on convotest's
// lists of every provider and its faults, behind the hostile kit's broken
// answers (hostile_test.go), and once on gock, whose transport the retry
// layer must sit above.

func TestRetryRetriedStatuses(t *testing.T) {
	t.Parallel()
	testStatusAttempts(t, []int{429, 500, 502, 503, 504}, 2, 3)
}

func TestRetryNotRetriedStatuses(t *testing.T) {
	t.Parallel()
	testStatusAttempts(t, []int{400, 401, 403, 404, 409, 422}, 3, 1)
}

// testStatusAttempts answers every attempt with each of statuses in turn,
// and checks that a client allowed maxRetries makes attempts attempts and
// returns the typed error of the last response, not the retry layer's own.
func testStatusAttempts(t *testing.T, statuses []int, maxRetries, attempts int) {
	for _, status := range statuses {
		t.Run(fmt.Sprint(status), func(t *testing.T) {
			got, err := failingList(t, convo.VantaxAI, func(n int, w http.ResponseWriter) { convo.ErrorBodyForTest(w, status, n) }, convo.WithMaxRetries(maxRetries))
			assert.Equal(t, attempts, got, "1 + MaxRetries attempts, or 1 where not retried")
			var apiErr *convo.APIError
			require.True(t, errors.As(err, &apiErr), "the typed error of the last response, got %v", err)
			assert.Equal(t, status, apiErr.StatusCode)
			assert.Equal(t, fmt.Sprintf("failure on attempt %d", attempts), apiErr.Message, "decoded from the last response")
			assert.NotContains(t, err.Error(), "giving up")
		})
	}
}

// failingList lists p's conversations from a scripted server that answers
// every attempt with fail, and returns how many attempts reached it and the
// error the list ends with.
func failingList(t *testing.T, p convo.Provider, fail func(n int, w http.ResponseWriter), opts ...convo.Option) (attempts int, err error) {
	t.Helper()
	c, srv := convo.ScriptedServerForTest(t, p, func(n int, w http.ResponseWriter, r *http.Request) { fail(n, w) }, opts...)
	_, err = convo.FirstPageForTest(c.Conversations.List(convo.ContextForTest(t), nil))
	return srv.Requests(), err
}

// onlyConversation lists c's conversations to the end and requires that
// they are one, which it returns.
func onlyConversation(t *testing.T, c *convo.Client) convo.Conversation {
	t.Helper()
	items, err := convo.DrainForTest(c.Conversations.List(convo.ContextForTest(t), nil), 10)
	require.NoError(t, err)
	require.Len(t, items, 1)
	return items[0]
}

func TestRetryMaxRetriesZero(t *testing.T) {
	t.Parallel()
	attempts, err := failingList(t, convo.VantaxAI, func(n int, w http.ResponseWriter) { convo.ErrorBodyForTest(w, http.StatusServiceUnavailable, n) }, convo.WithMaxRetries(0))
	assert.Equal(t, 1, attempts)
	assert.ErrorIs(t, err, convo.ErrServer)
}

func TestRetryDefaultCount(t *testing.T) {
	t.Parallel()
	attempts, err := failingList(t, convo.VantaxAI, func(n int, w http.ResponseWriter) { convo.ErrorBodyForTest(w, http.StatusBadGateway, n) })
	assert.Equal(t, 1+convo.DefaultMaxRetries, attempts)
	assert.ErrorIs(t, err, convo.ErrServer)
}

func TestRetrySuccessAfterFailures(t *testing.T) {
	t.Parallel()
	c, srv := convo.ScriptedServerForTest(t, convo.VantaxAI, func(n int, w http.ResponseWriter, r *http.Request) {
		switch n {
		case 1:
			convo.ErrorBodyForTest(w, http.StatusServiceUnavailable, n)
		case 2:
			convo.ErrorBodyForTest(w, http.StatusTooManyRequests, n)
		default:
			convo.WriteJSONForTest(w, http.StatusOK, []byte(convo.VantaxConvBodyForTest))
		}
	}, convo.WithMaxRetries(3))
	assert.Equal(t, "conv_ok", onlyConversation(t, c).ID)
	assert.Equal(t, 3, srv.Requests())
}

func TestRetryConnectionErrors(t *testing.T) {
	t.Parallel()
	t.Run("exhausted", func(t *testing.T) {
		attempts, err := failingList(t, convo.VantaxAI, func(_ int, w http.ResponseWriter) { hwHangUp(w, nil) }, convo.WithMaxRetries(2))
		require.Error(t, err)
		assert.Equal(t, 3, attempts)
		var apiErr *convo.APIError
		assert.False(t, errors.As(err, &apiErr), "no response, no APIError")
		assert.Contains(t, err.Error(), "vantaxai")
	})
	t.Run("recovers", func(t *testing.T) {
		c, srv := convo.ScriptedServerForTest(t, convo.VantaxAI, convo.FailFirstForTest(2, func(w http.ResponseWriter) { hwHangUp(w, nil) }, convo.VantaxConvBodyForTest), convo.WithMaxRetries(2))
		onlyConversation(t, c)
		assert.Equal(t, 3, srv.Requests())
	})
}

func TestRetryCutOffBody(t *testing.T) {
	t.Parallel()
	t.Run("recovers", func(t *testing.T) {
		c, srv := convo.ScriptedServerForTest(t, convo.VantaxAI, convo.FailFirstForTest(2, func(w http.ResponseWriter) { hwTruncate(w, []byte(convo.VantaxConvBodyForTest)) }, convo.VantaxConvBodyForTest), convo.WithMaxRetries(3))
		assert.Equal(t, "open", onlyConversation(t, c).Status)
		assert.Equal(t, 3, srv.Requests())
	})
	t.Run("exhausted", func(t *testing.T) {
		attempts, err := failingList(t, convo.VantaxAI, func(_ int, w http.ResponseWriter) { hwTruncate(w, []byte(convo.VantaxConvBodyForTest)) }, convo.WithMaxRetries(1))
		require.Error(t, err)
		assert.ErrorIs(t, err, io.ErrUnexpectedEOF)
		assert.Equal(t, 2, attempts)
	})
	t.Run("get", func(t *testing.T) {
		c, srv := convo.ScriptedServerForTest(t, convo.Rentalot, convo.FailFirstForTest(1, func(w http.ResponseWriter) { hwTruncate(w, []byte(`{"data":{"id":"r1"}}`)) }, `{"data":{"id":"r1"}}`))
		conv, err := c.Conversations.Get(convo.ContextForTest(t), "r1")
		require.NoError(t, err)
		assert.Equal(t, "r1", conv.ID)
		assert.Equal(t, 2, srv.Requests())
	})
}

func TestRetryAfterSeconds(t *testing.T) {
	t.Parallel()
	logger, logs := convo.NewTestLogger()
	c, srv := convo.ScriptedServerForTest(t, convo.AgentMessage, convo.FailFirstForTest(1, func(w http.ResponseWriter) {
		w.Header().Set("Retry-After", "1")
		convo.WriteJSONForTest(w, http.StatusTooManyRequests, []byte(`{"success":false,"error":{"code":"RATE_LIMITED","message":"slow down"}}`))
	}, `{"success":true,"data":[{"id":"a"}],"meta":{"next_cursor":null}}`), convo.WithRetryWait(time.Millisecond, 5*time.Second), convo.WithLogger(logger))

	start := time.Now()
	items, err := convo.DrainForTest(c.Conversations.List(convo.ContextForTest(t), nil), 10)
	elapsed := time.Since(start)
	require.NoError(t, err)
	assert.Len(t, items, 1)
	assert.Equal(t, 2, srv.Requests())
	assert.GreaterOrEqual(t, elapsed, 900*time.Millisecond, "the Retry-After wait happened")

	recs := convo.ParseLogForTest(t, logs)
	require.Len(t, recs, 2)
	require.NotNil(t, recs[0].Wait)
	assert.Equal(t, time.Second, time.Duration(*recs[0].Wait), "the wait is the Retry-After, not the backoff")
	assert.Equal(t, 429, recs[0].Status)
}

func TestRetryAfterHTTPDate(t *testing.T) {
	t.Parallel()
	logger, logs := convo.NewTestLogger()
	var date, retried time.Time // what the server sent, at its one-second resolution; when the retry came
	c, srv := convo.ScriptedServerForTest(t, convo.Rentalot, func(n int, w http.ResponseWriter, r *http.Request) {
		if n == 2 {
			retried = time.Now()
		}
		if n == 1 {
			date = time.Now().Add(2 * time.Second).Truncate(time.Second)
			w.Header().Set("Retry-After", date.UTC().Format(http.TimeFormat))
			convo.WriteJSONForTest(w, http.StatusServiceUnavailable, []byte(`{"error":{"code":"maintenance","message":"back soon"}}`))
			return
		}
		convo.WriteJSONForTest(w, http.StatusOK, []byte(`{"data":{"id":"r1"}}`))
	}, convo.WithRetryWait(time.Millisecond, 5*time.Second), convo.WithLogger(logger))

	start := time.Now()
	_, err := c.Conversations.Get(convo.ContextForTest(t), "r1")
	elapsed := time.Since(start)
	require.NoError(t, err)
	assert.Equal(t, 2, srv.Requests())

	recs := convo.ParseLogForTest(t, logs)
	require.Len(t, recs, 2)
	require.NotNil(t, recs[0].Wait)
	wait := time.Duration(*recs[0].Wait)
	// The wait is the date minus the moment the client read it, after the
	// call started: so at most date-start, and the retry arrives no earlier
	// than the date (which is at least 1s ahead, far from the 1ms backoff).
	// Neither bound depends on how slow the machine is.
	assert.LessOrEqual(t, wait, date.Sub(start), "the wait follows the date")
	assert.False(t, retried.Before(date.Add(-time.Millisecond)), "the retry waited for the date (%v early)", date.Sub(retried))
	assert.GreaterOrEqual(t, elapsed, wait, "the wait happened")
}

func TestRetryAfterLongerThanMaxWait(t *testing.T) {
	t.Parallel()
	for _, header := range []string{"60", time.Now().Add(time.Hour).UTC().Format(http.TimeFormat)} {
		t.Run(header, func(t *testing.T) {
			c, srv := convo.ScriptedServerForTest(t, convo.AgentMessage, func(n int, w http.ResponseWriter, r *http.Request) {
				w.Header().Set("Retry-After", header)
				convo.WriteJSONForTest(w, http.StatusTooManyRequests, []byte(`{"success":false,"error":{"code":"RATE_LIMITED","message":"slow down"}}`))
			}, convo.WithMaxRetries(3), convo.WithRetryWait(time.Millisecond, 2*time.Second))

			start := time.Now()
			_, err := convo.FirstPageForTest(c.Conversations.List(convo.ContextForTest(t), nil))
			elapsed := time.Since(start)
			assert.Less(t, elapsed, time.Second, "returns at once")
			assert.Equal(t, 1, srv.Requests(), "one attempt")
			var apiErr *convo.APIError
			require.True(t, errors.As(err, &apiErr), "%v", err)
			assert.Equal(t, http.StatusTooManyRequests, apiErr.StatusCode)
			assert.Greater(t, apiErr.RetryAfter, 59*time.Second, "RetryAfter set for the caller")
			assert.LessOrEqual(t, apiErr.RetryAfter, time.Hour)
			assert.ErrorIs(t, err, convo.ErrRateLimited)
			assert.Equal(t, "RATE_LIMITED", apiErr.Code)
		})
	}
}

func TestRetryContextCancelledDuringBackoff(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithCancel(convo.ContextForTest(t))
	defer cancel()
	c, srv := convo.ScriptedServerForTest(t, convo.VantaxAI, func(n int, w http.ResponseWriter, r *http.Request) {
		convo.ErrorBodyForTest(w, http.StatusServiceUnavailable, n)
		time.AfterFunc(50*time.Millisecond, cancel) // during the wait that follows
	}, convo.WithRetryWait(10*time.Second, 10*time.Second))

	start := time.Now()
	_, err := convo.FirstPageForTest(c.Conversations.List(ctx, nil))
	elapsed := time.Since(start)
	require.Error(t, err)
	assert.ErrorIs(t, err, context.Canceled)
	assert.Less(t, elapsed, 3*time.Second, "returns promptly, not after the 10s backoff")
	assert.Equal(t, 1, srv.Requests())
}

func TestRetryContextCancelledBeforeCall(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	c, srv := convo.ScriptedServerForTest(t, convo.Rentalot, func(n int, w http.ResponseWriter, r *http.Request) {
		convo.WriteJSONForTest(w, http.StatusOK, []byte(`{"data":{"id":"r1"}}`))
	})
	_, err := c.Conversations.Get(ctx, "r1")
	assert.ErrorIs(t, err, context.Canceled)
	_, err = convo.FirstPageForTest(c.Messages.List(ctx, "r1", nil))
	assert.ErrorIs(t, err, context.Canceled)
	assert.Zero(t, srv.Requests())
}

// cutReader yields part of a body, then fails as a dropped connection does.
type cutReader struct{ r io.Reader }

func (c *cutReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	if err == io.EOF {
		return n, io.ErrUnexpectedEOF
	}
	return n, err
}

func TestRetryDecisionsThroughFakeTransport(t *testing.T) {
	t.Parallel()
	status := func(code int, header ...string) func(int, *http.Request) (*http.Response, error) {
		return func(n int, req *http.Request) (*http.Response, error) {
			return convo.FakeResponseForTest(req, code, strings.NewReader(fmt.Sprintf(`{"success":false,"message":"attempt %d"}`, n)), header...), nil
		}
	}
	cases := []struct {
		name     string
		script   func(int, *http.Request) (*http.Response, error)
		attempts int
		check    func(t *testing.T, err error)
	}{
		{name: "429 retried", script: status(429), attempts: 4},
		{name: "500 retried", script: status(500), attempts: 4},
		{name: "502 retried", script: status(502), attempts: 4},
		{name: "503 retried", script: status(503), attempts: 4},
		{name: "504 retried", script: status(504), attempts: 4},
		{name: "501 not retried", script: status(501), attempts: 1},
		{name: "400 not retried", script: status(400), attempts: 1},
		{name: "401 not retried", script: status(401), attempts: 1},
		{name: "404 not retried", script: status(404), attempts: 1},
		{name: "422 not retried", script: status(422), attempts: 1},
		{
			name: "Retry-After above the maximum ends the call", script: status(429, "Retry-After", "5"), attempts: 1,
			check: func(t *testing.T, err error) {
				var apiErr *convo.APIError
				require.ErrorAs(t, err, &apiErr)
				assert.Equal(t, 5*time.Second, apiErr.RetryAfter)
			},
		},
		{
			name: "Retry-After beyond the duration range is clamped", script: status(429, "Retry-After", "10000000000"), attempts: 1,
			check: func(t *testing.T, err error) {
				var apiErr *convo.APIError
				require.ErrorAs(t, err, &apiErr)
				assert.Equal(t, 365*24*time.Hour, apiErr.RetryAfter, "clamped to a year, never overflowed")
			},
		},
		{
			name: "cut-off body retried",
			script: func(n int, req *http.Request) (*http.Response, error) {
				return convo.FakeResponseForTest(req, 200, &cutReader{strings.NewReader(convo.VantaxConvBodyForTest[:20])}), nil
			},
			attempts: 4,
			check:    func(t *testing.T, err error) { assert.ErrorIs(t, err, io.ErrUnexpectedEOF) },
		},
		{
			name: "connection error retried",
			script: func(int, *http.Request) (*http.Response, error) {
				return nil, &net.OpError{Op: "read", Net: "tcp", Err: errors.New("connection reset by peer")}
			},
			attempts: 4,
			check: func(t *testing.T, err error) {
				var reqErr *convo.RequestError
				require.ErrorAs(t, err, &reqErr)
				assert.Equal(t, 4, reqErr.Attempts)
				assert.Equal(t, "convo: vantaxai: GET /conversations: after 4 attempts: read tcp: connection reset by peer", err.Error(),
					"said once: no URL, no second prefix")
			},
		},
		{
			name: "certificate error not retried",
			script: func(int, *http.Request) (*http.Response, error) {
				return nil, &tls.CertificateVerificationError{Err: x509.UnknownAuthorityError{}}
			},
			attempts: 1,
		},
		{
			name: "authenticator error not retried",
			script: func(int, *http.Request) (*http.Response, error) {
				return nil, &convo.AuthError{Err: errors.New("vault down")}
			},
			attempts: 1,
			check: func(t *testing.T, err error) {
				assert.Equal(t, "convo: vantaxai: GET /conversations: authenticate request: vault down", err.Error())
			},
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			c, attempts := convo.FakeClientForTest(t, tc.script, convo.WithMaxRetries(3), convo.WithRetryWait(time.Millisecond, 2*time.Second))
			start := time.Now()
			_, err := convo.FirstPageForTest(c.Conversations.List(convo.ContextForTest(t), nil))
			require.Error(t, err)
			assert.Equal(t, tc.attempts, attempts(), "attempts")
			assert.Less(t, time.Since(start), time.Second, "no long wait")
			var apiErr *convo.APIError
			if errors.As(err, &apiErr) {
				assert.Equal(t, tc.attempts, apiErr.Attempts)
				assert.Equal(t, fmt.Sprintf("attempt %d", tc.attempts), apiErr.Message, "the last response's error")
			}
			if tc.attempts > 1 {
				assert.Contains(t, err.Error(), fmt.Sprintf("after %d attempts", tc.attempts), "the error says how many attempts were made")
			} else {
				assert.NotContains(t, err.Error(), "attempts")
			}
			if tc.check != nil {
				tc.check(t, err)
			}
		})
	}
}

func TestRetryRecoversThroughFakeTransport(t *testing.T) {
	t.Parallel()
	c, attempts := convo.FakeClientForTest(t, func(n int, req *http.Request) (*http.Response, error) {
		switch n {
		case 1:
			return nil, errors.New("connection refused")
		case 2:
			return convo.FakeResponseForTest(req, 200, &cutReader{strings.NewReader(convo.VantaxConvBodyForTest[:30])}), nil
		case 3:
			return convo.FakeResponseForTest(req, 503, strings.NewReader(`{"success":false,"message":"later"}`)), nil
		}
		return convo.FakeResponseForTest(req, 200, strings.NewReader(convo.VantaxConvBodyForTest)), nil
	}, convo.WithMaxRetries(3))
	assert.Equal(t, "conv_ok", onlyConversation(t, c).ID)
	assert.Equal(t, 4, attempts())
}

// TestRetryAfterHonouredThroughFakeTransport: a Retry-After within the
// maximum is the wait, not the backoff.
func TestRetryAfterHonouredThroughFakeTransport(t *testing.T) {
	t.Parallel()
	logger, logs := convo.NewTestLogger()
	c, attempts := convo.FakeClientForTest(t, func(n int, req *http.Request) (*http.Response, error) {
		if n == 1 {
			return convo.FakeResponseForTest(req, 429, strings.NewReader(`{"success":false,"message":"slow"}`), "Retry-After", "1"), nil
		}
		return convo.FakeResponseForTest(req, 200, strings.NewReader(convo.VantaxConvBodyForTest)), nil
	}, convo.WithRetryWait(time.Millisecond, 2*time.Second), convo.WithLogger(logger))
	start := time.Now()
	_, err := convo.DrainForTest(c.Conversations.List(convo.ContextForTest(t), nil), 10)
	require.NoError(t, err)
	assert.Equal(t, 2, attempts())
	assert.GreaterOrEqual(t, time.Since(start), time.Second, "slept the Retry-After")
	recs := convo.ParseLogForTest(t, logs)
	require.Len(t, recs, 2)
	require.NotNil(t, recs[0].Wait)
	assert.Equal(t, time.Second, time.Duration(*recs[0].Wait))
}

// TestRetryWaitEndsWithContext: the wait between attempts ends with the
// caller's context.
func TestRetryWaitEndsWithContext(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithCancel(convo.ContextForTest(t))
	defer cancel()
	c, attempts := convo.FakeClientForTest(t, func(n int, req *http.Request) (*http.Response, error) {
		time.AfterFunc(20*time.Millisecond, cancel)
		return convo.FakeResponseForTest(req, 503, strings.NewReader(`{"success":false,"message":"later"}`)), nil
	}, convo.WithRetryWait(time.Minute, time.Minute))
	start := time.Now()
	_, err := convo.FirstPageForTest(c.Conversations.List(ctx, nil))
	assert.ErrorIs(t, err, context.Canceled)
	assert.Less(t, time.Since(start), 10*time.Second, "not the minute of backoff")
	assert.Equal(t, 1, attempts())
}

// TestRetryBackoffGrowsWithJitter checks the documented backoff: the wait
// after attempt n is drawn from [d/2, d] with d = min·2^(n-1) capped at
// max, and never below min; it varies (jitter) and grows.
func TestRetryBackoffGrowsWithJitter(t *testing.T) {
	t.Parallel()
	const min, max = 10 * time.Millisecond, 300 * time.Millisecond
	prevMean := time.Duration(0)
	for n := 1; n <= 7; n++ {
		d := min << (n - 1)
		if d > max {
			d = max
		}
		lo := d / 2
		if lo < min {
			lo = min
		}
		seen := map[time.Duration]bool{}
		var sum time.Duration
		const samples = 400
		for range samples {
			w := convo.BackoffForTest(min, max, n)
			require.GreaterOrEqual(t, w, lo, "attempt %d", n)
			require.LessOrEqual(t, w, d, "attempt %d", n)
			seen[w] = true
			sum += w
		}
		mean := sum / samples
		if lo < d {
			assert.Greater(t, len(seen), samples/4, "attempt %d: jitter spreads the waits", n)
			assert.Greater(t, mean, lo+(d-lo)/4, "attempt %d: the jitter covers the range", n)
			assert.Less(t, mean, d-(d-lo)/4, "attempt %d: the jitter covers the range", n)
		}
		if d < max {
			assert.Greater(t, mean, prevMean, "attempt %d: the wait grows", n)
		}
		prevMean = mean
	}
}

// TestRetryBackoffBetweenAttempts checks the waits the loop actually uses,
// through the fake transport and the log: each within its attempt's range,
// so they grow exponentially.
func TestRetryBackoffBetweenAttempts(t *testing.T) {
	t.Parallel()
	logger, logs := convo.NewTestLogger()
	const min = 4 * time.Millisecond
	c, attempts := convo.FakeClientForTest(t, func(n int, req *http.Request) (*http.Response, error) {
		return convo.FakeResponseForTest(req, 503, strings.NewReader(`{"success":false,"message":"later"}`)), nil
	}, convo.WithMaxRetries(5), convo.WithRetryWait(min, time.Second), convo.WithLogger(logger))
	_, err := convo.FirstPageForTest(c.Conversations.List(convo.ContextForTest(t), nil))
	require.Error(t, err)
	require.Equal(t, 6, attempts())
	recs := convo.ParseLogForTest(t, logs)
	require.Len(t, recs, 6)
	for i, r := range recs[:5] {
		require.NotNil(t, r.Wait, "attempt %d", i+1)
		d := min << i
		w := time.Duration(*r.Wait)
		assert.GreaterOrEqual(t, w, max(d/2, min), "attempt %d", i+1)
		assert.LessOrEqual(t, w, d, "attempt %d", i+1)
	}
	assert.Nil(t, recs[5].Wait)
}

func TestRetryPolicyRetryAfter(t *testing.T) {
	t.Parallel()
	decide := convo.RetryDecisionForTest(3, time.Millisecond, 10*time.Second)
	now := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	resp := func(v string) *http.Response {
		return &http.Response{StatusCode: 429, Header: http.Header{"Retry-After": {v}}}
	}
	for _, tc := range []struct {
		header string
		retry  bool
		wait   time.Duration
	}{
		{"3", true, 3 * time.Second},
		{"0", true, 0},
		{now.Add(4 * time.Second).Format(http.TimeFormat), true, 4 * time.Second},
		{now.Add(-time.Hour).Format(http.TimeFormat), true, 0},
		{"11", false, 0},
		{"10000000000", false, 0},
		{"-5", true, 0},
	} {
		retry, wait := decide(resp(tc.header), nil, 1, now)
		assert.Equal(t, tc.retry, retry, tc.header)
		assert.Equal(t, tc.wait, wait, tc.header)
	}
	retry, _ := decide(resp("1"), nil, 4, now)
	assert.False(t, retry, "no retry after the last one")
	d, ok := convo.ParseRetryAfterForTest("10000000000", now)
	assert.True(t, ok)
	assert.Equal(t, 365*24*time.Hour, d, "clamped, not overflowed")
}

// TestRetryTLSCertificateErrorNotRetried: a server whose certificate the
// client does not trust is tried once: another attempt cannot succeed.
func TestRetryTLSCertificateErrorNotRetried(t *testing.T) {
	t.Parallel()
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		t.Error("no request may arrive over an untrusted connection")
	}))
	var mu sync.Mutex
	conns := 0
	srv.Config.ConnState = func(_ net.Conn, s http.ConnState) {
		if s == http.StateNew {
			mu.Lock()
			conns++
			mu.Unlock()
		}
	}
	srv.Config.ErrorLog = log.New(io.Discard, "", 0) // the handshake failures, expected
	srv.StartTLS()
	defer srv.Close()
	tr := &http.Transport{} // trusts the system roots, not the test certificate
	defer tr.CloseIdleConnections()
	c, err := convo.NewClient(convo.Vobiz, convo.WithoutAuth(), convo.WithBaseURL(srv.URL), convo.WithMaxRetries(3),
		convo.WithRetryWait(time.Millisecond, 5*time.Millisecond), convo.WithHTTPClient(&http.Client{Transport: tr}))
	require.NoError(t, err)
	_, err = convo.FirstPageForTest(c.Messages.List(convo.ContextForTest(t), "c1", nil))
	require.Error(t, err)
	var certErr *tls.CertificateVerificationError
	assert.ErrorAs(t, err, &certErr)
	assert.NotContains(t, err.Error(), "attempts")
	// The server counts a connection before its handshake, so every
	// attempt has been counted by the time the call returns.
	mu.Lock()
	defer mu.Unlock()
	assert.Equal(t, 1, conns, "one connection attempt")
}

// TestRequestsRetryBelowGock checks the retry layer sits above the
// transport gock replaced: a 503 is retried and the second answer used.
// Not parallel: gock's state is global.
func TestRequestsRetryBelowGock(t *testing.T) {
	requests := convo.StartGockForTest(t)
	convo.ExpectGETForTest(convo.VantaxAI, "/conversations/conv_7b2e9a", nil).Status(http.StatusServiceUnavailable).
		BodyString(`{"success":false,"message":"try again"}`)
	convo.ExpectGETForTest(convo.VantaxAI, "/conversations/conv_7b2e9a", nil).
		BodyString(`{"success":true,"data":{"id":"conv_7b2e9a","status":"open"}}`)

	c, err := convo.NewClient(convo.VantaxAI, convo.WithAuth(convo.Bearer(convo.BearerTokenForTest)), convo.WithUserAgent(convo.UserAgentSuffixForTest),
		convo.WithRetryWait(time.Millisecond, 10*time.Millisecond))
	require.NoError(t, err)
	conv, err := c.Conversations.Get(convo.ContextForTest(t), "conv_7b2e9a")
	require.NoError(t, err)
	assert.Equal(t, "conv_7b2e9a", conv.ID)
	assert.Equal(t, "open", conv.Status)
	assert.True(t, gock.IsDone())
	sent := requests()
	require.Len(t, sent, 2, "one retry")
	for _, r := range sent {
		convo.CheckSentRequestForTest(t, r, convo.VantaxAI, "bearer", "/conversations/conv_7b2e9a", nil)
	}
}

// TestRetryAfterAboveMaximum: a Retry-After longer than the maximum wait is
// not slept through: the call ends at once with the 429, RetryAfter set.
func TestRetryAfterAboveMaximum(t *testing.T) {
	t.Parallel()
	c, srv := convo.ScriptedServerForTest(t, convo.Rentalot, func(n int, w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Retry-After", "3600")
		convo.WriteJSONForTest(w, http.StatusTooManyRequests, []byte(`{"error":{"code":"rate_limited","message":"slow down"}}`))
	}, convo.WithRetryWait(time.Millisecond, time.Second))
	_, err := c.Conversations.Get(convo.ContextForTest(t), "c1")
	var apiErr *convo.APIError
	require.ErrorAs(t, err, &apiErr)
	assert.ErrorIs(t, err, convo.ErrRateLimited)
	assert.Equal(t, time.Hour, apiErr.RetryAfter)
	assert.Equal(t, 1, srv.Requests())
}

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

// brokenList is a hostile server in front of srv: it answers the requests
// for which fail reports true with broken(srv's answer) and passes the
// others on.
func brokenList(t *testing.T, srv *convotest.Server, fail func(n int64) bool, broken func(http.ResponseWriter, []byte)) *hwServer {
	t.Helper()
	return hwServe(t, srv, func(w http.ResponseWriter, r hwRequest) {
		if !fail(r.N) {
			r.pass(w)
			return
		}
		_, body := r.honest()
		broken(w, body)
	})
}

// TestRetryBrokenBodies: a body cut off (by Content-Length, mid-chunk, by a
// reset) or a connection dropped before the answer is retried, on every
// page of every provider's list, and every item arrives once; a body cut
// off on every attempt ends in an error, never in the items that arrived.
func TestRetryBrokenBodies(t *testing.T) {
	t.Parallel()
	faults := []struct {
		name   string
		broken func(http.ResponseWriter, []byte)
	}{
		{"content-length cut off", hwTruncate},
		{"chunked cut off", hwTruncateChunked},
		{"connection reset", hwReset},
		{"dropped before response", hwHangUp},
	}
	want := letters("a b c d e f g")
	for _, p := range convo.Providers() {
		for _, f := range faults {
			t.Run(p.Name()+"/"+f.name, func(t *testing.T) {
				srv, _ := pagedServer(t, p, want)
				front := brokenList(t, srv, func(n int64) bool { return n%2 == 1 }, f.broken) // every page fails once first
				got := messageIDs(t, front.client(t).Messages.List(context.Background(), "c1", &convo.MessageListParams{PageSize: 3}), 0)
				assert.Equal(t, want, got)
				assert.Equal(t, int64(6), front.requests.Load(), "3 pages, each failed once")
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
		front := brokenList(t, srv, func(int64) bool { return true }, hwTruncate)
		var got []string
		var err error
		for m, e := range front.client(t, convo.WithMaxRetries(2)).Messages.List(context.Background(), "c1", nil).All() {
			if e != nil {
				err = e
				break
			}
			got = append(got, m.ID)
		}
		require.Error(t, err)
		assert.ErrorIs(t, err, io.ErrUnexpectedEOF)
		assert.Empty(t, got)
		assert.Equal(t, int64(3), front.requests.Load())
	})
}
