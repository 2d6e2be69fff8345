package main

import (
	"context"
	"fmt"
	"io"
	"iter"
	"sync"
	"sync/atomic"
	"time"

	"github.com/convokit/convo"
)

// redrawEvery calls draw five times a second until the returned function is
// called; that function draws a last time, ends the line on w and returns
// once the drawing goroutine has stopped.
func redrawEvery(w io.Writer, draw func()) (stop func()) {
	done := make(chan struct{})
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		t := time.NewTicker(200 * time.Millisecond)
		defer t.Stop()
		for {
			select {
			case <-t.C:
				draw()
			case <-done:
				draw()
				fmt.Fprintln(w)
				return
			}
		}
	}()
	return func() {
		close(done)
		wg.Wait()
	}
}

// progress shows, on a terminal stderr only, the conversations done (of
// the total when the provider reports one), the messages, the rate and the
// elapsed time, redrawn a few times a second. It returns the function that
// stops it.
func (x *exporter) progress(ctx context.Context, params *convo.SyncParams, messages *atomic.Int64) func() {
	if !x.e.stderrTTY {
		return func() {}
	}
	start := time.Now()
	total := -1
	if !x.cp.Done() {
		// One request for the total, which the first page reports
		// (VantaxAI, Rentalot); the export itself does not need it.
		lp := params.Conversations
		next, stop := iter.Pull2(x.client.Conversations.List(ctx, &lp).Pages())
		if page, err, ok := next(); ok && err == nil && page.TotalKnown {
			total = page.Total
		}
		stop()
	}
	draw := func() {
		done := x.cp.Conversations()
		convs := fmt.Sprintf("%d conversations", done)
		if total >= 0 {
			convs = fmt.Sprintf("%d/%d conversations", done, total)
		}
		elapsed := time.Since(start)
		n := messages.Load()
		rate := float64(n) / max(elapsed.Seconds(), 0.001)
		fmt.Fprintf(x.e.stderr, "\r\x1b[K%s, %d messages, %.0f msg/s, %s", convs, x.cp.Messages(), rate, elapsed.Truncate(time.Second))
	}
	return redrawEvery(x.e.stderr, draw)
}

// clearLine erases the progress line before another message on a terminal.
func (x *exporter) clearLine() {
	if x.e.stderrTTY {
		fmt.Fprint(x.e.stderr, "\r\x1b[K")
	}
}

// progress shows, on a terminal stderr only, the messages delivered and
// the rows written so far, the rate and the elapsed time, redrawn a few
// times a second. It returns the function that stops it.
func (s *syncer) progress(written, delivered *atomic.Int64) func() {
	if !s.e.stderrTTY {
		return func() {}
	}
	start := time.Now()
	draw := func() {
		elapsed := time.Since(start)
		n := delivered.Load()
		rate := float64(n) / max(elapsed.Seconds(), 0.001)
		fmt.Fprintf(s.e.stderr, "\r\x1b[K%d messages delivered, %d rows written, %.0f msg/s, %s", n, written.Load(), rate, elapsed.Truncate(time.Second))
	}
	return redrawEvery(s.e.stderr, draw)
}
