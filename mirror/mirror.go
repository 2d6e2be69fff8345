package mirror

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/convokit/convo"
)

// Mirror is a database that holds a copy of conversations and messages,
// kept up to date by [Mirror.Sync]. It is safe for concurrent use; each
// Sync writes through a connection of its own.
type Mirror struct {
	db *sql.DB
	d  dialect

	beforeCommit func(n int) error // tests: fail the nth transaction of a run before its COMMIT
}

// Open returns the mirror in db, whose SQL is of dialect d. In an empty
// database it creates the schema; in a mirror of an older schema version
// it migrates it, in one transaction; in a current one it writes nothing.
//
// It refuses, writing nothing, a database that holds a table of a
// mirror's names without being a mirror ([ErrNotMirror]) and one whose
// schema is newer than [SchemaVersion] ([ErrNewerSchema]). db stays the
// caller's: Open neither configures nor closes it.
func Open(ctx context.Context, db *sql.DB, d Dialect) (*Mirror, error) {
	return open(ctx, db, d, SchemaVersion)
}

func open(ctx context.Context, db *sql.DB, d Dialect, version int) (*Mirror, error) {
	if db == nil {
		return nil, errors.New("mirror: nil *sql.DB")
	}
	if d.d == nil {
		return nil, errors.New("mirror: no dialect (use mirror.SQLite or mirror.PostgreSQL)")
	}
	conn, err := db.Conn(ctx)
	if err != nil {
		return nil, fmt.Errorf("mirror: %w", err)
	}
	defer conn.Close()
	if err := d.d.setup(ctx, conn); err != nil {
		return nil, fmt.Errorf("mirror: %w", err)
	}
	if err := migrate(ctx, d.d, conn, version); err != nil {
		return nil, fmt.Errorf("mirror: %w", err)
	}
	return &Mirror{db: db, d: d.d}, nil
}

// Options configures [Mirror.Sync].
type Options struct {
	// Name identifies the sync: its state (where it stopped, what it has
	// delivered) is kept under this name, beside the state of other syncs
	// of the same database. "" means [DefaultName] of the client's
	// provider and Params.Conversations. Give syncs of different accounts
	// of one provider different names.
	Name string
	// Params are the sync's filters, page sizes, concurrency, lookback,
	// refresh and recheck, as for [convo.Client.Sync]. Params.Checkpoint must be nil: the
	// mirror keeps the checkpoint in the database.
	Params convo.SyncParams
	// FlushRows is how many rows (conversations and messages) are
	// gathered before they are written in one transaction; 0 means 5000.
	FlushRows int
	// FlushInterval is the longest time delivered rows wait before they
	// are handed to the writer, however slowly the next ones arrive (a slow
	// page, a rate-limit wait); 0 means one second. A write still in
	// progress delays the next one.
	FlushInterval time.Duration
	// Progress, when set, is called after each committed transaction with
	// the totals so far, on the goroutine that writes.
	Progress func(Stats)
	// Retention, when positive, keeps message bodies for that long: each
	// run removes the body of every message of the client's provider sent
	// before now minus Retention — the body column, and in data the body
	// with the fields that carry the same text (content, payload,
	// subject) and media_urls — and marks it redacted: redacted_at, and
	// data's redacted_at, are set to the time the message left the window
	// (sent_at plus Retention). It does so in one transaction after the
	// run's last write, and writes a message older than that so from the
	// start. The window applies to every message of the provider in the
	// database, whichever sync wrote it. 0 keeps bodies. A body the
	// provider removed is removed from the mirror either way, when a sync
	// delivers the change (a refresh's recheck).
	Retention time.Duration
}

// Stats counts what one run of [Mirror.Sync] did.
type Stats struct {
	// Conversations and Messages are the rows inserted.
	Conversations int64
	Messages      int64
	// ConversationsChanged and MessagesChanged are the rows that were
	// there already and changed in place: a record delivered again with
	// other content (a status, a body the provider removed). A record
	// delivered again unchanged is not counted, and not written.
	ConversationsChanged int64
	MessagesChanged      int64
	// Redacted is the number of messages whose body this run removed for
	// Options.Retention.
	Redacted int64
	// Delivered is the number of messages the sync delivered and
	// committed in this run, written or (unchanged) not.
	Delivered int64
	// Transactions is the number of write transactions committed.
	Transactions int
	// Failed are the ids of conversations whose messages could not be
	// read; the next run retries them.
	Failed []string
	// Done reports that the sync completed: every conversation is in the
	// mirror, and the next run is incremental.
	Done bool
	// Unwritten is the number of messages delivered in this run that no
	// committed transaction holds, because a write failed or was abandoned
	// when ctx ended (see [Mirror.Sync]); the next run delivers them again.
	Unwritten int64
}

