package convo

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// The tests of this file count the attempts a loopback server receives for
// one call. Clients wait 1–10ms between attempts unless a test says
// otherwise.

// vantaxConvBody is a one-item, last-page VantaxAI conversation list.
const vantaxConvBody = `{"success":true,"data":[{"id":"conv_ok","status":"open"}],"pagination":{"total":1,"has_more":false}}`

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

// cutBody answers 200 with a Content-Length larger than what is written,
// then drops the connection.
func cutBody(t *testing.T, w http.ResponseWriter) {
	hj, ok := w.(http.Hijacker)
	if !assert.True(t, ok, "hijacker") {
		return
	}
	conn, buf, err := hj.Hijack()
	if !assert.NoError(t, err) {
		return
	}
	defer conn.Close()
	partial := `{"success":true,"data":[{"id":"conv_ok","status":"op`
	fmt.Fprintf(buf, "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: %d\r\n\r\n%s", len(partial)+500, partial)
	_ = buf.Flush()
}

func TestRetryRetriedStatuses(t *testing.T) {
	for _, status := range []int{429, 500, 502, 503, 504} {
		t.Run(fmt.Sprint(status), func(t *testing.T) {
			c, srv := scriptedServer(t, VantaxAI, func(n int, w http.ResponseWriter, r *http.Request) {
				errorBody(w, status, n)
			}, WithMaxRetries(2))
			_, err := firstPage(c.Conversations.List(testContext(t), nil))
			assert.Equal(t, 3, srv.Requests(), "1 + MaxRetries attempts")
			var apiErr *APIError
			require.True(t, errors.As(err, &apiErr), "the typed error of the last response, got %v", err)
			assert.Equal(t, status, apiErr.StatusCode)
			assert.Equal(t, "failure on attempt 3", apiErr.Message, "decoded from the last response")
			assert.NotContains(t, err.Error(), "giving up")
		})
	}
}

func TestRetryNotRetriedStatuses(t *testing.T) {
	for _, status := range []int{400, 401, 403, 404, 409, 422} {
		t.Run(fmt.Sprint(status), func(t *testing.T) {
			c, srv := scriptedServer(t, VantaxAI, func(n int, w http.ResponseWriter, r *http.Request) {
				errorBody(w, status, n)
			}, WithMaxRetries(3))
			_, err := firstPage(c.Conversations.List(testContext(t), nil))
			assert.Equal(t, 1, srv.Requests(), "not retried")
			var apiErr *APIError
			require.True(t, errors.As(err, &apiErr))
			assert.Equal(t, status, apiErr.StatusCode)
			assert.Equal(t, "failure on attempt 1", apiErr.Message)
		})
	}
}

func TestRetryMaxRetriesZero(t *testing.T) {
	c, srv := scriptedServer(t, VantaxAI, func(n int, w http.ResponseWriter, r *http.Request) {
		errorBody(w, http.StatusServiceUnavailable, n)
	}, WithMaxRetries(0))
	_, err := firstPage(c.Conversations.List(testContext(t), nil))
	assert.Equal(t, 1, srv.Requests())
	assert.ErrorIs(t, err, ErrServer)
}

func TestRetryDefaultCount(t *testing.T) {
	c, srv := scriptedServer(t, VantaxAI, func(n int, w http.ResponseWriter, r *http.Request) {
		errorBody(w, http.StatusBadGateway, n)
	})
	_, err := firstPage(c.Conversations.List(testContext(t), nil))
	assert.Equal(t, 1+DefaultMaxRetries, srv.Requests())
	assert.ErrorIs(t, err, ErrServer)
}

func TestRetrySuccessAfterFailures(t *testing.T) {
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
	items, err := drain(c.Conversations.List(testContext(t), nil), 10)
	require.NoError(t, err)
	require.Len(t, items, 1)
	assert.Equal(t, "conv_ok", items[0].ID)
	assert.Equal(t, 3, srv.Requests())
}

