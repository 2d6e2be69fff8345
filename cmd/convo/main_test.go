package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/convokit/convo"
	"github.com/convokit/convo/convotest"
	"github.com/convokit/convo/internal/testenv"
	"github.com/convokit/convo/internal/testproc"
)

// binary is the path the tests run the convo command by. Without the race
// detector it is a link named convo to this test binary, which runs the
// command instead of the tests when runAsConvo is set in its environment
// (cleanEnv sets it): the command's own main, and no build of its own. With
// the race detector the command is built once, without it: a binary built
// with -race starts and runs several times slower, and the tests start it
// hundreds of times; the race detector still covers the code the tests run
// in process.
var binary string

// runAsConvo is the environment variable that makes the test binary the
// convo command.
const runAsConvo = "GO_TEST_RUN_AS_CONVO"

func TestMain(m *testing.M) {
	if os.Getenv(runAsConvo) == "1" {
		main()
		return
	}
	if err := testproc.Setup(); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(2)
	}
	dir, err := os.MkdirTemp("", "convo-cli-test")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	binary = filepath.Join(dir, "convo")
	if err := provideBinary(binary); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.RemoveAll(dir)
		os.Exit(1)
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

// provideBinary puts the convo command at path: a link to this test
// binary, which is the command when runAsConvo is set (under the race
// detector too: only the tests of signals and of the process run it).
func provideBinary(path string) error {
	exe, err := os.Executable()
	if err != nil {
		return err
	}
	return os.Symlink(exe, path)
}

// cleanEnv is the test process's environment without anything convo reads.
func cleanEnv(extra ...string) []string {
	env := testenv.WithoutConvoVariables(os.Environ())
	env = append(env, runAsConvo+"=1", testproc.RaceExitNoSleep())
	return append(env, extra...)
}

type result struct {
	code           int
	stdout, stderr string
}

// convoRun runs the command with args and the extra environment, bounded
// in time, and returns its exit status and output. It runs in this
// process, through run, as main does with the process's own surroundings:
// the output is not a terminal and the environment is cleanEnv's. The
// tests of signals and of the process itself run the binary (convoExec).
func convoRun(t *testing.T, extra []string, args ...string) result {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	vars := map[string]string{}
	for _, kv := range cleanEnv(extra...) {
		k, v, _ := strings.Cut(kv, "=")
		vars[k] = v
	}
	var stdout, stderr bytes.Buffer
	e := &env{
		stdout: &stdout,
		stderr: &stderr,
		getenv: func(k string) string { return vars[k] },
		args:   append([]string{binary}, args...),
	}
	code := run(ctx, e, args)
	require.NoError(t, ctx.Err(), "convo %v did not finish in time", args)
	return result{code: code, stdout: stdout.String(), stderr: stderr.String()}
}

// convoExec runs the binary with args and the extra environment, bounded
// in time, and returns its exit status and output.
func convoExec(t *testing.T, env []string, args ...string) result {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, binary, args...)
	cmd.Env = cleanEnv(env...)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	require.NoError(t, ctx.Err(), "convo %v did not finish in time", args)
	code := 0
	if err != nil {
		ee, ok := err.(*exec.ExitError)
		require.True(t, ok, "convo %v: %v", args, err)
		code = ee.ExitCode()
	}
	return result{code: code, stdout: stdout.String(), stderr: stderr.String()}
}

// jsonLines decodes every line of s into a new T.
func jsonLines[T any](t *testing.T, s string) []T {
	t.Helper()
	var out []T
	sc := bufio.NewScanner(strings.NewReader(s))
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		var v T
		require.NoError(t, json.Unmarshal(sc.Bytes(), &v), "line %q", sc.Text())
		out = append(out, v)
	}
	require.NoError(t, sc.Err())
	return out
}

// demoData is the dataset the --demo server of p serves.
func demoData(p convo.Provider) *convotest.Dataset {
	return convotest.DemoDataset(p, convotest.DefaultSeed)
}

// newestFirst lists the providers whose message lists run newest first.
var newestFirst = map[string]bool{"vobiz": true, "rentalot": true}

