package convo

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
)

// vantaxConvBody is a one-item, last-page VantaxAI conversation list.
const vantaxConvBody = `{"success":true,"data":[{"id":"conv_ok","status":"open"}],"pagination":{"total":1,"has_more":false}}`

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
			got, err := failingList(t, VantaxAI, func(n int, w http.ResponseWriter) { errorBody(w, status, n) }, WithMaxRetries(maxRetries))
			assert.Equal(t, attempts, got, "1 + MaxRetries attempts, or 1 where not retried")
			var apiErr *APIError
			require.True(t, errors.As(err, &apiErr), "the typed error of the last response, got %v", err)
			assert.Equal(t, status, apiErr.StatusCode)
			assert.Equal(t, fmt.Sprintf("failure on attempt %d", attempts), apiErr.Message, "decoded from the last response")
			assert.NotContains(t, err.Error(), "giving up")
		})
	}
}

func TestRetryMaxRetriesZero(t *testing.T) {
	t.Parallel()
	attempts, err := failingList(t, VantaxAI, func(n int, w http.ResponseWriter) { errorBody(w, http.StatusServiceUnavailable, n) }, WithMaxRetries(0))
	assert.Equal(t, 1, attempts)
	assert.ErrorIs(t, err, ErrServer)
}

func TestRetryDefaultCount(t *testing.T) {
	t.Parallel()
	attempts, err := failingList(t, VantaxAI, func(n int, w http.ResponseWriter) { errorBody(w, http.StatusBadGateway, n) })
	assert.Equal(t, 1+DefaultMaxRetries, attempts)
	assert.ErrorIs(t, err, ErrServer)
}

func TestRetrySuccessAfterFailures(t *testing.T) {
	t.Parallel()
	c, srv := scriptedServer(t, VantaxAI, func(n int, w http.ResponseWriter, r *http.Request) {
		switch n {
		case 1:
			errorBody(w, http.StatusServiceUnavailable, n)
		case 2:
			errorBody(w, http.StatusTooManyRequests, n)
		default:
			writeJSON(w, http.StatusOK, []byte(vantaxConvBody))
		}
	}, WithMaxRetries(3))
	assert.Equal(t, "conv_ok", onlyConversation(t, c).ID)
	assert.Equal(t, 3, srv.Requests())
}

func TestRetryConnectionErrors(t *testing.T) {
	t.Parallel()
	t.Run("exhausted", func(t *testing.T) {
		attempts, err := failingList(t, VantaxAI, func(_ int, w http.ResponseWriter) { hijackClose(t, w) }, WithMaxRetries(2))
		require.Error(t, err)
		assert.Equal(t, 3, attempts)
		var apiErr *APIError
		assert.False(t, errors.As(err, &apiErr), "no response, no APIError")
		assert.Contains(t, err.Error(), "vantaxai")
	})
	t.Run("recovers", func(t *testing.T) {
		c, srv := scriptedServer(t, VantaxAI, failFirst(2, func(w http.ResponseWriter) { hijackClose(t, w) }, vantaxConvBody), WithMaxRetries(2))
		onlyConversation(t, c)
		assert.Equal(t, 3, srv.Requests())
	})
}

func TestRetryCutOffBody(t *testing.T) {
	t.Parallel()
	t.Run("recovers", func(t *testing.T) {
		c, srv := scriptedServer(t, VantaxAI, failFirst(2, func(w http.ResponseWriter) { cutBody(t, w) }, vantaxConvBody), WithMaxRetries(3))
		assert.Equal(t, "open", onlyConversation(t, c).Status)
		assert.Equal(t, 3, srv.Requests())
	})
	t.Run("exhausted", func(t *testing.T) {
		attempts, err := failingList(t, VantaxAI, func(_ int, w http.ResponseWriter) { cutBody(t, w) }, WithMaxRetries(1))
		require.Error(t, err)
		assert.ErrorIs(t, err, io.ErrUnexpectedEOF)
		assert.Equal(t, 2, attempts)
	})
	t.Run("get", func(t *testing.T) {
		c, srv := scriptedServer(t, Rentalot, failFirst(1, func(w http.ResponseWriter) { cutBody(t, w) }, `{"data":{"id":"r1"}}`))
		conv, err := c.Conversations.Get(testContext(t), "r1")
		require.NoError(t, err)
		assert.Equal(t, "r1", conv.ID)
		assert.Equal(t, 2, srv.Requests())
	})
}

