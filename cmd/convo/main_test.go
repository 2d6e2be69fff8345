package main

import (
	"bytes"
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/convokit/convo"
)

// exportLine is one line of an export.
type exportLine struct {
	Kind           string              `json:"kind"`
	ConversationID string              `json:"conversation_id"`
	Conversation   *convo.Conversation `json:"conversation"`
	Message        *convo.Message      `json:"message"`
}

// run with no arguments runs no command, whatever the process's own
// command line holds: cobra, given nil, reads os.Args instead. (Not
// parallel: it sets os.Args while no other test runs.)
func TestRunNilArgsIgnoresProcessArgs(t *testing.T) {
	saved := os.Args
	t.Cleanup(func() { os.Args = saved })
	os.Args = []string{"convo", "version"}
	var stdout, stderr bytes.Buffer
	e := &env{stdout: &stdout, stderr: &stderr, getenv: func(string) string { return "" }, args: []string{"convo"}}
	code := run(context.Background(), e, nil)
	assert.Equal(t, 2, code, "no command is a usage error")
	assert.Contains(t, stderr.String(), "Usage:\n  convo [flags]")
	assert.NotContains(t, stdout.String(), convo.Version, "convo version did not run")
}

func TestCLIUsageErrors(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name   string
		env    []string
		args   []string
		stderr string
	}{
		{"no command", nil, nil, "Usage:\n  convo [flags]"},
		{"unknown command", nil, []string{"frobnicate"}, `unknown command "frobnicate"`},
		{"unknown help topic", nil, []string{"help", "frob"}, `unknown help topic "frob"`},
		{"help topic with extra words", nil, []string{"help", "export", "frob"}, `unknown help topic "export frob"`},
		{"page size out of range", nil, []string{"conversations", "--demo", "--provider", "rentalot", "--page-size", "1000"}, "page size 1000 is outside 1..100 (--page-size)"},
		{"negative page size", nil, []string{"messages", "c1", "--demo", "--provider", "vobiz", "--page-size", "-1"}, "(--page-size)"},
		{"export page size", nil, []string{"export", "--demo", "--provider", "vantaxai", "--out", filepath.Join(t.TempDir(), "export.jsonl"), "--page-size", "500"}, "page size 500 is outside 1..100 (--page-size)"},
		{"search limit out of range", nil, []string{"search", "--demo", "--provider", "rentalot", "--limit", "500", "tour"}, "page size 500 is outside 1..50 (--limit)"},
		{"unknown flag", nil, []string{"conversations", "--demo", "--provider", "vobiz", "--colour"}, "unknown flag: --colour (see 'convo conversations --help')"},
		{"unknown shorthand", nil, []string{"conversations", "--demo", "--provider", "vobiz", "-x"}, "unknown shorthand flag: 'x' in -x"},
		{"flag without value", nil, []string{"conversations", "--demo", "--provider"}, "flag needs an argument: --provider"},
		{"bad flag value", nil, []string{"conversations", "--demo", "--provider", "vobiz", "--page-size", "many"}, `invalid argument "many" for "--page-size"`},
		{"missing argument", nil, []string{"messages", "--demo", "--provider", "vobiz"}, "CONVERSATION_ID"},
		{"extra argument", nil, []string{"messages", "a", "b", "--demo", "--provider", "vobiz"}, `"b"`},
		{"no provider", nil, []string{"conversations", "--demo"}, "CONVO_PROVIDER"},
		{"unknown provider", nil, []string{"conversations", "--demo", "--provider", "acme"}, `"acme"`},
		{"no credentials", nil, []string{"conversations", "--provider", "rentalot"}, "RENTALOT_API_KEY"},
		{"no vobiz credentials", []string{"VOBIZ_AUTH_ID=MA_1"}, []string{"conversations", "--provider", "vobiz"}, "VOBIZ_AUTH_TOKEN"},
		{"export without --out", nil, []string{"export", "--demo", "--provider", "vobiz"}, "--out"},
		{"unsupported filter", nil, []string{"conversations", "--demo", "--provider", "vobiz", "--status", "open"}, "not supported"},
		{"unsupported filter names its flag", nil, []string{"conversations", "--demo", "--provider", "rentalot", "--since", "2026-01-01T00:00:00Z"}, "Since (--since)"},
		{"unsupported export filter", nil, []string{"export", "--demo", "--provider", "vobiz", "--status", "open", "--out", "OUT"}, "not supported"},
		{"page size out of range", nil, []string{"messages", "c1", "--demo", "--provider", "vantaxai", "--page-size", "1000"}, "page size"},
		{"bad since", nil, []string{"conversations", "--demo", "--provider", "agentmessage", "--since", "yesterday"}, "--since"},
		{"json and table", nil, []string{"conversations", "--demo", "--provider", "vobiz", "--json", "--table"}, "--json"},
		{"bad base URL", []string{"RENTALOT_API_KEY=ra_x"}, []string{"conversations", "--provider", "rentalot", "--base-url", "ftp://x"}, `--base-url: not an absolute http:// or https:// URL: "ftp://x"`},
		{"cleartext", []string{"RENTALOT_API_KEY=ra_x"}, []string{"conversations", "--provider", "rentalot", "--base-url", "http://api.example.com/v1"}, "pass --insecure-cleartext"},
		{"bad refresh", nil, []string{"export", "--demo", "--provider", "vobiz", "--out", "OUT", "--refresh", "hourly"}, `invalid argument "hourly" for "--refresh" flag: not a duration like 90m, 36h or 30d`},
		{"negative recheck", nil, []string{"export", "--demo", "--provider", "vobiz", "--out", "OUT", "--recheck", "-1h"}, `"--recheck" flag: must not be negative ("never" turns it off)`},
		{"negative retention", nil, []string{"sync", "--demo", "--provider", "vobiz", "--db", "OUT", "--retention", "-30d"}, `"--retention" flag: must not be negative`},
		{"retention never", nil, []string{"sync", "--demo", "--provider", "vobiz", "--db", "OUT", "--retention", "never"}, `invalid argument "never" for "--retention"`},
		{"bad demo latency", nil, []string{"conversations", "--demo", "--provider", "vobiz", "--demo-latency", "soon"}, "--demo-latency"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			args := slices.Clone(tt.args)
			dir := t.TempDir()
			for i, a := range args {
				if a == "OUT" {
					args[i] = filepath.Join(dir, "out.jsonl")
				}
			}
			r := convoRun(t, tt.env, args...)
			assert.Equal(t, 2, r.code, r.stderr)
			assert.Contains(t, r.stderr, tt.stderr)
			assert.Equal(t, 1, strings.Count(r.stderr, "convo: "), "the prefix once: %q", r.stderr)
			assert.Empty(t, r.stdout)
			entries, err := os.ReadDir(dir)
			require.NoError(t, err)
			assert.Empty(t, entries, "a refused export leaves no file")
		})
	}
}