// wantMessages returns the message ids of conversation c in provider order.
func wantMessages(p convo.Provider, c convotest.ConversationData) []string {
	ids := []string{}
	for _, m := range c.Messages {
		ids = append(ids, m.ID)
	}
	if newestFirst[p.Name()] {
		slices.Reverse(ids)
	}
	return ids
}

func TestCLIConversations(t *testing.T) {
	t.Parallel()
	for _, p := range convo.Providers() {
		t.Run(p.Name(), func(t *testing.T) {
			r := convoRun(t, nil, "conversations", "--demo", "--provider", p.Name())
			require.Equal(t, 0, r.code, r.stderr)
			assert.Empty(t, r.stderr)
			got := jsonLines[convo.Conversation](t, r.stdout) // JSON lines: stdout is not a terminal
			var ids, want []string
			for _, c := range got {
				ids = append(ids, c.ID)
			}
			for _, c := range demoData(p).Conversations {
				want = append(want, c.Conversation.ID)
			}
			assert.Equal(t, want, ids)
		})
	}
	t.Run("CONVO_PROVIDER and a filter", func(t *testing.T) {
		r := convoRun(t, []string{"CONVO_PROVIDER=vantaxai"}, "conversations", "--status", "open", "--demo", "--page-size", "5")
		require.Equal(t, 0, r.code, r.stderr)
		got := jsonLines[convo.Conversation](t, r.stdout)
		want := 0
		for _, c := range demoData(convo.VantaxAI).Conversations {
			if c.Conversation.Status == "open" {
				want++
			}
		}
		require.Positive(t, want)
		assert.Len(t, got, want)
		for _, c := range got {
			assert.Equal(t, "open", c.Status)
		}
	})
	t.Run("table", func(t *testing.T) {
		r := convoRun(t, nil, "conversations", "--demo", "--provider", "vantaxai", "--table")
		require.Equal(t, 0, r.code, r.stderr)
		lines := strings.Split(strings.TrimRight(r.stdout, "\n"), "\n")
		require.Len(t, lines, len(demoData(convo.VantaxAI).Conversations)+1)
		assert.Regexp(t, `^ID\s+CONTACT\s+CHANNEL\s+STATUS\s+LAST MESSAGE \(UTC\)$`, lines[0], "one timestamp")
		r = convoRun(t, nil, "conversations", "--demo", "--provider", "vantaxai", "--wide")
		require.Equal(t, 0, r.code, r.stderr)
		assert.Regexp(t, `^ID\s+CONTACT\s+CHANNEL\s+STATUS\s+LAST MESSAGE \(UTC\)\s+CREATED \(UTC\)\n`, r.stdout, lines[0])
		first := demoData(convo.VantaxAI).Conversations[0].Conversation
		assert.True(t, strings.HasPrefix(lines[1], first.ID+" "), lines[1])
		// Aligned: every row's second column starts where the header's does.
		col := strings.Index(lines[0], "CONTACT")
		for _, l := range lines[1:] {
			assert.Equal(t, " ", l[col-1:col], l)
			assert.NotEqual(t, " ", l[col:col+1], l)
		}
	})
}

func TestCLIMessages(t *testing.T) {
	t.Parallel()
	for _, p := range convo.Providers() {
		t.Run(p.Name(), func(t *testing.T) {
			c := demoData(p).Conversations[1]
			// Flags after the positional argument.
			r := convoRun(t, nil, "messages", c.Conversation.ID, "--demo", "--provider", p.Name())
			require.Equal(t, 0, r.code, r.stderr)
			var ids []string
			for _, m := range jsonLines[convo.Message](t, r.stdout) {
				ids = append(ids, m.ID)
				assert.Equal(t, c.Conversation.ID, m.ConversationID)
			}
			assert.Equal(t, wantMessages(p, c), ids)
		})
	}
}

func TestCLISearch(t *testing.T) {
	t.Parallel()
	r := convoRun(t, nil, "search", "--provider=rentalot", "bedroom", "--demo", "--limit", "50")
	require.Equal(t, 0, r.code, r.stderr)
	got := jsonLines[convo.SearchResult](t, r.stdout)
	require.NotEmpty(t, got)
	for _, res := range got {
		assert.Contains(t, strings.ToLower(res.Content), "bedroom")
		assert.NotEmpty(t, res.ConversationID)
	}
	for _, p := range []string{"vobiz", "vantaxai", "agentmessage"} {
		r := convoRun(t, nil, "search", "bedroom", "--demo", "--provider", p)
		assert.Equal(t, 2, r.code, "%s has no search: a usage error", p)
		assert.Contains(t, r.stderr, "search")
		assert.Empty(t, r.stdout)
	}
}

