package convo

import (
	"errors"
	"net/http"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestOptionsInvalid(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name     string
		provider Provider
		opts     []Option
		naming   string // the option the error names
		option   string // OptionError.Option
	}{
		{"unparsable base URL", Vobiz, []Option{WithBaseURL("://no-scheme")}, "WithBaseURL", "WithBaseURL"},
		{"relative base URL", Vobiz, []Option{WithBaseURL("/api/v1")}, "WithBaseURL", "WithBaseURL"},
		{"base URL without scheme", Vobiz, []Option{WithBaseURL("api.vobiz.ai/api/v1")}, "WithBaseURL", "WithBaseURL"},
		{"empty base URL", Vobiz, []Option{WithBaseURL("")}, "WithBaseURL", "WithBaseURL"},
		{"ftp base URL", Vobiz, []Option{WithBaseURL("ftp://api.vobiz.ai/")}, "WithBaseURL", "WithBaseURL"},
		{"base URL without host", Vobiz, []Option{WithBaseURL("https:///v1")}, "WithBaseURL", "WithBaseURL"},
		{"base URL with userinfo", VantaxAI, []Option{WithBaseURL("https://user:hunter2@api.vantaxai.com/v1")}, "WithBaseURL", "WithBaseURL"},
		{"base URL with query", VantaxAI, []Option{WithBaseURL("https://api.vantaxai.com/v1?key=1")}, "WithBaseURL", "WithBaseURL"},
		{"base URL with fragment", VantaxAI, []Option{WithBaseURL("https://api.vantaxai.com/v1#top")}, "WithBaseURL", "WithBaseURL"},
		{"negative retries", Rentalot, []Option{WithMaxRetries(-1)}, "WithMaxRetries", "WithMaxRetries"},
		{"min wait above max", Rentalot, []Option{WithRetryWait(2*time.Second, time.Second)}, "WithRetryWait", "WithRetryWait"},
		{"negative wait", Rentalot, []Option{WithRetryWait(-time.Second, time.Second)}, "WithRetryWait", "WithRetryWait"},
		{"negative prefetch", AgentMessage, []Option{WithPrefetch(-1)}, "WithPrefetch", "WithPrefetch"},
		{"zero max bytes", AgentMessage, []Option{WithMaxResponseBytes(0)}, "WithMaxResponseBytes", "WithMaxResponseBytes"},
		{"negative max bytes", AgentMessage, []Option{WithMaxResponseBytes(-1)}, "WithMaxResponseBytes", "WithMaxResponseBytes"},
		{"nil auth", AgentMessage, []Option{WithAuth(nil)}, "WithAuth", "WithAuth"},
		{"nil http client", AgentMessage, []Option{WithHTTPClient(nil)}, "WithHTTPClient", "WithHTTPClient"},
		{"user agent with a line break", Vobiz, []Option{WithUserAgent("app/1\r\nX-Evil: 1")}, "WithUserAgent", "WithUserAgent"},
		{"zero timeout", Vobiz, []Option{WithTimeout(0)}, "WithTimeout", "WithTimeout"},
		{"zero Provider", Provider{}, nil, "Provider", ""},
		{"zero Provider with options", Provider{}, []Option{WithBaseURL("https://example.com")}, "Provider", ""},
		{"clear text credentials", VantaxAI, []Option{WithBaseURL("http://api.vantaxai.com/v1"), WithAuth(Bearer(testBearer))}, "WithInsecureCleartextCredentials", "WithBaseURL"},
		{"clear text credentials, auth first", Vobiz, []Option{WithAuth(XAuth(testAuthID, testAuthToken)), WithBaseURL("http://10.0.0.8/api")}, "WithInsecureCleartextCredentials", "WithBaseURL"},
		{"rate limit", Vobiz, []Option{WithRateLimit(0, 1)}, "WithRateLimit", "WithRateLimit"},
		{"negative pacing wait", Vobiz, []Option{WithMaxPacingWait(-time.Second)}, "WithMaxPacingWait", "WithMaxPacingWait"},
		{"clear text token function", Vobiz, []Option{WithAuth(BearerFunc(nil)), WithBaseURL("http://gateway.internal")}, "WithInsecureCleartextCredentials", "WithBaseURL"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := NewClient(tt.provider, tt.opts...)
			require.Error(t, err)
			assert.Nil(t, c)
			assert.ErrorIs(t, err, ErrInvalidOption)
			assert.Contains(t, err.Error(), tt.naming, "the error names the option")
			var oe *OptionError
			require.ErrorAs(t, err, &oe, "the option is named for errors.As too")
			assert.Equal(t, tt.option, oe.Option)
			assert.True(t, strings.HasPrefix(err.Error(), "convo: invalid option: "), err.Error())
			assert.NotContains(t, err.Error(), "hunter2", "no credential in the error")
			assertNoCredential(t, err.Error())
		})
	}
}

