package convo

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// apiErrorFor makes the client's first conversation list request answer
// status with body, content type and extra headers, and returns the
// resulting *APIError. Retries are off so that every status is answered once.
func apiErrorFor(t *testing.T, p Provider, status int, contentType string, header http.Header, body []byte) (*APIError, error) {
	t.Helper()
	c, mux, srv := setup(t, p, WithMaxRetries(0))
	mux.HandleFunc("GET /conversations", func(w http.ResponseWriter, r *http.Request) {
		for k, vs := range header {
			for _, v := range vs {
				w.Header().Add(k, v)
			}
		}
		if contentType != "" {
			w.Header().Set("Content-Type", contentType)
		}
		w.WriteHeader(status)
		_, _ = w.Write(body)
	})
	_, err := firstPage(c.Conversations.List(testContext(t), nil))
	require.Error(t, err)
	assert.Equal(t, 1, srv.Requests())
	var apiErr *APIError
	require.True(t, errors.As(err, &apiErr), "errors.As reaches the *APIError: %v", err)
	return apiErr, err
}

func TestErrorEnvelopes(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name        string
		provider    Provider
		file        string
		status      int
		contentType string
		header      http.Header
		want        APIError // the decoded fields; Body is checked against the file
	}{
		{
			name: "vobiz", provider: Vobiz, file: "vobiz_error_401.json", status: 401,
			want: APIError{
				Code: "TOKEN_EXPIRED", Message: "Access token has expired", RequestID: "req_7f3a9c",
				Details: map[string]string{"token": "expired at 2026-03-17T14:30:00Z"},
			},
		},
		{
			name: "vantaxai message only, request id from the header", provider: VantaxAI, file: "vantaxai_error_401.json", status: 401,
			header: http.Header{"X-Request-Id": {"req-hdr-401"}},
			want:   APIError{Message: "Invalid API key", RequestID: "req-hdr-401"},
		},
		{
			name: "vantaxai 422 errors array", provider: VantaxAI, file: "vantaxai_error_422.json", status: 422,
			want: APIError{Message: "Validation failed", Details: map[string]string{"limit": "must be between 1 and 100"}},
		},
		{
			name: "rentalot details array", provider: Rentalot, file: "rentalot_error_422.json", status: 422,
			want: APIError{
				Code: "validation_error", Message: "Request validation failed",
				Details: map[string]string{"monthlyRent": "Monthly rent must be positive"},
			},
		},
		{
			name: "agentmessage 401", provider: AgentMessage, file: "agentmessage_error_401.json", status: 401,
			want: APIError{Code: "UNAUTHORIZED", Message: "authentication failed", RequestID: "01JTBQH2FZ8K1RXC0WJ4Z9P3VM"},
		},
		{
			name: "agentmessage 403", provider: AgentMessage, file: "agentmessage_error_403.json", status: 403,
			want: APIError{Code: "FORBIDDEN", Message: "missing required scope", RequestID: "01JTBQH2FZ8K1RXC0WJ4Z9P3VM"},
		},
		{
			name: "agentmessage 422 details object", provider: AgentMessage, file: "agentmessage_error_422.json", status: 422,
			header: http.Header{"X-Request-Id": {"01JTBQH2FZ8K1RXC0WJ4Z9P3VM"}},
			want: APIError{
				Code: "VALIDATION_FAILED", Message: "validation failed", RequestID: "01JTBQH2FZ8K1RXC0WJ4Z9P3VM",
				Details: map[string]string{"to": "must be E.164", "body": "must be 1..1600 chars"},
			},
		},
		{
			name: "agentmessage 429 retry after", provider: AgentMessage, status: 429,
			header: http.Header{"Retry-After": {"7"}, "X-Request-Id": {"req-429"}},
			want: APIError{
				Code: "RATE_LIMITED", Message: "slow down", RequestID: "req-429", RetryAfter: 7 * time.Second,
			},
		},
	}
	bodies := map[string][]byte{
		"agentmessage 429 retry after": []byte(`{"success":false,"error":{"code":"RATE_LIMITED","message":"slow down"}}`),
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			body := bodies[tt.name]
			if tt.file != "" {
				body = fixture(t, tt.file)
			}
			apiErr, err := apiErrorFor(t, tt.provider, tt.status, "application/json", tt.header, body)
			assert.Equal(t, tt.status, apiErr.StatusCode)
			assert.Equal(t, tt.want.Code, apiErr.Code, "Code")
			assert.Equal(t, tt.want.Message, apiErr.Message, "Message")
			assert.Equal(t, tt.want.RequestID, apiErr.RequestID, "RequestID")
			assert.Equal(t, tt.want.Details, apiErr.Details, "Details")
			assert.Equal(t, tt.want.RetryAfter, apiErr.RetryAfter, "RetryAfter")
			assert.Equal(t, body, apiErr.Body, "Body is a copy of the response body")
			assert.Equal(t, tt.provider.Name(), apiErr.Provider)
			assert.Equal(t, http.MethodGet, apiErr.Method)
			assert.Equal(t, "/conversations", apiErr.Path)

			msg := err.Error()
			assert.NotContains(t, msg, "\n", "one line")
			assert.NotContains(t, msg, "{", "no JSON dump")
			assert.Contains(t, msg, tt.provider.Name())
			assert.Contains(t, msg, fmt.Sprint(tt.status))
			assert.Contains(t, msg, tt.want.Message)
			if tt.want.Code != "" {
				assert.Contains(t, msg, tt.want.Code)
			}
			if tt.want.RequestID != "" {
				assert.Contains(t, msg, tt.want.RequestID)
			}
		})
	}
}

