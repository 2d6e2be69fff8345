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

// WithAuth sets the credentials sent with every request. Without it requests
// are sent unauthenticated. A credential of [XAuth] or [Bearer] that cannot
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
		c.auth = a
		return nil
	}
}

// WithHTTPClient sets the HTTP client whose transport, proxy and TLS settings
// are used. The client is not modified: convo copies it and layers
// authentication, redirect safety and the per-attempt timeout (the given
// client's Timeout when it has one) on the copy. The default uses
// [http.DefaultTransport].
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
// between attempts. max also caps Retry-After: a server asking for a longer
// wait ends the call at once with its 429 [*APIError], RetryAfter set.
// Defaults: [DefaultRetryWaitMin], [DefaultRetryWaitMax].
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

// WithLogger logs each attempt at debug level (method, path, status, attempt,
// wait before the next attempt). No credential, header or query value is ever
// logged. nil, the default, logs nothing.
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

// logError describes an attempt's error for the debug log. The request URL
// of a transport error loses its query, which may hold filter values (phone
// numbers) and cursors.
func logError(err error) string {
	msg := err.Error()
	var ue *url.Error
	if errors.As(err, &ue) {
		if i := strings.IndexByte(ue.URL, '?'); i >= 0 {
			msg = strings.ReplaceAll(msg, ue.URL, ue.URL[:i])
		}
	}
	return msg
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
	hc.Transport = &authTransport{base: hc.Transport, auth: c.cfg.auth, origin: c.origin, ua: c.ua}
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

// debug logs at debug level when a logger is configured.
func (c *Client) debug(ctx context.Context, msg string, attrs ...slog.Attr) {
	if c.cfg.logger == nil || !c.cfg.logger.Enabled(ctx, slog.LevelDebug) {
		return
	}
	c.cfg.logger.LogAttrs(ctx, slog.LevelDebug, msg, attrs...)
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

// get is the one request path: it sends GET base+escapedPath?rawQuery with
// authentication, retries and the size limit, and returns the body of a 2xx
// response. Any other status is an *APIError.
func (c *Client) get(ctx context.Context, escapedPath, rawQuery string) (*response, error) {
	u := c.endpointURL(escapedPath, rawQuery)
	hreq, err := http.NewRequestWithContext(ctx, http.MethodGet, u.String(), nil)
	if err != nil {
		return nil, fmt.Errorf("convo: %s: build request: %w", c.provider.Name(), err)
	}
	if err := c.pacer.wait(ctx, escapedPath); err != nil {
		return nil, fmt.Errorf("convo: %s: GET %s: %w", c.provider.Name(), escapedPath, err)
	}
	call := &call{c: c, ctx: ctx, path: escapedPath}
	if c.cfg.auth != nil {
		hreq = hreq.WithContext(context.WithValue(ctx, secretsKey{}, &call.secrets))
	}
	req := &retryablehttp.Request{Request: hreq}
	req.SetResponseHandler(call.readBody)
	rc := &retryablehttp.Client{
		HTTPClient:     c.hc,
		RetryMax:       c.cfg.maxRetries,
		RetryWaitMin:   c.cfg.waitMin,
		RetryWaitMax:   c.cfg.waitMax,
		CheckRetry:     call.checkRetry,
		Backoff:        call.backoff,
		ErrorHandler:   passThrough,
		RequestLogHook: call.startAttempt,
	}
	resp, err := rc.Do(req)
	if err != nil {
		call.releaseBody()
		if ctxErr := ctx.Err(); ctxErr != nil && !errors.Is(err, ctxErr) {
			err = fmt.Errorf("%w (%v)", ctxErr, err)
		}
		return nil, fmt.Errorf("convo: %s: GET %s: %w", c.provider.Name(), escapedPath, err)
	}
	rateLimit, remainingOK := readRateLimit(resp.Header)
	if remainingOK {
		c.pacer.observe(escapedPath, rateLimit)
	}
	if call.buf == nil { // a retryable status whose retries ran out: the body is still unread
		if rerr := call.readBody(resp); rerr != nil && call.buf == nil {
			call.buf = getBuffer()
		}
	}
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		apiErr := newAPIError(c.provider.Name(), http.MethodGet, escapedPath, resp.StatusCode, resp.Header, call.buf.Bytes())
		call.secrets.redact(apiErr) // a server may echo the credential it refused
		call.releaseBody()
		return nil, apiErr
	}
	return &response{status: resp.StatusCode, header: resp.Header, rateLimit: rateLimit, buf: call.buf, secrets: call.secrets}, nil
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

// call is the state of one logical request across its attempts.
type call struct {
	c         *Client
	ctx       context.Context
	path      string
	attempt   int
	inHandler bool          // the response handler ran for this attempt
	nextWait  time.Duration // decided by checkRetry, returned by backoff
	buf       *bytes.Buffer // body of the latest attempt
	secrets   secretSet     // credentials the attempts sent, recorded by authTransport
}

func (a *call) startAttempt(_ retryablehttp.Logger, _ *http.Request, retry int) {
	a.attempt = retry + 1
	a.inHandler = false
}

func (a *call) releaseBody() {
	if a.buf != nil {
		putBuffer(a.buf)
		a.buf = nil
	}
}

// readBody reads the whole body through the size limit inside the retry
// loop, so that a body cut off mid-stream is retried like a failed
// connection. Error bodies are kept up to maxErrorBody.
func (a *call) readBody(resp *http.Response) error {
	a.inHandler = true
	defer resp.Body.Close()
	a.releaseBody()
	limit := a.c.cfg.maxBytes
	isErr := resp.StatusCode < 200 || resp.StatusCode > 299
	if isErr {
		limit = min(limit, maxErrorBody)
	} else if resp.ContentLength > limit {
		return fmt.Errorf("%w: Content-Length %d exceeds the limit of %d bytes", ErrResponseTooLarge, resp.ContentLength, limit)
	}
	buf := getBuffer()
	if resp.ContentLength > 0 && resp.ContentLength <= limit {
		buf.Grow(int(resp.ContentLength))
	}
	n, err := buf.ReadFrom(io.LimitReader(resp.Body, limit+1))
	if n > limit {
		if isErr { // keep the start of an oversized error body
			buf.Truncate(int(limit))
			a.buf = buf
			return nil
		}
		putBuffer(buf)
		return fmt.Errorf("%w: body exceeds the limit of %d bytes", ErrResponseTooLarge, limit)
	}
	if err != nil {
		putBuffer(buf)
		return fmt.Errorf("read response body: %w", err)
	}
	a.buf = buf
	return nil
}

// checkRetry decides whether an attempt is retried and how long to wait
// first, and logs the attempt.
func (a *call) checkRetry(ctx context.Context, resp *http.Response, err error) (bool, error) {
	if ctx.Err() != nil {
		return false, ctx.Err()
	}
	retry, wait := a.decide(resp, err)
	if retry && a.attempt > a.c.cfg.maxRetries {
		retry, wait = false, 0
	}
	if resp != nil && err == nil && !retry && !a.inHandler {
		return false, nil // the body is read next; the attempt is logged after that
	}
	a.nextWait = wait
	if a.c.cfg.logger != nil {
		attrs := []slog.Attr{
			slog.String("provider", a.c.provider.Name()),
			slog.String("method", http.MethodGet),
			slog.String("path", a.path),
			slog.Int("attempt", a.attempt),
		}
		if resp != nil {
			attrs = append(attrs, slog.Int("status", resp.StatusCode))
		}
		if err != nil {
			attrs = append(attrs, slog.String("error", logError(err)))
		}
		if retry {
			attrs = append(attrs, slog.Duration("wait", wait))
		}
		a.c.debug(ctx, "convo: attempt", attrs...)
	}
	return retry, nil
}

func (a *call) decide(resp *http.Response, err error) (retry bool, wait time.Duration) {
	if err != nil {
		if !retryableError(err) {
			return false, 0
		}
		return true, backoff(a.c.cfg.waitMin, a.c.cfg.waitMax, a.attempt)
	}
	switch resp.StatusCode {
	case http.StatusTooManyRequests, http.StatusInternalServerError, http.StatusBadGateway,
		http.StatusServiceUnavailable, http.StatusGatewayTimeout:
	default:
		return false, 0
	}
	if d, ok := parseRetryAfter(resp.Header.Get("Retry-After"), time.Now()); ok {
		if d > a.c.cfg.waitMax {
			return false, 0 // not slept through: the caller gets the error with RetryAfter
		}
		return true, d
	}
	return true, backoff(a.c.cfg.waitMin, a.c.cfg.waitMax, a.attempt)
}

func (a *call) backoff(_, _ time.Duration, _ int, _ *http.Response) time.Duration { return a.nextWait }

// backoff is exponential from min, capped at max, with jitter over the upper
// half so that many clients do not retry in lockstep.
func backoff(min, max time.Duration, attempt int) time.Duration {
	if max <= 0 {
		return 0
	}
	d := min
	for i := 1; i < attempt && d < max; i++ {
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
