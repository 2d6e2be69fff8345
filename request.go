package convo

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"time"

	"github.com/hashicorp/go-retryablehttp"
)

// logError describes an attempt's error for the log: the cause, without the
// *url.Error wrapper whose URL may hold filter values (phone numbers) and
// cursors in its query.
func logError(err error) string {
	return withoutURL(err).Error()
}

// request names one logical request in errors and log lines: provider,
// method, escaped path (never the query, which may hold filter values) and
// the page it asks for.
type request struct {
	provider string
	path     string // escaped, without the query
	page     string // the page asked for (pagingStyle.label); "" outside a list
}

// get is the one request path: it sends GET base+escapedPath?rawQuery with
// authentication, retries and the size limit, and returns the body of a 2xx
// response. Any other status is an *APIError; every other failure is a
// *RequestError. page names the page in log lines ("" for a single object).
//
// The loop is convo's own, in the shape of retryPolicy: each attempt is one
// call of the client's retryablehttp.Client (whose own retrying is off, see
// newRetryClient), the decision to retry and the wait are pure functions of
// that attempt's outcome, and the wait ends with ctx.
func (c *Client) get(ctx context.Context, escapedPath, rawQuery, page string) (*response, error) {
	r := request{provider: c.provider.Name(), path: escapedPath, page: page}
	hreq, err := http.NewRequestWithContext(ctx, http.MethodGet, c.endpointURL(escapedPath, rawQuery).String(), nil)
	if err != nil {
		return nil, r.fail(0, err)
	}
	if err := c.pacer.wait(ctx, escapedPath); err != nil {
		return nil, r.fail(0, err)
	}
	var secrets secretSet // the credentials the attempts sent, to scrub from an echoing error body
	if c.cfg.auth != nil {
		hreq = hreq.WithContext(context.WithValue(ctx, secretsKey{}, &secrets))
	}
	for n := 1; ; n++ {
		a := c.attempt(hreq)
		retry, wait := c.retry.decide(a.resp, a.err, n, time.Now())
		c.logAttempt(ctx, r, n, a, retry, wait)
		if !retry {
			return c.finish(ctx, r, n, a, &secrets)
		}
		a.release()
		if err := sleep(ctx, wait); err != nil {
			return nil, r.fail(n, err)
		}
	}
}

// finish turns the last attempt into the call's result.
func (c *Client) finish(ctx context.Context, r request, attempts int, a attemptResult, secrets *secretSet) (*response, error) {
	if a.err != nil {
		err := withoutURL(a.err)
		if ctxErr := ctx.Err(); ctxErr != nil && !errors.Is(err, ctxErr) {
			err = fmt.Errorf("%w (%v)", ctxErr, err)
		}
		return nil, r.fail(attempts, err)
	}
	resp := a.resp
	rateLimit, remainingOK := readRateLimit(resp.Header)
	if remainingOK {
		c.pacer.observe(r.path, rateLimit)
	}
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		apiErr := newAPIError(r.provider, http.MethodGet, r.path, resp.StatusCode, resp.Header, a.buf.Bytes())
		apiErr.Attempts = attempts
		secrets.redact(apiErr) // a server may echo the credential it refused
		a.release()
		return nil, apiErr
	}
	return &response{status: resp.StatusCode, header: resp.Header, rateLimit: rateLimit, buf: a.buf, secrets: *secrets}, nil
}

// sleep waits for d or until ctx ends, whichever comes first; it returns
// ctx's error when ctx has ended, at once when it already had.
func sleep(ctx context.Context, d time.Duration) error {
	if err := ctx.Err(); err != nil || d <= 0 {
		return err
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}

func (r request) fail(attempts int, err error) error {
	return &RequestError{Provider: r.provider, Method: http.MethodGet, Path: r.path, Attempts: attempts, Err: withoutURL(err)}
}

// withoutURL drops the *url.Error wrapper of an error from http.Client or
// url.Parse: its text repeats the full URL (query and user information
// included), which the outer error names without them, or not at all.
func withoutURL(err error) error {
	if ue, ok := err.(*url.Error); ok && ue.Err != nil {
		return ue.Err
	}
	return err
}

// attemptResult is the outcome of one attempt: a response whose body has
// been read (buf), or an error.
type attemptResult struct {
	resp *http.Response
	buf  *bytes.Buffer // pooled; nil unless resp is set
	err  error
}

func (a *attemptResult) release() {
	if a.buf != nil {
		putBuffer(a.buf)
		a.buf = nil
	}
}

// newRetryClient builds the client's one retryablehttp.Client. It performs
// single attempts: convo's loop (Client.get) decides about retries, because
// go-retryablehttp's hooks each see only part of an attempt (CheckRetry
// neither the attempt number nor, for a read body, the final outcome;
// Backoff not the error), so deciding and logging through them needs state
// carried from one hook to the next in the order the library happens to call
// them. What it does here: send the request and hand the response to the
// body reader installed per request (readBody), which it calls exactly when
// a response arrived.
func newRetryClient(hc *http.Client) *retryablehttp.Client {
	return &retryablehttp.Client{
		HTTPClient:   hc,
		RetryMax:     0,
		CheckRetry:   func(context.Context, *http.Response, error) (bool, error) { return false, nil },
		ErrorHandler: passThrough,
		// Logger stays nil: the library's own logger prints URLs to stderr.
	}
}

// attempt sends req once and reads the whole body through the size limit,
// so that a body cut off mid-stream is an attempt error like a failed
// connection.
func (c *Client) attempt(req *http.Request) attemptResult {
	var a attemptResult
	rreq := &retryablehttp.Request{Request: req}
	rreq.SetResponseHandler(func(resp *http.Response) error {
		buf, err := readBody(resp, c.cfg.maxBytes)
		a.buf = buf
		return err
	})
	resp, err := c.rc.Do(rreq)
	if err != nil {
		a.release()
		return attemptResult{err: err}
	}
	a.resp = resp
	return a
}

func passThrough(resp *http.Response, err error, _ int) (*http.Response, error) {
	if err != nil {
		if resp != nil {
			resp.Body.Close()
		}
		return nil, err
	}
	return resp, nil
}

// logAttempt logs one attempt when a logger is configured: a successful
// one at debug level, one that failed and is retried at warn (with the
// wait), a final failure at error, and one ended by the caller's context at
// debug. It names the page the request was for, never a credential, a query
// value or a token.
func (c *Client) logAttempt(ctx context.Context, r request, n int, a attemptResult, retry bool, wait time.Duration) {
	l := c.cfg.logger
	if l == nil {
		return
	}
	level := slog.LevelDebug
	failed := a.err != nil || a.resp.StatusCode < 200 || a.resp.StatusCode > 299
	switch {
	case !failed, ctx.Err() != nil:
	case retry:
		level = slog.LevelWarn
	default:
		level = slog.LevelError
	}
	if !l.Enabled(ctx, level) {
		return
	}
	attrs := make([]slog.Attr, 0, 8)
	attrs = append(attrs,
		slog.String("provider", r.provider),
		slog.String("method", http.MethodGet),
		slog.String("path", r.path),
	)
	if r.page != "" {
		attrs = append(attrs, slog.String("page", r.page))
	}
	attrs = append(attrs, slog.Int("attempt", n))
	if a.resp != nil {
		attrs = append(attrs, slog.Int("status", a.resp.StatusCode))
	}
	if a.err != nil {
		attrs = append(attrs, slog.String("error", logError(a.err)))
	}
	if retry {
		attrs = append(attrs, slog.Duration("wait", wait))
	}
	l.LogAttrs(ctx, level, "convo: attempt", attrs...)
}
