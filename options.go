package convo

import (
	"log/slog"
	"net/http"
	"strings"
	"time"
)

// config holds everything an Option can set.
type config struct {
	baseURL           string
	auth              Authenticator
	httpClient        *http.Client
	maxRetries        int
	waitMin, waitMax  time.Duration
	userAgent         string
	logger            *slog.Logger
	prefetch          int
	maxBytes          int64
	timeout           time.Duration
	insecureCleartext bool
	noAuth            bool // WithoutAuth: no credentials, on purpose
	pacing            pacingConfig
}

// Option configures a [Client]. Options are applied in order by [NewClient],
// which reports the first invalid one.
type Option func(*config) error

// WithBaseURL replaces the provider's documented base URL, for example with a
// regional endpoint, a proxy, or a [convotest] server. The URL must be
// absolute (http or https), without user information, query or fragment.
//
// [convotest]: https://pkg.go.dev/github.com/convokit/convo/convotest
func WithBaseURL(rawURL string) Option {
	return func(c *config) error {
		c.baseURL = rawURL
		return nil
	}
}

// WithAuth sets the credentials sent with every request. [NewClient]
// refuses a client without credentials unless [WithoutAuth] is given, and
// refuses an empty [Bearer] token or [XAuth] id or token. A credential of [XAuth] or [Bearer] that cannot
// be sent as a header value (a control character, white space, a non-ASCII
// byte) is refused here; one returned by a [BearerFunc] is refused when the
// request is made, before it is sent.
func WithAuth(a Authenticator) Option {
	return func(c *config) error {
		if a == nil {
			return invalidOption("WithAuth", "nil Authenticator")
		}
		if sc, ok := a.(staticCredentials); ok {
			if err := sc.check(); err != nil {
				return invalidOption("WithAuth", "%v", err)
			}
		}
		c.auth, c.noAuth = a, false
		return nil
	}
}

// WithoutAuth makes a client that sends no credentials, for a server that
// needs none (a local fake, a proxy that adds them). Without it, [NewClient]
// refuses a client with no [WithAuth], so that a forgotten or empty
// credential is found at once rather than as a 401 from the server. Of
// WithAuth and WithoutAuth, the last given wins.
func WithoutAuth() Option {
	return func(c *config) error {
		c.auth, c.noAuth = nil, true
		return nil
	}
}

// WithHTTPClient sets the HTTP client whose transport, proxy and TLS settings
// are used. The client is not modified: convo copies it and layers
// authentication, redirect safety and the per-attempt timeout (the given
// client's Timeout when it has one) on the copy; a nil Transport means
// [http.DefaultTransport], as for any http.Client.
//
// Without WithHTTPClient the client has a transport of its own with the
// settings of http.DefaultTransport (proxy from the environment, timeouts,
// HTTP/2) but an idle pool of [DefaultMaxIdleConnsPerHost] connections
// instead of 2, so that many goroutines sharing the client reuse
// connections instead of dialling anew. A program that has replaced
// http.DefaultTransport (instrumentation, a mocking library) keeps it.
func WithHTTPClient(hc *http.Client) Option {
	return func(c *config) error {
		if hc == nil {
			return invalidOption("WithHTTPClient", "nil *http.Client")
		}
		c.httpClient = hc
		return nil
	}
}

// WithMaxRetries sets how many times a request is retried after the first
// attempt when it fails with a connection error, a cut-off body, or a 429,
// 500, 502, 503 or 504 response. 0 disables retries; the default is
// [DefaultMaxRetries].
func WithMaxRetries(n int) Option {
	return func(c *config) error {
		if n < 0 {
			return invalidOption("WithMaxRetries", "negative retry count %d", n)
		}
		c.maxRetries = n
		return nil
	}
}

// WithRetryWait sets the bounds of the exponential backoff (with jitter)
// between attempts: the wait after attempt n is drawn uniformly from
// [d/2, d], where d = min·2^(n-1) capped at max, and is never below min. A
// Retry-After the server sends replaces the backoff; max also caps it: a
// server asking for a longer wait ends the call at once with its
// [*APIError], RetryAfter set. Every wait ends early with the call's
// context. Defaults: [DefaultRetryWaitMin], [DefaultRetryWaitMax].
func WithRetryWait(min, max time.Duration) Option {
	return func(c *config) error {
		if min < 0 || max < 0 {
			return invalidOption("WithRetryWait", "negative wait (min %v, max %v)", min, max)
		}
		if min > max {
			return invalidOption("WithRetryWait", "min %v is greater than max %v", min, max)
		}
		c.waitMin, c.waitMax = min, max
		return nil
	}
}

// WithUserAgent appends ua to the SDK's own User-Agent "convo/<Version>".
// Leading and trailing spaces are dropped; ua must otherwise be visible
// ASCII with spaces or tabs inside (no control character, DEL or non-ASCII
// byte), or NewClient refuses it.
func WithUserAgent(ua string) Option {
	return func(c *config) error {
		ua = strings.Trim(ua, " \t")
		if err := checkFieldValue(ua); err != nil {
			return invalidOption("WithUserAgent", "user agent %v", err)
		}
		c.userAgent = ua
		return nil
	}
}

// WithLogger logs each attempt with its provider, method, path, page,
// attempt number, status or error, and the wait before the next attempt: a
// successful attempt at debug level, one that failed and will be retried at
// warn, a final failure at error (so a default handler shows the last two),
// and an attempt ended by the caller's context at debug. The page is a page
// number, or a short hash of an opaque token ("cursor#1a2b3c4d"). No
// credential, header, filter value or token is ever logged. nil, the
// default, logs nothing.
func WithLogger(l *slog.Logger) Option {
	return func(c *config) error {
		c.logger = l
		return nil
	}
}

// WithPrefetch fetches up to pages pages ahead while the caller consumes the
// current one, overlapping network latency with the caller's work. Order is
// kept and an error arrives in its place. Prefetching may spend requests (and
// rate limit) on pages the caller never reads when it stops early. 0, the
// default, fetches a page only when it is needed.
func WithPrefetch(pages int) Option {
	return func(c *config) error {
		if pages < 0 {
			return invalidOption("WithPrefetch", "negative page count %d", pages)
		}
		c.prefetch = pages
		return nil
	}
}

// WithMaxResponseBytes caps the size of one response body; a larger body
// ends the call with an error instead of exhausting memory. The default is
// [DefaultMaxResponseBytes].
func WithMaxResponseBytes(n int64) Option {
	return func(c *config) error {
		if n <= 0 {
			return invalidOption("WithMaxResponseBytes", "non-positive limit %d", n)
		}
		c.maxBytes = n
		return nil
	}
}

// WithTimeout bounds each attempt (connecting, sending, reading the whole
// body); retries get a fresh timeout. The default is [DefaultTimeout], or the
// Timeout of the client given to [WithHTTPClient] when it has one. The
// caller's context bounds the call as a whole.
func WithTimeout(d time.Duration) Option {
	return func(c *config) error {
		if d <= 0 {
			return invalidOption("WithTimeout", "non-positive timeout %v", d)
		}
		c.timeout = d
		return nil
	}
}

// WithInsecureCleartextCredentials allows credentials to be sent over plain
// http:// to a host that is not loopback. Anyone on the network path can
// read and replay them. Without it, [NewClient] refuses such a base URL when
// credentials are configured. Loopback hosts (localhost, 127.0.0.0/8, ::1)
// never need it.
func WithInsecureCleartextCredentials() Option {
	return func(c *config) error {
		c.insecureCleartext = true
		return nil
	}
}
