package convo_test

// Credentials go only to the configured origin, never in clear text to a
// remote host, never into a formatted value, an error or a log line; ids
// reach the server as exactly one path segment.

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/convokit/convo"
	"github.com/convokit/convo/convotest"
)

// Recognisable secrets: each holds "s3cr3t", so a partial print is caught too.
const (
	hwSecretAuthID    = "MA_S3CR3T01"
	hwSecretAuthToken = "xauth-s3cr3t-token-42"
	hwSecretBearer    = "vx_live_s3cr3t_bearer_77"
	hwSecretJWT       = "eyJhbGciOiJIUzI1NiJ9.s3cr3t-jwt-claims.c2ln"
)

var hwSecrets = []string{hwSecretAuthID, hwSecretAuthToken, hwSecretBearer, hwSecretJWT, "s3cr3t"}

// hwAssertNoSecret fails if s holds any secret, in any letter case.
func hwAssertNoSecret(t *testing.T, what, s string) {
	t.Helper()
	lower := strings.ToLower(s)
	for _, secret := range hwSecrets {
		if strings.Contains(lower, strings.ToLower(secret)) {
			t.Errorf("%s reveals a credential (%q) in %q", what, secret, s)
		}
	}
}

// hwAuthCase is one kind of credential with the headers it must produce.
type hwAuthCase struct {
	name  string
	auth  convo.Authenticator
	want  map[string]string
	calls *atomic.Int64 // BearerFunc calls, nil for the others
}

func hwAuthCases() []hwAuthCase {
	calls := new(atomic.Int64)
	return []hwAuthCase{
		{
			name: "xauth",
			auth: convo.XAuth(hwSecretAuthID, hwSecretAuthToken),
			want: map[string]string{"X-Auth-Id": hwSecretAuthID, "X-Auth-Token": hwSecretAuthToken},
		},
		{
			name: "bearer",
			auth: convo.Bearer(hwSecretBearer),
			want: map[string]string{"Authorization": "Bearer " + hwSecretBearer},
		},
		{
			name: "bearerfunc",
			auth: convo.BearerFunc(func(ctx context.Context) (string, error) {
				calls.Add(1)
				return hwSecretJWT, nil
			}),
			want:  map[string]string{"Authorization": "Bearer " + hwSecretJWT},
			calls: calls,
		},
	}
}

// hwHop is one request as seen by a server or a transport.
type hwHop struct {
	url   string
	creds map[string]string
}

// hwHops records requests safely from several goroutines.
type hwHops struct {
	mu   sync.Mutex
	hops []hwHop
}

func (h *hwHops) add(u string, header http.Header) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.hops = append(h.hops, hwHop{url: u, creds: hwCreds(header)})
}

func (h *hwHops) all() []hwHop {
	h.mu.Lock()
	defer h.mu.Unlock()
	return append([]hwHop(nil), h.hops...)
}

// hwListVobiz lists conversations with a Vobiz client of opts, which must
// succeed: one walk whose requests a test then inspects.
func hwListVobiz(t *testing.T, opts ...convo.Option) {
	t.Helper()
	c, err := convo.NewClient(convo.Vobiz, opts...)
	require.NoError(t, err)
	_, err = hwAll(c.Conversations.List(context.Background(), nil).All(), hwConvID, 10)
	require.NoError(t, err)
}

// ---- credentials stay home --------------------------------------------------

