package convo

import (
	"net/http"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// envOf is a getenv over a map that records the names read.
func envOf(vars map[string]string, read map[string]bool) func(string) string {
	return func(name string) string {
		if read != nil {
			read[name] = true
		}
		return vars[name]
	}
}

// authHeaders applies a to a request and returns the headers it set.
func authHeaders(t *testing.T, a Authenticator) http.Header {
	t.Helper()
	req, err := http.NewRequest(http.MethodGet, "https://api.example.test/v1/conversations", nil)
	require.NoError(t, err)
	require.NoError(t, a.Authenticate(req))
	return req.Header
}

// TestProvidersDeclareCredentials: every provider of the registry declares
// the variables of its credentials, says which to set, and reads only
// those (internal/testenv keeps them from the tests' child processes).
func TestProvidersDeclareCredentials(t *testing.T) {
	t.Parallel()
	for _, p := range Providers() {
		t.Run(p.Name(), func(t *testing.T) {
			env := p.CredentialEnv()
			require.NotEmpty(t, env)
			read := map[string]bool{}
			a, err := p.AuthFromEnv(envOf(nil, read))
			assert.Nil(t, a)
			require.ErrorIs(t, err, ErrNoCredentials)
			assert.Contains(t, err.Error(), p.Name())
			assert.Contains(t, err.Error(), p.CredentialHelp())
			for _, name := range env {
				assert.Contains(t, p.CredentialHelp(), name, "the help names every variable")
				assert.True(t, read[name], "%s is read", name)
			}
			for name := range read {
				assert.Contains(t, env, name, "only declared variables are read")
			}
			assert.NotEmpty(t, p.Title())
			assert.NotEmpty(t, p.Docs())
			q, ok := ProviderByName(p.Title())
			assert.True(t, ok && q == p, "the title names the provider")
		})
	}
	var zero Provider
	assert.Nil(t, zero.CredentialEnv())
	_, err := zero.AuthFromEnv(envOf(nil, nil))
	assert.ErrorIs(t, err, ErrNoCredentials)
}

// TestAuthFromEnv checks the authenticator each provider's variables make.
func TestAuthFromEnv(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		p       Provider
		vars    map[string]string
		header  string // "" when no credential is complete
		want    string
		notEcho string // a value that must not appear in the error
	}{
		{"vobiz x-auth", Vobiz, map[string]string{"VOBIZ_AUTH_ID": "MA_1", "VOBIZ_AUTH_TOKEN": "tok-1", "VOBIZ_TOKEN": "jwt-1"}, "X-Auth-Token", "tok-1", ""},
		{"vobiz jwt", Vobiz, map[string]string{"VOBIZ_TOKEN": "jwt-1"}, "Authorization", "Bearer jwt-1", ""},
		{"vobiz id alone", Vobiz, map[string]string{"VOBIZ_AUTH_ID": "MA_secret-id"}, "", "", "MA_secret-id"},
		{"vobiz token alone", Vobiz, map[string]string{"VOBIZ_AUTH_TOKEN": "secret-tok"}, "", "", "secret-tok"},
		{"vantaxai", VantaxAI, map[string]string{"VANTAXAI_API_KEY": "vx_1"}, "Authorization", "Bearer vx_1", ""},
		{"rentalot", Rentalot, map[string]string{"RENTALOT_API_KEY": "ra_1"}, "Authorization", "Bearer ra_1", ""},
		{"agentmessage", AgentMessage, map[string]string{"AGENTMESSAGE_API_KEY": "am_1"}, "Authorization", "Bearer am_1", ""},
		{"another provider's key", AgentMessage, map[string]string{"RENTALOT_API_KEY": "ra_secret"}, "", "", "ra_secret"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a, err := tt.p.AuthFromEnv(envOf(tt.vars, nil))
			if tt.header == "" {
				require.ErrorIs(t, err, ErrNoCredentials)
				assert.NotContains(t, err.Error(), tt.notEcho, "no value read appears in the error")
				return
			}
			require.NoError(t, err)
			h := authHeaders(t, a)
			assert.Equal(t, tt.want, h.Get(tt.header))
			if strings.HasPrefix(tt.want, "Bearer ") {
				assert.Empty(t, h.Get("X-Auth-Token"))
			} else {
				assert.Empty(t, h.Get("Authorization"))
				assert.Equal(t, "MA_1", h.Get("X-Auth-ID"))
			}
		})
	}
}