// StopGrace bounds how long [Mirror.Sync] goes on writing once its ctx has
// ended: the write in progress and the write of what was delivered before
// the end get StopGrace together; then their context is cancelled (the
// database rolls the transaction back) and, if the driver does not return
// within another second (a database that does not answer at all), Sync
// stops waiting for it and returns.
const StopGrace = 3 * time.Second

// abandonAfter is how long after ctx ends Sync stops waiting for a write
// that its cancelled context did not stop.
const abandonAfter = StopGrace + time.Second

// DefaultName is the name of a sync of provider p with filters f: the
// provider's name, followed by the filters set as a query string, such as
// "vantaxai?channel=sms&status=open".
func DefaultName(p convo.Provider, f *convo.ConversationListParams) string {
	q := filterQuery(f)
	if q == "" {
		return p.Name()
	}
	return p.Name() + "?" + q
}

// filterQuery encodes the filters of f (not its page size or cursor),
// sorted, so that the same filters always give the same string: each set
// filter under its declared NameKey, whichever provider declares it (a
// field has one key), with its value as [convo.Filter.Value] gives it.
func filterQuery(f *convo.ConversationListParams) string {
	v := url.Values{}
	for _, p := range convo.Providers() {
		for _, flt := range p.Filters() {
			if s, ok := flt.Value(f); ok {
				v.Set(flt.NameKey, s)
			}
		}
	}
	return v.Encode()
}

// Sync brings the mirror up to date with what client serves, under the
// state named o.Name: the first run copies every conversation and message
// matching o.Params; a run after an interrupted one continues it; a run
// after a completed one is an incremental sync (see [convo.Client.Sync]),
// which writes only what is new or changed.
//
// Exactly once. Delivered batches are gathered and written in one
// transaction together with the sync's checkpoint covering exactly them, so
// a crash, a kill or an error at any moment leaves the database at the end
// of some transaction, and the next run resumes from the checkpoint that
// transaction wrote: no row is missing or written twice. Conversations and
// messages are upserted by (provider, id): a changed conversation (a
// batch with Start) and a changed message ([convo.ConversationSync].Updated)
// are updated in place, and a row delivered again unchanged is not
// rewritten. A run that finds nothing new (and whose sync does not
// refresh, or refreshes and finds nothing changed but the time of its
// refresh) writes no row, and its state only when that moved.
//
// Concurrency. Syncs of different names never touch each other's state.
// Two runs of the same name at once cannot both write: the second fails
// at once, before any request, with [ErrBusy] naming the holder. The lock
// is held for the run by its connection (PostgreSQL: a session advisory
// lock) or its process (SQLite: a lock file beside the database file,
// FILE-sync-HASH.lock), and ends with it, however it ends. Where there is
// no such lock (a SQLite database in memory), the second run to commit
// fails with ErrBusy, its batch not written.
// A name that holds the state of another provider or other filters is
// refused with [ErrNameInUse].
//
// Errors. A conversation whose messages fail is reported in
// Stats.Failed and joined into the returned error (each a
// [*convo.ConversationError]); the others go on unless
// o.Params.StopOnError is set. When ctx ends, what was delivered so far is
// written, within [StopGrace], and the error wraps ctx.Err(); Sync returns
// at most StopGrace plus one second after ctx ends, even when the database
// stops answering: the write in flight is then abandoned, its rows are
// counted in Stats.Unwritten, not in Stats.Messages. Invalid params (errors.Is
// [convo.ErrInvalidParams] or [convo.ErrUnsupported]) are refused before
// any request, with nothing written.
func (m *Mirror) Sync(ctx context.Context, client *convo.Client, o *Options) (Stats, error) {
	var opts Options
	if o != nil {
		opts = *o
	}
	if client == nil {
		return Stats{}, errors.New("mirror: nil *convo.Client")
	}
	if opts.Params.Checkpoint != nil {
		return Stats{}, fmt.Errorf("mirror: %w: Options.Params.Checkpoint must be nil: the mirror keeps its own", convo.ErrInvalidParams)
	}
	if opts.Retention < 0 {
		return Stats{}, fmt.Errorf("mirror: %w: Options.Retention is negative (%v); 0 keeps message bodies", convo.ErrInvalidParams, opts.Retention)
	}
	if opts.Name == "" {
		opts.Name = DefaultName(client.Provider(), &opts.Params.Conversations)
	}
	if opts.FlushRows <= 0 {
		opts.FlushRows = 5000
	}
	if opts.FlushInterval <= 0 {
		opts.FlushInterval = time.Second
	}
	conn, err := m.db.Conn(ctx)
	if err != nil {
		return Stats{}, fmt.Errorf("mirror: %w", err)
	}
	r := &run{m: m, d: m.d, conn: conn, opts: opts, provider: client.Provider().Name(), filters: filterQuery(&opts.Params.Conversations)}
	stats, err := r.sync(ctx, client)
	if err != nil {
		return stats, fmt.Errorf("mirror: sync %q: %w", opts.Name, err)
	}
	return stats, nil
}