// TestSecurityRedirectCarriesNoCredentials: a 301/302/307/308 from the API
// to another port, another host or another scheme carries no credential
// header, on the wire, for XAuth, Bearer and BearerFunc.
func TestSecurityRedirectCarriesNoCredentials(t *testing.T) {
	t.Parallel()
	emptyPage := hwStallPage(convo.Vobiz, nil, hwCont{})
	var apiHops, landingHops hwHops
	landing := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		scheme := "http"
		if r.TLS != nil {
			scheme = "https"
		}
		landingHops.add(scheme+"://"+r.Host+r.URL.String(), r.Header)
		hwWrite(w, http.StatusOK, emptyPage)
	})
	// The API answers /redirect/{status}/{escaped target}/conversations with
	// that redirect: the instructions ride in the base URL's path.
	api := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/landing" { // reached through another host name
			landing(w, r)
			return
		}
		apiHops.add(r.URL.String(), r.Header)
		parts := strings.Split(r.URL.EscapedPath(), "/")
		if len(parts) != 5 || parts[1] != "redirect" {
			http.NotFound(w, r)
			return
		}
		status, _ := strconv.Atoi(parts[2])
		to, _ := url.PathUnescape(parts[3])
		w.Header().Set("Location", to)
		w.WriteHeader(status)
	}))
	defer api.Close()
	other := httptest.NewServer(landing)
	defer other.Close()
	otherTLS := httptest.NewTLSServer(landing)
	defer otherTLS.Close()
	apiPort := api.URL[strings.LastIndex(api.URL, ":")+1:]

	targets := []struct{ name, url string }{
		{"another port", other.URL + "/landing"},
		{"another host", "http://localhost:" + apiPort + "/landing"},
		{"another scheme and port", otherTLS.URL + "/landing"},
	}
	for _, ac := range hwAuthCases() {
		for _, status := range []int{301, 302, 307, 308} {
			for _, target := range targets {
				t.Run(fmt.Sprintf("%s/%d/%s", ac.name, status, target.name), func(t *testing.T) {
					nAPI, nLanding := len(apiHops.all()), len(landingHops.all())
					var calls int64
					if ac.calls != nil {
						calls = ac.calls.Load()
					}
					base := api.URL + "/redirect/" + strconv.Itoa(status) + "/" + url.PathEscape(target.url)
					hwListVobiz(t, convo.WithBaseURL(base), convo.WithAuth(ac.auth),
						convo.WithHTTPClient(otherTLS.Client()), convo.WithMaxRetries(0))

					apiSeen := apiHops.all()[nAPI:]
					landSeen := landingHops.all()[nLanding:]
					require.Len(t, apiSeen, 1)
					require.Len(t, landSeen, 1, "the redirect was followed")
					assert.Equal(t, ac.want, apiSeen[0].creds, "the API itself gets the credentials")
					assert.Empty(t, landSeen[0].creds, "no credential follows a redirect to %s", landSeen[0].url)
					if ac.calls != nil {
						assert.Equal(t, calls+1, ac.calls.Load(), "no token is even asked for another origin")
					}
				})
			}
		}
	}
}

// hwTransport answers every request itself and records what it was sent:
// exactly what would go on the wire below the client's own layers.
type hwTransport struct {
	hops    hwHops
	respond func(r *http.Request) (status int, header http.Header, body string)
}

func (rt *hwTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	rt.hops.add(r.URL.String(), r.Header)
	if r.Body != nil {
		r.Body.Close()
	}
	status, header, body := rt.respond(r)
	if header == nil {
		header = http.Header{}
	}
	return &http.Response{
		StatusCode: status, Status: http.StatusText(status), Header: header,
		Body: io.NopCloser(strings.NewReader(body)), ContentLength: int64(len(body)),
		Request: r, Proto: "HTTP/1.1", ProtoMajor: 1, ProtoMinor: 1,
	}, nil
}