// exportLine is one line of an export.
type exportLine struct {
	Kind           string              `json:"kind"`
	ConversationID string              `json:"conversation_id"`
	Conversation   *convo.Conversation `json:"conversation"`
	Message        *convo.Message      `json:"message"`
}

// checkExport asserts that the export file holds the dataset exactly once:
// each conversation once, before its messages, and each conversation's
// messages once each, in provider order.
func checkExport(t *testing.T, p convo.Provider, path string) {
	t.Helper()
	b, err := os.ReadFile(path)
	require.NoError(t, err)
	lines := jsonLines[exportLine](t, string(b))
	seen := map[string]int{}
	msgs := map[string][]string{}
	for _, l := range lines {
		switch l.Kind {
		case "conversation":
			require.NotNil(t, l.Conversation)
			assert.Equal(t, l.ConversationID, l.Conversation.ID)
			seen[l.ConversationID]++
		case "message":
			require.NotNil(t, l.Message)
			assert.Equal(t, 1, seen[l.ConversationID], "conversation line before its messages")
			msgs[l.ConversationID] = append(msgs[l.ConversationID], l.Message.ID)
		default:
			t.Fatalf("unknown kind %q", l.Kind)
		}
	}
	d := demoData(p)
	for _, c := range d.Conversations {
		id := c.Conversation.ID
		assert.Equal(t, 1, seen[id], "conversation %s exactly once", id)
		want := wantMessages(p, c)
		if len(want) == 0 {
			want = nil
		}
		assert.Equal(t, want, msgs[id], "messages of %s exactly once, in order", id)
	}
	assert.Len(t, seen, len(d.Conversations))
	assert.Len(t, lines, len(d.Conversations)+d.MessageCount())
}

func TestCLIExport(t *testing.T) {
	t.Parallel()
	for _, p := range convo.Providers() {
		t.Run(p.Name(), func(t *testing.T) {
			out := filepath.Join(t.TempDir(), "export.jsonl")
			r := convoRun(t, nil, "export", "--demo", "--provider", p.Name(), "--out", out)
			require.Equal(t, 0, r.code, r.stderr)
			assert.Empty(t, r.stderr, "silent when stderr is not a terminal")
			assert.Empty(t, r.stdout)
			checkExport(t, p, out)
			assertDoneCheckpoint(t, out+".checkpoint")
		})
	}
}

