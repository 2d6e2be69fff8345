package main

import (
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	_ "github.com/jackc/pgx/v5/stdlib" // database/sql driver "pgx"
	"github.com/spf13/cobra"
	"modernc.org/sqlite" // database/sql driver "sqlite", pure Go
	sqlite3 "modernc.org/sqlite/lib"

	"github.com/convokit/convo"
	"github.com/convokit/convo/mirror"
)

// newSyncCmd is sync: a database mirror of every conversation and message,
// brought up to date by each run.
func newSyncCmd(e *env) *cobra.Command {
	var c syncFlags
	var dbArg, name string
	var batchRows int
	var reset bool
	var lookback time.Duration
	retention := span{def: "0"}
	cmd := &cobra.Command{
		Use:   "sync --db FILE.db|postgres://…",
		Short: "Mirror every conversation and message into a SQLite or PostgreSQL database, incrementally",
		Long: `Mirror every conversation and message into a SQLite or PostgreSQL database,
incrementally.

--db is a SQLite file (created if missing) or a postgres:// URL. The first
run copies everything; each later run copies only what is new or changed
(run it from cron). Each batch is written in one transaction together with
the sync's position, so an interruption, a crash or a kill at any moment
loses and repeats nothing: run the same command again to continue.

Several syncs can share one database: each keeps its state under its name
(--name; by default the provider, an account fingerprint and the filters).
--reset forgets a sync's state, so that it starts afresh with a full sync
(the rows stay, updated in place).

Records change after they are first read (a status, a delivery receipt, a
body the provider's retention removed): a run refreshes (re-reads the whole
conversation list, and the messages sent within --recheck) when the last
refresh is older than --refresh, and updates the changed rows in place.
Each row's mirrored_at says when it was last written. --retention removes
the bodies of messages older than it from the mirror, on every run.

Tables: conversations and messages (primary key provider, id), with typed
columns and the whole record as JSON; see the README for the schema.`,
		Args: positional(0, 0, ""),
		RunE: func(cmd *cobra.Command, args []string) error {
			switch {
			case dbArg == "":
				return usagef("sync needs --db FILE.db or --db postgres://… (see 'convo sync --help')")
			case c.concurrency < 1:
				return usagef("--concurrency must be at least 1")
			case c.pageSize < 0:
				return usagef("--page-size must not be negative")
			case batchRows < 1:
				return usagef("--batch-rows must be at least 1")
			case lookback < 0:
				return usagef("--lookback must not be negative")
			}
			target, err := parseDB(dbArg)
			if err != nil {
				return err
			}
			if cmd.Flags().Changed("name") {
				if err := checkSyncName(name); err != nil {
					return err
				}
			}
			sp, client, release, err := c.start(e)
			if err != nil {
				return err
			}
			defer release()
			if name == "" {
				name = defaultSyncName(&c.common, e, client.Provider(), &sp.Conversations)
			}
			s := &syncer{e: e, client: client, target: target, name: name, batchRows: batchRows, retention: retention.d, verbose: c.verbose}
			sp.Lookback = lookback
			return s.run(cmd.Context(), reset, sp)
		},
	}
	fs := cmd.Flags()
	c.register(fs, e)
	fs.StringVar(&dbArg, "db", "", "the SQLite `file` (created if missing) or postgres:// URL to mirror into (required)")
	fs.StringVar(&name, "name", "", "the `name` the sync's state is kept under (default PROVIDER@ACCOUNT?FILTERS)")
	fs.BoolVar(&reset, "reset", false, "forget the sync's state first: a full sync over the rows already there")
	fs.DurationVar(&lookback, "lookback", 0, "how far behind the last run's newest activity an incremental run re-reads (0: the SDK's default, 5m)")
	fs.IntVar(&batchRows, "batch-rows", 5000, "rows gathered into one transaction (a transaction is also written at least every second)")
	fs.Var(&retention, "retention", "remove from the mirror the bodies of messages sent longer ago than this `duration` (like 720h or 30d), on every run (0: keep them)")
	return cmd
}