// TestOptionsNoCredentials: a client without WithAuth or WithoutAuth is
// refused, the error naming WithAuth for errors.As.
func TestOptionsNoCredentials(t *testing.T) {
	t.Parallel()
	_, err := NewClient(Vobiz)
	require.ErrorIs(t, err, ErrInvalidOption)
	var oe *OptionError
	require.ErrorAs(t, err, &oe)
	assert.Equal(t, "WithAuth", oe.Option)
	assert.Contains(t, err.Error(), "NewClient: no credentials")
}

func TestOptionsCleartextAllowed(t *testing.T) {
	t.Parallel()
	auth := WithAuth(Bearer(testBearer))
	tests := []struct {
		name string
		opts []Option
	}{
		{"opt in", []Option{WithBaseURL("http://api.vantaxai.com/v1"), auth, WithInsecureCleartextCredentials()}},
		{"opt in first", []Option{WithInsecureCleartextCredentials(), auth, WithBaseURL("http://10.1.2.3:8080/v1")}},
		{"no credentials", []Option{WithBaseURL("http://api.vantaxai.com/v1"), WithoutAuth()}},
		{"127.0.0.1", []Option{WithBaseURL("http://127.0.0.1:8080/v1"), auth}},
		{"127.8.9.10", []Option{WithBaseURL("http://127.8.9.10/v1"), auth}},
		{"localhost", []Option{WithBaseURL("http://localhost:9999/v1"), auth}},
		{"LOCALHOST", []Option{WithBaseURL("http://LOCALHOST/v1"), auth}},
		{"sub.localhost", []Option{WithBaseURL("http://api.localhost/v1"), auth}},
		{"::1", []Option{WithBaseURL("http://[::1]:8080/v1"), auth}},
		{"https", []Option{WithBaseURL("https://api.vantaxai.com/v1"), auth}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := NewClient(VantaxAI, tt.opts...)
			require.NoError(t, err)
			assert.NotNil(t, c)
		})
	}
}

// TestCleartextCredentials: the exported check is NewClient's own rule,
// URL by URL.
func TestCleartextCredentials(t *testing.T) {
	t.Parallel()
	tests := []struct {
		url       string
		cleartext bool
		host      string
	}{
		{"http://api.vantaxai.com/v1", true, "api.vantaxai.com"},
		{"HTTP://API.example.com:8080/v1", true, "API.example.com:8080"},
		{"http://10.0.0.8/api", true, "10.0.0.8"},
		{"http://localhost.example.com/", true, "localhost.example.com"},
		{"https://api.vantaxai.com/v1", false, "api.vantaxai.com"},
		{"http://127.0.0.1:8080/v1", false, "127.0.0.1:8080"},
		{"http://localhost:9999/v1", false, "localhost:9999"},
		{"http://api.localhost/v1", false, "api.localhost"},
		{"http://[::1]:8080/v1", false, "[::1]:8080"},
		{"://no-scheme", false, ""},
	}
	for _, tt := range tests {
		t.Run(tt.url, func(t *testing.T) {
			host, cleartext := CleartextCredentials(tt.url)
			assert.Equal(t, tt.cleartext, cleartext)
			assert.Equal(t, tt.host, host)
			_, err := NewClient(VantaxAI, WithAuth(Bearer(testBearer)), WithBaseURL(tt.url))
			refused := err != nil && strings.Contains(err.Error(), "clear text")
			assert.Equal(t, cleartext, refused, "NewClient follows the same rule: %v", err)
		})
	}
}