func TestErrorProblemDetails(t *testing.T) {
	t.Parallel()
	body := fixture(t, "rentalot_problem_404.json")
	apiErr, err := apiErrorFor(t, Rentalot, 404, "application/problem+json",
		http.Header{"X-Request-Id": {"req_problem"}}, body)
	assert.Equal(t, 404, apiErr.StatusCode)
	assert.Equal(t, "Conversation not found", apiErr.Message, "detail")
	assert.Equal(t, "https://rentalot.ai/problems/not-found", apiErr.Type)
	assert.Equal(t, "req_problem", apiErr.RequestID)
	assert.Nil(t, apiErr.Details)
	assert.Equal(t, body, apiErr.Body)
	assert.ErrorIs(t, err, ErrNotFound)
	assert.Contains(t, err.Error(), "Conversation not found")
	assert.NotContains(t, err.Error(), "{")
}

func TestErrorProblemDetailsTitleOnly(t *testing.T) {
	t.Parallel()
	apiErr, _ := apiErrorFor(t, Rentalot, 403, "application/problem+json", nil,
		[]byte(`{"type":"about:blank","title":"Forbidden","status":403}`))
	assert.Equal(t, "Forbidden", apiErr.Message)
	assert.Equal(t, "about:blank", apiErr.Type)
}

func TestErrorRateLimitHeaders(t *testing.T) {
	t.Parallel()
	apiErr, _ := apiErrorFor(t, Rentalot, 429, "application/json", http.Header{
		"Retry-After":           {"42"},
		"X-Ratelimit-Limit":     {"120"},
		"X-Ratelimit-Remaining": {"0"},
		"X-Ratelimit-Reset":     {"1767225600"},
		"X-Ratelimit-Resource":  {"conversations"},
	}, []byte(`{"error":{"code":"rate_limited","message":"Too many requests"}}`))
	assert.Equal(t, 42*time.Second, apiErr.RetryAfter)
	assert.Equal(t, "rate_limited", apiErr.Code)
	require.NotNil(t, apiErr.RateLimit)
	assert.Equal(t, RateLimit{Limit: 120, Remaining: 0, Reset: time.Unix(1767225600, 0), Resource: "conversations"}, *apiErr.RateLimit)
}

func TestErrorRequestIDFromBodyAndHeader(t *testing.T) {
	t.Parallel()
	t.Run("body", func(t *testing.T) {
		apiErr, _ := apiErrorFor(t, Vobiz, 500, "application/json", nil,
			[]byte(`{"status":"error","error":{"code":"INTERNAL","message":"boom"},"requestId":"req_body"}`))
		assert.Equal(t, "req_body", apiErr.RequestID)
	})
	t.Run("header", func(t *testing.T) {
		apiErr, _ := apiErrorFor(t, VantaxAI, 500, "application/json", http.Header{"X-Request-Id": {"req_header"}},
			[]byte(`{"success":false,"message":"internal_error"}`))
		assert.Equal(t, "req_header", apiErr.RequestID)
	})
	t.Run("header without body", func(t *testing.T) {
		apiErr, _ := apiErrorFor(t, AgentMessage, 404, "", http.Header{"X-Request-Id": {"req_empty"}}, nil)
		assert.Equal(t, "req_empty", apiErr.RequestID)
		assert.Equal(t, "Not Found", apiErr.Message, "the status text when the body says nothing")
	})
}

