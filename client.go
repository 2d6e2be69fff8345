package convo

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"net"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/hashicorp/go-retryablehttp"
)

// Version is the SDK's version, sent in the User-Agent header as
// "convo/<Version>".
const Version = "0.1.0"

// Defaults applied by [NewClient] when the corresponding option is not given.
const (
	// DefaultMaxRetries is the number of retries after the first attempt.
	DefaultMaxRetries = 3
	// DefaultRetryWaitMin is the shortest backoff between two attempts.
	DefaultRetryWaitMin = 500 * time.Millisecond
	// DefaultRetryWaitMax is the longest backoff between two attempts, and the
	// longest Retry-After the client is willing to sleep through.
	DefaultRetryWaitMax = 30 * time.Second
	// DefaultMaxResponseBytes caps the size of one response body.
	DefaultMaxResponseBytes int64 = 32 << 20
	// DefaultTimeout bounds one attempt: connecting, sending, and reading the
	// whole response body.
	DefaultTimeout = 30 * time.Second
)

// Client is a client of one provider's conversation API. Create it with
// [NewClient]; the zero value is not usable.
//
// A Client is safe for concurrent use by multiple goroutines, and it should be
// reused: it holds a pool of connections.
type Client struct {
	// Conversations lists and fetches conversations.
	Conversations *ConversationService
	// Messages lists the messages of a conversation.
	Messages *MessageService
	// Search searches message content.
	Search *SearchService

	provider Provider
	cfg      config
	base     *url.URL
	origin   string // scheme://host[:port] of base, lower-cased: where credentials may go
	hc       *http.Client
	rc       *retryablehttp.Client // sends each attempt (newRetryClient)
	retry    retryPolicy
	ua       string
	pacer    *pacer // rate-limit pacing (ratelimit.go)
}

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
			return fmt.Errorf("%w: WithAuth: nil Authenticator", ErrInvalidOption)
		}
		if sc, ok := a.(staticCredentials); ok {
			if err := sc.check(); err != nil {
				return fmt.Errorf("%w: WithAuth: %v", ErrInvalidOption, err)
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
			return fmt.Errorf("%w: WithHTTPClient: nil *http.Client", ErrInvalidOption)
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
			return fmt.Errorf("%w: WithMaxRetries: negative retry count %d", ErrInvalidOption, n)
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
			return fmt.Errorf("%w: WithRetryWait: negative wait (min %v, max %v)", ErrInvalidOption, min, max)
		}
		if min > max {
			return fmt.Errorf("%w: WithRetryWait: min %v is greater than max %v", ErrInvalidOption, min, max)
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
			return fmt.Errorf("%w: WithUserAgent: user agent %v", ErrInvalidOption, err)
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
			return fmt.Errorf("%w: WithPrefetch: negative page count %d", ErrInvalidOption, pages)
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
			return fmt.Errorf("%w: WithMaxResponseBytes: non-positive limit %d", ErrInvalidOption, n)
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
			return fmt.Errorf("%w: WithTimeout: non-positive timeout %v", ErrInvalidOption, d)
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

// NewClient returns a client of provider p configured by opts. It returns an
// error for an unknown provider or an invalid option: an unparsable or
// relative base URL, a negative retry count, a minimum wait above the
// maximum, a negative prefetch, a non-positive size limit, or credentials
// that would travel in clear text.
func NewClient(p Provider, opts ...Option) (*Client, error) {
	if p.d == nil {
		return nil, fmt.Errorf("%w: NewClient: zero Provider (use convo.Vobiz, convo.VantaxAI, convo.Rentalot or convo.AgentMessage)", ErrInvalidOption)
	}
	cfg := config{
		baseURL:    p.d.baseURL,
		maxRetries: DefaultMaxRetries,
		waitMin:    DefaultRetryWaitMin,
		waitMax:    DefaultRetryWaitMax,
		maxBytes:   DefaultMaxResponseBytes,
	}
	for _, opt := range opts {
		if opt == nil {
			continue
		}
		if err := opt(&cfg); err != nil {
			return nil, err
		}
	}
	base, err := parseBaseURL(cfg.baseURL)
	if err != nil {
		return nil, err
	}
	if cfg.auth == nil && !cfg.noAuth {
		return nil, fmt.Errorf("%w: NewClient: no credentials: pass WithAuth (XAuth, Bearer or BearerFunc), or WithoutAuth for a server that needs none", ErrInvalidOption)
	}
	if cfg.auth != nil && base.Scheme == "http" && !isLoopback(base.Hostname()) && !cfg.insecureCleartext {
		return nil, fmt.Errorf("%w: WithBaseURL: refusing to send credentials in clear text to %s (use https, or WithInsecureCleartextCredentials)", ErrInvalidOption, base.Host)
	}

	c := &Client{provider: p, cfg: cfg, base: base}
	c.origin = strings.ToLower(base.Scheme + "://" + base.Host)
	c.ua = "convo/" + Version
	if cfg.userAgent != "" {
		c.ua += " " + cfg.userAgent
	}
	c.hc = c.newHTTPClient()
	c.rc = newRetryClient(c.hc)
	c.retry = retryPolicy{maxRetries: cfg.maxRetries, waitMin: cfg.waitMin, waitMax: cfg.waitMax}
	c.pacer = newPacer(cfg.pacing)
	c.Conversations = &ConversationService{c: c}
	c.Messages = &MessageService{c: c}
	c.Search = &SearchService{c: c}
	return c, nil
}

// Provider returns the provider the client speaks to.
func (c *Client) Provider() Provider { return c.provider }

// BaseURL returns the base URL requests are sent to.
func (c *Client) BaseURL() string { return c.base.String() }

// String describes the client without any credential.
func (c Client) String() string {
	base := ""
	if c.base != nil {
		base = c.base.Redacted()
	}
	return fmt.Sprintf("convo.Client{provider: %s, baseURL: %s}", c.provider.Name(), base)
}

// Format prints the client as [Client.String] for every verb, so that no
// %v, %+v or %#v can reveal its credentials.
func (c Client) Format(f fmt.State, verb rune) { fmt.Fprint(f, c.String()) }

func parseBaseURL(raw string) (*url.URL, error) {
	u, err := url.Parse(raw)
	if err != nil {
		return nil, fmt.Errorf("%w: WithBaseURL: unparsable base URL: %v", ErrInvalidOption, redactURLError(err))
	}
	switch {
	case u.Scheme != "http" && u.Scheme != "https":
		return nil, fmt.Errorf("%w: WithBaseURL: base URL must be absolute with scheme http or https, got %q", ErrInvalidOption, displayURL(u))
	case u.Host == "":
		return nil, fmt.Errorf("%w: WithBaseURL: base URL has no host: %q", ErrInvalidOption, displayURL(u))
	case u.User != nil:
		return nil, fmt.Errorf("%w: WithBaseURL: base URL must not carry user information; use WithAuth", ErrInvalidOption)
	case u.RawQuery != "" || u.Fragment != "" || u.ForceQuery:
		return nil, fmt.Errorf("%w: WithBaseURL: base URL %q must not have a query or fragment", ErrInvalidOption, displayURL(u))
	}
	u.Path = strings.TrimRight(u.Path, "/")
	u.RawPath = strings.TrimRight(u.RawPath, "/")
	return u, nil
}

// displayURL shows a URL in an error without the parts that may hold a
// secret: user information, query and fragment.
func displayURL(u *url.URL) string {
	v := url.URL{Scheme: u.Scheme, Host: u.Host, Path: u.Path, RawPath: u.RawPath}
	return v.String()
}

// logError describes an attempt's error for the log: the cause, without the
// *url.Error wrapper whose URL may hold filter values (phone numbers) and
// cursors in its query.
func logError(err error) string {
	return transportCause(err).Error()
}

// redactURLError keeps url.Parse's reason without echoing the input, which
// may hold user information.
func redactURLError(err error) error {
	if ue, ok := err.(*url.Error); ok {
		return ue.Err
	}
	return err
}

func isLoopback(host string) bool {
	if strings.EqualFold(host, "localhost") || strings.HasSuffix(strings.ToLower(host), ".localhost") {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// newHTTPClient copies the caller's client (or a default one) and installs
// the authenticating transport and the per-attempt timeout on the copy.
func (c *Client) newHTTPClient() *http.Client {
	var hc http.Client
	if c.cfg.httpClient != nil {
		hc = *c.cfg.httpClient
	}
	at := &authTransport{base: hc.Transport, auth: c.cfg.auth, origin: c.origin, ua: c.ua}
	if c.cfg.httpClient == nil {
		at.pooled = newDefaultTransport() // an idle pool sized for concurrent use (transport.go)
	}
	hc.Transport = at
	switch {
	case c.cfg.timeout > 0:
		hc.Timeout = c.cfg.timeout
	case hc.Timeout == 0:
		hc.Timeout = DefaultTimeout
	}
	return &hc
}

// endpointURL joins the base URL and an already escaped path and query.
func (c *Client) endpointURL(escapedPath, rawQuery string) *url.URL {
	u := *c.base
	u.RawPath = c.base.EscapedPath() + escapedPath
	p, err := url.PathUnescape(u.RawPath)
	if err != nil { // cannot happen: every segment was escaped by url.PathEscape
		p = u.RawPath
	}
	u.Path = p
	u.RawQuery = rawQuery
	return &u
}

// response is a completed 2xx response with its body read.
type response struct {
	status    int
	header    http.Header
	rateLimit *RateLimit    // the X-RateLimit-* headers, read once; nil when not sent
	buf       *bytes.Buffer // pooled; release after decoding
	secrets   secretSet     // the credentials sent, to scrub from an error built from the body
}

func (r *response) body() []byte { return r.buf.Bytes() }

func (r *response) release() {
	if r.buf != nil {
		putBuffer(r.buf)
		r.buf = nil
	}
}

var bufferPool = sync.Pool{New: func() any { return new(bytes.Buffer) }}

func getBuffer() *bytes.Buffer { return bufferPool.Get().(*bytes.Buffer) }

func putBuffer(b *bytes.Buffer) {
	if b.Cap() > 4<<20 { // let the GC have unusually large bodies
		return
	}
	b.Reset()
	bufferPool.Put(b)
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
		err := transportCause(a.err)
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

// sleep waits for d or until ctx ends.
func sleep(ctx context.Context, d time.Duration) error {
	if d <= 0 {
		return ctx.Err()
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

// RequestError is a request that got no usable response: the connection
// failed, the body was cut off or too large, the Authenticator failed, or
// the context ended. It names the provider, method and path once (never the
// query or the full URL) and how many attempts were made; the cause is
// wrapped, with any *url.Error unwrapped to its own cause.
type RequestError struct {
	Provider string
	Method   string
	Path     string // escaped, without the query
	Attempts int    // attempts sent; 0 when the request never left
	Err      error
}

// Error returns "convo: <provider>: GET <path>: [after N attempts: ]<cause>",
// one printable line of at most [MaxErrorTextLen] bytes.
func (e *RequestError) Error() string {
	var b strings.Builder
	b.WriteString("convo: ")
	b.WriteString(e.Provider)
	b.WriteString(": ")
	b.WriteString(e.Method)
	b.WriteByte(' ')
	b.WriteString(e.Path)
	b.WriteString(": ")
	if e.Attempts > 1 {
		fmt.Fprintf(&b, "after %d attempts: ", e.Attempts)
	}
	b.WriteString(causeText(e.Err))
	return errorLine(b.String())
}

// Unwrap returns the cause.
func (e *RequestError) Unwrap() error { return e.Err }

func (r request) fail(attempts int, err error) error {
	return &RequestError{Provider: r.provider, Method: http.MethodGet, Path: r.path, Attempts: attempts, Err: transportCause(err)}
}

// transportCause drops the *url.Error wrapper of an http.Client error: its
// text repeats the method and the full URL (query included), which the
// outer error already names without the query.
func transportCause(err error) error {
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

// readBody is the one place a response body is read: all of it, up to
// limit bytes, then closed. A larger 2xx body is an ErrResponseTooLarge
// error; a larger error body keeps its first maxErrorBody bytes (an
// *APIError carries at most that much).
func readBody(resp *http.Response, limit int64) (*bytes.Buffer, error) {
	defer resp.Body.Close()
	isErr := resp.StatusCode < 200 || resp.StatusCode > 299
	if isErr {
		limit = min(limit, maxErrorBody)
	} else if resp.ContentLength > limit {
		return nil, &sizeError{fmt.Sprintf("Content-Length %d exceeds the limit of %d bytes", resp.ContentLength, limit)}
	}
	buf := getBuffer()
	if resp.ContentLength > 0 && resp.ContentLength <= limit {
		buf.Grow(int(resp.ContentLength))
	}
	n, err := buf.ReadFrom(io.LimitReader(resp.Body, limit+1))
	if n > limit {
		if isErr { // keep the start of an oversized error body
			buf.Truncate(int(limit))
			return buf, nil
		}
		putBuffer(buf)
		return nil, &sizeError{fmt.Sprintf("body exceeds the limit of %d bytes", limit)}
	}
	if err != nil {
		putBuffer(buf)
		return nil, fmt.Errorf("read response body: %w", err)
	}
	return buf, nil
}

// sizeError is a body over the size limit; it matches ErrResponseTooLarge.
type sizeError struct{ msg string }

func (e *sizeError) Error() string        { return "response too large: " + e.msg }
func (e *sizeError) Is(target error) bool { return target == ErrResponseTooLarge }

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