func TestOptionsBaseURL(t *testing.T) {
	t.Parallel()
	want := map[Provider]string{
		Vobiz:        "https://api.vobiz.ai/api/v1/messaging",
		VantaxAI:     "https://api.vantaxai.com/v1",
		Rentalot:     "https://rentalot.ai/api/v1",
		AgentMessage: "https://api.agentmsg.io/v1",
	}
	names := map[Provider]string{Vobiz: "vobiz", VantaxAI: "vantaxai", Rentalot: "rentalot", AgentMessage: "agentmessage"}
	for p, base := range want {
		c, err := NewClient(p, WithoutAuth())
		require.NoError(t, err)
		assert.Equal(t, base, c.BaseURL(), "the documented base URL is the default")
		assert.Equal(t, base, p.DefaultBaseURL())
		assert.Equal(t, names[p], p.Name())
		assert.Equal(t, p, c.Provider())
		got, ok := ProviderByName(strings.ToUpper(names[p]))
		assert.True(t, ok)
		assert.Equal(t, p, got)
	}
	assert.Len(t, Providers(), 4)
	assert.Equal(t, "", Provider{}.Name())

	c, err := NewClient(Rentalot, WithoutAuth(), WithBaseURL("https://first.example/api"), WithBaseURL("https://eu.rentalot.ai/api/v1/"))
	require.NoError(t, err)
	assert.Equal(t, "https://eu.rentalot.ai/api/v1", c.BaseURL(), "the last option wins; trailing slash dropped")

	c, err = NewClient(Rentalot, nil, WithoutAuth(), WithMaxRetries(1))
	require.NoError(t, err, "a nil Option is ignored")
	assert.NotNil(t, c)
}

func TestOptionsSupports(t *testing.T) {
	t.Parallel()
	ops := []Operation{OpListConversations, OpGetConversation, OpListMessages, OpSearchMessages}
	assert.Equal(t, ops, Operations())
	want := map[Provider][]bool{
		Vobiz:        {true, false, true, false},
		VantaxAI:     {true, true, true, false},
		Rentalot:     {true, true, true, true},
		AgentMessage: {true, false, true, false},
	}
	for p, w := range want {
		for i, op := range ops {
			assert.Equal(t, w[i], p.Supports(op), "%s %s", p.Name(), op)
		}
		assert.PanicsWithValue(t, `convo: Provider.Supports: unknown operation "messages.send" (want one of [conversations.list conversations.get messages.list search.messages])`,
			func() { p.Supports("messages.send") }, "an unknown operation is no quiet false")
	}
	for _, op := range ops {
		assert.False(t, Provider{}.Supports(op), "the zero Provider supports nothing")
		got, err := ParseOperation(string(op))
		require.NoError(t, err)
		assert.Equal(t, op, got)
	}
	_, err := ParseOperation("messages.send")
	assert.ErrorIs(t, err, ErrInvalidParams)
	assert.Contains(t, err.Error(), `unknown operation "messages.send"`)
}

func TestOptionsDefaults(t *testing.T) {
	t.Parallel()
	c, err := NewClient(Vobiz, WithoutAuth())
	require.NoError(t, err)
	assert.Equal(t, DefaultMaxRetries, c.cfg.maxRetries)
	assert.Equal(t, DefaultRetryWaitMin, c.cfg.waitMin)
	assert.Equal(t, DefaultRetryWaitMax, c.cfg.waitMax)
	assert.Equal(t, DefaultMaxResponseBytes, c.cfg.maxBytes)
	assert.Equal(t, DefaultTimeout, c.hc.Timeout)
	assert.Zero(t, c.cfg.prefetch)
	assert.Nil(t, c.cfg.logger)
	assert.Equal(t, 3, DefaultMaxRetries, "API.md: default 3")
	assert.LessOrEqual(t, DefaultMaxResponseBytes, int64(64<<20), "API.md: default ≤ 64 MiB")
}