// assertDoneCheckpoint asserts that a finished export kept its checkpoint,
// done, for the next run to append what is new.
func assertDoneCheckpoint(t *testing.T, path string) {
	t.Helper()
	cp, err := convo.LoadCheckpoint(path)
	require.NoError(t, err, "a completed export keeps its checkpoint")
	assert.True(t, cp.Done())
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

// startExport starts an export with the demo server slowed down and
// returns once it has logged n request attempts, with the running command
// and a function that waits for it to end.
func startExport(t *testing.T, args []string, n int) (*exec.Cmd, func() result) {
	t.Helper()
	// 100 ms a request: a signal sent after the n-th leaves the rest of
	// the run (each test stops it well before the end: 15 or more
	// requests) a second or more, which even a loaded machine does not
	// take to deliver it; and the writer has time to catch up.
	seen := 0
	return startCmd(t, []string{"CONVO_DEMO_LATENCY=100ms"}, args, func(line string) bool {
		if strings.Contains(line, attemptMark) {
			seen++
		}
		return seen >= n
	})
}

func TestCLIExportInterruptAndResume(t *testing.T) {
	if testing.Short() {
		t.Skip("interrupts and resumes exports of the built command; runs without -short")
	}
	t.Parallel()
	for _, p := range convo.Providers() {
		t.Run(p.Name(), func(t *testing.T) {
			dir := t.TempDir()
			out := filepath.Join(dir, "export.jsonl")
			cpPath := filepath.Join(dir, "export.checkpoint")
			args := []string{"export", "--demo", "--provider", p.Name(), "--out", out, "--checkpoint", cpPath, "-v", "--page-size", "10"}

			cmd, wait := startExport(t, args, 25)
			require.NoError(t, cmd.Process.Signal(syscall.SIGINT))
			r := wait()
			require.Equal(t, 130, r.code, r.stderr)
			assert.Contains(t, r.stderr, "interrupted after")
			assert.Contains(t, r.stderr, "to resume, run the same command again")
			require.FileExists(t, cpPath)
			resumeInterruptedExport(t, p, out, cpPath, args)
		})
	}
}

// resumeInterruptedExport checks an export interrupted midway (its
// checkpoint covers exactly the file written so far), appends what a crash
// could leave after the checkpoint (lines it does not cover, the last one
// cut off), and runs args again: the export completes with every line once.
func resumeInterruptedExport(t *testing.T, p convo.Provider, out, cpPath string, args []string) {
	t.Helper()
	cp, err := convo.LoadCheckpoint(cpPath)
	require.NoError(t, err)
	assert.False(t, cp.Done())
	var meta exportMeta
	require.NoError(t, json.Unmarshal(cp.Meta(), &meta))
	st, err := os.Stat(out)
	require.NoError(t, err)
	assert.Equal(t, meta.Offset, st.Size(), "the checkpoint covers exactly the file")
	partial := strings.Count(readFile(t, out), "\n")
	d := demoData(p)
	assert.Positive(t, partial, "some lines were written before the interruption")
	assert.Less(t, partial, len(d.Conversations)+d.MessageCount(), "the interruption came midway")

	f, err := os.OpenFile(out, os.O_WRONLY|os.O_APPEND, 0)
	require.NoError(t, err)
	_, err = f.WriteString(`{"kind":"message","conversation_id":"x","message":{"ID":"dup"}}` + "\n" + `{"kind":"mess`)
	require.NoError(t, err)
	require.NoError(t, f.Close())

	r := convoRun(t, nil, args...)
	require.Equal(t, 0, r.code, r.stderr)
	checkExport(t, p, out)
	assertDoneCheckpoint(t, cpPath)
}

func TestCLIExportResumeRefusals(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	out := filepath.Join(dir, "export.jsonl")
	cpPath := out + ".checkpoint"
	const partial = `{"kind":"conversation","conversation_id":"c1","conversation":{"id":"c1"}}` + "\n"
	writeCP := func(provider, output string, offset int64, filters map[string]string) {
		require.NoError(t, os.WriteFile(out, []byte(partial), 0o600))
		meta, err := json.Marshal(exportMeta{Output: output, Offset: offset, Filters: filters})
		require.NoError(t, err)
		doc := fmt.Sprintf(`{"version":1,"provider":%q,"conversations":0,"messages":0,"meta":%s}`, provider, meta)
		require.NoError(t, os.WriteFile(cpPath, []byte(doc), 0o600))
	}
	args := []string{"export", "--demo", "--provider", "vantaxai", "--out", out}
	tests := []struct {
		name  string
		setup func()
		args  []string
		says  string
	}{
		{"other provider", func() { writeCP("rentalot", out, 3, nil) }, nil, "made for provider rentalot, not vantaxai"},
		{"other output", func() { writeCP("vantaxai", filepath.Join(dir, "other.jsonl"), 3, nil) }, nil, "belongs to the output"},
		{"other filters", func() { writeCP("vantaxai", out, 3, map[string]string{"status": "open"}) },
			[]string{"--status", "closed"}, `made with --status "open", not "closed"`},
		{"filter dropped", func() { writeCP("vantaxai", out, 3, map[string]string{"channel": "sms"}) },
			nil, `with --channel "sms", which is now not given`},
		{"filter added", func() { writeCP("vantaxai", out, 3, nil) },
			[]string{"--status", "open"}, `without --status, which is now "open"`},
		{"file shorter than covered", func() { writeCP("vantaxai", out, 1000, nil) }, nil, "fewer than the 1000 it covers"},
		{"corrupt", func() {
			require.NoError(t, os.WriteFile(out, []byte(partial), 0o600))
			require.NoError(t, os.WriteFile(cpPath, []byte("{"), 0o600))
		}, nil, "cannot be read"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tt.setup()
			before := readFile(t, cpPath)
			r := convoRun(t, nil, append(append(slices.Clone(args), tt.args...), "-v")...)
			assert.Equal(t, 2, r.code, r.stderr)
			assert.Contains(t, r.stderr, tt.says)
			assert.Contains(t, r.stderr, "pass --restart")
			assert.NotContains(t, r.stderr, "run the same command again")
			assert.NotContains(t, r.stderr, "attempt", "refused before any request")
			assert.Equal(t, 1, strings.Count(r.stderr, "convo: "), r.stderr)
			assert.Equal(t, partial, readFile(t, out), "the output is left alone")
			assert.Equal(t, before, readFile(t, cpPath), "the checkpoint is left alone")

			// --restart starts over: a whole export, with a new checkpoint.
			r = convoRun(t, nil, append(append(slices.Clone(args), tt.args...), "--restart")...)
			require.Equal(t, 0, r.code, r.stderr)
			assertDoneCheckpoint(t, cpPath)
			if len(tt.args) == 0 {
				checkExport(t, convo.VantaxAI, out)
			}
		})
	}
}