func TestRetryAfterSeconds(t *testing.T) {
	t.Parallel()
	logger, logs := newTestLogger()
	c, srv := scriptedServer(t, AgentMessage, failFirst(1, func(w http.ResponseWriter) {
		w.Header().Set("Retry-After", "1")
		writeJSON(w, http.StatusTooManyRequests, []byte(`{"success":false,"error":{"code":"RATE_LIMITED","message":"slow down"}}`))
	}, `{"success":true,"data":[{"id":"a"}],"meta":{"next_cursor":null}}`), WithRetryWait(time.Millisecond, 5*time.Second), WithLogger(logger))

	start := time.Now()
	items, err := drain(c.Conversations.List(testContext(t), nil), 10)
	elapsed := time.Since(start)
	require.NoError(t, err)
	assert.Len(t, items, 1)
	assert.Equal(t, 2, srv.Requests())
	assert.GreaterOrEqual(t, elapsed, 900*time.Millisecond, "the Retry-After wait happened")

	recs := parseLog(t, logs)
	require.Len(t, recs, 2)
	require.NotNil(t, recs[0].Wait)
	assert.Equal(t, time.Second, time.Duration(*recs[0].Wait), "the wait is the Retry-After, not the backoff")
	assert.Equal(t, 429, recs[0].Status)
}

func TestRetryAfterHTTPDate(t *testing.T) {
	t.Parallel()
	logger, logs := newTestLogger()
	var date, retried time.Time // what the server sent, at its one-second resolution; when the retry came
	c, srv := scriptedServer(t, Rentalot, func(n int, w http.ResponseWriter, r *http.Request) {
		if n == 2 {
			retried = time.Now()
		}
		if n == 1 {
			date = time.Now().Add(2 * time.Second).Truncate(time.Second)
			w.Header().Set("Retry-After", date.UTC().Format(http.TimeFormat))
			writeJSON(w, http.StatusServiceUnavailable, []byte(`{"error":{"code":"maintenance","message":"back soon"}}`))
			return
		}
		writeJSON(w, http.StatusOK, []byte(`{"data":{"id":"r1"}}`))
	}, WithRetryWait(time.Millisecond, 5*time.Second), WithLogger(logger))

	start := time.Now()
	_, err := c.Conversations.Get(testContext(t), "r1")
	elapsed := time.Since(start)
	require.NoError(t, err)
	assert.Equal(t, 2, srv.Requests())

	recs := parseLog(t, logs)
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
			c, srv := scriptedServer(t, AgentMessage, func(n int, w http.ResponseWriter, r *http.Request) {
				w.Header().Set("Retry-After", header)
				writeJSON(w, http.StatusTooManyRequests, []byte(`{"success":false,"error":{"code":"RATE_LIMITED","message":"slow down"}}`))
			}, WithMaxRetries(3), WithRetryWait(time.Millisecond, 2*time.Second))

			start := time.Now()
			_, err := firstPage(c.Conversations.List(testContext(t), nil))
			elapsed := time.Since(start)
			assert.Less(t, elapsed, time.Second, "returns at once")
			assert.Equal(t, 1, srv.Requests(), "one attempt")
			var apiErr *APIError
			require.True(t, errors.As(err, &apiErr), "%v", err)
			assert.Equal(t, http.StatusTooManyRequests, apiErr.StatusCode)
			assert.Greater(t, apiErr.RetryAfter, 59*time.Second, "RetryAfter set for the caller")
			assert.LessOrEqual(t, apiErr.RetryAfter, time.Hour)
			assert.ErrorIs(t, err, ErrRateLimited)
			assert.Equal(t, "RATE_LIMITED", apiErr.Code)
		})
	}
}