func TestRetryConnectionErrors(t *testing.T) {
	t.Run("exhausted", func(t *testing.T) {
		c, srv := scriptedServer(t, VantaxAI, func(n int, w http.ResponseWriter, r *http.Request) {
			hijackClose(t, w)
		}, WithMaxRetries(2))
		_, err := firstPage(c.Conversations.List(testContext(t), nil))
		require.Error(t, err)
		assert.Equal(t, 3, srv.Requests())
		var apiErr *APIError
		assert.False(t, errors.As(err, &apiErr), "no response, no APIError")
		assert.Contains(t, err.Error(), "vantaxai")
	})
	t.Run("recovers", func(t *testing.T) {
		c, srv := scriptedServer(t, VantaxAI, func(n int, w http.ResponseWriter, r *http.Request) {
			if n <= 2 {
				hijackClose(t, w)
				return
			}
			writeJSON(w, http.StatusOK, []byte(vantaxConvBody))
		}, WithMaxRetries(2))
		items, err := drain(c.Conversations.List(testContext(t), nil), 10)
		require.NoError(t, err)
		assert.Len(t, items, 1)
		assert.Equal(t, 3, srv.Requests())
	})
}

func TestRetryCutOffBody(t *testing.T) {
	t.Run("recovers", func(t *testing.T) {
		c, srv := scriptedServer(t, VantaxAI, func(n int, w http.ResponseWriter, r *http.Request) {
			if n <= 2 {
				cutBody(t, w)
				return
			}
			writeJSON(w, http.StatusOK, []byte(vantaxConvBody))
		}, WithMaxRetries(3))
		items, err := drain(c.Conversations.List(testContext(t), nil), 10)
		require.NoError(t, err)
		require.Len(t, items, 1)
		assert.Equal(t, "open", items[0].Status)
		assert.Equal(t, 3, srv.Requests())
	})
	t.Run("exhausted", func(t *testing.T) {
		c, srv := scriptedServer(t, VantaxAI, func(n int, w http.ResponseWriter, r *http.Request) {
			cutBody(t, w)
		}, WithMaxRetries(1))
		_, err := firstPage(c.Conversations.List(testContext(t), nil))
		require.Error(t, err)
		assert.ErrorIs(t, err, io.ErrUnexpectedEOF)
		assert.Equal(t, 2, srv.Requests())
	})
	t.Run("get", func(t *testing.T) {
		c, srv := scriptedServer(t, Rentalot, func(n int, w http.ResponseWriter, r *http.Request) {
			if n == 1 {
				cutBody(t, w)
				return
			}
			writeJSON(w, http.StatusOK, []byte(`{"data":{"id":"r1"}}`))
		})
		conv, err := c.Conversations.Get(testContext(t), "r1")
		require.NoError(t, err)
		assert.Equal(t, "r1", conv.ID)
		assert.Equal(t, 2, srv.Requests())
	})
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

func TestRetryAfterSeconds(t *testing.T) {
	logger, logs := newTestLogger()
	c, srv := scriptedServer(t, AgentMessage, func(n int, w http.ResponseWriter, r *http.Request) {
		if n == 1 {
			w.Header().Set("Retry-After", "1")
			writeJSON(w, http.StatusTooManyRequests, []byte(`{"success":false,"error":{"code":"RATE_LIMITED","message":"slow down"}}`))
			return
		}
		writeJSON(w, http.StatusOK, []byte(`{"success":true,"data":[{"id":"a"}],"meta":{"next_cursor":null}}`))
	}, WithRetryWait(time.Millisecond, 5*time.Second), WithLogger(logger))

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

func TestLoggingEachAttempt(t *testing.T) {
	logger, logs := newTestLogger()
	c, srv := scriptedServer(t, Vobiz, func(n int, w http.ResponseWriter, r *http.Request) {
		if n <= 2 {
			writeJSON(w, http.StatusServiceUnavailable, []byte(`{"status":"error","error":{"code":"UNAVAILABLE","message":"later"}}`))
			return
		}
		writeJSON(w, http.StatusOK, []byte(`{"items":[{"id":"m1"}],"has_more":false}`))
	}, WithLogger(logger), WithMaxRetries(3))

	items, err := drain(c.Messages.List(testContext(t), "conv/1", &MessageListParams{PageSize: 10}), 10)
	require.NoError(t, err)
	require.Len(t, items, 1)
	require.Equal(t, 3, srv.Requests())

	recs := parseLog(t, logs)
	require.Len(t, recs, 3, "one record per attempt:\n%s", logs)
	for i, r := range recs {
		level := "WARN" // failed, retried: shown by a default handler
		if i == 2 {
			level = "DEBUG" // the successful attempt
		}
		assert.Equal(t, level, r.Level)
		assert.Equal(t, "vobiz", r.Provider)
		assert.Equal(t, http.MethodGet, r.Method)
		assert.Equal(t, "/conversations/conv%2F1/messages", r.Path)
		assert.Equal(t, i+1, r.Attempt)
	}
	assert.Equal(t, 503, recs[0].Status)
	assert.Equal(t, 503, recs[1].Status)
	assert.Equal(t, 200, recs[2].Status)
	for _, r := range recs[:2] {
		if assert.NotNil(t, r.Wait, "a retried attempt logs its wait") {
			assert.GreaterOrEqual(t, time.Duration(*r.Wait), time.Millisecond)
			assert.LessOrEqual(t, time.Duration(*r.Wait), 10*time.Millisecond)
		}
	}
	assert.Nil(t, recs[2].Wait, "no wait after the last attempt")
	assertNoCredential(t, logs.String())
}

func TestLoggingExhaustedAndErrors(t *testing.T) {
	t.Run("status", func(t *testing.T) {
		logger, logs := newTestLogger()
		c, srv := scriptedServer(t, VantaxAI, func(n int, w http.ResponseWriter, r *http.Request) {
			errorBody(w, http.StatusInternalServerError, n)
		}, WithLogger(logger), WithMaxRetries(2))
		_, err := firstPage(c.Conversations.List(testContext(t), &ConversationListParams{SubAccountID: "sub_secret_query"}))
		require.Error(t, err)
		require.Equal(t, 3, srv.Requests())
		recs := parseLog(t, logs)
		require.Len(t, recs, 3, "one record per attempt:\n%s", logs)
		for i, r := range recs {
			assert.Equal(t, i+1, r.Attempt)
			assert.Equal(t, 500, r.Status)
			assert.Equal(t, "/conversations", r.Path)
		}
		assert.Nil(t, recs[2].Wait)
		assert.NotContains(t, logs.String(), "sub_secret_query", "no query value logged")
		assertNoCredential(t, logs.String())
	})
	t.Run("connection", func(t *testing.T) {
		logger, logs := newTestLogger()
		c, srv := scriptedServer(t, AgentMessage, func(n int, w http.ResponseWriter, r *http.Request) {
			hijackClose(t, w)
		}, WithLogger(logger), WithMaxRetries(1))
		_, err := firstPage(c.Conversations.List(testContext(t), nil))
		require.Error(t, err)
		require.Equal(t, 2, srv.Requests())
		recs := parseLog(t, logs)
		require.Len(t, recs, 2, "one record per attempt:\n%s", logs)
		for i, r := range recs {
			assert.Equal(t, i+1, r.Attempt)
			assert.Zero(t, r.Status, "no status without a response")
			assert.NotNil(t, r.Error, "the transport error is logged")
		}
		assert.NotNil(t, recs[0].Wait)
		assertNoCredential(t, logs.String())
	})
}

// TestLoggingNothingWithoutLogger checks that a client without a logger
// writes nothing to stdout or stderr, even while retrying.
func TestLoggingNothingWithoutLogger(t *testing.T) {
	c, srv := scriptedServer(t, VantaxAI, func(n int, w http.ResponseWriter, r *http.Request) {
		if n == 1 {
			hijackClose(t, w)
			return
		}
		if n == 2 {
			errorBody(w, http.StatusServiceUnavailable, n)
			return
		}
		writeJSON(w, http.StatusOK, []byte(vantaxConvBody))
	})

	out := captureOutput(t, func() {
		_, err := drain(c.Conversations.List(testContext(t), nil), 10)
		assert.NoError(t, err)
	})
	assert.Equal(t, 3, srv.Requests())
	assert.Empty(t, out, "nothing printed")
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