func TestCLIExportNeverOverwritesOtherFiles(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	notes := filepath.Join(dir, "notes.txt")
	require.NoError(t, os.WriteFile(notes, []byte("my notes\n"), 0o600))
	r := convoRun(t, nil, "export", "--demo", "--provider", "vobiz", "--out", notes, "-v")
	assert.Equal(t, 2, r.code, r.stderr)
	assert.Contains(t, r.stderr, "is not a convo export")
	assert.Contains(t, r.stderr, "--force")
	assert.NotContains(t, r.stderr, "attempt", "refused before any request")
	assert.Equal(t, "my notes\n", readFile(t, notes))
	assert.NoFileExists(t, notes+".checkpoint")

	r = convoRun(t, nil, "export", "--demo", "--provider", "vobiz", "--out", notes, "--force")
	require.Equal(t, 0, r.code, r.stderr)
	checkExport(t, convo.Vobiz, notes)

	// An export's own file (here, the one just written) is rewritten
	// without --force, and an empty file too.
	r = convoRun(t, nil, "export", "--demo", "--provider", "vobiz", "--out", notes)
	require.Equal(t, 0, r.code, r.stderr)
	checkExport(t, convo.Vobiz, notes)
	empty := filepath.Join(dir, "empty.jsonl")
	require.NoError(t, os.WriteFile(empty, nil, 0o600))
	r = convoRun(t, nil, "export", "--demo", "--provider", "rentalot", "--out", empty)
	require.Equal(t, 0, r.code, r.stderr)
	checkExport(t, convo.Rentalot, empty)

	// A directory is no file to write.
	r = convoRun(t, nil, "export", "--demo", "--provider", "vobiz", "--out", dir)
	assert.Equal(t, 2, r.code, r.stderr)
	assert.Contains(t, r.stderr, "not a regular file")

	// A refused filter leaves an existing export as it was.
	before := readFile(t, notes)
	r = convoRun(t, nil, "export", "--demo", "--provider", "vobiz", "--out", notes, "--status", "open")
	assert.Equal(t, 2, r.code, r.stderr)
	assert.Equal(t, before, readFile(t, notes))
}

func TestCLIExportCheckpointNotWritable(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	blocker := filepath.Join(dir, "file")
	require.NoError(t, os.WriteFile(blocker, []byte("x"), 0o600))
	out := filepath.Join(dir, "export.jsonl")
	for name, cp := range map[string]string{
		"parent is a file":  filepath.Join(blocker, "export.checkpoint"),
		"missing directory": filepath.Join(dir, "no", "such", "dir", "export.checkpoint"),
		"a directory":       dir,
	} {
		t.Run(name, func(t *testing.T) {
			r := convoRun(t, nil, "export", "--demo", "--provider", "vobiz", "--out", out, "--checkpoint", cp, "-v")
			assert.Equal(t, 2, r.code, r.stderr)
			assert.Contains(t, r.stderr, "--checkpoint "+cp+" cannot be written")
			assert.NotContains(t, r.stderr, "attempt", "found before any request")
			assert.NoFileExists(t, out)
		})
	}
}

