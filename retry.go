package convo

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"math/rand/v2"
	"net"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// retryPolicy decides about retries from one attempt's outcome alone. Its
// methods are pure functions of their arguments (and of the jitter's random
// source), so they can be tested without a server and do not depend on how
// or when they are called.
type retryPolicy struct {
	maxRetries       int           // retries after the first attempt
	waitMin, waitMax time.Duration // backoff bounds; waitMax also caps Retry-After
}

// decide reports whether attempt n (1-based), which ended with resp (its
// body read) or err, is followed by another, and after what wait.
func (p retryPolicy) decide(resp *http.Response, err error, n int, now time.Time) (retry bool, wait time.Duration) {
	if n > p.maxRetries || !shouldRetry(resp, err) {
		return false, 0
	}
	wait, ok := p.retryDelay(resp, n, now)
	return ok, wait
}

// shouldRetry reports whether an attempt that ended with resp or err may
// succeed when sent again: a connection failure, a per-attempt timeout or a
// cut-off body, or a 429, 500, 502, 503 or 504 response. Every request convo
// sends is a read, so retrying is always safe.
func shouldRetry(resp *http.Response, err error) bool {
	if err != nil {
		return retryableError(err)
	}
	switch resp.StatusCode {
	case http.StatusTooManyRequests, http.StatusInternalServerError, http.StatusBadGateway,
		http.StatusServiceUnavailable, http.StatusGatewayTimeout:
		return true
	}
	return false
}

// retryDelay returns the wait after attempt n: the response's Retry-After
// when it sends one (ok false when that is longer than waitMax: the caller
// gets the error with RetryAfter instead of a sleep), otherwise the
// exponential backoff.
func (p retryPolicy) retryDelay(resp *http.Response, n int, now time.Time) (wait time.Duration, ok bool) {
	if resp != nil {
		if d, sent := parseRetryAfter(resp.Header.Get("Retry-After"), now); sent {
			if d > p.waitMax {
				return 0, false
			}
			return d, true
		}
	}
	return backoff(p.waitMin, p.waitMax, n), true
}

// backoff is the wait after attempt n (1-based): min·2^(n-1) capped at max,
// with jitter over the upper half of that value (so in [d/2, d], never
// below min) so that many clients do not retry in lockstep.
func backoff(min, max time.Duration, n int) time.Duration {
	if max <= 0 {
		return 0
	}
	d := min
	for i := 1; i < n && d < max; i++ {
		d *= 2
	}
	d = clampDuration(d, min, max)
	if half := d / 2; half > 0 {
		d = half + rand.N(d-half+1)
	}
	return clampDuration(d, min, max)
}

func clampDuration(d, lo, hi time.Duration) time.Duration { return max(lo, min(d, hi)) }

// retryableError reports whether a transport error may succeed on another
// attempt: connection failures and cut-off bodies may; failed
// authentication, an oversized body or a TLS
// verification failure will not.
func retryableError(err error) bool {
	var authErr *AuthError
	var certErr *tls.CertificateVerificationError
	var unknownAuthority x509.UnknownAuthorityError
	var hostnameErr x509.HostnameError
	switch {
	case errors.As(err, &authErr), errors.Is(err, ErrResponseTooLarge),
		errors.Is(err, context.Canceled), errors.Is(err, context.DeadlineExceeded) && !isTimeout(err),
		errors.As(err, &certErr), errors.As(err, &unknownAuthority), errors.As(err, &hostnameErr):
		return false
	}
	return true
}

// isTimeout reports a per-attempt timeout (worth retrying), as opposed to
// the caller's context ending (checked separately).
func isTimeout(err error) bool {
	var ne net.Error
	return errors.As(err, &ne) && ne.Timeout()
}

// parseRetryAfter reads a Retry-After value in seconds or as an HTTP date;
// ok is false when the header is absent or unreadable.
func parseRetryAfter(v string, now time.Time) (d time.Duration, ok bool) {
	v = strings.TrimSpace(v)
	if v == "" {
		return 0, false
	}
	const maxSecs = int64(365 * 24 * time.Hour / time.Second)
	if secs, err := strconv.ParseInt(v, 10, 64); err == nil {
		return time.Duration(min(max(secs, 0), maxSecs)) * time.Second, true
	}
	if t, err := http.ParseTime(v); err == nil {
		return max(t.Sub(now), 0), true
	}
	return 0, false
}