// defaultSyncName names a sync by its provider, its account and its
// filters: "rentalot@3fa9c2e1b7d0?status=active". The account is a
// fingerprint of the base URL and the credentials (a truncated SHA-256,
// which reveals nothing of them), so that two accounts of one provider
// never share a state; "demo" for --demo.
func defaultSyncName(c *common, e *env, p convo.Provider, params *convo.ConversationListParams) string {
	account := "demo"
	if !c.demo {
		h := sha256.New()
		h.Write([]byte(c.baseURL))
		for _, k := range p.CredentialEnv() {
			h.Write([]byte{0})
			h.Write([]byte(e.getenv(k)))
		}
		account = hex.EncodeToString(h.Sum(nil))[:12]
	}
	return p.Name() + "@" + account + strings.TrimPrefix(mirror.DefaultName(p, params), p.Name())
}

// syncer is one run of sync.
type syncer struct {
	e         *env
	client    *convo.Client
	target    dbTarget
	name      string
	batchRows int
	retention time.Duration
	verbose   bool // -v: also say whether the run refreshes
	created   bool // the SQLite file did not exist before this run
}

func (s *syncer) run(ctx context.Context, reset bool, params convo.SyncParams) error {
	db, err := s.open(ctx)
	if err != nil {
		return err
	}
	defer db.Close()
	m, err := s.openMirror(ctx, db, reset)
	if err != nil {
		return err
	}
	s.sayRefresh(ctx, m, &params)

	var written, delivered atomic.Int64
	stopProgress := s.progress(&written, &delivered)
	st, err := m.Sync(ctx, s.client, &mirror.Options{Name: s.name, Params: params, FlushRows: s.batchRows, Retention: s.retention, Progress: func(st mirror.Stats) {
		written.Store(st.Conversations + st.Messages + st.ConversationsChanged + st.MessagesChanged)
		delivered.Store(st.Delivered)
	}})
	stopProgress()

	var ce *convo.ConversationError
	switch {
	case err == nil:
	case errors.Is(err, convo.ErrInvalidParams), errors.Is(err, convo.ErrUnsupported):
		s.discard(db)
		if inner := errors.Unwrap(err); inner != nil {
			return inner // the SDK's own message
		}
		return err
	case errors.Is(err, mirror.ErrNameInUse):
		return usagef("--db %s: %s (use --name)", s.target.display, strings.TrimPrefix(err.Error(), "mirror: "))
	case ctx.Err() != nil:
		return s.interrupted(&st, err)
	case errors.As(err, &ce) && len(st.Failed) > 0:
		for _, e := range joined(err) {
			printErr(s.e, e.Error())
		}
		fmt.Fprintf(s.e.stderr, "convo: %d conversations failed (%s); the others are mirrored; run the same command again to retry them\n",
			len(st.Failed), strings.Join(st.Failed, ", "))
		return errReported
	default:
		if apiErr, ok := apiFailure(err); ok {
			return apiErr // the API's or the network's, not the database's
		}
		return fmt.Errorf("--db %s: %s", s.target.display, s.redact(err))
	}
	if s.e.stderrTTY {
		fmt.Fprintf(s.e.stderr, "convo: %s is up to date: %s by this run\n", s.target.display, summary(&st))
	}
	return nil
}

// openMirror opens the mirror in db (creating or migrating its schema)
// and, with reset, forgets the sync's state.
func (s *syncer) openMirror(ctx context.Context, db *sql.DB, reset bool) (*mirror.Mirror, error) {
	m, err := mirror.Open(ctx, db, s.target.dialect)
	if err != nil {
		s.discard(db)
		return nil, s.openError(ctx, err)
	}
	if s.created {
		// Readers (queries) and the writer (the next sync) do not block
		// each other in WAL mode.
		if err := setWAL(ctx, db); err != nil {
			return nil, fmt.Errorf("--db %s: %v", s.target.display, err)
		}
	}
	if reset {
		if _, err := m.Reset(ctx, s.name); err != nil {
			return nil, fmt.Errorf("--db %s: %s", s.target.display, s.redact(err))
		}
	}
	return m, nil
}

// sayRefresh says, with -v, whether the run refreshes.
func (s *syncer) sayRefresh(ctx context.Context, m *mirror.Mirror, params *convo.SyncParams) {
	if !s.verbose {
		return
	}
	if cp, ok, err := m.State(ctx, s.name); err == nil && ok {
		if note := refreshNote(cp, params); note != "" {
			fmt.Fprintf(s.e.stderr, "convo: %s\n", note)
		}
	}
}