func TestErrorBodyBounded(t *testing.T) {
	t.Parallel()
	huge := []byte(`{"success":false,"message":"` + strings.Repeat("x", 1<<20) + `"}`)
	apiErr, err := apiErrorFor(t, VantaxAI, 500, "application/json", nil, huge)
	assert.LessOrEqual(t, len(apiErr.Body), 64<<10, "at most 64 KiB kept")
	assert.Equal(t, huge[:len(apiErr.Body)], apiErr.Body, "the start of the body")
	assert.Less(t, len(err.Error()), 1024, "the message stays short")
	assert.ErrorIs(t, err, ErrServer)

	plain := []byte(strings.Repeat("line of text\n", 100_000))
	apiErr, err = apiErrorFor(t, Rentalot, 503, "text/plain", nil, plain)
	assert.LessOrEqual(t, len(apiErr.Body), 64<<10)
	assert.NotContains(t, err.Error(), "\n")
	assert.Less(t, len(err.Error()), 1024)
}

func TestErrorHTMLFromProxy(t *testing.T) {
	t.Parallel()
	html := []byte("<html>\r\n<head><title>502 Bad Gateway</title></head>\r\n<body>\r\n<center><h1>502 Bad Gateway</h1></center>\r\n<hr><center>nginx</center>\r\n</body>\r\n</html>\r\n")
	apiErr, err := apiErrorFor(t, AgentMessage, 502, "text/html", nil, html)
	assert.Equal(t, 502, apiErr.StatusCode)
	assert.Contains(t, apiErr.Message, "Bad Gateway")
	assert.NotContains(t, apiErr.Message, "<", "no HTML in the message")
	assert.NotContains(t, err.Error(), "<")
	assert.NotContains(t, err.Error(), "\n")
	assert.Equal(t, html, apiErr.Body, "the raw body stays available")
	assert.ErrorIs(t, err, ErrServer)
}

func TestErrorPlainText(t *testing.T) {
	t.Parallel()
	apiErr, err := apiErrorFor(t, Vobiz, 403, "text/plain; charset=utf-8", nil, []byte("  IP address\nnot allowed  \n"))
	assert.Equal(t, "IP address not allowed", apiErr.Message)
	assert.ErrorIs(t, err, ErrForbidden)
}

// TestErrorOneLine checks Error() stays on one line whatever the server puts
// in its message.
func TestErrorOneLine(t *testing.T) {
	t.Parallel()
	apiErr, err := apiErrorFor(t, AgentMessage, 400, "application/json", nil,
		[]byte(`{"success":false,"error":{"code":"INVALID_INPUT","message":"bad input:\nline two\r\nline three","details":{"limit":"too\nbig"}}}`))
	assert.Equal(t, "INVALID_INPUT", apiErr.Code)
	assert.NotContains(t, err.Error(), "\n")
	assert.NotContains(t, err.Error(), "\r")
	assert.Contains(t, err.Error(), "bad input: line two line three")
	assert.Contains(t, err.Error(), "(limit: too big)")
	assert.Equal(t, "bad input:\nline two\r\nline three", apiErr.Message, "the field keeps the server's text")

	long := strings.Repeat("very long message ", 3000)
	apiErr, err = apiErrorFor(t, VantaxAI, 500, "application/json", nil, []byte(`{"success":false,"message":"`+long+`"}`))
	assert.Equal(t, long, apiErr.Message)
	assert.Less(t, len(err.Error()), 1024, "Error() stays short")
	assert.Contains(t, err.Error(), "very long message very long message")
}

func TestErrorString(t *testing.T) {
	t.Parallel()
	_, err := apiErrorFor(t, AgentMessage, 422, "application/json", nil, fixture(t, "agentmessage_error_422.json"))
	assert.Equal(t, "convo: agentmessage: GET /conversations: 422 VALIDATION_FAILED: validation failed"+
		" (body: must be 1..1600 chars; to: must be E.164) [request id 01JTBQH2FZ8K1RXC0WJ4Z9P3VM]", err.Error())
}