// TestOptionsDefaultWaits checks the documented default waits are the ones
// used: the first backoff is DefaultRetryWaitMin, and a Retry-After beyond
// DefaultRetryWaitMax is not slept through.
func TestOptionsDefaultWaits(t *testing.T) {
	t.Parallel()
	t.Run("min", func(t *testing.T) {
		logger, logs := newTestLogger()
		c, srv := scriptedServer(t, Rentalot, func(n int, w http.ResponseWriter, r *http.Request) {
			if n == 1 {
				writeJSON(w, http.StatusServiceUnavailable, []byte(`{"error":{"code":"unavailable","message":"later"}}`))
				return
			}
			writeJSON(w, http.StatusOK, []byte(`{"data":{"id":"r1"}}`))
		}, WithLogger(logger), WithRetryWait(DefaultRetryWaitMin, DefaultRetryWaitMax))
		start := time.Now()
		_, err := c.Conversations.Get(testContext(t), "r1")
		require.NoError(t, err)
		assert.GreaterOrEqual(t, time.Since(start), DefaultRetryWaitMin-50*time.Millisecond)
		assert.Equal(t, 2, srv.Requests())
		recs := parseLog(t, logs)
		require.NotEmpty(t, recs)
		require.NotNil(t, recs[0].Wait)
		assert.Equal(t, DefaultRetryWaitMin, time.Duration(*recs[0].Wait), "the first backoff")
	})
	t.Run("max", func(t *testing.T) {
		srv := newRawServer(t, func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Retry-After", strconv.Itoa(int(DefaultRetryWaitMax/time.Second)+1))
			writeJSON(w, http.StatusTooManyRequests, []byte(`{"error":{"code":"rate_limited","message":"slow down"}}`))
		})
		c, err := NewClient(Rentalot, WithBaseURL(srv.URL), WithAuth(Bearer(testBearer)))
		require.NoError(t, err)
		start := time.Now()
		_, err = c.Conversations.Get(testContext(t), "r1")
		assert.Less(t, time.Since(start), 5*time.Second)
		var apiErr *APIError
		require.True(t, errors.As(err, &apiErr), "%v", err)
		assert.Equal(t, DefaultRetryWaitMax+time.Second, apiErr.RetryAfter)
		assert.Equal(t, 1, srv.Requests())
	})
}

// TestOptionsDefaultMaxResponseBytes checks the default limit applies: a
// declared length one byte over it is refused without reading the body.
func TestOptionsDefaultMaxResponseBytes(t *testing.T) {
	t.Parallel()
	srv := newRawServer(t, func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.Header().Set("Content-Length", strconv.FormatInt(DefaultMaxResponseBytes+1, 10))
		w.WriteHeader(http.StatusOK)
		_, _ = w.Write([]byte(`{"data":[`))
	})
	c, err := NewClient(Rentalot, WithoutAuth(), WithBaseURL(srv.URL), WithRetryWait(time.Millisecond, 10*time.Millisecond))
	require.NoError(t, err)
	_, err = firstPage(c.Conversations.List(testContext(t), nil))
	require.Error(t, err)
	assert.ErrorIs(t, err, ErrResponseTooLarge)
	assert.Equal(t, 1, srv.Requests(), "not retried")
}

func TestOptionsMaxResponseBytes(t *testing.T) {
	t.Parallel()
	const limit = 200
	body := func(n int) []byte { // a valid Rentalot page of exactly n bytes
		b := []byte(`{"data":[{"id":"r1"}],"pagination":{"page":1,"limit":20}}`)
		return append(b, []byte(strings.Repeat(" ", n-len(b)))...)
	}
	tests := []struct {
		name    string
		size    int
		chunked bool
		wantErr bool
	}{
		{"at the limit", limit, false, false},
		{"at the limit, chunked", limit, true, false},
		{"one byte over", limit + 1, false, true},
		{"one byte over, chunked", limit + 1, true, true},
		{"far over, chunked", 1 << 20, true, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, mux, srv := setup(t, Rentalot, WithMaxResponseBytes(limit))
			mux.HandleFunc("GET /conversations", func(w http.ResponseWriter, r *http.Request) {
				w.Header().Set("Content-Type", "application/json")
				b := body(tt.size)
				if tt.chunked {
					_, _ = w.Write(b[:10])
					w.(http.Flusher).Flush()
					_, _ = w.Write(b[10:])
					return
				}
				w.Header().Set("Content-Length", strconv.Itoa(len(b)))
				_, _ = w.Write(b)
			})
			items, err := drain(c.Conversations.List(testContext(t), nil), 10)
			if !tt.wantErr {
				require.NoError(t, err)
				assert.Len(t, items, 1)
				return
			}
			require.Error(t, err)
			assert.ErrorIs(t, err, ErrResponseTooLarge)
			assert.Contains(t, err.Error(), strconv.Itoa(limit))
			assert.Equal(t, 1, srv.Requests(), "not retried")
		})
	}

	t.Run("error body over the limit is still an APIError", func(t *testing.T) {
		c, mux, _ := setup(t, Rentalot, WithMaxResponseBytes(limit), WithMaxRetries(0))
		mux.HandleFunc("GET /conversations", func(w http.ResponseWriter, r *http.Request) {
			writeJSON(w, http.StatusBadRequest, []byte(`{"error":{"code":"bad","message":"`+strings.Repeat("x", 1000)+`"}}`))
		})
		_, err := firstPage(c.Conversations.List(testContext(t), nil))
		var apiErr *APIError
		require.True(t, errors.As(err, &apiErr), "%v", err)
		assert.Equal(t, http.StatusBadRequest, apiErr.StatusCode)
		assert.LessOrEqual(t, len(apiErr.Body), limit)
	})
}

