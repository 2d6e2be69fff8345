package main

import (
	"context"
	"fmt"
	"iter"
	"sync"
	"sync/atomic"
	"time"

	"github.com/convokit/convo"
)

// showProgress shows, on a terminal stderr only, the progress line that
// line returns given the time elapsed since start, redrawn five times a
// second, until the returned function is called; that function draws a
// last time, ends the line and returns once the drawing goroutine has
// stopped.
func showProgress(e *env, start time.Time, line func(elapsed time.Duration) string) (stop func()) {
	if !e.stderrTTY {
		return func() {}
	}
	draw := func() { fmt.Fprint(e.stderr, "\r\x1b[K"+line(time.Since(start))) }
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
				fmt.Fprintln(e.stderr)
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
		return func() {} // and no request for the total
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
	return showProgress(x.e, start, func(elapsed time.Duration) string {
		done := x.cp.Conversations()
		convs := fmt.Sprintf("%d conversations", done)
		if total >= 0 {
			convs = fmt.Sprintf("%d/%d conversations", done, total)
		}
		return fmt.Sprintf("%s, %d messages, %s", convs, x.cp.Messages(), pace(messages.Load(), elapsed))
	})
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
	return showProgress(s.e, time.Now(), func(elapsed time.Duration) string {
		n := delivered.Load()
		return fmt.Sprintf("%d messages delivered, %d rows written, %s", n, written.Load(), pace(n, elapsed))
	})
}

// pace is the rate of n messages in elapsed and the time elapsed, as a
// progress line ends: "120 msg/s, 3s".
func pace(n int64, elapsed time.Duration) string {
	rate := float64(n) / max(elapsed.Seconds(), 0.001)
	return fmt.Sprintf("%.0f msg/s, %s", rate, elapsed.Truncate(time.Second))
}