// TestSecurityRedirectOriginRules checks the origin rule itself through a
// recording transport: another scheme (both ways), port, host or a look-alike
// host gets no credential; the same origin (host case aside, or a relative
// Location) keeps them and the call succeeds.
func TestSecurityRedirectOriginRules(t *testing.T) {
	t.Parallel()
	emptyPage := string(hwStallPage(convo.Vobiz, nil, hwCont{}))
	cases := []struct {
		name, base, location string
		insecure             bool
		sameOrigin           bool
	}{
		{"https to http", "https://api.example.test/v1", "http://api.example.test/v1/landing", false, false},
		{"http to https", "http://api.example.test/v1", "https://api.example.test/v1/landing", true, false},
		{"another port", "https://api.example.test/v1", "https://api.example.test:8443/v1/landing", false, false},
		{"another host", "https://api.example.test/v1", "https://evil.example.test/v1/landing", false, false},
		{"look-alike host", "https://api.example.test/v1", "https://api.example.test.evil.test/v1/landing", false, false},
		{"subdomain", "https://api.example.test/v1", "https://x.api.example.test/v1/landing", false, false},
		{"user info trick", "https://api.example.test/v1", "https://api.example.test@evil.test/v1/landing", false, false},
		{"same origin, relative", "https://api.example.test/v1", "/v1/landing", false, true},
		{"same origin, host case", "https://api.example.test/v1", "https://API.Example.Test/v1/landing", false, true},
	}
	for _, ac := range hwAuthCases() {
		for _, status := range []int{301, 302, 307, 308} {
			for _, tc := range cases {
				t.Run(fmt.Sprintf("%s/%d/%s", ac.name, status, tc.name), func(t *testing.T) {
					rt := &hwTransport{respond: func(r *http.Request) (int, http.Header, string) {
						if strings.HasSuffix(r.URL.Path, "/landing") {
							return http.StatusOK, nil, emptyPage
						}
						return status, http.Header{"Location": {tc.location}}, ""
					}}
					opts := []convo.Option{convo.WithBaseURL(tc.base), convo.WithAuth(ac.auth),
						convo.WithHTTPClient(&http.Client{Transport: rt}), convo.WithMaxRetries(0)}
					if tc.insecure {
						opts = append(opts, convo.WithInsecureCleartextCredentials())
					}
					hwListVobiz(t, opts...)

					hops := rt.hops.all()
					require.Len(t, hops, 2)
					assert.Equal(t, ac.want, hops[0].creds)
					if tc.sameOrigin {
						assert.Equal(t, ac.want, hops[1].creds, "a same-origin redirect keeps working")
					} else {
						assert.Empty(t, hops[1].creds, "credentials followed a redirect to %s", hops[1].url)
					}
				})
			}
		}
	}
}

// TestSecuritySameOriginRedirectOnTheWire: a real same-origin redirect is
// followed with the credentials and the call succeeds.
func TestSecuritySameOriginRedirectOnTheWire(t *testing.T) {
	t.Parallel()
	fake := hwFake(t, convo.Vobiz, 3)
	want := hwListed(t, fake)
	var hops hwHops
	srv := hwServe(t, fake, func(w http.ResponseWriter, r hwRequest) {
		hops.add(r.URL.String(), r.Header)
		if strings.HasPrefix(r.URL.Path, "/old/") {
			http.Redirect(w, r.Request, strings.TrimPrefix(r.URL.RequestURI(), "/old"), http.StatusPermanentRedirect)
			return
		}
		r.pass(w)
	})
	for _, ac := range hwAuthCases() {
		t.Run(ac.name, func(t *testing.T) {
			n := len(hops.all())
			c := srv.client(t, convo.WithBaseURL(srv.baseURL("/old")), convo.WithAuth(ac.auth))
			ids, err := hwAll(c.Messages.List(context.Background(), hwConv, nil).All(), hwMsgID, 10)
			require.NoError(t, err)
			assert.Equal(t, want, ids)
			seen := hops.all()[n:]
			require.Len(t, seen, 2)
			assert.True(t, strings.HasPrefix(seen[0].url, "/old"+srv.basePath+"/conversations/"))
			assert.True(t, strings.HasPrefix(seen[1].url, srv.basePath+"/conversations/"), "the redirect was followed")
			assert.Equal(t, ac.want, seen[0].creds)
			assert.Equal(t, ac.want, seen[1].creds)
		})
	}
}