func TestParseInterspersed(t *testing.T) {
	t.Parallel()
	id := demoData(convo.Rentalot).Conversations[0].Conversation.ID
	for _, args := range [][]string{
		{"messages", id, "--demo", "--provider", "rentalot", "--page-size", "3"},
		{"messages", "--page-size=3", "--demo", id, "--provider=rentalot"},
		{"messages", "--demo", "--provider", "rentalot", "--", id},
	} {
		r := runInProcess(t, false, false, args...)
		require.Equal(t, 0, r.code, "%v: %s", args, r.stderr)
		assert.NotEmpty(t, jsonLines[convo.Message](t, r.stdout), args)
	}
	r := runInProcess(t, false, false, "messages", "--demo", "--provider", "rentalot", "--", "--page-size")
	assert.Equal(t, 1, r.code, "after --, a flag is an argument: the conversation --page-size")
	assert.Contains(t, r.stderr, "404")
	assert.Equal(t, `convo export --out 'my file.jsonl' --status 'it'\''s'`, shellQuote([]string{"/usr/bin/convo", "export", "--out", "my file.jsonl", "--status", "it's"}))
}

// TestCLISignals checks that every command that calls an API exits 130 on
// SIGINT and on SIGTERM while a request is in flight: against a server
// that holds every request until the client gives up, and against the slow
// demo after a few requests.
func TestCLISignals(t *testing.T) {
	if testing.Short() {
		t.Skip("signals the built command mid-run; runs without -short")
	}
	t.Parallel()
	for name, base := range apiCommands() {
		for _, sig := range []syscall.Signal{syscall.SIGINT, syscall.SIGTERM} {
			t.Run(name+"/"+sig.String()+"/held request", func(t *testing.T) {
				arrived := make(chan struct{}, 1)
				srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
					select {
					case arrived <- struct{}{}:
					default:
					}
					select {
					case <-r.Context().Done():
					case <-time.After(20 * time.Second):
					}
				}))
				defer srv.Close()
				args := withOut(t, base)
				args = append(args, "--provider", "rentalot", "--base-url", srv.URL+"/api/v1", "--max-retries", "0")
				cmd, wait := startCmd(t, []string{"RENTALOT_API_KEY=ra_test"}, args, nil)
				select {
				case <-arrived:
				case <-time.After(30 * time.Second):
					cmd.Process.Kill()
					t.Fatal("no request within 30s")
				}
				require.NoError(t, cmd.Process.Signal(sig))
				r := wait()
				assert.Equal(t, 130, r.code, r.stderr)
				assert.Contains(t, r.stderr, "interrupted")
				assert.Equal(t, 1, strings.Count(r.stderr, "convo: interrupted"), r.stderr)
			})
		}
		if name == "search" || name == "sync" {
			continue // search: one request, the held one is its mid-run; sync: its own tests
		}
		t.Run(name+"/slow demo", func(t *testing.T) {
			args := append(withOut(t, base), "--demo", "--provider", "rentalot", "--demo-latency", "30ms", "-v")
			attempts := 0
			cmd, wait := startCmd(t, nil, args, func(l string) bool {
				if strings.Contains(l, "attempt") {
					attempts++
				}
				return attempts >= 3
			})
			require.NoError(t, cmd.Process.Signal(syscall.SIGINT))
			r := wait()
			assert.Equal(t, 130, r.code, r.stderr)
			assert.Contains(t, r.stderr, "interrupted")
		})
	}
}

