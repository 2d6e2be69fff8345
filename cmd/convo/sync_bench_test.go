package main

import (
	"bytes"
	"context"
	"path/filepath"
	"syscall"
	"testing"
	"time"

	"github.com/convokit/convo"
	"github.com/convokit/convo/convotest"
	"github.com/convokit/convo/internal/fakedata"
)

// benchDataset is 100,000 messages: 200 conversations of 500 messages
// each, bodies of SMS length. Every provider's fake serves it (each uses
// the fields it has).
func benchDataset() *convotest.Dataset { return fakedata.Volume(200, 500) }

// benchCredentials are the environment of the fake servers' credentials.
var benchCredentials = map[string]map[string]string{
	"vobiz":        {"VOBIZ_AUTH_ID": convotest.DemoVobizAuthID, "VOBIZ_AUTH_TOKEN": convotest.DemoVobizAuthToken},
	"vantaxai":     {"VANTAXAI_API_KEY": convotest.DemoVantaxAIKey},
	"rentalot":     {"RENTALOT_API_KEY": convotest.DemoRentalotKey},
	"agentmessage": {"AGENTMESSAGE_API_KEY": convotest.DemoAgentMessageKey},
}

// benchPageSize is each provider's largest message page.
var benchPageSize = map[string]string{"vobiz": "100", "vantaxai": "100", "rentalot": "100", "agentmessage": "200"}

// BenchmarkSyncVsExport times, in the same iterations on the same fake
// server (100,000 messages, no latency), convo export to JSON lines and
// convo sync into a new SQLite file, and reports both and their ratio
// (target: sync/export <= 2), for the fake of every provider (each pages
// its own way). Rentalot's fake reports a limit of a million requests a
// minute instead of its 120 (convotest.WithRateLimit): the client still
// reads the headers, but the 1,000 and more requests of this dataset do not
// wait for the window.
func BenchmarkSyncVsExport(b *testing.B) {
	d := benchDataset()
	if d.MessageCount() != 100_000 {
		b.Fatalf("dataset has %d messages", d.MessageCount())
	}
	for _, p := range []convo.Provider{convo.AgentMessage, convo.Vobiz, convo.VantaxAI, convo.Rentalot} {
		b.Run(p.Name(), func(b *testing.B) { benchSyncVsExport(b, p, d) })
	}
}

func benchSyncVsExport(b *testing.B, p convo.Provider, d *convotest.Dataset) {
	srv := convotest.NewServer(p, convotest.WithData(d), convotest.WithRateLimit(1_000_000))
	defer srv.Close()
	e := func() *env {
		return &env{
			stdout: &bytes.Buffer{}, stderr: &bytes.Buffer{}, args: []string{"convo"},
			getenv: func(k string) string { return benchCredentials[p.Name()][k] },
		}
	}
	common := []string{"--provider", p.Name(), "--base-url", srv.URL(), "--page-size", benchPageSize[p.Name()]}
	// timed runs one command and returns its wall time and the CPU time
	// of the process meanwhile (the fake server's included, for both).
	timed := func(args ...string) (wall, cpu time.Duration) {
		ev := e()
		var r0, r1 syscall.Rusage
		syscall.Getrusage(syscall.RUSAGE_SELF, &r0)
		start := time.Now()
		if code := run(context.Background(), ev, append(args, common...)); code != 0 {
			b.Fatalf("convo %v: exit %d: %s", args, code, ev.stderr)
		}
		wall = time.Since(start)
		syscall.Getrusage(syscall.RUSAGE_SELF, &r1)
		cpu = time.Duration(r1.Utime.Nano() + r1.Stime.Nano() - r0.Utime.Nano() - r0.Stime.Nano())
		return wall, cpu
	}
	b.ReportAllocs()
	var export, sync, exportCPU, syncCPU time.Duration
	for b.Loop() {
		dir := b.TempDir()
		ew, ec := timed("export", "--out", filepath.Join(dir, "export.jsonl"))
		sw, sc := timed("sync", "--db", filepath.Join(dir, "inbox.db"))
		export, exportCPU = export+ew, exportCPU+ec
		sync, syncCPU = sync+sw, syncCPU+sc
	}
	n := float64(b.N)
	b.ReportMetric(float64(export.Milliseconds())/n, "export-ms")
	b.ReportMetric(float64(sync.Milliseconds())/n, "sync-ms")
	b.ReportMetric(float64(exportCPU.Milliseconds())/n, "export-cpu-ms")
	b.ReportMetric(float64(syncCPU.Milliseconds())/n, "sync-cpu-ms")
	b.ReportMetric(float64(sync)/float64(export), "sync/export")
	b.ReportMetric(float64(syncCPU)/float64(exportCPU), "sync/export-cpu")
}