// TestSecurityCleartextCredentials: NewClient refuses credentials over plain
// http to a host that is not loopback unless the caller opts in; loopback
// and https are always allowed, and without credentials nothing is at risk.
func TestSecurityCleartextCredentials(t *testing.T) {
	t.Parallel()
	cases := []struct {
		base    string
		auth    bool
		optIn   bool
		allowed bool
	}{
		{"http://api.example.com/v1", true, false, false},
		{"http://10.0.0.7:8080", true, false, false},
		{"http://localhost.evil.test", true, false, false},
		{"http://localhost.evil.com:8080", true, false, false},
		{"http://evillocalhost", true, false, false},
		{"http://evillocalhost:1234/api", true, false, false},
		{"http://evil-localhost", true, false, false},
		{"http://localhost-evil.test", true, false, false},
		{"http://localhostx", true, false, false},
		{"http://127.0.0.1.evil.test", true, false, false},
		{"http://0x7f000001", true, false, false},
		{"http://[::ffff:10.0.0.1]", true, false, false},
		{"http://127.0.0.1.nip.io", true, false, false},
		{"http://[2001:db8::1]:80", true, false, false},
		{"http://api.example.com/v1", true, true, true},
		{"http://api.example.com/v1", false, false, true},
		{"https://api.example.com/v1", true, false, true},
		{"http://127.0.0.1:8080", true, false, true},
		{"http://127.9.9.9", true, false, true},
		{"http://localhost:1234/api", true, false, true},
		{"http://LOCALHOST", true, false, true},
		{"http://app.localhost", true, false, true},
		{"http://a.b.localhost:9", true, false, true},
		{"http://[::ffff:127.0.0.1]", true, false, true},
		{"http://[::1]:9000", true, false, true},
	}
	for _, tc := range cases {
		for _, ac := range hwAuthCases() {
			if !tc.auth && ac.name != "xauth" {
				continue
			}
			t.Run(fmt.Sprintf("%s/auth=%v/optin=%v/%s", tc.base, tc.auth, tc.optIn, ac.name), func(t *testing.T) {
				opts := []convo.Option{convo.WithBaseURL(tc.base)}
				if tc.optIn { // before the base URL: order must not matter
					opts = append([]convo.Option{convo.WithInsecureCleartextCredentials()}, opts...)
				}
				if tc.auth {
					opts = append(opts, convo.WithAuth(ac.auth))
				} else {
					opts = append(opts, convo.WithoutAuth())
				}
				c, err := convo.NewClient(convo.Vobiz, opts...)
				if tc.allowed {
					require.NoError(t, err)
					assert.NotNil(t, c)
					return
				}
				require.Error(t, err)
				assert.Nil(t, c)
				assert.ErrorIs(t, err, convo.ErrInvalidOption)
				assert.Contains(t, err.Error(), "clear text")
				hwAssertNoSecret(t, "NewClient error", err.Error())
			})
		}
	}

	t.Run("opted in, the credentials are sent", func(t *testing.T) {
		rt := &hwTransport{respond: func(*http.Request) (int, http.Header, string) {
			return http.StatusOK, nil, string(hwStallPage(convo.Vobiz, nil, hwCont{}))
		}}
		hwListVobiz(t, convo.WithBaseURL("http://api.example.com/v1"),
			convo.WithAuth(convo.Bearer(hwSecretBearer)), convo.WithInsecureCleartextCredentials(),
			convo.WithHTTPClient(&http.Client{Transport: rt}))
		hops := rt.hops.all()
		require.Len(t, hops, 1)
		assert.Equal(t, "Bearer "+hwSecretBearer, hops[0].creds["Authorization"])
	})

	t.Run("loopback over http on the wire", func(t *testing.T) {
		var hops hwHops
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			hops.add(r.URL.String(), r.Header)
			hwWrite(w, http.StatusOK, hwStallPage(convo.Vobiz, nil, hwCont{}))
		}))
		defer srv.Close()
		require.True(t, strings.HasPrefix(srv.URL, "http://127.0.0.1:"))
		hwListVobiz(t, convo.WithBaseURL(srv.URL), convo.WithAuth(convo.XAuth(hwSecretAuthID, hwSecretAuthToken)))
		require.Len(t, hops.all(), 1)
		assert.Equal(t, hwSecretAuthToken, hops.all()[0].creds["X-Auth-Token"])
	})
}

// ---- redaction ------------------------------------------------------------------

// hwFormats formats v with every verb a caller might log it with.
func hwFormats(v any) []string {
	return []string{
		fmt.Sprintf("%v", v), fmt.Sprintf("%+v", v), fmt.Sprintf("%#v", v), fmt.Sprintf("%s", v),
		fmt.Sprintf("%q", v), fmt.Sprint(v), fmt.Sprintf("%v", []any{v}), fmt.Sprintf("%+v", struct{ V any }{v}),
	}
}

// hwHolder is how a caller's own config struct might hold the SDK's values:
// in unexported fields, which fmt prints without calling their methods.
type hwHolder struct {
	client convo.Client
	auth   convo.Authenticator
	ptr    *convo.Client
}