func TestErrorSentinels(t *testing.T) {
	t.Parallel()
	sentinels := map[string]error{
		"ErrUnauthorized":    ErrUnauthorized,
		"ErrForbidden":       ErrForbidden,
		"ErrNotFound":        ErrNotFound,
		"ErrValidation":      ErrValidation,
		"ErrRateLimited":     ErrRateLimited,
		"ErrServer":          ErrServer,
		"ErrUnsupported":     ErrUnsupported,
		"ErrInvalidParams":   ErrInvalidParams,
		"ErrPaymentRequired": ErrPaymentRequired,
	}
	tests := []struct {
		status int
		want   string
	}{
		{400, "ErrValidation"},
		{401, "ErrUnauthorized"},
		{403, "ErrForbidden"},
		{404, "ErrNotFound"},
		{422, "ErrValidation"},
		{429, "ErrRateLimited"},
		{500, "ErrServer"},
		{502, "ErrServer"},
		{503, "ErrServer"},
		{504, "ErrServer"},
		{409, ""},
		{402, "ErrPaymentRequired"},
	}
	for _, tt := range tests {
		t.Run(fmt.Sprint(tt.status), func(t *testing.T) {
			apiErr, err := apiErrorFor(t, VantaxAI, tt.status, "application/json", nil,
				[]byte(`{"success":false,"message":"status `+fmt.Sprint(tt.status)+`"}`))
			assert.Equal(t, tt.status, apiErr.StatusCode)
			for name, s := range sentinels {
				if name == tt.want {
					assert.ErrorIs(t, err, s, name)
				} else {
					assert.NotErrorIs(t, err, s, name)
				}
			}
		})
	}
}

// TestErrorPaymentRequired checks that a 402 in each provider's documented
// error envelope matches ErrPaymentRequired and keeps the provider's code.
func TestErrorPaymentRequired(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name     string
		provider Provider
		body     string
		code     string
		message  string
	}{
		{"vobiz insufficient balance", Vobiz,
			`{"status":"error","error":{"code":"INSUFFICIENT_BALANCE","message":"Wallet balance too low"},"timestamp":"2026-03-17T14:30:00Z","requestId":"req_1"}`,
			"INSUFFICIENT_BALANCE", "Wallet balance too low"},
		{"vantaxai subscription required", VantaxAI,
			`{"success":false,"message":"subscription_required"}`, "", "subscription_required"},
		{"vantaxai limit reached", VantaxAI,
			`{"success":false,"message":"limit_reached"}`, "", "limit_reached"},
		{"rentalot error object", Rentalot,
			`{"error":{"code":"payment_required","message":"Plan limit reached"}}`, "payment_required", "Plan limit reached"},
		{"agentmessage", AgentMessage,
			`{"success":false,"error":{"code":"PAYMENT_REQUIRED","message":"insufficient credits","request_id":"r1"}}`,
			"PAYMENT_REQUIRED", "insufficient credits"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			apiErr, err := apiErrorFor(t, tt.provider, http.StatusPaymentRequired, "application/json", nil, []byte(tt.body))
			assert.ErrorIs(t, err, ErrPaymentRequired)
			assert.NotErrorIs(t, err, ErrForbidden)
			assert.NotErrorIs(t, err, ErrValidation)
			assert.Equal(t, 402, apiErr.StatusCode)
			assert.Equal(t, tt.code, apiErr.Code)
			assert.Equal(t, tt.message, apiErr.Message)
		})
	}
}

// TestErrorGetNotFound checks Get reports a 404 as an *APIError matching
// ErrNotFound.
func TestErrorGetNotFound(t *testing.T) {
	t.Parallel()
	c, mux, _ := setup(t, Rentalot)
	mux.HandleFunc("GET /conversations/{id}", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/problem+json")
		w.WriteHeader(http.StatusNotFound)
		_, _ = w.Write(fixture(t, "rentalot_problem_404.json"))
	})
	conv, err := c.Conversations.Get(testContext(t), "other-tenant")
	assert.Nil(t, conv)
	assert.ErrorIs(t, err, ErrNotFound)
	var apiErr *APIError
	require.True(t, errors.As(err, &apiErr))
	assert.Equal(t, "/conversations/other-tenant", apiErr.Path)
}