// State returns the checkpoint stored under a sync's name, and whether
// there is one.
func (m *Mirror) State(ctx context.Context, name string) (*convo.Checkpoint, bool, error) {
	var head string
	err := m.db.QueryRowContext(ctx, "SELECT checkpoint FROM "+syncTable+" WHERE name = "+m.d.placeholder(1), name).Scan(&head)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, false, nil
	}
	if err != nil {
		return nil, false, fmt.Errorf("mirror: %w", err)
	}
	entries, err := loadEntries(ctx, m.db, m.d, name)
	if err != nil {
		return nil, false, fmt.Errorf("mirror: %w", err)
	}
	cp := new(convo.Checkpoint)
	if err := json.Unmarshal(joinCheckpoint([]byte(head), entries), cp); err != nil {
		return nil, false, fmt.Errorf("mirror: sync %q: %w", name, err)
	}
	return cp, true, nil
}

// Reset deletes the state of the named sync, so that its next run is a
// full sync again. The mirrored rows stay (the full sync upserts over
// them). It reports whether there was a state.
func (m *Mirror) Reset(ctx context.Context, name string) (bool, error) {
	tx, err := m.db.BeginTx(ctx, nil)
	if err != nil {
		return false, fmt.Errorf("mirror: %w", err)
	}
	defer tx.Rollback()
	res, err := tx.ExecContext(ctx, "DELETE FROM "+syncTable+" WHERE name = "+m.d.placeholder(1), name)
	if err != nil {
		return false, fmt.Errorf("mirror: %w", err)
	}
	if _, err := tx.ExecContext(ctx, "DELETE FROM "+stateTable+" WHERE name = "+m.d.placeholder(1), name); err != nil {
		return false, fmt.Errorf("mirror: %w", err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return false, fmt.Errorf("mirror: %w", err)
	}
	if err := tx.Commit(); err != nil {
		return false, fmt.Errorf("mirror: %w", err)
	}
	return n > 0, nil
}

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
	unlock    func(context.Context)
}

type stmtKey struct {
	table      string
	rows       int
	insertOnly bool
}

// flush is a group of delivered batches and the state covering them.
type flush struct {
	convs     []convo.Conversation
	msgs      []messageRow
	state     stateDelta // what changed in the checkpoint since the flush before
	delivered int64
	final     bool
	retain    bool // the run's last flush, with Options.Retention to apply after it
}

// messageRow is one message's row, its values ready to bind: made on the
// goroutine that gathers, so that the writer's goroutine only writes, and
// small, since rows are gathered, sorted and deduplicated by the thousand.
type messageRow struct {
	id   string // the message's id, as stored
	args [7]any // id, conversation_id, direction, body, sent_at, data, redacted_at: every column but provider and mirrored_at
}

