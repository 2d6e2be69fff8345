package main

import (
	"bytes"
	"context"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/convokit/convo"
	"github.com/convokit/convo/convotest"
)

func env(vars map[string]string) func(string) string {
	return func(k string) string { return vars[k] }
}

func runQuickstart(t *testing.T, args []string, vars map[string]string) (code int, stdout, stderr string) {
	t.Helper()
	var out, errOut bytes.Buffer
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	code = run(ctx, args, env(vars), &out, &errOut)
	return code, out.String(), errOut.String()
}

// TestQuickstartFake runs the program against the built-in fake of each
// provider: it names the fake, lists conversations, shows the latest
// messages of the first three, and searches where the provider can.
func TestQuickstartFake(t *testing.T) {
	for _, p := range convo.Providers() {
		t.Run(p.Name(), func(t *testing.T) {
			code, out, errOut := runQuickstart(t, []string{"-provider", p.Name()}, nil)
			require.Equal(t, 0, code, "stderr: %s", errOut)
			assert.Empty(t, errOut)
			lines := strings.Split(out, "\n")
			assert.Equal(t, "Using the built-in fake "+p.Name()+" server (no credentials needed)", lines[0])

			d := convotest.DemoDataset(p, convotest.DefaultSeed)
			for i, cd := range d.Conversations[:10] {
				assert.Contains(t, out, cd.Conversation.ID, "conversation %d listed", i)
			}
			assert.NotContains(t, out, d.Conversations[10].Conversation.ID, "at most 10 listed")
			assert.Equal(t, 3, strings.Count(out, "\nLatest "), "three conversations' messages")
			for _, cd := range d.Conversations[:3] {
				last := cd.Messages[len(cd.Messages)-1]
				want := last.Body
				if want == "" {
					want = "[" // a redacted or media message is described, not blank
				}
				assert.Contains(t, out, clip(want), "latest message of %s", cd.Conversation.ID)
				assert.Contains(t, out, when(last.SentAt))
				assert.Contains(t, out, "  "+string(last.Direction)+" ")
			}
			assert.Contains(t, out, "TIME")
			assert.Contains(t, out, "DIRECTION")
			if p.Supports(convo.OpSearchMessages) {
				assert.Contains(t, out, `Search "bedroom":`)
				assert.Contains(t, out, "(5 results)")
			} else {
				assert.NotContains(t, out, "Search")
			}
		})
	}
}

func TestQuickstartDefaultsToVobiz(t *testing.T) {
	code, out, _ := runQuickstart(t, nil, nil)
	require.Equal(t, 0, code)
	assert.True(t, strings.HasPrefix(out, "Using the built-in fake vobiz server (no credentials needed)\n"))
}

func TestQuickstartSearchQueryFlag(t *testing.T) {
	code, out, errOut := runQuickstart(t, []string{"-provider", "rentalot", "-query", "Showing"}, nil)
	require.Equal(t, 0, code, errOut)
	assert.Contains(t, out, `Search "Showing":`)
	assert.Contains(t, out, "showing")
}

// TestQuickstartRealAPI runs the program in its real-API mode, pointed at
// a fake through CONVO_BASE_URL, with the provider's credential variables.
func TestQuickstartRealAPI(t *testing.T) {
	tests := []struct {
		p    convo.Provider
		vars map[string]string
	}{
		{convo.Vobiz, map[string]string{"VOBIZ_AUTH_ID": convotest.DemoVobizAuthID, "VOBIZ_AUTH_TOKEN": convotest.DemoVobizAuthToken}},
		{convo.Vobiz, map[string]string{"VOBIZ_TOKEN": convotest.DemoVobizJWT}},
		{convo.VantaxAI, map[string]string{"VANTAXAI_API_KEY": convotest.DemoVantaxAIKey}},
		{convo.Rentalot, map[string]string{"RENTALOT_API_KEY": convotest.DemoRentalotKey}},
		{convo.AgentMessage, map[string]string{"AGENTMESSAGE_API_KEY": convotest.DemoAgentMessageKey}},
	}
	for _, tt := range tests {
		t.Run(tt.p.Name(), func(t *testing.T) {
			srv := convotest.NewServer(tt.p)
			defer srv.Close()
			tt.vars["CONVO_PROVIDER"] = strings.ToUpper(tt.p.Name()[:1]) + tt.p.Name()[1:]
			tt.vars["CONVO_BASE_URL"] = srv.URL()
			code, out, errOut := runQuickstart(t, nil, tt.vars)
			require.Equal(t, 0, code, "stderr: %s", errOut)
			assert.True(t, strings.HasPrefix(out, "Using the real "+tt.p.Name()+" API at "+srv.URL()+"\n"), out)
			assert.Contains(t, out, srv.Dataset().Conversations[0].Conversation.ID)
			for _, r := range srv.Requests() {
				assert.True(t, r.Authorized)
				assert.Contains(t, r.Header.Get("User-Agent"), "convo-quickstart")
			}
		})
	}
}