// envelopeOps are every list and get operation a provider documents, each
// returning how many items it yielded and its error.
func envelopeOps(p Provider) map[string]func(context.Context, *Client) (int, error) {
	ops := map[string]func(context.Context, *Client) (int, error){
		"conversations.list": func(ctx context.Context, c *Client) (int, error) {
			items, err := drain(c.Conversations.List(ctx, nil), 100)
			return len(items), err
		},
		"messages.list": func(ctx context.Context, c *Client) (int, error) {
			items, err := drain(c.Messages.List(ctx, "c1", nil), 100)
			return len(items), err
		},
	}
	if p.Supports("conversations.get") {
		ops["conversations.get"] = func(ctx context.Context, c *Client) (int, error) {
			conv, err := c.Conversations.Get(ctx, "c1")
			if conv != nil {
				return 1, err
			}
			return 0, err
		}
	}
	if p.Supports("search.messages") {
		ops["search.messages"] = func(ctx context.Context, c *Client) (int, error) {
			items, err := drain(c.Search.Messages(ctx, &SearchParams{Query: "x"}), 100)
			return len(items), err
		}
	}
	return ops
}

// Every documented error envelope is an error on a 2xx too, for every list
// and get of every provider: a *DecodeError with ErrErrorEnvelope and the
// envelope's code and message, never an empty complete list. A successful
// body that merely carries an empty "error" member stays a success.
func TestErrorEnvelopeOnSuccessStatus(t *testing.T) {
	t.Parallel()
	envelopes := []struct {
		name, contentType, body string
		code, message           string
	}{
		{"vobiz", "application/json", `{"status":"error","error":{"code":"TOKEN_EXPIRED","message":"token expired","details":{}},"timestamp":"2026-01-01T00:00:00Z","requestId":"req_v1"}`, "TOKEN_EXPIRED", "token expired"},
		{"vobiz, with an empty item list", "application/json", `{"status":"error","items":[],"has_more":false,"error":{"code":"INVALID_CREDENTIALS","message":"bad"}}`, "INVALID_CREDENTIALS", "bad"},
		{"rentalot error object", "application/json", `{"error":{"code":"rate_limited","message":"slow down","details":[{"field":"limit","message":"too big"}]}}`, "rate_limited", "slow down"},
		{"rentalot error object, with an empty page", "application/json", `{"error":{"code":"forbidden","message":"no access"},"data":[],"pagination":{"page":1,"limit":20}}`, "forbidden", "no access"},
		{"problem details", "application/problem+json", `{"type":"https://rentalot.ai/errors/not-found","title":"Not Found","status":404,"detail":"no such conversation"}`, "", "no such conversation"},
		{"problem details, plain JSON type", "application/json", `{"type":"about:blank","title":"Forbidden","status":403}`, "", "Forbidden"},
		{"success false", "application/json", `{"success":false,"message":"subscription required"}`, "", "subscription required"},
		{"success false with an error object and empty data", "application/json", `{"success":false,"data":[],"error":{"code":"FORBIDDEN","message":"missing scope","request_id":"req_a1"}}`, "FORBIDDEN", "missing scope"},
		{"fixture vobiz 401", "application/json", string(fixture(t, "vobiz_error_401.json")), "", ""},
		{"fixture rentalot 422", "application/json", string(fixture(t, "rentalot_error_422.json")), "", ""},
		{"fixture rentalot problem 404", "application/problem+json", string(fixture(t, "rentalot_problem_404.json")), "", ""},
		{"fixture vantaxai 401", "application/json", string(fixture(t, "vantaxai_error_401.json")), "", ""},
		{"fixture agentmessage 403", "application/json", string(fixture(t, "agentmessage_error_403.json")), "", ""},
	}
	for _, p := range Providers() {
		for opName, op := range envelopeOps(p) {
			for _, env := range envelopes {
				for _, status := range []int{200, 201} {
					t.Run(fmt.Sprintf("%s/%s/%s/%d", p.Name(), opName, env.name, status), func(t *testing.T) {
						c, srv := scriptedServer(t, p, func(n int, w http.ResponseWriter, r *http.Request) {
							w.Header().Set("Content-Type", env.contentType)
							w.WriteHeader(status)
							_, _ = w.Write([]byte(env.body))
						}, WithMaxRetries(2))
						n, err := op(testContext(t), c)
						require.Error(t, err, "an error envelope read as a success")
						assert.Zero(t, n, "no item from an error envelope")
						assert.ErrorIs(t, err, ErrUnexpectedResponse)
						assert.ErrorIs(t, err, ErrErrorEnvelope)
						var de *DecodeError
						require.ErrorAs(t, err, &de)
						assert.Equal(t, status, de.StatusCode)
						if env.code != "" {
							assert.Equal(t, env.code, de.Code)
							assert.Contains(t, err.Error(), env.code)
						}
						if env.message != "" {
							assert.Equal(t, env.message, de.Message)
							assert.Contains(t, err.Error(), env.message)
						}
						assert.Equal(t, 1, srv.Requests(), "an error envelope on a 2xx is not retried")
					})
				}
			}
		}
	}
}