// Every command that calls an API exits 130 when interrupted while a
// request is in flight, saying so once; and conversations, messages and
// export also midway through a slow run.
func TestCLIInterruptExitStatus(t *testing.T) {
	t.Parallel()
	for name, base := range apiCommands() {
		t.Run(name+"/held request", func(t *testing.T) {
			t.Parallel()
			arrived := make(chan struct{})
			var once sync.Once
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				once.Do(func() { close(arrived) })
				select {
				case <-r.Context().Done():
				case <-time.After(20 * time.Second):
				}
			}))
			defer srv.Close()
			args := append(withOut(t, base), "--provider", "rentalot", "--base-url", srv.URL+"/api/v1", "--max-retries", "0")
			r := runInterrupted(t, []string{"RENTALOT_API_KEY=ra_test"}, 0, arrived, args...)
			assert.Equal(t, exitInterrupted, r.code, r.stderr)
			assert.Equal(t, 1, strings.Count(r.stderr, "convo: interrupted"), r.stderr)
		})
		if name == "search" || name == "sync" {
			continue // search: one request, the held one is its mid-run; sync: TestCLISyncInterruptAndResumeInProcess
		}
		t.Run(name+"/slow demo", func(t *testing.T) {
			t.Parallel()
			args := append(withOut(t, base), "--demo", "--provider", "rentalot", "--demo-latency", "20ms", "-v")
			r := runInterrupted(t, nil, 3, nil, args...)
			assert.Equal(t, exitInterrupted, r.code, r.stderr)
			assert.Contains(t, r.stderr, "interrupted")
		})
	}
}