func TestCLIExportCrashAndResume(t *testing.T) {
	if testing.Short() {
		t.Skip("crashes and resumes exports of the built command; runs without -short")
	}
	t.Parallel()
	// SIGKILL gives the export no chance to save: the file may hold lines
	// after the last checkpoint, which the resumed export must drop.
	p := convo.Rentalot
	dir := t.TempDir()
	out := filepath.Join(dir, "export.jsonl")
	args := []string{"export", "--demo", "--provider", p.Name(), "--out", out, "-v", "--page-size", "10", "--save-every", "20ms"}
	cmd, wait := startExport(t, args, 30)
	require.NoError(t, cmd.Process.Kill())
	r := wait()
	require.NotEqual(t, 0, r.code)
	require.FileExists(t, out+".checkpoint", "saved during the export")
	cp, err := convo.LoadCheckpoint(out + ".checkpoint")
	require.NoError(t, err)
	var meta exportMeta
	require.NoError(t, json.Unmarshal(cp.Meta(), &meta))
	st, err := os.Stat(out)
	require.NoError(t, err)
	assert.GreaterOrEqual(t, st.Size(), meta.Offset, "the checkpoint never runs ahead of the file")

	r = convoRun(t, nil, args...)
	require.Equal(t, 0, r.code, r.stderr)
	checkExport(t, p, out)
}

func readFile(t *testing.T, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	require.NoError(t, err)
	return string(b)
}