// A page or object of the providers whose envelope says "success" is an
// error when it says false, even beside items: the body says the request
// failed, and what it holds is not the list.
func TestErrorSuccessFalseBesideItems(t *testing.T) {
	t.Parallel()
	pages := map[Provider]string{
		VantaxAI:     `{"success":false,"data":[{"id":"c1"}],"pagination":{"has_more":false}}`,
		AgentMessage: `{"success":false,"data":[{"id":"c1"}],"meta":{"next_cursor":null}}`,
	}
	for p, page := range pages {
		for opName, op := range envelopeOps(p) {
			body := page
			if opName == "conversations.get" {
				body = `{"success":false,"data":{"id":"c1"}}`
			}
			t.Run(p.Name()+"/"+opName, func(t *testing.T) {
				c, srv := scriptedServer(t, p, func(n int, w http.ResponseWriter, r *http.Request) {
					w.Header().Set("Content-Type", "application/json")
					_, _ = w.Write([]byte(body))
				})
				n, err := op(testContext(t), c)
				assert.Zero(t, n, "no item from a body that says it failed")
				assert.ErrorIs(t, err, ErrErrorEnvelope)
				assert.Equal(t, 1, srv.Requests())
			})
		}
	}
}

// Members that only look like an error envelope leave a success alone.
func TestErrorEnvelopeLookAlikes(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct{ name, body string }{
		{"null error", `{"items":[],"has_more":false,"error":null}`},
		{"empty error object", `{"items":[],"has_more":false,"error":{}}`},
		{"empty error string", `{"items":[],"has_more":false,"error":""}`},
		{"error false", `{"items":[],"has_more":false,"error":false}`},
		{"status ok", `{"items":[],"has_more":false,"status":"ok"}`},
		{"nested error fields", `{"items":[],"has_more":false,"meta":{"error":{"code":"x"},"success":false,"status":"error"}}`},
		{"numeric status without a title", `{"items":[],"has_more":false,"status":200}`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c, _ := scriptedServer(t, Vobiz, func(n int, w http.ResponseWriter, r *http.Request) {
				writeJSON(w, http.StatusOK, []byte(tc.body))
			})
			items, err := drain(c.Conversations.List(testContext(t), nil), 10)
			require.NoError(t, err)
			assert.Empty(t, items)
		})
	}
}

// hostileText is what a server (or a caller's error) may put in any text an
// error shows: terminal escapes, line breaks, other controls, bidi
// overrides, invisible characters and bytes that are not UTF-8.
const hostileText = "start \x1b[31mRED\x1b[0m \x1b]0;pwned title\x07 \x1b]8;;https://evil.test\x1b\\click\x1b]8;;\x1b\\ " +
	"\u009b2J \u009d0;c1 title\u009c \x1bPdcs\x1b\\ \x1b(B \x1bc line\nbreak\r\nfeed\x00nul\x7fdel\x08bs\x85nel\u2028ls\u2029ps\t " +
	"\u202eevil\u202c \u2066iso\u2069 zero\u200bwidth \ufeffbom \xff\xfe end"

// assertPrintableLine fails unless s is one printable line of at most
// MaxErrorTextLen bytes.
func assertPrintableLine(t *testing.T, s string) {
	t.Helper()
	assert.LessOrEqual(t, len(s), MaxErrorTextLen, "Error() is bounded")
	assert.True(t, utf8.ValidString(s), "Error() is UTF-8")
	for _, r := range s {
		if unicode.IsControl(r) || unicode.Is(unicode.Cf, r) || r == '\u2028' || r == '\u2029' {
			t.Errorf("Error() holds %U: %q", r, s)
			return
		}
	}
	assert.NotContains(t, s, "  ", "runs of white space are one space")
	assert.Equal(t, strings.TrimSpace(s), s)
}

