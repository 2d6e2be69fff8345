package mirror

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
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
//
// Open returns at most a second after ctx ends, even while the database
// does not answer (SQLite waits for another connection's write lock up to
// its busy timeout, whatever ctx says): the migration in progress is then
// left to end alone, rolled back, and the error wraps ctx.Err().
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
	// SQLite's wait for another connection's lock does not end with ctx:
	// Open stops waiting a second after ctx ends.
	stop, cancel := afterEnd(ctx, time.Second)
	defer cancel()
	err = bounded(stop, func() error {
		defer conn.Close() // also when Open has stopped waiting
		if err := d.d.setup(ctx, conn); err != nil {
			return err
		}
		return migrate(ctx, d.d, conn, version)
	}, func() {})
	switch {
	case errors.Is(err, errAbandoned):
		return nil, fmt.Errorf("mirror: %w: %w", errAbandoned, ctx.Err())
	case err != nil:
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
// stops answering, from its start (the sync's lock and state read) to its
// last write: the write in flight is then abandoned, its rows are
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
