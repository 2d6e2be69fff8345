package main

import (
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/convokit/convo"
	"github.com/convokit/convo/convotest"
)

// A 401 or a 403 from the API, in every command that calls it, is one
// line that names the environment variables holding the credentials.
func TestCLICredentialRefusedNamesVariables(t *testing.T) {
	t.Parallel()
	eachProvider(t, func(t *testing.T, p convo.Provider) {
		refused := convotest.NewServer(p)
		defer refused.Close()
		forbidden := convotest.NewServer(p, convotest.WithFaults(convotest.Fault{Kind: convotest.FaultStatus, Status: 403, Times: -1}))
		defer forbidden.Close()
		var wrong []string
		for k := range convotest.DemoEnv(p) {
			wrong = append(wrong, k+"=wrong-credential")
		}
		dir := t.TempDir()
		for _, c := range []struct {
			srv  *convotest.Server
			env  []string
			want string
		}{
			{refused, wrong, "the credentials were refused"},
			{forbidden, demoKeys(p), "the credentials lack access"},
		} {
			base := []string{"--provider", p.Name(), "--base-url", c.srv.URL(), "--max-retries", "0"}
			for i, args := range [][]string{
				{"conversations"},
				{"messages", "some-id"},
				{"export", "--out", filepath.Join(dir, "export.jsonl"), "--restart", "--force"},
				{"sync", "--db", filepath.Join(dir, "inbox.db")},
			} {
				if i == 1 && p == convo.Vobiz {
					continue // Vobiz lists messages of a conversation it looks up first: same request kind
				}
				r := convoRun(t, c.env, append(args, base...)...)
				assert.Equal(t, 1, r.code, "%v: %s", args, r.stderr)
				assert.Equal(t, 1, strings.Count(r.stderr, "\n"), "one line: %q", r.stderr)
				assert.True(t, strings.HasPrefix(r.stderr, "convo: "), r.stderr)
				assert.Contains(t, r.stderr, c.want+": check "+credentialHint(p.Name()), "%v", args)
				for _, v := range p.CredentialEnv() {
					assert.Contains(t, r.stderr, v)
				}
				assert.NotContains(t, r.stderr, "wrong-credential")
			}
		}
	})
	assert.Equal(t, "VOBIZ_AUTH_ID and VOBIZ_AUTH_TOKEN, or VOBIZ_TOKEN", credentialHint("vobiz"))
	assert.Equal(t, "RENTALOT_API_KEY", credentialHint("rentalot"))
}

// Each failure is one line that starts with "convo: ".
func TestCLIFailuresAreOneLine(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	for _, args := range [][]string{
		{"nosuchcommand"},
		{"conversations", "--nosuchflag"},
		{"conversations", "--provider", "nosuch"},
		{"conversations", "--provider", "rentalot", "--base-url", "http://127.0.0.1:1", "--max-retries", "0"},
		{"sync", "--demo", "--provider", "rentalot", "--db", "postgres://u:pw@127.0.0.1:1/db"},
		{"sync", "--demo", "--provider", "rentalot", "--db", "host=127.0.0.1 port=1 dbname=db"},
		{"sync", "--demo", "--provider", "rentalot", "--db", "postgres://127.0.0.1:1,127.0.0.1:2/db"},
		{"sync", "--demo", "--provider", "rentalot", "--db", filepath.Join(dir, "inbox.db"), "--name", "a\nb"},
		{"export", "--demo", "--provider", "rentalot", "--out", "-"},
	} {
		r := convoRun(t, []string{"RENTALOT_API_KEY=x"}, args...)
		assert.NotEqual(t, 0, r.code, "%q", args)
		assert.Equal(t, 1, strings.Count(r.stderr, "\n"), "%q: one line: %q", args, r.stderr)
		assert.True(t, strings.HasPrefix(r.stderr, "convo: "), "%q: %q", args, r.stderr)
		assert.False(t, strings.HasPrefix(r.stderr, "convo: convo: "), "%q: %q", args, r.stderr)
	}
	assert.Equal(t, "a; b; c", oneLine("a\n  b\r\n\nc\n"))
	var buf strings.Builder
	printErr(&env{stderr: &buf}, "cannot connect:\n\tdial error\n")
	assert.Equal(t, "convo: cannot connect:; dial error\n", buf.String())
}

// logfmtLine is a -v line: "convo: " and then logfmt pairs, starting
// with the time, the level and the message.
var logfmtLine = regexp.MustCompile(`^convo: time=\S+ level=DEBUG msg=[a-z][a-z ]*( [a-z_]+=("([^"\\]|\\.)*"|[^ "=]+))*$`)

// -v lines start as every other message does and are logfmt after it.
func TestCLIVerboseLogfmt(t *testing.T) {
	t.Parallel()
	r := convoRun(t, nil, "conversations", "--demo", "--provider", "vantaxai", "--json", "-v")
	require.Equal(t, 0, r.code, r.stderr)
	lines := strings.Split(strings.TrimSuffix(r.stderr, "\n"), "\n")
	require.NotEmpty(t, lines)
	for _, line := range lines {
		assert.Regexp(t, logfmtLine, line)
		assert.Contains(t, line, " provider=vantaxai ")
		assert.NotContains(t, line, "msg=\"convo: ", "the prefix once")
	}
}

// --name refuses an empty value and control characters, before anything
// is created or sent.
func TestCLISyncNameRefused(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	for _, name := range []string{"", "  ", "a\nb", "tab\there", "\x1b[31mred", "bad\xffutf8", "nul\x00"} {
		path := filepath.Join(dir, "inbox.db")
		r := convoRun(t, nil, "sync", "--demo", "--provider", "rentalot", "--db", path, "--name", name, "-v")
		assert.Equal(t, 2, r.code, "%q: %s", name, r.stderr)
		assert.Contains(t, r.stderr, "--name")
		assert.NotContains(t, r.stderr, "attempt", "nothing sent")
		assert.NoFileExists(t, path)
	}
	r := convoRun(t, nil, "sync", "--demo", "--provider", "rentalot", "--db", filepath.Join(dir, "ok.db"), "--name", "inbox ☂")
	assert.Equal(t, 0, r.code, r.stderr)
}

func TestCLIFailures(t *testing.T) {
	t.Parallel()
	t.Run("API error", func(t *testing.T) {
		r := convoRun(t, nil, "messages", "no-such-conversation", "--demo", "--provider", "rentalot")
		assert.Equal(t, 1, r.code)
		assert.Contains(t, r.stderr, "Conversation not found", "the provider's message")
		assert.Contains(t, r.stderr, "404")
	})
	const secret = "ra_secret_do_not_print"
	env := []string{"RENTALOT_API_KEY=" + secret}
	t.Run("network error", func(t *testing.T) {
		r := convoRun(t, env, "conversations", "--provider", "rentalot", "--base-url", "http://127.0.0.1:1/api/v1", "--max-retries", "0")
		assert.Equal(t, 1, r.code)
		assert.Contains(t, r.stderr, "127.0.0.1:1")
		assert.NotContains(t, r.stderr, secret)
	})
	t.Run("export network error", func(t *testing.T) {
		out := filepath.Join(t.TempDir(), "x.jsonl")
		r := convoRun(t, env, "export", "--out", out, "--provider", "rentalot", "--base-url", "http://127.0.0.1:1/api/v1", "--max-retries", "0")
		assert.Equal(t, 1, r.code)
		assert.Contains(t, r.stderr, "run the same command again")
		assert.NotContains(t, r.stderr, secret)
		assert.FileExists(t, out+".checkpoint")
	})
}
