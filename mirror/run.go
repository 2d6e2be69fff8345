package mirror

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/convokit/convo"
)

// run is one run of Mirror.Sync.
type run struct {
	m        *Mirror
	d        dialect
	conn     *sql.Conn
	opts     Options
	provider string
	filters  string

	// The stored state, as of the last transaction (writer goroutine once
	// the sync runs).
	exists      bool
	generation  int64
	writtenHead []byte    // the checkpoint's head last written (see state.go)
	cutoff      time.Time // Options.Retention: messages sent before are stored without their body

	mu        sync.Mutex // guards stats and abandoned, shared with the writer
	stats     Stats
	abandoned bool // Sync stopped waiting for the writer: it no longer reports
	dirty     bool // a write did not end cleanly: the connection is discarded
	attempts  int  // write transactions begun
	stmts     map[stmtKey]*sql.Stmt
	unlock    func(context.Context) error
}

func (r *run) sync(ctx context.Context, client *convo.Client) (Stats, error) {
	// Writes, and the release of the connection, go on after ctx ends for
	// StopGrace (wctx); Sync waits for them until abandonAfter (stop).
	wctx, cancelW := afterEnd(ctx, StopGrace)
	defer cancelW()
	stop, cancelS := afterEnd(ctx, abandonAfter)
	defer cancelS()
	cp, entries, err := r.start(ctx, wctx, stop)
	if err != nil {
		return r.stats, err
	}
	params := r.opts.Params
	params.Checkpoint = cp
	if r.opts.Retention > 0 {
		r.cutoff = time.Now().Add(-r.opts.Retention)
	}

	w := r.startWriter(wctx, stop)
	g := &gatherer{r: r, w: w, cp: cp, handed: entries}
	g.cur = g.newFlush()
	fatal := g.gatherOnTime(ctx, client, &params)
	// What was delivered is written, also after an interrupt. A state
	// change with no rows (the checkpoint marked done, a failed
	// conversation recorded) is written unless the sync was refused.
	usage := errors.Is(fatal, convo.ErrInvalidParams) || errors.Is(fatal, convo.ErrUnsupported)
	if !w.failed() && (g.rows > 0 || g.cur.delivered > 0 || !usage) {
		g.cur.retain = r.opts.Retention > 0 && !usage && ctx.Err() == nil
		if err := g.hand(true); err != nil && fatal == nil {
			fatal = err
		}
	}
	werr := w.wait()
	r.mu.Lock()
	stats := r.stats
	r.abandoned = true // from here on the writer (if still running) reports nothing
	r.mu.Unlock()
	stats.Failed = g.failedIDs
	stats.Unwritten = g.delivered + g.cur.delivered - stats.Delivered
	stats.Done = cp.Done() && werr == nil && fatal == nil
	if errors.Is(werr, errAbandoned) || errors.Is(fatal, errAbandoned) {
		return stats, fmt.Errorf("%w: %w", errAbandoned, ctx.Err())
	}
	switch {
	case werr != nil:
		return stats, werr
	case fatal != nil:
		return stats, fatal
	case len(g.convErrs) > 0:
		return stats, fmt.Errorf("%d conversations failed: %w", len(g.convErrs), errors.Join(g.convErrs...))
	}
	return stats, nil
}

// start prepares the run and loads its state. SQLite's wait for another
// connection's lock does not end with ctx, so the start is bounded like
// the writes: when stop ends first, it returns errAbandoned and what it
// began is released when the database answers. On any error the run's
// connection is released (within wctx) or left to that release.
func (r *run) start(ctx, wctx, stop context.Context) (*convo.Checkpoint, []uint64, error) {
	var cp *convo.Checkpoint
	var entries []uint64
	err := bounded(stop, func() (err error) {
		if err = r.prepare(ctx); err == nil {
			cp, entries, err = r.load(ctx)
		}
		return err
	}, func() {
		r.dirty = true
		r.release(context.Background())
	})
	if errors.Is(err, errAbandoned) {
		return nil, nil, fmt.Errorf("%w: %w", errAbandoned, ctx.Err())
	}
	if err != nil {
		r.release(wctx)
		return nil, nil, err
	}
	return cp, entries, nil
}