func TestRetryContextCancelledDuringBackoff(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithCancel(testContext(t))
	defer cancel()
	c, srv := scriptedServer(t, VantaxAI, func(n int, w http.ResponseWriter, r *http.Request) {
		errorBody(w, http.StatusServiceUnavailable, n)
		time.AfterFunc(50*time.Millisecond, cancel) // during the wait that follows
	}, WithRetryWait(10*time.Second, 10*time.Second))

	start := time.Now()
	_, err := firstPage(c.Conversations.List(ctx, nil))
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
	c, srv := scriptedServer(t, Rentalot, func(n int, w http.ResponseWriter, r *http.Request) {
		writeJSON(w, http.StatusOK, []byte(`{"data":{"id":"r1"}}`))
	})
	_, err := c.Conversations.Get(ctx, "r1")
	assert.ErrorIs(t, err, context.Canceled)
	_, err = firstPage(c.Messages.List(ctx, "r1", nil))
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

const fakeOK = `{"success":true,"data":[{"id":"conv_ok","status":"open"}],"pagination":{"has_more":false}}`

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

func TestRetryDecisionsThroughFakeTransport(t *testing.T) {
	t.Parallel()
	status := func(code int, header ...string) func(int, *http.Request) (*http.Response, error) {
		return func(n int, req *http.Request) (*http.Response, error) {
			return fakeResponse(req, code, strings.NewReader(fmt.Sprintf(`{"success":false,"message":"attempt %d"}`, n)), header...), nil
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
				var apiErr *APIError
				require.ErrorAs(t, err, &apiErr)
				assert.Equal(t, 5*time.Second, apiErr.RetryAfter)
			},
		},
		{
			name: "Retry-After beyond the duration range is clamped", script: status(429, "Retry-After", "10000000000"), attempts: 1,
			check: func(t *testing.T, err error) {
				var apiErr *APIError
				require.ErrorAs(t, err, &apiErr)
				assert.Equal(t, 365*24*time.Hour, apiErr.RetryAfter, "clamped to a year, never overflowed")
			},
		},
		{
			name: "cut-off body retried",
			script: func(n int, req *http.Request) (*http.Response, error) {
				return fakeResponse(req, 200, &cutReader{strings.NewReader(fakeOK[:20])}), nil
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
				var reqErr *RequestError
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
				return nil, &AuthError{Err: errors.New("vault down")}
			},
			attempts: 1,
			check: func(t *testing.T, err error) {
				assert.Equal(t, "convo: vantaxai: GET /conversations: authenticate request: vault down", err.Error())
			},
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			c, ft := fakeClient(t, tc.script, WithMaxRetries(3), WithRetryWait(time.Millisecond, 2*time.Second))
			start := time.Now()
			_, err := firstPage(c.Conversations.List(testContext(t), nil))
			require.Error(t, err)
			assert.Equal(t, tc.attempts, ft.attempts(), "attempts")
			assert.Less(t, time.Since(start), time.Second, "no long wait")
			var apiErr *APIError
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
	c, ft := fakeClient(t, func(n int, req *http.Request) (*http.Response, error) {
		switch n {
		case 1:
			return nil, errors.New("connection refused")
		case 2:
			return fakeResponse(req, 200, &cutReader{strings.NewReader(fakeOK[:30])}), nil
		case 3:
			return fakeResponse(req, 503, strings.NewReader(`{"success":false,"message":"later"}`)), nil
		}
		return fakeResponse(req, 200, strings.NewReader(fakeOK)), nil
	}, WithMaxRetries(3))
	assert.Equal(t, "conv_ok", onlyConversation(t, c).ID)
	assert.Equal(t, 4, ft.attempts())
}

// TestRetryAfterHonouredThroughFakeTransport: a Retry-After within the
// maximum is the wait, not the backoff.
func TestRetryAfterHonouredThroughFakeTransport(t *testing.T) {
	t.Parallel()
	logger, logs := newTestLogger()
	c, ft := fakeClient(t, func(n int, req *http.Request) (*http.Response, error) {
		if n == 1 {
			return fakeResponse(req, 429, strings.NewReader(`{"success":false,"message":"slow"}`), "Retry-After", "1"), nil
		}
		return fakeResponse(req, 200, strings.NewReader(fakeOK)), nil
	}, WithRetryWait(time.Millisecond, 2*time.Second), WithLogger(logger))
	start := time.Now()
	_, err := drain(c.Conversations.List(testContext(t), nil), 10)
	require.NoError(t, err)
	assert.Equal(t, 2, ft.attempts())
	assert.GreaterOrEqual(t, time.Since(start), time.Second, "slept the Retry-After")
	recs := parseLog(t, logs)
	require.Len(t, recs, 2)
	require.NotNil(t, recs[0].Wait)
	assert.Equal(t, time.Second, time.Duration(*recs[0].Wait))
}

// TestRetryWaitEndsWithContext: the wait between attempts ends with the
// caller's context.
func TestRetryWaitEndsWithContext(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithCancel(testContext(t))
	defer cancel()
	c, ft := fakeClient(t, func(n int, req *http.Request) (*http.Response, error) {
		time.AfterFunc(20*time.Millisecond, cancel)
		return fakeResponse(req, 503, strings.NewReader(`{"success":false,"message":"later"}`)), nil
	}, WithRetryWait(time.Minute, time.Minute))
	start := time.Now()
	_, err := firstPage(c.Conversations.List(ctx, nil))
	assert.ErrorIs(t, err, context.Canceled)
	assert.Less(t, time.Since(start), 10*time.Second, "not the minute of backoff")
	assert.Equal(t, 1, ft.attempts())
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
			w := backoff(min, max, n)
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
	logger, logs := newTestLogger()
	const min = 4 * time.Millisecond
	c, ft := fakeClient(t, func(n int, req *http.Request) (*http.Response, error) {
		return fakeResponse(req, 503, strings.NewReader(`{"success":false,"message":"later"}`)), nil
	}, WithMaxRetries(5), WithRetryWait(min, time.Second), WithLogger(logger))
	_, err := firstPage(c.Conversations.List(testContext(t), nil))
	require.Error(t, err)
	require.Equal(t, 6, ft.attempts())
	recs := parseLog(t, logs)
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
	p := retryPolicy{maxRetries: 3, waitMin: time.Millisecond, waitMax: 10 * time.Second}
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
		retry, wait := p.decide(resp(tc.header), nil, 1, now)
		assert.Equal(t, tc.retry, retry, tc.header)
		assert.Equal(t, tc.wait, wait, tc.header)
	}
	retry, _ := p.decide(resp("1"), nil, 4, now)
	assert.False(t, retry, "no retry after the last one")
	d, ok := parseRetryAfter("10000000000", now)
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
	c, err := NewClient(Vobiz, WithoutAuth(), WithBaseURL(srv.URL), WithMaxRetries(3),
		WithRetryWait(time.Millisecond, 5*time.Millisecond), WithHTTPClient(&http.Client{Transport: tr}))
	require.NoError(t, err)
	_, err = firstPage(c.Messages.List(testContext(t), "c1", nil))
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
func TestRequestsRetryBelowGock(t *testing.T) {
	rec := startGock(t)
	expectGET(VantaxAI, "/conversations/conv_7b2e9a", nil).Status(http.StatusServiceUnavailable).
		BodyString(`{"success":false,"message":"try again"}`)
	expectGET(VantaxAI, "/conversations/conv_7b2e9a", nil).
		BodyString(`{"success":true,"data":{"id":"conv_7b2e9a","status":"open"}}`)

	c, err := NewClient(VantaxAI, WithAuth(Bearer(testBearer)), WithUserAgent(testUserAgentSuffix),
		WithRetryWait(time.Millisecond, 10*time.Millisecond))
	require.NoError(t, err)
	conv, err := c.Conversations.Get(testContext(t), "conv_7b2e9a")
	require.NoError(t, err)
	assert.Equal(t, "conv_7b2e9a", conv.ID)
	assert.Equal(t, "open", conv.Status)
	assert.True(t, gock.IsDone())
	sent := rec.requests()
	require.Len(t, sent, 2, "one retry")
	for _, r := range sent {
		testSentRequest(t, r, VantaxAI, "bearer", "/conversations/conv_7b2e9a", nil)
	}
}

// TestRetryAfterAboveMaximum: a Retry-After longer than the maximum wait is
// not slept through: the call ends at once with the 429, RetryAfter set.
func TestRetryAfterAboveMaximum(t *testing.T) {
	t.Parallel()
	c, srv := scriptedServer(t, Rentalot, func(n int, w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Retry-After", "3600")
		writeJSON(w, http.StatusTooManyRequests, []byte(`{"error":{"code":"rate_limited","message":"slow down"}}`))
	}, WithRetryWait(time.Millisecond, time.Second))
	_, err := c.Conversations.Get(testContext(t), "c1")
	var apiErr *APIError
	require.ErrorAs(t, err, &apiErr)
	assert.ErrorIs(t, err, ErrRateLimited)
	assert.Equal(t, time.Hour, apiErr.RetryAfter)
	assert.Equal(t, 1, srv.Requests())
}