// TestRedactNoSecretAnywhere builds clients with each kind of credential,
// runs successful, retried and failing calls of every kind against a
// loopback server with debug logging (JSON and text handlers), then
// formats everything it got with every verb: no credential may appear.
func TestRedactNoSecretAnywhere(t *testing.T) {
	t.Parallel()
	var retried atomic.Int64
	var gotCreds atomic.Int64
	// The first segment of the path names the scenario; the rest is the
	// fake's, which answers honestly where the scenario does.
	srv := hwServe(t, hwFake(t, convo.VantaxAI, 5), func(w http.ResponseWriter, r hwRequest) {
		if creds := hwCreds(r.Header); len(creds) > 0 {
			gotCreds.Add(1)
		}
		scenario, rest, _ := strings.Cut(strings.TrimPrefix(r.URL.Path, "/"), "/")
		r.URL.Path, r.URL.RawPath = "/"+rest, ""
		switch scenario {
		case "ok":
			r.pass(w)
		case "retry":
			switch retried.Add(1) % 3 {
			case 1:
				hwWrite(w, http.StatusServiceUnavailable, []byte(`{"success":false,"message":"busy"}`))
			case 2:
				w.Header().Set("Retry-After", "0")
				hwWrite(w, http.StatusTooManyRequests, []byte(`{"success":false,"message":"rate_limited"}`))
			default:
				r.pass(w)
			}
		case "unauthorized":
			w.Header().Set("X-Request-Id", "req_401")
			hwWrite(w, http.StatusUnauthorized, []byte(`{"status":"error","error":{"code":"INVALID_CREDENTIALS","message":"Invalid credentials","details":{"token":"not valid"}},"requestId":"req_401"}`))
		case "notfound":
			hwWrite(w, http.StatusNotFound, []byte(`{"type":"about:blank","title":"Not Found","status":404,"detail":"Conversation not found"}`))
		case "hangup":
			hwHangUp(w, nil)
		case "html":
			hwWrite(w, http.StatusOK, []byte("<html><body>"+strings.Repeat("maintenance ", 40)+"</body></html>"))
		default:
			http.NotFound(w, r.Request)
		}
	})

	handlers := map[string]func(io.Writer) slog.Handler{
		"json": func(w io.Writer) slog.Handler {
			return slog.NewJSONHandler(w, &slog.HandlerOptions{Level: slog.LevelDebug, AddSource: true})
		},
		"text": func(w io.Writer) slog.Handler {
			return slog.NewTextHandler(w, &slog.HandlerOptions{Level: slog.LevelDebug})
		},
	}
	failingFunc := convo.BearerFunc(func(ctx context.Context) (string, error) {
		return "", errors.New("token refresh failed: upstream 500")
	})

	for _, ac := range hwAuthCases() {
		for hname, newHandler := range handlers {
			t.Run(ac.name+"/"+hname, func(t *testing.T) {
				var logs bytes.Buffer
				logger := slog.New(newHandler(&logs))
				client := func(scenario string, opts ...convo.Option) *convo.Client {
					return srv.client(t, append([]convo.Option{convo.WithBaseURL(srv.baseURL("/" + scenario)),
						convo.WithAuth(ac.auth), convo.WithLogger(logger)}, opts...)...)
				}
				ctx := context.Background()
				var values []any
				var errs []error
				credsBefore := gotCreds.Load()

				ok := client("ok", convo.WithPrefetch(1))
				pager := ok.Messages.List(ctx, hwConv, &convo.MessageListParams{PageSize: 2})
				for page, err := range pager.Pages() {
					require.NoError(t, err)
					values = append(values, page, page.Items)
				}
				conv, err := ok.Conversations.Get(ctx, hwConv)
				require.NoError(t, err)
				values = append(values, conv, pager, pager.Cursor())

				ids, err := hwAll(client("retry").Messages.List(ctx, hwConv, nil).All(), hwMsgID, 10)
				require.NoError(t, err)
				require.Len(t, ids, 5)

				_, err = client("unauthorized").Conversations.Get(ctx, hwConv)
				require.ErrorIs(t, err, convo.ErrUnauthorized)
				errs = append(errs, err)
				_, err = hwAll(client("unauthorized").Messages.List(ctx, hwConv, nil).All(), hwMsgID, 10)
				require.ErrorIs(t, err, convo.ErrUnauthorized)
				errs = append(errs, err)
				_, err = client("notfound").Conversations.Get(ctx, hwConv)
				require.ErrorIs(t, err, convo.ErrNotFound)
				errs = append(errs, err)
				_, err = client("hangup", convo.WithMaxRetries(1)).Conversations.Get(ctx, hwConv)
				require.Error(t, err)
				errs = append(errs, err)
				_, err = client("html").Conversations.Get(ctx, hwConv)
				var de *convo.DecodeError
				require.ErrorAs(t, err, &de)
				errs = append(errs, err)
				cancelled, cancel := context.WithCancel(ctx)
				cancel()
				_, err = hwAll(client("ok").Messages.List(cancelled, hwConv, nil).All(), hwMsgID, 10)
				require.ErrorIs(t, err, context.Canceled)
				errs = append(errs, err)
				deadline, cancel2 := context.WithTimeout(ctx, time.Nanosecond)
				defer cancel2()
				<-deadline.Done()
				_, err = client("ok").Conversations.Get(deadline, hwConv)
				require.ErrorIs(t, err, context.DeadlineExceeded)
				errs = append(errs, err)

				_, err = client("ok", convo.WithAuth(failingFunc)).Conversations.Get(ctx, hwConv)
				var authErr *convo.AuthError
				require.ErrorAs(t, err, &authErr)
				errs = append(errs, err)

				require.Greater(t, gotCreds.Load(), credsBefore, "the secrets were in play")

				// Everything the caller can hold, formatted every way.
				values = append(values, ok, *ok, ac.auth, ok.Conversations, ok.Messages, ok.Search,
					*ok.Conversations, *ok.Messages, *ok.Search, ok.Search.Messages(ctx, &convo.SearchParams{Query: "x"}),
					hwHolder{client: *ok, auth: ac.auth, ptr: ok}, &hwHolder{client: *ok, auth: ac.auth, ptr: ok})
				for _, err := range errs {
					values = append(values, err, err.Error())
					for u := errors.Unwrap(err); u != nil; u = errors.Unwrap(u) {
						values = append(values, u)
					}
					var apiErr *convo.APIError
					if errors.As(err, &apiErr) {
						values = append(values, *apiErr, string(apiErr.Body))
					}
					if errors.As(err, &de) {
						values = append(values, *de)
					}
				}
				for i, v := range values {
					for _, s := range hwFormats(v) {
						hwAssertNoSecret(t, fmt.Sprintf("value %d (%T)", i, v), s)
					}
				}

				// A caller logging the SDK's values through slog.
				logger.Debug("caller", "client", ok, "clientValue", *ok, "auth", ac.auth, "holder", hwHolder{client: *ok, auth: ac.auth}, "err", errs[0])

				out := logs.String()
				require.Contains(t, out, "attempt", "attempts were logged")
				require.Contains(t, out, "401")
				require.Contains(t, out, "503")
				hwAssertNoSecret(t, hname+" log", out)
			})
		}
	}
}