// prepare sets the connection up and claims the sync's name.
func (r *run) prepare(ctx context.Context) error {
	if err := r.d.setup(ctx, r.conn); err != nil {
		return err
	}
	unlock, err := r.d.lockSync(ctx, r.conn, r.opts.Name)
	if err != nil {
		return err
	}
	r.unlock = unlock
	return nil
}

// release frees what the run holds: its statements, the sync's lock and
// the connection. After a write that did not end cleanly the connection
// is discarded, not returned to the pool (its session, and any lock or
// transaction it holds, ends with it).
func (r *run) release(ctx context.Context) {
	r.closeStmts()
	// A lock file is released whatever ctx says; an advisory lock that
	// could not be released ends with the discarded connection's session.
	if r.unlock != nil && r.unlock(ctx) != nil {
		r.dirty = true
	}
	if ctx.Err() != nil || r.dirty {
		r.conn.Raw(func(any) error { return driver.ErrBadConn })
	}
	r.conn.Close()
}

func (r *run) closeStmts() {
	for _, s := range r.stmts {
		s.Close()
	}
}

// afterEnd returns a context that is not cancelled with ctx, but d after
// ctx ends.
func afterEnd(ctx context.Context, d time.Duration) (context.Context, context.CancelFunc) {
	c, cancel := context.WithCancel(context.WithoutCancel(ctx))
	stop := context.AfterFunc(ctx, func() {
		t := time.AfterFunc(d, cancel)
		context.AfterFunc(c, func() { t.Stop() })
	})
	return c, func() {
		stop()
		cancel()
	}
}

// writer commits flushes on a goroutine of its own, one while the sync
// gathers the next.
type writer struct {
	flushes chan *flush
	done    chan error
	stop    context.Context // done: stop waiting for the writer
	err     error
	stopped bool // err is known: the writer has failed (or finished)
}

// startWriter starts the writer, which writes under ctx and releases the
// run's connection when it ends; stop ends the wait for it (see wait).
func (r *run) startWriter(ctx, stop context.Context) *writer {
	w := &writer{flushes: make(chan *flush, 1), done: make(chan error, 1), stop: stop}
	go func() {
		var err error
		for f := range w.flushes {
			if err == nil {
				err = r.write(ctx, f)
			}
		}
		r.release(ctx)
		w.done <- err
	}()
	return w
}

// errAbandoned is the error of a sync that stopped waiting for the
// database.
var errAbandoned = errors.New("the database did not answer: the work in progress was abandoned (the database rolls back what it began)")

// bounded runs f on a goroutine of its own and returns its error, or
// errAbandoned when stop is done first: f then finishes alone, and
// abandoned frees what it held.
func bounded(stop context.Context, f func() error, abandoned func()) error {
	done := make(chan error, 1)
	go func() { done <- f() }()
	select {
	case err := <-done:
		return err
	case <-stop.Done():
		go func() {
			<-done
			abandoned()
		}()
		return errAbandoned
	}
}

// failed reports whether a write has failed; after it has, the remaining
// flushes are not written.
func (w *writer) failed() bool {
	if !w.stopped {
		select {
		case w.err = <-w.done:
			w.stopped = true
		default:
		}
	}
	return w.stopped && w.err != nil
}

// wait ends the writer after its last flush and returns its error. It
// stops waiting, with errAbandoned, when w.stop is done.
func (w *writer) wait() error {
	close(w.flushes)
	if !w.stopped {
		select {
		case w.err = <-w.done:
		case <-w.stop.Done():
			w.err = errAbandoned
		}
		w.stopped = true
	}
	return w.err
}

// send hands f to the writer, unless the wait for it has been given up.
func (w *writer) send(f *flush) error {
	select {
	case w.flushes <- f:
		return nil
	case <-w.stop.Done():
		return errAbandoned
	}
}