// openError is the command's error for a mirror.Open that failed.
func (s *syncer) openError(ctx context.Context, err error) error {
	switch {
	case errors.Is(err, mirror.ErrNotMirror):
		return usagef("--db %s: %v", s.target.display, strings.TrimPrefix(err.Error(), "mirror: "))
	case ctx.Err() != nil:
		return errInterrupted
	case s.target.dialect == mirror.SQLite && sqlitePermission(s.target.path, err) != nil:
		return sqlitePermission(s.target.path, err)
	}
	return fmt.Errorf("--db %s: %s", s.target.display, s.redact(err))
}

// interrupted says what an interrupted run stored and how to resume it.
func (s *syncer) interrupted(st *mirror.Stats, err error) error {
	if st.Unwritten > 0 {
		// The last write failed or was abandoned: say so, and claim
		// only what committed transactions hold.
		fmt.Fprintf(s.e.stderr, "convo: interrupted; the last write to %s did not complete (%s): %d delivered messages were not stored and come again on the next run; %s by this run are stored\n",
			s.target.display, s.redact(err), st.Unwritten, summary(st))
	} else {
		fmt.Fprintf(s.e.stderr, "convo: interrupted; %s holds everything delivered so far (%s by this run)\n", s.target.display, summary(st))
	}
	sayResume(s.e, redactArgs(s.e.args))
	return errInterrupted
}

// summary says what a run wrote: rows inserted, rows changed in place,
// bodies removed for --retention.
func summary(st *mirror.Stats) string {
	s := fmt.Sprintf("%d conversations and %d messages inserted, %d conversations and %d messages changed in place",
		st.Conversations, st.Messages, st.ConversationsChanged, st.MessagesChanged)
	if st.Redacted > 0 {
		s += fmt.Sprintf(", %d message bodies removed for --retention", st.Redacted)
	}
	return s
}

// open opens the database: a SQLite file (creating it, in a directory
// that must exist) or a PostgreSQL server (which must answer).
func (s *syncer) open(ctx context.Context) (*sql.DB, error) {
	if s.target.dialect == mirror.PostgreSQL {
		db, err := sql.Open("pgx", s.target.url)
		if err != nil {
			return nil, usagef("--db %s: %s", s.target.display, s.redact(err))
		}
		pctx, cancel := context.WithTimeout(ctx, 15*time.Second)
		defer cancel()
		if err := db.PingContext(pctx); err != nil {
			db.Close()
			if ctx.Err() != nil {
				return nil, errInterrupted
			}
			return nil, s.target.connectError(err)
		}
		return db, nil
	}
	path := s.target.path
	st, err := os.Stat(path)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		dir := filepath.Dir(path)
		if ds, derr := os.Stat(dir); derr != nil || !ds.IsDir() {
			return nil, usagef("--db %s: cannot create the database: directory %s does not exist", path, dir)
		}
		f, err := os.OpenFile(path, os.O_CREATE|os.O_EXCL|os.O_WRONLY, 0o644)
		switch {
		case errors.Is(err, fs.ErrExist):
			// Another run created it meanwhile: it is that run's to set up,
			// and SQLite's locks (with the busy timeout) order the two.
		case err != nil:
			return nil, usagef("--db %s: cannot create the database: %v", path, errors.Unwrap(err))
		default:
			f.Close()
			s.created = true
		}
	case err != nil:
		return nil, usagef("--db %s: %v", path, err)
	case !st.Mode().IsRegular():
		return nil, usagef("--db %s: not a file", path)
	}
	abs, err := filepath.Abs(path)
	if err != nil {
		return nil, err
	}
	db, err := sql.Open("sqlite", sqliteDSN(abs))
	if err != nil {
		return nil, err
	}
	var n int
	if err := db.QueryRowContext(ctx, "SELECT count(*) FROM sqlite_master").Scan(&n); err != nil {
		db.Close()
		if ctx.Err() != nil {
			return nil, errInterrupted
		}
		return nil, sqliteOpenError(path, err)
	}
	return db, nil
}

// sqliteBusyTimeout is how long a connection to a SQLite mirror waits for
// another process's lock (a sync writing, another first run creating the
// schema) before it fails.
const sqliteBusyTimeout = 30 * time.Second