// TestRedactNewClientErrors: NewClient's errors never echo a credential,
// wherever a caller put it by mistake.
func TestRedactNewClientErrors(t *testing.T) {
	t.Parallel()
	bases := []string{
		"https://user:s3cr3t@api.example.com/v1",
		"https://api.example.com/v1?api_key=s3cr3t",
		"https://api.example.com/v1?token=s3cr3t#frag",
		"https://api.example.com/v1#s3cr3t",
		"ftp://user:s3cr3t@api.example.com",
		"http://api.example.com/v1?key=s3cr3t",
	}
	for _, base := range bases {
		t.Run(base, func(t *testing.T) {
			_, err := convo.NewClient(convo.AgentMessage, convo.WithBaseURL(base), convo.WithAuth(convo.Bearer(hwSecretBearer)))
			require.Error(t, err)
			assert.ErrorIs(t, err, convo.ErrInvalidOption)
			for _, s := range hwFormats(err) {
				hwAssertNoSecret(t, "NewClient error", s)
			}
		})
	}
}

// TestRedactLogOmitsQueryValues: the debug log of a failed attempt names
// the path, never the query (filters hold phone numbers, cursors position).
func TestRedactLogOmitsQueryValues(t *testing.T) {
	t.Parallel()
	srv := hwServe(t, hwFake(t, convo.AgentMessage, 0), func(w http.ResponseWriter, r hwRequest) { hwHangUp(w, nil) })
	var logs bytes.Buffer
	c := srv.client(t, convo.WithAuth(convo.Bearer(hwSecretBearer)),
		convo.WithLogger(slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))),
		convo.WithMaxRetries(1))
	_, err := hwAll(c.Conversations.List(context.Background(), &convo.ConversationListParams{ContactNumber: "+15559871234"}).All(), hwConvID, 10)
	require.Error(t, err)
	out := logs.String()
	require.Contains(t, out, "/conversations")
	assert.NotContains(t, out, "5559871234")
	assert.NotContains(t, out, "contact_number")
	hwAssertNoSecret(t, "log", out)
}

