package main

import (
	"bytes"
	"os"
	"regexp"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/convokit/convo"
)

func TestCLIHelp(t *testing.T) {
	t.Parallel()
	for _, cmd := range []string{"conversations", "messages", "search", "export", "version", "completion"} {
		for _, h := range []string{"-h", "--help"} {
			r := convoRun(t, nil, cmd, h)
			assert.Equal(t, 0, r.code, "%s %s", cmd, h)
			assert.Contains(t, r.stdout, "Usage:\n  convo "+cmd)
			assert.Empty(t, r.stderr)
		}
	}
	r := convoRun(t, nil, "messages", "c1", "--provider", "vobiz", "--help")
	assert.Equal(t, 0, r.code, "--help after arguments")
	assert.Contains(t, r.stdout, "--page-size")
	assert.Contains(t, r.stdout, "--demo-latency duration", "the demo latency knob is documented")
	assert.Contains(t, r.stdout, "$CONVO_DEMO_LATENCY")
	for _, args := range [][]string{{"help"}, {"--help"}, {"-h"}} {
		r := convoRun(t, nil, args...)
		assert.Equal(t, 0, r.code)
		assert.Contains(t, r.stdout, "RENTALOT_API_KEY")
		assert.Contains(t, r.stdout, "CONVO_DEMO_LATENCY")
	}
	r = convoRun(t, nil, "help", "export")
	assert.Equal(t, 0, r.code)
	assert.Contains(t, r.stdout, "--checkpoint")
	for _, args := range [][]string{{"version"}, {"--version"}} {
		r = convoRun(t, nil, args...)
		assert.Equal(t, 0, r.code, args)
		assert.Equal(t, "convo "+convo.Version+"\n", r.stdout, args)
	}
}

func TestCLICompletion(t *testing.T) {
	t.Parallel()
	for shell, want := range map[string]string{
		"bash": "bash completion V2 for convo",
		"zsh":  "#compdef convo",
		"fish": "fish completion for convo",
	} {
		r := convoRun(t, nil, "completion", shell)
		assert.Equal(t, 0, r.code, shell)
		assert.Contains(t, r.stdout, want, shell)
		assert.Empty(t, r.stderr, shell)
	}
	r := convoRun(t, nil, "completion", "tcsh")
	assert.Equal(t, 2, r.code)
	assert.Contains(t, r.stderr, `unknown shell "tcsh"`)
}

// TestHelpFromRegistry: the help texts and the package documentation name
// every provider of the SDK's registry, its credential variables, and every
// filter flag.
func TestHelpFromRegistry(t *testing.T) {
	t.Parallel()
	root := newRootCmd(&env{stdout: new(bytes.Buffer), stderr: new(bytes.Buffer), getenv: func(string) string { return "" }})
	doc, err := os.ReadFile("doc.go")
	require.NoError(t, err)
	conversations, _, err := root.Find([]string{"conversations"})
	require.NoError(t, err)
	for _, p := range convo.Providers() {
		assert.Contains(t, root.Short, p.Title())
		assert.Regexp(t, `\n  `+p.Name()+` +`+regexp.QuoteMeta(p.CredentialHelp())+`\n`, root.Long, "the credentials of %s", p)
		assert.Regexp(t, `\n//\t`+p.Name()+` +`+regexp.QuoteMeta(p.CredentialHelp()), string(doc), "doc.go names the credentials of %s", p)
		assert.Contains(t, conversations.Flags().Lookup("provider").Usage, p.Name())
		for _, d := range p.Filters() {
			assert.Contains(t, string(doc), "--"+d.Flag, "doc.go names the filter flag")
		}
		for _, v := range p.CredentialEnv() {
			assert.Contains(t, root.Long, v)
		}
	}
}
