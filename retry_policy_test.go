package convo

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// The tests of this file drive the retry decisions through a fake
// RoundTripper: every attempt is answered from a script in memory, so what
// is checked is convo's own decisions (which outcomes are retried, how many
// attempts, how long between them), whatever the order in which the HTTP
// layers below call each other.

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
	items, err := drain(c.Conversations.List(testContext(t), nil), 10)
	require.NoError(t, err)
	require.Len(t, items, 1)
	assert.Equal(t, "conv_ok", items[0].ID)
	assert.Equal(t, 4, ft.attempts())
}

// TestRetryAfterHonouredThroughFakeTransport: a Retry-After within the
// maximum is the wait, not the backoff.
func TestRetryAfterHonouredThroughFakeTransport(t *testing.T) {
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

// TestLoggingLevels: with a default slog handler (info and above), an
// attempt that failed and is retried shows as a warning and a final failure
// as an error, successful attempts stay at debug; lines name the page, never
// a filter value, a token or a credential.
func TestLoggingLevels(t *testing.T) {
	t.Run("retried then success", func(t *testing.T) {
		var buf bytes.Buffer
		logger := slog.New(slog.NewTextHandler(&buf, nil))
		c, _ := fakeClient(t, func(n int, req *http.Request) (*http.Response, error) {
			if n <= 2 {
				return fakeResponse(req, 503, strings.NewReader(`{"success":false,"message":"later"}`)), nil
			}
			return fakeResponse(req, 200, strings.NewReader(fakeOK)), nil
		}, WithLogger(logger))
		_, err := drain(c.Conversations.List(testContext(t), &ConversationListParams{SubAccountID: "sub_filter_value"}), 10)
		require.NoError(t, err)
		out := buf.String()
		assert.Equal(t, 2, strings.Count(out, "level=WARN"), out)
		assert.NotContains(t, out, "level=DEBUG")
		assert.NotContains(t, out, "level=ERROR")
		assert.Contains(t, out, "page=first")
		assert.NotContains(t, out, "sub_filter_value")
		assertNoCredential(t, out)
	})
	t.Run("final failure", func(t *testing.T) {
		var buf bytes.Buffer
		logger := slog.New(slog.NewTextHandler(&buf, nil))
		c, _ := fakeClient(t, func(n int, req *http.Request) (*http.Response, error) {
			return fakeResponse(req, 500, strings.NewReader(`{"success":false,"message":"broken"}`)), nil
		}, WithLogger(logger), WithMaxRetries(1))
		_, err := firstPage(c.Conversations.List(testContext(t), nil))
		require.Error(t, err)
		assert.Contains(t, err.Error(), "after 2 attempts")
		out := buf.String()
		assert.Equal(t, 1, strings.Count(out, "level=WARN"), out)
		assert.Equal(t, 1, strings.Count(out, "level=ERROR"), out)
	})
	t.Run("pages named", func(t *testing.T) {
		logger, logs := newTestLogger()
		srv := newPagedServer(t, Rentalot, 7, 0)
		c := newTestClient(t, Rentalot, srv.URL, WithLogger(logger))
		collect(t, c.Messages.List(context.Background(), "c1", &MessageListParams{PageSize: 3}), 0, messageID)
		var pages []string
		for _, line := range strings.Split(strings.TrimSpace(logs.String()), "\n") {
			var r struct{ Page string }
			require.NoError(t, json.Unmarshal([]byte(line), &r))
			pages = append(pages, r.Page)
		}
		assert.Equal(t, []string{"1", "2", "3"}, pages)

		logger, logs = newTestLogger()
		srv = newPagedServer(t, AgentMessage, 7, 0)
		c = newTestClient(t, AgentMessage, srv.URL, WithLogger(logger))
		collect(t, c.Messages.List(context.Background(), "c1", &MessageListParams{PageSize: 3}), 0, messageID)
		out := logs.String()
		assert.Contains(t, out, `"page":"first"`)
		assert.Regexp(t, `"page":"cursor#[0-9a-f]{8}"`, out, "an opaque token is named by a short hash")
		for _, q := range srv.seen() {
			if _, cur, ok := strings.Cut(q, "cursor="); ok {
				cur, _, _ = strings.Cut(cur, "&")
				assert.NotContains(t, out, cur, "the token itself is not logged")
			}
		}
	})
}