// Error() of every error type is one printable line of bounded length,
// whatever the server sent (thousands of details, a megabyte message,
// terminal escapes, line breaks); the typed fields keep the full text.
func TestErrorTextBoundedAndPrintable(t *testing.T) {
	t.Parallel()
	huge := strings.Repeat("A", 1<<20)
	manyDetails := make(map[string]string, 5000)
	for i := range 5000 {
		manyDetails[fmt.Sprintf("field_%04d %s", i, hostileText)] = hostileText
	}
	hostileAPI := &APIError{StatusCode: 422, Code: hostileText, Message: hostileText + huge, RequestID: hostileText,
		Details: manyDetails, Provider: "rentalot", Method: "GET", Path: "/conversations", Type: hostileText}

	// The same through the decoder: a body of 1,000 hostile details.
	var body strings.Builder
	quoted, err := json.Marshal(strings.ToValidUTF8(hostileText, "\ufffd"))
	require.NoError(t, err)
	body.WriteString(`{"error":{"code":` + string(quoted) + `,"message":` + string(quoted) + `,"details":[`)
	for i := range 1000 {
		if i > 0 {
			body.WriteByte(',')
		}
		fmt.Fprintf(&body, `{"field":"f%d\u001b[2J","message":"bad\nvalue\u202e"}`, i)
	}
	body.WriteString(`]}}`)
	require.Less(t, body.Len(), maxErrorBody, "the whole body is decoded")
	decoded := newAPIError("rentalot", "GET", "/conversations", 422,
		http.Header{"X-Request-Id": {"req\x1b[1m\n1"}, "Retry-After": {"3"}}, []byte(body.String()))
	require.Len(t, decoded.Details, 1000, "every detail stays in the typed field")
	require.Equal(t, strings.ToValidUTF8(hostileText, "\ufffd"), decoded.Code)

	cases := map[string]error{
		"APIError":            hostileAPI,
		"APIError decoded":    decoded,
		"APIError empty":      &APIError{},
		"DecodeError":         &DecodeError{Provider: "vobiz", StatusCode: 200, Snippet: hostileText + huge, Err: errors.New(hostileText + huge)},
		"DecodeError nil Err": &DecodeError{Provider: hostileText, StatusCode: 200},
		"DecodeError envelope": &DecodeError{Provider: "vobiz", StatusCode: 200, Err: ErrErrorEnvelope,
			Code: hostileText, Message: huge + hostileText, RequestID: hostileText, Details: manyDetails},
		"AuthError":             &AuthError{Err: errors.New(hostileText + huge)},
		"AuthError nil":         &AuthError{},
		"ConversationError":     &ConversationError{ConversationID: hostileText + huge, Err: hostileAPI},
		"ConversationError nil": &ConversationError{},
		"PacingError":           &PacingError{Resource: hostileText + huge, Wait: time.Hour, MaxWait: time.Minute},
		"wrapped":               fmt.Errorf("convo: sync: %w", &ConversationError{ConversationID: "c1", Err: hostileAPI}),
		"RequestError": &RequestError{Provider: "vobiz", Method: "GET", Path: "/conversations/" + hostileText, Attempts: 4,
			Err: &AuthError{Err: errors.New(hostileText + huge)}},
		"RequestError nil": &RequestError{},
		"sync list error":  &syncListError{err: &RequestError{Provider: "vobiz", Err: errors.New(huge + hostileText)}},
	}
	for name, err := range cases {
		t.Run(name, func(t *testing.T) {
			var text string
			require.NotPanics(t, func() { text = err.Error() })
			if name == "wrapped" { // fmt's prefix plus a bounded text
				text = strings.TrimPrefix(text, "convo: sync: ")
			}
			assertPrintableLine(t, text)
		})
	}
	assert.Contains(t, hostileAPI.Error(), "and 4990 more", "the details not shown are counted")
	assert.Equal(t, hostileText+huge, hostileAPI.Message, "the typed field keeps the full text")
	assert.Contains(t, decoded.Error(), "f0: bad value")
}

// oneLine removes terminal escape sequences whole and keeps the text around
// them readable.
func TestErrorOneLineEscapes(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct{ in, want string }{
		{"plain text", "plain text"},
		{"\x1b[1;31mred\x1b[0m text", "red text"},
		{"a\x1b]0;title\x07b", "a b"},
		{"link: \x1b]8;;https://evil.test\x1b\\click\x1b]8;;\x1b\\ here", "link: click here"},
		{"c1\u009b31mcsi\u009d0;osc\u009cdone", "c1 csi done"},
		{"  many \n\n lines\r\n\tand\ttabs  ", "many lines and tabs"},
		{"\u202eabc\u202c def", "abc def"},
		{"bad \xff byte", "bad \ufffd byte"},
		{"unterminated \x1b]0;title", "unterminated"},
		{"nul\x00del\x7fdone", "nul del done"},
		{"é日本語 ok", "é日本語 ok"},
	} {
		assert.Equal(t, tc.want, oneLine(tc.in, 100), "%q", tc.in)
	}
	cut := oneLine(strings.Repeat("é", 100), 51)
	assert.LessOrEqual(t, len(cut), 51)
	assert.True(t, strings.HasSuffix(cut, "…") && utf8.ValidString(cut), "%q", cut)
	assert.Equal(t, strings.Repeat("x", 10), oneLine(strings.Repeat("x", 10), 10), "a text that fits is not cut")
}

