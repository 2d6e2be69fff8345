package convo

import (
	"fmt"
	"net"
	"net/http"
	"net/url"
	"strings"
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

// NewClient returns a client of provider p configured by opts. It returns an
// error for an unknown provider or an invalid option: an unparsable or
// relative base URL, a negative retry count, a minimum wait above the
// maximum, a negative prefetch, a non-positive size limit, or credentials
// that would travel in clear text.
func NewClient(p Provider, opts ...Option) (*Client, error) {
	if p.d == nil {
		return nil, &OptionError{msg: "NewClient: zero Provider (use " + providerList(func(p Provider) string { return "convo." + p.Title() }) + ")"}
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
		return nil, &OptionError{Option: "WithAuth", msg: "NewClient: no credentials: pass WithAuth (XAuth, Bearer or BearerFunc), or WithoutAuth for a server that needs none"}
	}
	if cfg.auth != nil && cleartext(base) && !cfg.insecureCleartext {
		return nil, invalidOption("WithBaseURL", "refusing to send credentials in clear text to %s (use https, or WithInsecureCleartextCredentials)", base.Host)
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
		return nil, invalidOption("WithBaseURL", "unparsable base URL: %v", withoutURL(err))
	}
	switch {
	case u.Scheme != "http" && u.Scheme != "https":
		return nil, invalidOption("WithBaseURL", "base URL must be absolute with scheme http or https, got %q", displayURL(u))
	case u.Host == "":
		return nil, invalidOption("WithBaseURL", "base URL has no host: %q", displayURL(u))
	case u.User != nil:
		return nil, invalidOption("WithBaseURL", "base URL must not carry user information; use WithAuth")
	case u.RawQuery != "" || u.Fragment != "" || u.ForceQuery:
		return nil, invalidOption("WithBaseURL", "base URL %q must not have a query or fragment", displayURL(u))
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

// CleartextCredentials reports whether credentials sent to baseURL would
// travel in clear text (http://) to a host that is not loopback, which
// [NewClient] refuses unless [WithInsecureCleartextCredentials] is given, and
// returns the URL's host (with its port) to name in a message. A URL that
// does not parse reports false: NewClient says what is wrong with it.
//
// It lets a caller that sets the base URL from its own input refuse it
// early, in its own terms (a command names its flag), by the same rule.
func CleartextCredentials(baseURL string) (host string, ok bool) {
	u, err := url.Parse(baseURL)
	if err != nil {
		return "", false
	}
	return u.Host, cleartext(u)
}

// cleartext is the one rule: an http:// URL of a host that is not loopback.
func cleartext(u *url.URL) bool { return u.Scheme == "http" && !isLoopback(u.Hostname()) }

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