// TestCLIProcess runs the binary itself, as a shell does: main passes the
// process's environment, output and exit status through.
func TestCLIProcess(t *testing.T) {
	t.Parallel()
	r := convoExec(t, nil, "version")
	assert.Equal(t, 0, r.code, r.stderr)
	assert.Equal(t, "convo "+convo.Version+"\n", r.stdout)
	assert.Empty(t, r.stderr)

	r = convoExec(t, nil, "frobnicate")
	assert.Equal(t, 2, r.code)
	assert.Empty(t, r.stdout)
	assert.Contains(t, r.stderr, `convo: unknown command "frobnicate"`)

	r = convoExec(t, []string{"CONVO_PROVIDER=rentalot"}, "conversations", "--demo", "--json")
	assert.Equal(t, 0, r.code, r.stderr)
	assert.Empty(t, r.stderr)
	convs := jsonLines[convo.Conversation](t, r.stdout)
	require.NotEmpty(t, convs, "CONVO_PROVIDER from the process's environment")
	assert.NotEmpty(t, convs[0].PropertyID, "a Rentalot conversation")

	r = convoExec(t, nil, "conversations", "--provider", "vantaxai")
	assert.Equal(t, 2, r.code)
	assert.Contains(t, r.stderr, "VANTAXAI_API_KEY")
}

// A usage error from the SDK names the flag that set the refused field,
// as --help spells it, in every command; the flag comes from the error's
// type, not its text.
func TestCLIUsageErrorsNameTheFlag(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	for _, c := range []struct {
		args []string
		flag string
	}{
		{[]string{"conversations", "--provider", "vantaxai", "--status", "active"}, "--status"},
		{[]string{"conversations", "--provider", "rentalot", "--status", "open"}, "--status"},
		{[]string{"conversations", "--provider", "vantaxai", "--channel", "fax"}, "--channel"},
		{[]string{"conversations", "--provider", "vobiz", "--contact-id", "c1"}, "--contact-id"},
		{[]string{"messages", "c1", "--provider", "agentmessage", "--page-size", "500"}, "--page-size"},
		{[]string{"search", "x", "--provider", "rentalot", "--limit", "500"}, "--limit"},
		{[]string{"export", "--provider", "vantaxai", "--status", "active", "--out", filepath.Join(dir, "e.jsonl")}, "--status"},
		{[]string{"sync", "--provider", "vantaxai", "--status", "active", "--db", filepath.Join(dir, "s.db")}, "--status"},
		{[]string{"sync", "--provider", "rentalot", "--page-size", "1000", "--db", filepath.Join(dir, "s.db")}, "--page-size"},
	} {
		r := convoRun(t, nil, append(c.args, "--demo")...)
		assert.Equal(t, 2, r.code, "%v: %s", c.args, r.stderr)
		assert.True(t, strings.HasSuffix(r.stderr, "("+c.flag+")\n"), "%v: %q", c.args, r.stderr)
		assert.Equal(t, 1, strings.Count(r.stderr, c.flag), "named once: %q", r.stderr)
	}
	assert.NoFileExists(t, filepath.Join(dir, "e.jsonl"))
	assert.NoFileExists(t, filepath.Join(dir, "s.db"))

	assert.Equal(t, "convo: invalid parameters:  (--status)", flagNames(&convo.ParamError{Field: "Status", Err: convo.ErrInvalidParams}))
	assert.Equal(t, "convo: invalid parameters: the filter Status", flagNames(fmt.Errorf("%w: the filter Status", convo.ErrInvalidParams)), "the text is not read")
}

func TestIsTerminal(t *testing.T) {
	t.Parallel()
	f, err := os.OpenFile(os.DevNull, os.O_WRONLY, 0)
	require.NoError(t, err)
	defer f.Close()
	st, err := f.Stat()
	require.NoError(t, err)
	require.NotZero(t, st.Mode()&os.ModeCharDevice, "the null device is a character device")
	assert.False(t, isTerminal(f), "but not a terminal")
	assert.Zero(t, terminalWidth(f))
}
