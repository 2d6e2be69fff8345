package convo

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// A server that echoes the credential it refuses (in the message, the
// details, the request id and the raw body) does not get it into the
// APIError.
func TestRedactEchoedCredentials(t *testing.T) {
	t.Parallel()
	const (
		id     = "MA_ECHOID42"
		token  = "xauth-token-7c0ffee"
		bearer = "am_live_echo_9f8e7d6c"
	)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		seen := strings.TrimPrefix(r.Header.Get("Authorization"), "Bearer ")
		if seen == "" {
			seen = r.Header.Get("X-Auth-ID") + ":" + r.Header.Get("X-Auth-Token")
		}
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusUnauthorized)
		json.NewEncoder(w).Encode(map[string]any{"success": false, "error": map[string]any{
			"code":       "UNAUTHORIZED",
			"message":    "invalid credential " + seen,
			"request_id": "req-" + seen,
			"details":    map[string]string{"authorization": "Bearer " + seen, seen: "unknown key"},
		}})
	}))
	defer srv.Close()

	cases := map[string]struct {
		auth    Authenticator
		secrets []string
	}{
		"XAuth":      {XAuth(id, token), []string{id, token}},
		"Bearer":     {Bearer(bearer), []string{bearer}},
		"BearerFunc": {BearerFunc(func(context.Context) (string, error) { return bearer, nil }), []string{bearer}},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			c, err := NewClient(AgentMessage, WithBaseURL(srv.URL), WithAuth(tc.auth), WithMaxRetries(0))
			require.NoError(t, err)
			for _, e := range c.Conversations.List(context.Background(), nil).Pages() {
				err = e
			}
			require.Error(t, err)
			var apiErr *APIError
			require.True(t, errors.As(err, &apiErr))
			assert.True(t, errors.Is(err, ErrUnauthorized))
			assert.Contains(t, string(apiErr.Body), "REDACTED", "the echo was there and was scrubbed")
			out := strings.Join([]string{err.Error(), fmt.Sprintf("%+v", apiErr), fmt.Sprintf("%#v", apiErr),
				string(apiErr.Body), fmt.Sprint(apiErr.Details), apiErr.RequestID, apiErr.Message}, "\n")
			for _, s := range tc.secrets {
				assert.NotContains(t, out, s)
			}
		})
	}
}

// A 2xx body that echoes the credential, whether an error envelope or not
// JSON at all, does not get it into the DecodeError.
func TestRedactEchoedCredentialsInSuccessBodies(t *testing.T) {
	const bearer = "am_live_echo_2xx_5a4b3c"
	for name, body := range map[string]string{
		"not JSON":       "<html>your key " + bearer + " is not valid here</html>",
		"error envelope": `{"success":false,"error":{"code":"UNAUTHORIZED","message":"bad key ` + bearer + `","request_id":"r-` + bearer + `"}}`,
	} {
		t.Run(name, func(t *testing.T) {
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				w.Header().Set("Content-Type", "application/json")
				_, _ = w.Write([]byte(body))
			}))
			defer srv.Close()
			c, err := NewClient(AgentMessage, WithBaseURL(srv.URL), WithAuth(Bearer(bearer)), WithMaxRetries(0))
			require.NoError(t, err)
			_, err = drain(c.Conversations.List(context.Background(), nil), 10)
			var de *DecodeError
			require.ErrorAs(t, err, &de)
			assert.Contains(t, de.Snippet, "REDACTED", "the echo was there and was scrubbed")
			out := strings.Join([]string{err.Error(), fmt.Sprintf("%+v", de), fmt.Sprintf("%#v", de), de.Snippet, de.Message, de.RequestID}, "\n")
			assert.NotContains(t, out, bearer)
		})
	}
}