// TestDecodeUnexpectedBodies checks that a 200 whose body is not the
// documented JSON is a *DecodeError naming the provider, the status and the
// start of the body.
func TestDecodeUnexpectedBodies(t *testing.T) {
	t.Parallel()
	html := "<!DOCTYPE html><html><body>Welcome to the captive portal</body></html>"
	tests := []struct {
		name     string
		provider Provider
		body     string
		run      func(context.Context, *Client) error
		snippet  string
	}{
		{"vobiz html", Vobiz, html, runConvs(nil), "<!DOCTYPE html>"},
		{"vobiz legacy data envelope", Vobiz, `{"data":[{"id":"c1"}],"meta":{}}`, runConvs(nil), `{"data":[`},
		{"vantaxai no data", VantaxAI, `{"success":true}`, runConvs(nil), `{"success":true}`},
		{"vantaxai success false", VantaxAI, `{"success":false,"data":[]}`, runConvs(nil), `{"success":false`},
		{"vantaxai get without data", VantaxAI, `{"success":true}`, runGet("conv_1"), `{"success":true}`},
		{"vantaxai get html", VantaxAI, html, runGet("conv_1"), "<!DOCTYPE"},
		{"rentalot no data", Rentalot, `{"pagination":{"page":1}}`, runConvs(nil), `{"pagination"`},
		{"rentalot data not an array", Rentalot, `{"data":{"id":"x"}}`, runConvs(nil), `{"data":{`},
		{"rentalot get without data", Rentalot, `{}`, runGet("conv_1"), `{}`},
		{"rentalot search without data", Rentalot, `{"total":3}`, runSearch(&SearchParams{Query: "x"}), `{"total":3}`},
		{"agentmessage empty body", AgentMessage, ``, runConvs(nil), ``},
		{"agentmessage truncated JSON", AgentMessage, `{"success":true,"data":[{"id":"x"`, runConvs(nil), `{"success":true`},
		{"agentmessage timestamp of the wrong type", AgentMessage, `{"success":true,"data":[{"id":"x","last_message_at":1712718702}],"meta":{}}`, runConvs(nil), `{"success"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, mux, _ := setup(t, tt.provider)
			mux.HandleFunc("GET /", func(w http.ResponseWriter, r *http.Request) {
				w.Header().Set("Content-Type", "text/html")
				_, _ = w.Write([]byte(tt.body))
			})
			err := tt.run(testContext(t), c)
			require.Error(t, err)
			assert.ErrorIs(t, err, ErrUnexpectedResponse)
			var de *DecodeError
			require.True(t, errors.As(err, &de), "a *DecodeError: %v", err)
			assert.Equal(t, tt.provider.Name(), de.Provider)
			assert.Equal(t, http.StatusOK, de.StatusCode)
			assert.True(t, strings.HasPrefix(de.Snippet, tt.snippet), "snippet %q", de.Snippet)
			assert.Contains(t, err.Error(), tt.provider.Name())
			assert.Contains(t, err.Error(), "200")
			var apiErr *APIError
			assert.False(t, errors.As(err, &apiErr), "a 200 is not an API error")
		})
	}
}

// TestDecodeErrorSnippetBounded checks a huge unexpected body is not copied
// whole into the error.
func TestDecodeErrorSnippetBounded(t *testing.T) {
	t.Parallel()
	c, mux, _ := setup(t, Vobiz)
	mux.HandleFunc("GET /conversations", func(w http.ResponseWriter, r *http.Request) {
		_, _ = w.Write([]byte(strings.Repeat("é", 100_000)))
	})
	err := runConvs(nil)(testContext(t), c)
	var de *DecodeError
	require.True(t, errors.As(err, &de), "%v", err)
	assert.LessOrEqual(t, len(de.Snippet), 204, "at most 200 bytes and an ellipsis")
	assert.True(t, strings.HasPrefix(de.Snippet, "éé"))
	assert.Less(t, len(err.Error()), 600)
}
