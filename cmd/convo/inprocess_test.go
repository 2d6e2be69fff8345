package main

import (
	"context"
	"database/sql"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/convokit/convo"
	"github.com/convokit/convo/convotest"
)

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
	lockedBuffer
	mu     sync.Mutex
	n      int
	seen   int
	cancel context.CancelFunc
}

func (w *interruptingStderr) Write(p []byte) (int, error) {
	w.lockedBuffer.Write(p)
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

// An interrupted export leaves a checkpoint that covers exactly the file;
// lines a crash could leave after it (the last one cut off) are cut by
// the resumed export, which completes the file exactly.
func TestCLIExportInterruptAndResumeInProcess(t *testing.T) {
	t.Parallel()
	eachProvider(t, func(t *testing.T, p convo.Provider) {
		dir := t.TempDir()
		out := filepath.Join(dir, "export.jsonl")
		cpPath := filepath.Join(dir, "export.checkpoint")
		args := []string{"export", "--demo", "--provider", p.Name(), "--out", out, "--checkpoint", cpPath, "-v", "--page-size", "10"}

		r := runInterrupted(t, []string{"CONVO_DEMO_LATENCY=5ms"}, 25, nil, args...)
		require.Equal(t, exitInterrupted, r.code, r.stderr)
		assert.Contains(t, r.stderr, "interrupted after")
		assert.Contains(t, r.stderr, "to resume, run the same command again")
		resumeInterruptedExport(t, p, out, cpPath, args)
	})
}

// An interrupted sync exits 130 with the resume hint, the mirror at the
// end of a transaction; the rerun completes it to exactly the export.
func TestCLISyncInterruptAndResumeInProcess(t *testing.T) {
	t.Parallel()
	for _, mdb := range mirrorDBs(t) {
		for _, p := range []convo.Provider{convo.Vobiz, convo.AgentMessage} {
			t.Run(mdb.name+"/"+p.Name(), func(t *testing.T) {
				args := syncArgs(p, mdb.arg)
				r := runInterrupted(t, []string{"CONVO_DEMO_LATENCY=5ms"}, 30, nil, args...) // of 49 or 55
				require.Equal(t, exitInterrupted, r.code, r.stderr)
				assert.Contains(t, r.stderr, "interrupted;")
				assert.Contains(t, r.stderr, "to resume, run the same command again")
				resumeStoppedSync(t, mdb.open(t), p, args)
			})
		}
	}
}

// convo sync writes delivered rows within its second even when the next
// answer is slow: here the server holds every request after the first
// page of messages until the test has seen rows in the database (or for
// 10 s, longer than the test looks).
func TestCLISyncWritesWithinASecondWhileTheNetworkWaits(t *testing.T) {
	t.Parallel()
	gate := make(chan struct{})
	var once sync.Once
	open := func() { once.Do(func() { close(gate) }) }
	defer open()
	srv := convotest.NewServer(convo.VantaxAI, convotest.WithRequestHook(func(r convotest.Request) {
		if r.N >= 3 { // the conversation list and the first message page pass
			select {
			case <-gate:
			case <-time.After(10 * time.Second):
			}
		}
	}))
	defer srv.Close()
	path := filepath.Join(t.TempDir(), "inbox.db")
	done := make(chan result, 1)
	go func() {
		done <- invocation{vars: []string{"VANTAXAI_API_KEY=" + convotest.DemoVantaxAIKey}}.run(context.Background(), "sync", "--provider", "vantaxai", "--base-url", srv.URL(), "--db", path,
			"--concurrency", "1", "--page-size", "5")
	}()
	var seen bool
	for i := 0; i < 160 && !seen; i++ { // 8 s at most
		time.Sleep(50 * time.Millisecond)
		seen = countRows(path, "messages") > 0
	}
	open()
	r := <-done
	require.True(t, seen, "no message in the database within 8 s while the network waited")
	assert.Equal(t, 0, r.code, r.stderr)
}

// countRows counts the rows of table in the SQLite file at path; 0 when
// it cannot be read yet.
func countRows(path, table string) int {
	db, err := sql.Open("sqlite", "file:"+path+"?_pragma=busy_timeout(30000)&mode=ro")
	if err != nil {
		return 0
	}
	defer db.Close()
	var n int
	if db.QueryRow("SELECT count(*) FROM "+table).Scan(&n) != nil {
		return 0
	}
	return n
}