// countingTransport counts the requests it carries and records the last.
type countingTransport struct {
	n    atomic.Int64
	last atomic.Pointer[http.Request]
}

func (c *countingTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	c.n.Add(1)
	c.last.Store(r)
	return http.DefaultTransport.RoundTrip(r)
}

func TestOptionsHTTPClientNotMutated(t *testing.T) {
	t.Parallel()
	srv := newRawServer(t, func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, http.StatusOK, []byte(`{"success":true,"data":{"id":"conv_1"}}`))
	})
	tr := &countingTransport{}
	hc := &http.Client{Transport: tr}
	c, err := NewClient(VantaxAI, WithHTTPClient(hc), WithBaseURL(srv.URL+"/v1"), WithAuth(Bearer(testBearer)),
		WithUserAgent("app/1"))
	require.NoError(t, err)
	_, err = c.Conversations.Get(testContext(t), "conv_1")
	require.NoError(t, err)

	assert.Same(t, tr, hc.Transport, "Transport untouched")
	assert.Zero(t, hc.Timeout, "Timeout untouched")
	assert.Nil(t, hc.CheckRedirect, "CheckRedirect untouched")
	assert.Nil(t, hc.Jar)
	assert.NotSame(t, hc, c.hc, "the client works on a copy")

	assert.Equal(t, int64(1), tr.n.Load(), "requests go through the caller's transport")
	last := tr.last.Load()
	require.NotNil(t, last)
	testHeader(t, last, "Authorization", "Bearer "+testBearer)
	testHeader(t, last, "User-Agent", "convo/"+Version+" app/1")
	assert.Equal(t, 1, srv.Requests())
}

func TestOptionsHTTPClientTimeoutKept(t *testing.T) {
	t.Parallel()
	hc := &http.Client{Timeout: 7 * time.Second}
	c, err := NewClient(Vobiz, WithoutAuth(), WithHTTPClient(hc))
	require.NoError(t, err)
	assert.Equal(t, 7*time.Second, c.hc.Timeout, "the caller's timeout bounds each attempt")
	assert.Equal(t, 7*time.Second, hc.Timeout)

	c, err = NewClient(Vobiz, WithoutAuth(), WithHTTPClient(hc), WithTimeout(time.Second))
	require.NoError(t, err)
	assert.Equal(t, time.Second, c.hc.Timeout, "WithTimeout wins")
	assert.Equal(t, 7*time.Second, hc.Timeout)
}

func TestOptionsUserAgent(t *testing.T) {
	t.Parallel()
	tests := []struct {
		opts []Option
		want string
	}{
		{nil, "convo/" + Version},
		{[]Option{WithUserAgent("")}, "convo/" + Version},
		{[]Option{WithUserAgent("  acme/3.0 (ops@acme.test)  ")}, "convo/" + Version + " acme/3.0 (ops@acme.test)"},
	}
	for _, tt := range tests {
		t.Run(tt.want, func(t *testing.T) {
			c, mux, _ := setup(t, Rentalot, tt.opts...)
			var got string
			mux.HandleFunc("GET /conversations/{id}", func(w http.ResponseWriter, r *http.Request) {
				got = r.Header.Get("User-Agent")
				writeJSON(w, http.StatusOK, []byte(`{"data":{"id":"r1"}}`))
			})
			_, err := c.Conversations.Get(testContext(t), "r1")
			require.NoError(t, err)
			assert.Equal(t, tt.want, got)
		})
	}
	assert.Regexp(t, `^\d+\.\d+\.\d+`, Version)
}