// runInProcess runs the command line in this process with the given
// terminal flags, for what a test cannot get from a pipe.
func runInProcess(t *testing.T, stdoutTTY, stderrTTY bool, args ...string) result {
	t.Helper()
	var stdout, stderr bytes.Buffer
	e := &env{
		stdout: &stdout, stderr: &stderr, stdoutTTY: stdoutTTY, stderrTTY: stderrTTY,
		getenv: func(string) string { return "" }, args: append([]string{"convo"}, args...),
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	code := run(ctx, e, args)
	return result{code: code, stdout: stdout.String(), stderr: stderr.String()}
}

func TestExportProgressOnTerminal(t *testing.T) {
	t.Parallel()
	out := filepath.Join(t.TempDir(), "export.jsonl")
	r := runInProcess(t, false, true, "export", "--demo", "--provider", "rentalot", "--out", out)
	require.Equal(t, 0, r.code, r.stderr)
	d := demoData(convo.Rentalot)
	total := len(d.Conversations)
	// The last progress line, and the summary.
	assert.Regexp(t, fmt.Sprintf(`\r\x1b\[K%d/%d conversations, %d messages, \d+ msg/s, \d+s\n`, total, total, d.MessageCount()), r.stderr)
	assert.Contains(t, r.stderr, fmt.Sprintf("exported %d conversations and %d messages", total, d.MessageCount()))
	checkExport(t, convo.Rentalot, out)

	// A provider without a total shows the count alone.
	out = filepath.Join(t.TempDir(), "export.jsonl")
	r = runInProcess(t, false, true, "export", "--demo", "--provider", "agentmessage", "--out", out)
	require.Equal(t, 0, r.code, r.stderr)
	assert.Regexp(t, fmt.Sprintf(`\r\x1b\[K%d conversations, %d messages`, len(demoData(convo.AgentMessage).Conversations), demoData(convo.AgentMessage).MessageCount()), r.stderr)
}

func TestListingFormatFollowsTerminal(t *testing.T) {
	t.Parallel()
	r := runInProcess(t, true, true, "conversations", "--demo", "--provider", "rentalot")
	require.Equal(t, 0, r.code, r.stderr)
	assert.True(t, strings.HasPrefix(r.stdout, "ID "), "a table on a terminal")
	r = runInProcess(t, true, true, "conversations", "--demo", "--provider", "rentalot", "--json")
	require.Equal(t, 0, r.code, r.stderr)
	assert.Len(t, jsonLines[convo.Conversation](t, r.stdout), len(demoData(convo.Rentalot).Conversations))
	r = runInProcess(t, false, false, "messages", demoData(convo.Rentalot).Conversations[0].Conversation.ID, "--demo", "--provider", "rentalot", "--table")
	require.Equal(t, 0, r.code, r.stderr)
	assert.Regexp(t, `^ID\s+SENT \(UTC\)\s+BODY\n`, r.stdout)
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

// TestCLIExportRedactedAt checks that an exported AgentMessage message
// carries a redacted_at key only when the retention window removed its body
// (a consumer testing for the key must not take every message as redacted).
func TestCLIExportRedactedAt(t *testing.T) {
	t.Parallel()
	out := filepath.Join(t.TempDir(), "export.jsonl")
	r := convoRun(t, nil, "export", "--demo", "--provider", "agentmessage", "--out", out)
	require.Equal(t, 0, r.code, r.stderr)
	var redacted, kept int
	for _, l := range jsonLines[map[string]json.RawMessage](t, readFile(t, out)) {
		var kind string
		require.NoError(t, json.Unmarshal(l["kind"], &kind))
		if kind != "message" {
			continue
		}
		var msg map[string]any
		require.NoError(t, json.Unmarshal(l["message"], &msg))
		_, hasKey := msg["redacted_at"]
		body, _ := msg["body"].(string)
		if body != "" {
			kept++
			assert.False(t, hasKey, "a message with its body has no redacted_at: %v", msg)
		} else {
			redacted++
			assert.True(t, hasKey, "a message without its body says when it was redacted: %v", msg)
		}
	}
	assert.Positive(t, kept)
	assert.Positive(t, redacted, "the demo data holds redacted messages")
}

// startCmd starts the binary with args and env and returns once a line of
// its stderr satisfies ready (or at once for a nil ready), with the running
// command and a function that waits for it to end.
func startCmd(t *testing.T, env []string, args []string, ready func(line string) bool) (*exec.Cmd, func() result) {
	t.Helper()
	cmd := exec.Command(binary, args...)
	cmd.Env = cleanEnv(env...)
	var stdout bytes.Buffer
	cmd.Stdout = &stdout
	pipe, err := cmd.StderrPipe()
	require.NoError(t, err)
	require.NoError(t, cmd.Start())
	var stderr bytes.Buffer
	lines := make(chan string)
	go func() {
		defer close(lines)
		sc := bufio.NewScanner(pipe)
		for sc.Scan() {
			lines <- sc.Text()
		}
	}()
	timeout := time.After(30 * time.Second)
	for ready != nil {
		select {
		case l, ok := <-lines:
			require.True(t, ok, "convo %v ended before it was ready:\n%s", args, stderr.String())
			stderr.WriteString(l + "\n")
			if ready(l) {
				ready = nil
			}
		case <-timeout:
			cmd.Process.Kill()
			t.Fatalf("convo %v not ready within 30s", args)
		}
	}
	wait := func() result {
		done := make(chan error, 1)
		go func() {
			for l := range lines {
				stderr.WriteString(l + "\n")
			}
			done <- cmd.Wait()
		}()
		select {
		case <-done:
		case <-time.After(30 * time.Second):
			cmd.Process.Kill()
			t.Fatalf("convo %v did not end within 30s", args)
		}
		return result{code: cmd.ProcessState.ExitCode(), stdout: stdout.String(), stderr: stderr.String()}
	}
	return cmd, wait
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
	rentalotID := demoData(convo.Rentalot).Conversations[0].Conversation.ID
	commands := map[string][]string{
		"conversations": {"conversations", "--page-size", "1"},
		"messages":      {"messages", rentalotID, "--page-size", "1"},
		"search":        {"search", "bedroom"},
		"export":        {"export", "--page-size", "1", "--out", "OUT"},
		"sync":          {"sync", "--db", "OUT"},
	}
	for name, base := range commands {
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

// withOut returns args with OUT replaced by a file in a new temporary
// directory.
func withOut(t *testing.T, args []string) []string {
	args = slices.Clone(args)
	for i, a := range args {
		if a == "OUT" {
			args[i] = filepath.Join(t.TempDir(), "out.jsonl")
		}
	}
	return args
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
