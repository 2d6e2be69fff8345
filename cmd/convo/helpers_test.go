package main

import (
	"bufio"
	"bytes"
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/convokit/convo"
	"github.com/convokit/convo/convotest"
	"github.com/convokit/convo/internal/fakedata"
	"github.com/convokit/convo/internal/syncbuf"
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
	return invocation{vars: cleanEnv(extra...)}.runBounded(t, args...)
}

// invocation is how a test runs the command in this process, through
// run, as main does with the process's own surroundings: the environment
// is vars ("K=V") and nothing else, and the outputs are terminals as
// stdoutTTY and stderrTTY say. stderr, when set, is the command's stderr
// (a syncbuf.Buffer when not).
type invocation struct {
	vars                 []string
	stdoutTTY, stderrTTY bool
	stderr               interface {
		io.Writer
		String() string
	}
}

// run runs the command line args under ctx. Unlike the helpers that take
// a testing.T, it may be called from any goroutine.
func (in invocation) run(ctx context.Context, args ...string) result {
	m := map[string]string{}
	for _, kv := range in.vars {
		k, v, _ := strings.Cut(kv, "=")
		m[k] = v
	}
	var stdout bytes.Buffer
	stderr := in.stderr
	if stderr == nil {
		stderr = new(syncbuf.Buffer) // the progress redraw and -v write from goroutines of their own
	}
	e := &env{
		stdout: &stdout, stderr: stderr, stdoutTTY: in.stdoutTTY, stderrTTY: in.stderrTTY,
		getenv: func(k string) string { return m[k] },
		args:   append([]string{binary}, args...),
	}
	code := run(ctx, e, args)
	return result{code: code, stdout: stdout.String(), stderr: stderr.String()}
}