// sqliteDSN is the connection string of the SQLite file at the absolute
// path abs. The busy timeout comes first: the driver runs the pragmas in
// order as it opens each connection, and any that touches the file while
// another process holds a lock would fail at once without it. WAL with
// synchronous=NORMAL: a commit is durable against a crash of the process;
// a power cut can lose the last transactions, each with the checkpoint
// that covers it, so the next run redoes them (exactly once either way).
func sqliteDSN(abs string) string {
	return "file:" + (&url.URL{Path: abs}).EscapedPath() +
		"?_pragma=busy_timeout(" + strconv.FormatInt(sqliteBusyTimeout.Milliseconds(), 10) + ")&_pragma=synchronous(NORMAL)"
}

// setWAL puts a SQLite database into WAL mode. Entering WAL takes an
// exclusive lock that SQLite does not wait for while another connection
// holds the write lock (a deadlock, to SQLite): another run on the same
// new file, writing its schema at that moment, makes it fail at once with
// SQLITE_BUSY, whatever the busy timeout. So the switch is
// tried again, every 20 ms, for as long as the busy timeout, or until ctx
// ends.
func setWAL(ctx context.Context, db *sql.DB) error {
	deadline := time.Now().Add(sqliteBusyTimeout)
	for {
		_, err := db.ExecContext(ctx, "PRAGMA journal_mode = WAL")
		var se *sqlite.Error
		if err == nil || !errors.As(err, &se) || se.Code()&0xff != sqlite3.SQLITE_BUSY || time.Now().After(deadline) {
			return err
		}
		t := time.NewTimer(20 * time.Millisecond)
		select {
		case <-ctx.Done():
			t.Stop()
			return ctx.Err()
		case <-t.C:
		}
	}
}

// sqliteOpenError names what kept the first read of the SQLite file at
// path from working: a file that is not a database, or a permission (of
// the file, or of its directory, where SQLite keeps its journal and WAL
// files), or whatever else SQLite said.
func sqliteOpenError(path string, err error) error {
	var se *sqlite.Error
	if !errors.As(err, &se) {
		return fmt.Errorf("--db %s: %v", path, err)
	}
	if perr := sqlitePermission(path, err); perr != nil {
		return perr
	}
	switch se.Code() & 0xff {
	case sqlite3.SQLITE_NOTADB:
		return usagef("--db %s: not a SQLite database", path)
	case sqlite3.SQLITE_BUSY:
		return fmt.Errorf("--db %s: the database stayed locked by another process for %s", path, sqliteBusyTimeout)
	}
	return fmt.Errorf("--db %s: %v", path, err)
}

// sqlitePermission returns the error that names a permission problem when
// err is SQLite's refusal to open or write the file at path (SQLite says
// "unable to open database file" or "attempt to write a readonly
// database"), and nil for any other error.
func sqlitePermission(path string, err error) error {
	var se *sqlite.Error
	if !errors.As(err, &se) {
		return nil
	}
	switch se.Code() & 0xff {
	case sqlite3.SQLITE_PERM, sqlite3.SQLITE_READONLY, sqlite3.SQLITE_CANTOPEN, sqlite3.SQLITE_AUTH:
		return usagef("--db %s: permission denied: the database file and its directory (where SQLite keeps its -journal, -wal and -shm files) must be writable (SQLite: %s)",
			path, sqlite.ErrorCodeString[se.Code()&0xff])
	}
	return nil
}

// discard removes a SQLite file this run created when the run ends
// before writing anything into it.
func (s *syncer) discard(db *sql.DB) {
	if !s.created {
		return
	}
	db.Close()
	for _, suffix := range []string{"", "-wal", "-shm", "-journal"} {
		os.Remove(s.target.path + suffix)
	}
	// The mirror's sync locks, FILE-sync-HASH.lock.
	dir, prefix := filepath.Split(s.target.path)
	entries, _ := os.ReadDir(filepath.Clean(dir))
	for _, e := range entries {
		if n := e.Name(); strings.HasPrefix(n, prefix+"-sync-") && strings.HasSuffix(n, ".lock") {
			os.Remove(filepath.Join(dir, n))
		}
	}
}

// redact renders err in one line without the --db location's user,
// password or other secret parameters.
func (s *syncer) redact(err error) string { return s.target.pgError(err) }

// joined returns the errors joined (errors.Join) somewhere in err's chain.
func joined(err error) []error {
	for err != nil {
		if j, ok := err.(interface{ Unwrap() []error }); ok {
			return j.Unwrap()
		}
		err = errors.Unwrap(err)
	}
	return nil
}