// TestQuickstartProviderFlagWins checks that -provider beats
// CONVO_PROVIDER, and -demo the real API.
func TestQuickstartProviderFlagWins(t *testing.T) {
	srv := convotest.NewServer(convo.Rentalot)
	defer srv.Close()
	vars := map[string]string{"CONVO_PROVIDER": "vobiz", "RENTALOT_API_KEY": convotest.DemoRentalotKey, "CONVO_BASE_URL": srv.URL()}
	code, out, errOut := runQuickstart(t, []string{"-provider", "rentalot"}, vars)
	require.Equal(t, 0, code, "stderr: %s", errOut)
	assert.True(t, strings.HasPrefix(out, "Using the real rentalot API at "+srv.URL()+"\n"), out)
	assert.NotEmpty(t, srv.Requests())

	code, out, errOut = runQuickstart(t, []string{"-provider", "agentmessage", "-demo"}, vars)
	require.Equal(t, 0, code, "stderr: %s", errOut)
	assert.True(t, strings.HasPrefix(out, "Using the built-in fake agentmessage server"), out)
}

func TestQuickstartErrors(t *testing.T) {
	srv := convotest.NewServer(convo.Rentalot)
	defer srv.Close()
	tests := []struct {
		name string
		args []string
		vars map[string]string
		want string
	}{
		{"unknown fake", []string{"-provider", "acme"}, nil, `unknown -provider "acme"`},
		{"unknown real", nil, map[string]string{"CONVO_PROVIDER": "acme"}, `unknown CONVO_PROVIDER "acme"`},
		{"missing key", nil, map[string]string{"CONVO_PROVIDER": "rentalot"}, "set RENTALOT_API_KEY"},
		{"missing key of the flag's provider", []string{"-provider", "vantaxai"}, map[string]string{"CONVO_PROVIDER": "rentalot", "RENTALOT_API_KEY": "ra_x"}, "set VANTAXAI_API_KEY"},
		{"missing vobiz token", nil, map[string]string{"CONVO_PROVIDER": "vobiz", "VOBIZ_AUTH_ID": "MA_X"}, "VOBIZ_AUTH_TOKEN"},
		{"bad base URL", nil, map[string]string{"CONVO_PROVIDER": "vantaxai", "VANTAXAI_API_KEY": "vx_live_x", "CONVO_BASE_URL": "ftp://x"}, "base URL"},
		{"wrong key", nil, map[string]string{"CONVO_PROVIDER": "rentalot", "RENTALOT_API_KEY": "ra_not-the-key", "CONVO_BASE_URL": srv.URL()}, "401"},
		{"bad flag", []string{"-nope"}, nil, "flag provided but not defined"},
		{"stray argument", []string{"extra"}, nil, "unexpected arguments: extra"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, _, errOut := runQuickstart(t, tt.args, tt.vars)
			assert.Equal(t, 1, code)
			assert.Contains(t, errOut, tt.want)
			assert.NotContains(t, errOut, "ra_not-the-key", "no credential in the message")
		})
	}
}

func TestQuickstartHelp(t *testing.T) {
	code, _, errOut := runQuickstart(t, []string{"-h"}, nil)
	assert.Equal(t, 0, code)
	assert.Contains(t, errOut, "-provider")
}