// runBounded runs the command line args, failing the test when it does
// not end within a minute.
func (in invocation) runBounded(t *testing.T, args ...string) result {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	r := in.run(ctx, args...)
	require.NoError(t, ctx.Err(), "convo %v did not finish in time", args)
	return r
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
	return invocation{stdoutTTY: stdoutTTY, stderrTTY: stderrTTY}.runBounded(t, args...)
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

// changeRecords changes, on the fake, the status of every other
// conversation (a change no activity field shows, but Rentalot's
// updatedAt) and the record of two messages of one conversation (a
// delivery status and metadata; AgentMessage: a redaction), and returns
// the ids of the conversations whose record changed, of the changed
// messages, and of their conversation.
func changeRecords(t *testing.T, srv *convotest.Server) (convs, msgs []string, msgConv string) {
	t.Helper()
	data := srv.Dataset()
	for i, c := range data.Conversations {
		if i%2 == 0 {
			continue
		}
		require.NoError(t, srv.ChangeConversation(c.Conversation.ID, func(c *convo.Conversation) {
			c.Status += "-changed"
			c.Consent = &convo.Consent{OptedIn: c.Consent == nil || !c.Consent.OptedIn}
		}))
		convs = append(convs, c.Conversation.ID)
	}
	c := data.Conversations[0]
	msgs = fakedata.ChangeMessages(t, srv, c)
	if srv.Provider() == convo.AgentMessage {
		convs = append(convs, c.Conversation.ID) // its preview became [redacted]
	}
	return convs, msgs, c.Conversation.ID
}

// eachProvider runs f for every provider, as parallel subtests.
var eachProvider = fakedata.EachProvider

// fakeOf returns a fake of p, closed at the end of the test, and the
// environment that gives the command its credentials (demoKeys).
func fakeOf(t *testing.T, p convo.Provider, opts ...convotest.Option) (*convotest.Server, []string) {
	srv := convotest.NewServer(p, opts...)
	t.Cleanup(srv.Close)
	return srv, demoKeys(p)
}

// demoKeys are the credentials the fake of p takes, as KEY=value
// environment entries.
func demoKeys(p convo.Provider) []string {
	var env []string
	for k, v := range convotest.DemoEnv(p) {
		env = append(env, k+"="+v)
	}
	slices.Sort(env)
	return env
}

// runTTY runs the command line in this process with the extra
// environment and a terminal stderr (progress and summary), bounded in
// time.
func runTTY(t *testing.T, extra []string, args ...string) result {
	t.Helper()
	return invocation{vars: extra, stderrTTY: true}.runBounded(t, args...)
}

// The command's interruption checks, in this process: an interrupt is
// the end of run's context, as main makes it of SIGINT and SIGTERM (the
// tests of the signals themselves, and of kill -9, run the binary, without
// -short).

// attemptMark is in each line -v logs for a request attempt
// ("convo: time=… level=DEBUG msg=attempt provider=…").
const attemptMark = " msg=attempt "

// interruptingStderr is a command's stderr that ends its context at the
// nth request attempt logged (-v), or never for n 0.
type interruptingStderr struct {
	syncbuf.Buffer
	mu     sync.Mutex
	n      int
	seen   int
	cancel context.CancelFunc
}

func (w *interruptingStderr) Write(p []byte) (int, error) {
	w.Buffer.Write(p)
	w.mu.Lock()
	defer w.mu.Unlock()
	w.seen += strings.Count(string(p), attemptMark)
	if w.n > 0 && w.seen >= w.n {
		w.cancel()
	}
	return len(p), nil
}

// runInterrupted runs the command line in this process with the extra
// environment, and interrupts it at its nth request attempt (which needs
// -v), or when interrupt is closed; it fails the test if the command has
// not returned a minute later.
func runInterrupted(t *testing.T, extra []string, n int, interrupt <-chan struct{}, args ...string) result {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	in := invocation{vars: cleanEnv(extra...), stderr: &interruptingStderr{n: n, cancel: cancel}}
	done := make(chan result, 1)
	go func() { done <- in.run(ctx, args...) }()
	var r result
	select {
	case r = <-done:
	case <-interrupt:
		cancel()
		select {
		case r = <-done:
		case <-time.After(time.Minute):
			t.Fatalf("convo %v did not end within a minute of the interrupt", args)
		}
	case <-time.After(time.Minute):
		cancel()
		t.Fatalf("convo %v did not end within a minute", args)
	}
	return r
}

// eachRow calls row with the columns, as text, of every row of q.
func eachRow(t *testing.T, db *sql.DB, row func(cols []string), q string, args ...any) {
	t.Helper()
	rows, err := db.Query(q, args...)
	require.NoError(t, err)
	defer rows.Close()
	names, err := rows.Columns()
	require.NoError(t, err)
	cols := make([]string, len(names))
	dest := make([]any, len(cols))
	for i := range cols {
		dest[i] = &cols[i]
	}
	for rows.Next() {
		require.NoError(t, rows.Scan(dest...))
		row(slices.Clone(cols))
	}
	require.NoError(t, rows.Err())
}

// rowTexts returns every row of q as one line: its columns, as text,
// joined by spaces.
func rowTexts(t *testing.T, db *sql.DB, q string, args ...any) []string {
	t.Helper()
	var out []string
	eachRow(t, db, func(cols []string) { out = append(out, strings.Join(cols, " ")) }, q, args...)
	return out
}

// apiCommands are the command lines, by command, of every command that
// calls an API, reading small pages of Rentalot's demo data: OUT stands
// for a new file (see withOut).
func apiCommands() map[string][]string {
	rentalotID := demoData(convo.Rentalot).Conversations[0].Conversation.ID
	return map[string][]string{
		"conversations": {"conversations", "--page-size", "1"},
		"messages":      {"messages", rentalotID, "--page-size", "1"},
		"search":        {"search", "bedroom"},
		"export":        {"export", "--page-size", "1", "--out", "OUT"},
		"sync":          {"sync", "--db", "OUT"},
	}
}
