package main

import (
	"bytes"
	"context"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"github.com/convokit/convo"
	"github.com/convokit/convo/convotest"
	"github.com/convokit/convo/internal/cputime"
	"github.com/convokit/convo/internal/fakedata"
)

// benchDataset is 100,000 messages: 200 conversations of 500 messages
// each, bodies of SMS length. Every provider's fake serves it (each uses
// the fields it has).
func benchDataset() *convotest.Dataset { return fakedata.Volume(200, 500) }

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
	creds := convotest.DemoEnv(p)
	e := func() *env {
		return &env{
			stdout: &bytes.Buffer{}, stderr: &bytes.Buffer{}, args: []string{"convo"},
			getenv: func(k string) string { return creds[k] },
		}
	}
	// Each provider's largest message page.
	common := []string{"--provider", p.Name(), "--base-url", srv.URL(), "--page-size", strconv.Itoa(p.MaxPageSize(convo.OpListMessages))}
	// timed runs one command and returns its wall time and the CPU time
	// of the process meanwhile (the fake server's included, for both).
	timed := func(args ...string) (wall, cpu time.Duration) {
		ev := e()
		cpu0, start := cputime.Self(), time.Now()
		if code := run(context.Background(), ev, append(args, common...)); code != 0 {
			b.Fatalf("convo %v: exit %d: %s", args, code, ev.stderr)
		}
		wall = time.Since(start)
		return wall, cputime.Since(cpu0)
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