func (r *run) sync(ctx context.Context, client *convo.Client) (Stats, error) {
	// Writes, and the release of the connection, go on after ctx ends for
	// StopGrace (wctx); Sync waits for them until abandonAfter (stop).
	wctx, cancelW := afterEnd(ctx, StopGrace)
	defer cancelW()
	stop, cancelS := afterEnd(ctx, abandonAfter)
	defer cancelS()
	if err := r.prepare(ctx); err != nil {
		r.release(wctx)
		return r.stats, err
	}
	cp, entries, err := r.load(ctx)
	if err != nil {
		r.release(wctx)
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
	if r.unlock != nil && ctx.Err() == nil {
		r.unlock(ctx)
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

// errAbandoned is the error of a sync that stopped waiting for a write.
var errAbandoned = errors.New("the database did not answer: the write in progress was abandoned (the database rolls it back)")

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

// gatherer groups the batches of a sync into flushes. Its flush is handed
// to the writer when it holds enough rows (by the goroutine that ranges
// over the sync) or when its first rows have waited FlushInterval (by the
// timer's goroutine, while the sync waits for the network): mu orders the
// two. The checkpoint is marshalled under mu too, after the rows it covers
// have been added: the sync updates it only on the ranging goroutine,
// after the loop body, and nothing it records there claims a batch the
// body has not added.
type gatherer struct {
	r         *run
	w         *writer
	cp        *convo.Checkpoint
	mu        sync.Mutex
	cur       *flush
	rows      int
	delivered int64 // messages of the flushes handed to the writer
	kick      chan struct{}
	timerErr  error    // a hand by the timer that failed
	handed    []uint64 // digests of the checkpoint's entries as last handed to the writer

	convErrs  []error
	failedIDs []string
}

// gatherOnTime is gather with a timer that hands the flush to the writer
// once its first rows have waited FlushInterval.
func (g *gatherer) gatherOnTime(ctx context.Context, client *convo.Client, params *convo.SyncParams) error {
	g.kick = make(chan struct{}, 1)
	stop := make(chan struct{})
	stopped := make(chan struct{})
	go func() {
		defer close(stopped)
		g.timer(stop)
	}()
	err := g.gather(ctx, client, params)
	close(stop)
	<-stopped
	if err == nil {
		err = g.timerErr
	}
	return err
}

// timer hands the flush to the writer FlushInterval after its first rows
// were added (g.kick), until stop is closed.
func (g *gatherer) timer(stop <-chan struct{}) {
	t := time.NewTimer(time.Hour)
	t.Stop()
	defer t.Stop()
	for {
		select {
		case <-stop:
			return
		case <-g.kick:
			t.Reset(g.r.opts.FlushInterval)
		case <-t.C:
			g.mu.Lock()
			if g.rows > 0 && g.timerErr == nil && !g.w.failed() {
				g.timerErr = g.hand(false)
			}
			g.mu.Unlock()
		}
	}
}

// gather ranges over the sync, handing a flush to the writer whenever
// enough rows or time have gathered. It returns the error that ended the
// sync early, if any; failed conversations are recorded in g.
func (g *gatherer) gather(ctx context.Context, client *convo.Client, params *convo.SyncParams) error {
	for s, err := range client.Sync(ctx, params) {
		if err != nil {
			var ce *convo.ConversationError
			if !errors.As(err, &ce) {
				return err
			}
			g.failedIDs = append(g.failedIDs, ce.ConversationID)
			g.convErrs = append(g.convErrs, err)
			continue
		}
		if ok, err := g.take(s); !ok {
			return err // after a failed write: the batch is not committed, it comes again next run
		}
	}
	return nil
}

// take commits a batch into the current flush, and hands the flush to
// the writer when it is full. It reports false when the sync must stop:
// a write has failed (the batch is then not committed), or err.
func (g *gatherer) take(s *convo.ConversationSync) (bool, error) {
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.w.failed() || g.timerErr != nil {
		return false, g.timerErr
	}
	// The rows are made before the batch is committed: a batch that
	// cannot be stored is not covered by the checkpoint.
	msgs, err := g.r.messageRows(g.cur.msgs, s)
	if err != nil {
		return false, err // cur is as it was: its rows do not include the batch's
	}
	s.Commit() // the checkpoint now covers s, and cur will hold it
	empty := g.rows == 0
	g.add(s, msgs)
	if g.rows >= g.r.opts.FlushRows {
		if err := g.hand(false); err != nil {
			return false, err
		}
		return !g.w.failed(), nil
	}
	if empty && g.rows > 0 {
		select {
		case g.kick <- struct{}{}: // the timer starts at the flush's first rows
		default:
		}
	}
	return true, nil
}

// add puts a committed batch into the current flush: its conversation, and
// msgs, the flush's rows with the batch's appended by messageRows.
func (g *gatherer) add(s *convo.ConversationSync, msgs []messageRow) {
	if s.Start {
		g.cur.convs = append(g.cur.convs, *s.Conversation)
		g.rows++
	}
	g.cur.msgs = msgs
	g.rows += len(s.Messages) + len(s.Updated)
	g.cur.delivered += int64(len(s.Messages))
}

// hand passes the current flush, with the checkpoint as it is now, to the
// writer and starts the next.
func (g *gatherer) hand(final bool) error {
	b, err := json.Marshal(g.cp)
	if err != nil {
		return err
	}
	parts, err := splitCheckpoint(b)
	if err != nil {
		return err
	}
	g.cur.state, g.cur.final = diff(parts, g.handed), final
	if err := g.w.send(g.cur); err != nil {
		return err
	}
	g.handed = g.cur.state.hashes
	g.delivered += g.cur.delivered
	g.cur, g.rows = g.newFlush(), 0
	return nil
}

// newFlush starts a flush with room for the rows it will gather (up to a
// bound, for a caller's very large FlushRows), so that they are not copied
// as it grows.
func (g *gatherer) newFlush() *flush {
	return &flush{msgs: make([]messageRow, 0, min(g.r.opts.FlushRows, maxPreallocatedRows))}
}

// maxPreallocatedRows bounds the rows a flush makes room for at its start.
const maxPreallocatedRows = 10_000

// load reads the sync's state, or starts a new one. It returns the
// digests of the stored entries of the checkpoint (see state.go).
func (r *run) load(ctx context.Context) (*convo.Checkpoint, []uint64, error) {
	p := r.d.placeholder
	var provider, filters, head string
	var generation int64
	err := r.conn.QueryRowContext(ctx, "SELECT provider, filters, checkpoint, generation FROM "+syncTable+" WHERE name = "+p(1), r.opts.Name).
		Scan(&provider, &filters, &head, &generation)
	if errors.Is(err, sql.ErrNoRows) {
		return new(convo.Checkpoint), nil, nil
	}
	if err != nil {
		return nil, nil, err
	}
	if provider != r.provider || filters != r.filters {
		return nil, nil, fmt.Errorf("%w: it holds the state of a sync of %s with filters %q, not of %s with %q; choose another name",
			ErrNameInUse, provider, filters, r.provider, r.filters)
	}
	entries, err := loadEntries(ctx, r.conn, r.d, r.opts.Name)
	if err != nil {
		return nil, nil, err
	}
	cp := new(convo.Checkpoint)
	if err := json.Unmarshal(joinCheckpoint([]byte(head), entries), cp); err != nil {
		return nil, nil, fmt.Errorf("stored checkpoint: %w", err)
	}
	r.exists, r.generation, r.writtenHead = true, generation, []byte(head)
	return cp, diff(checkpointParts{entries: entries}, nil).hashes, nil
}

// write commits one flush and, after the run's last, removes the bodies
// that Options.Retention no longer keeps, in a transaction of its own.
func (r *run) write(ctx context.Context, f *flush) error {
	if err := r.writeFlush(ctx, f); err != nil || !f.retain {
		return err
	}
	n, err := r.applyRetention(ctx, r.cutoff, r.opts.Retention)
	if err != nil || n == 0 {
		return err
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if !r.abandoned {
		r.stats.Redacted += n
		r.stats.Transactions++
		if r.opts.Progress != nil {
			r.opts.Progress(r.stats)
		}
	}
	return nil
}

// writeFlush commits one flush: the sync's state first (which claims the
// write lock and checks that no other run moved it), then the rows.
func (r *run) writeFlush(ctx context.Context, f *flush) error {
	if len(f.convs) == 0 && len(f.msgs) == 0 && r.exists && f.state.empty(r.writtenHead) {
		return nil // nothing new: nothing written
	}
	r.attempts++
	if _, err := r.conn.ExecContext(ctx, r.d.begin()); err != nil {
		r.dirty = true
		return err
	}
	committed := false
	defer func() {
		if !committed {
			r.rollback(ctx)
		}
	}()
	if err := r.writeState(ctx, f.state.head); err != nil {
		return err
	}
	if err := writeEntries(ctx, r.conn, r.d, r.opts.Name, &f.state); err != nil {
		return err
	}
	convs, err := r.upsertConversations(ctx, dedupConversations(f.convs))
	if err != nil {
		return err
	}
	msgs, err := r.upsertMessages(ctx, dedupMessages(f.msgs))
	if err != nil {
		return err
	}
	if r.m.beforeCommit != nil {
		if err := r.m.beforeCommit(r.attempts); err != nil {
			return err
		}
	}
	if _, err := r.conn.ExecContext(ctx, "COMMIT"); err != nil {
		return err
	}
	committed = true
	r.exists, r.writtenHead = true, f.state.head
	r.generation++
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.abandoned {
		return nil // Sync has returned: it reports nothing more
	}
	r.stats.Conversations += convs.inserted
	r.stats.ConversationsChanged += convs.changed
	r.stats.Messages += msgs.inserted
	r.stats.MessagesChanged += msgs.changed
	r.stats.Delivered += f.delivered
	r.stats.Transactions++
	if r.opts.Progress != nil {
		r.opts.Progress(r.stats)
	}
	return nil
}

// rollback ends a failed write transaction. When the write's context has
// ended (the write was cancelled) it still tries, for a moment; a
// connection that could not roll back is discarded when the run ends.
func (r *run) rollback(ctx context.Context) {
	if ctx.Err() != nil {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(context.WithoutCancel(ctx), rollbackTimeout)
		defer cancel()
	}
	if _, err := r.conn.ExecContext(ctx, "ROLLBACK"); err != nil {
		r.dirty = true
	}
}

// rollbackTimeout bounds the ROLLBACK of a cancelled write.
const rollbackTimeout = 500 * time.Millisecond

func (r *run) writeState(ctx context.Context, checkpoint []byte) error {
	p := r.d.placeholder
	now := r.d.timeArg(time.Now())
	var res sql.Result
	var err error
	if !r.exists {
		res, err = r.conn.ExecContext(ctx, "INSERT INTO "+syncTable+" (name, provider, filters, checkpoint, generation, created_at, updated_at) VALUES ("+
			p(1)+", "+p(2)+", "+p(3)+", "+p(4)+", 1, "+p(5)+", "+p(6)+") ON CONFLICT (name) DO NOTHING",
			r.opts.Name, r.provider, r.filters, string(checkpoint), now, now)
	} else {
		res, err = r.conn.ExecContext(ctx, "UPDATE "+syncTable+" SET checkpoint = "+p(1)+", generation = generation + 1, updated_at = "+p(2)+
			" WHERE name = "+p(3)+" AND generation = "+p(4),
			string(checkpoint), now, r.opts.Name, r.generation)
	}
	if err != nil {
		return err
	}
	n, err := res.RowsAffected()
	if err != nil {
		return err
	}
	if n != 1 {
		return fmt.Errorf("%w: another run of this sync wrote its state meanwhile; this run stopped without writing its last batch (run it again to continue)", ErrBusy)
	}
	return nil
}

// Columns of the two tables, in the order rows are bound. The first two,
// provider and mirrored_at, are not bound: each statement holds them (see
// rowLead).
var (
	conversationColumns = []string{"provider", "mirrored_at", "id", "contact_id", "channel", "status", "last_message_at", "created_at", "data"}
	messageColumns      = []string{"provider", "mirrored_at", "id", "conversation_id", "direction", "body", "sent_at", "data", "redacted_at"}
)

// unbound is the number of leading columns a statement holds rather than
// binds.
const unbound = 2

// rowLead is the start of every row a statement writes: the provider, as a
// literal, and the time of the write, one value for all the rows of the
// statement (see dialect.stamp). Binding neither per row saves the driver
// two values a row.
func rowLead(d dialect, provider string) string { return sqlString(provider) + ", " + d.stamp() }

// written counts the rows a write inserted and those it changed in place.
type written struct{ inserted, changed int64 }

func (r *run) upsertConversations(ctx context.Context, convs []convo.Conversation) (written, error) {
	args := make([]any, 0, len(conversationColumns)*min(len(convs), r.d.rowsPerStatement(len(conversationColumns))))
	return r.upsert(ctx, "conversations", conversationColumns, len(convs), func(i int) error {
		c := &convs[i]
		data, err := json.Marshal(c)
		if err != nil {
			return fmt.Errorf("conversation %q: %w", c.ID, err)
		}
		t := r.d.text
		args = append(args, t(c.ID), null(t(c.ContactID)), null(t(c.Channel)), null(t(c.Status)),
			r.d.timeArg(c.LastMessageAt), r.d.timeArg(c.CreatedAt), string(r.d.jsonText(data)))
		return nil
	}, &args)
}

// messageRows appends the rows of a batch's messages, new (Messages) and
// changed (Updated), to rows, their JSON and every value bound made here,
// on the goroutine that gathers, so that the writer's goroutine only
// writes. A message sent before the run's retention cutoff is stored
// without its body (see redact).
func (r *run) messageRows(rows []messageRow, s *convo.ConversationSync) ([]messageRow, error) {
	t := r.d.text
	for _, list := range [2][]convo.Message{s.Messages, s.Updated} {
		for i := range list {
			m := &list[i]
			if !r.cutoff.IsZero() && !m.SentAt.IsZero() && m.SentAt.Before(r.cutoff) {
				c := *m
				redact(&c, r.opts.Retention)
				m = &c
			}
			data, err := json.Marshal(m)
			if err != nil {
				return rows, fmt.Errorf("message %q: %w", m.ID, err)
			}
			convID := m.ConversationID
			if convID == "" {
				convID = s.Conversation.ID
			}
			id := t(m.ID)
			rows = append(rows, messageRow{id: id, args: [7]any{id, t(convID), null(t(string(m.Direction))), null(t(m.Body)),
				r.d.timeArg(m.SentAt), string(r.d.jsonText(data)), r.d.timeArg(m.RedactedAt)}})
		}
	}
	return rows, nil
}

func (r *run) upsertMessages(ctx context.Context, msgs []messageRow) (written, error) {
	args := make([]any, 0, len(messageColumns)*min(len(msgs), r.d.rowsPerStatement(len(messageColumns))))
	return r.upsert(ctx, "messages", messageColumns, len(msgs), func(i int) error {
		args = append(args, msgs[i].args[:]...)
		return nil
	}, &args)
}

// upsert writes n rows of table, bind appending the values of row i to
// args: every column's but the unbound ones, which the statement holds.
func (r *run) upsert(ctx context.Context, table string, cols []string, n int, bind func(i int) error, args *[]any) (written, error) {
	var w written
	width := len(cols) - unbound // values bound per row
	per := r.d.rowsPerStatement(len(cols))
	stamp := r.d.stampArgs(time.Now())
	var one []any
	for start := 0; start < n; start += per {
		end := min(start+per, n)
		*args = append((*args)[:0], stamp...)
		for i := start; i < end; i++ {
			if err := bind(i); err != nil {
				return w, err
			}
		}
		k, err := r.exec(ctx, table, cols, end-start, r.d.insertFirst(), *args)
		if err != nil {
			return w, err
		}
		w.inserted += k.inserted
		w.changed += k.changed
		if !r.d.insertFirst() || k.inserted == int64(end-start) {
			continue
		}
		// The rows the INSERT skipped were there: each is updated when
		// its data differs (a row inserted just now does not).
		rows := (*args)[len(stamp):]
		for i := 0; i < end-start; i++ {
			one = append(append(one[:0], stamp...), rows[i*width:(i+1)*width]...)
			k, err := r.exec(ctx, table, cols, 1, false, one)
			if err != nil {
				return w, err
			}
			w.changed += k.inserted + k.changed
		}
	}
	return w, nil
}

// exec runs the prepared statement that writes rows rows of table (an
// upsert, or with insertOnly an INSERT OR IGNORE) and returns the rows it
// inserted and those it changed. Where rows are inserted first (SQLite)
// the database tells only how many rows a statement wrote: an INSERT's are
// inserted, an upsert's (of rows that are there) changed; PostgreSQL's
// upsert returns, for each row written, whether it was inserted.
func (r *run) exec(ctx context.Context, table string, cols []string, rows int, insertOnly bool, args []any) (written, error) {
	stmt, err := r.stmt(ctx, stmtKey{table, rows, insertOnly}, cols)
	if err != nil {
		return written{}, err
	}
	if r.d.insertFirst() {
		res, err := stmt.ExecContext(ctx, args...)
		if err != nil {
			return written{}, fmt.Errorf("write %s: %w", table, err)
		}
		n, err := res.RowsAffected()
		if insertOnly {
			return written{inserted: n}, err
		}
		return written{changed: n}, err
	}
	res, err := stmt.QueryContext(ctx, args...)
	if err != nil {
		return written{}, fmt.Errorf("write %s: %w", table, err)
	}
	defer res.Close()
	var w written
	for res.Next() {
		var inserted bool
		if err := res.Scan(&inserted); err != nil {
			return w, fmt.Errorf("write %s: %w", table, err)
		}
		if inserted {
			w.inserted++
		} else {
			w.changed++
		}
	}
	if err := res.Err(); err != nil {
		return w, fmt.Errorf("write %s: %w", table, err)
	}
	return w, nil
}

// stmt returns the prepared statement of key.
func (r *run) stmt(ctx context.Context, key stmtKey, cols []string) (*sql.Stmt, error) {
	if s, ok := r.stmts[key]; ok {
		return s, nil
	}
	q := upsertSQL(r.d, key.table, cols, key.rows, r.provider)
	if key.insertOnly {
		q = insertOrIgnoreSQL(r.d, key.table, cols, key.rows, r.provider)
	}
	s, err := r.conn.PrepareContext(ctx, q)
	if err != nil {
		return nil, err
	}
	if r.stmts == nil {
		r.stmts = map[stmtKey]*sql.Stmt{}
	}
	r.stmts[key] = s
	return s, nil
}

// insertOrIgnoreSQL is the SQLite statement that inserts rows rows into
// table and skips those whose key is there already. The first column,
// provider, is the literal provider in every row; the others are bound.
func insertOrIgnoreSQL(d dialect, table string, cols []string, rows int, provider string) string {
	return "INSERT OR IGNORE INTO " + table + " (" + strings.Join(cols, ", ") + ") VALUES " + placeholders(d, rows, len(cols)-unbound, rowLead(d, provider))
}

// upsertSQL is the statement that inserts rows rows into table, or updates
// a row of the same key in place when its data differs (and with it
// mirrored_at). The first column,
// provider, is the literal provider in every row; the others are bound.
func upsertSQL(d dialect, table string, cols []string, rows int, provider string) string {
	var set, list string
	for i, c := range cols {
		if i > 0 {
			list += ", "
		}
		list += c
		if c != "provider" && c != "id" {
			if set != "" {
				set += ", "
			}
			set += c + " = excluded." + c
		}
	}
	q := "INSERT INTO " + table + " (" + list + ") VALUES " + placeholders(d, rows, len(cols)-unbound, rowLead(d, provider)) +
		" ON CONFLICT (provider, id) DO UPDATE SET " + set +
		" WHERE " + table + ".data " + d.distinct() + " excluded.data"
	if !d.insertFirst() {
		// PostgreSQL: each row written, and whether it was inserted (a
		// row version made by an INSERT has no xmax).
		q += " RETURNING (xmax = 0)"
	}
	return q
}

// dedupMessages sorts rows by id, so that inserts walk each index in key
// order, and keeps the last of rows with the same id: one statement may
// not upsert a row twice (PostgreSQL refuses it).
func dedupMessages(rows []messageRow) []messageRow {
	slices.SortStableFunc(rows, func(a, b messageRow) int { return strings.Compare(a.id, b.id) })
	return lastOfEach(rows, func(r messageRow) string { return r.id })
}

// dedupConversations is dedupMessages for conversations.
func dedupConversations(rows []convo.Conversation) []convo.Conversation {
	slices.SortStableFunc(rows, func(a, b convo.Conversation) int { return strings.Compare(a.ID, b.ID) })
	return lastOfEach(rows, func(c convo.Conversation) string { return c.ID })
}

// lastOfEach keeps, of each run of sorted rows with the same key, the
// last.
func lastOfEach[T any](rows []T, key func(T) string) []T {
	out := rows[:0]
	for i, r := range rows {
		if i+1 < len(rows) && key(rows[i+1]) == key(r) {
			continue
		}
		out = append(out, r)
	}
	return out
}

// sqlString is s as a SQL string literal. The provider is written so
// rather than bound: binding costs the driver more per value than the
// statement's text does once, when it is prepared.
func sqlString(s string) string { return "'" + strings.ReplaceAll(s, "'", "''") + "'" }

// null stores an empty string as NULL.
func null(s string) any {
	if s == "" {
		return nil
	}
	return s
}