// ---- path safety ------------------------------------------------------------------

// TestPathIDIsOneEscapedSegment: whatever an id holds, it reaches the server
// as exactly one escaped segment of /conversations/{id}/messages and
// /conversations/{id}, with no query or fragment smuggled in.
func TestPathIDIsOneEscapedSegment(t *testing.T) {
	t.Parallel()
	ids := []string{
		"../admin", "..%2fadmin", "./x", "x/..", "a/b", "/", "//", "a?b=c", "a#b", "?", "#",
		"%2e%2e", "%2F", "%", "%zz", "a b", "a+b", "a;b=c", "a&b=c", "~user", "@admin",
		"ünïcødé-会話", "💬", "AQID...base64url", "BQYH_-base64url==", "ÿ", "\u2028", "...",
	}
	d := convotest.NewDataset()
	for _, id := range ids {
		d.AddConversation(convo.Conversation{ID: id})
	}
	for _, p := range convo.Providers() {
		fake := convotest.New(t, p, convotest.WithData(d), convotest.WithRateLimit(-1))
		base, err := url.Parse(fake.URL())
		require.NoError(t, err)
		c := hwClient(t, fake)
		for _, id := range ids {
			t.Run(p.Name()+"/"+id, func(t *testing.T) {
				fake.ResetRequests()
				_, err := hwAll(c.Messages.List(context.Background(), id, nil).All(), hwMsgID, 10)
				require.NoError(t, err)
				var conv *convo.Conversation
				if p.Supports("conversations.get") {
					conv, err = c.Conversations.Get(context.Background(), id)
					require.NoError(t, err)
					assert.Equal(t, id, conv.ID, "the id round-trips")
				}
				got := fake.Requests()
				wantN := 1
				if conv != nil {
					wantN = 2
				}
				require.Len(t, got, wantN)
				for i, req := range got {
					u, err := url.ParseRequestURI(req.Path + "?" + req.RawQuery)
					require.NoError(t, err)
					segs := strings.Split(u.EscapedPath(), "/")
					want := append(strings.Split(base.Path, "/"), "conversations", url.PathEscape(id))
					at := len(want) - 1 // the id's segment
					if suffix := []string{"messages", ""}[i]; suffix != "" {
						want = append(want, suffix)
					}
					assert.Equal(t, want, segs, "escaped path %q", u.EscapedPath())
					if len(segs) == len(want) {
						unescaped, err := url.PathUnescape(segs[at])
						require.NoError(t, err)
						assert.Equal(t, id, unescaped)
					}
					assert.NotContains(t, u.Query(), "b", "no query smuggled through the id")
					assert.Empty(t, u.Fragment)
				}
			})
		}
	}
}

// TestPathInvalidIDsSendNothing: an empty id, "." or "..", or one holding a
// control character is ErrInvalidParams before any request.
func TestPathInvalidIDsSendNothing(t *testing.T) {
	t.Parallel()
	ids := []string{"", ".", "..", "a\x00b", "line\nbreak", "cr\rlf", "tab\tid", "\x7f", "bell\a", "c1\u0085ctl", "\x1b[31m"}
	for _, p := range convo.Providers() {
		fake := hwFake(t, p, 0)
		c := hwClient(t, fake, convo.WithPrefetch(2))
		for _, id := range ids {
			t.Run(fmt.Sprintf("%s/%q", p.Name(), id), func(t *testing.T) {
				_, err := hwAll(c.Messages.List(context.Background(), id, nil).All(), hwMsgID, 10)
				assert.ErrorIs(t, err, convo.ErrInvalidParams)
				for _, err := range c.Messages.List(context.Background(), id, nil).Pages() {
					assert.ErrorIs(t, err, convo.ErrInvalidParams)
				}
				if p.Supports("conversations.get") {
					_, err = c.Conversations.Get(context.Background(), id)
					assert.ErrorIs(t, err, convo.ErrInvalidParams)
				}
				assert.Empty(t, fake.Requests(), "nothing is sent")
			})
		}
	}
}
