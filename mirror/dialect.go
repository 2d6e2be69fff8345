package mirror

import (
	"bytes"
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"fmt"
	"os"
	"strconv"
	"strings"
	"time"
)

// Dialect is the SQL flavour of a mirror's database: [SQLite] or
// [PostgreSQL]. The zero Dialect is invalid.
type Dialect struct{ d dialect }

// The dialects.
var (
	// SQLite stores timestamps as RFC 3339 text in UTC with microseconds
	// (so that they sort as text and SQLite's date functions read them)
	// and the model JSON as text. Every write transaction is BEGIN
	// IMMEDIATE, and the connection the mirror writes through gets a busy
	// timeout when it has none, so that another writer makes it wait, not
	// fail. A sync holds a lock file beside the database while it runs
	// (FILE-sync-HASH.lock, kept afterwards), so that a second run of the
	// same sync fails at once; the lock ends with its process.
	SQLite = Dialect{sqliteDialect{}}
	// PostgreSQL stores timestamps as timestamptz and the model JSON as
	// jsonb. A sync holds a session advisory lock on its name while it
	// runs, so that a second run of the same sync fails at once.
	PostgreSQL = Dialect{postgresDialect{}}
)

// Name returns "sqlite" or "postgres"; "" for the zero Dialect.
func (d Dialect) Name() string {
	if d.d == nil {
		return ""
	}
	return d.d.name()
}

// String returns the dialect's name.
func (d Dialect) String() string { return d.Name() }

// dialect is what differs between the databases. Everything else — the
// schema's tables and columns, the statements, the transaction protocol —
// is written once in terms of it.
type dialect interface {
	name() string
	// placeholder is the i-th (1-based) bind parameter of a statement.
	placeholder(i int) string
	// timeType and jsonType are the column types of timestamps and of the
	// model JSON.
	timeType() string
	jsonType() string
	// timeArg converts a timestamp to a bind argument (nil for zero).
	timeArg(t time.Time) any
	// stamp is the expression of the time of a write in a statement that
	// writes rows, the same for all its rows, and stampArgs the values it
	// binds, first of the statement's, for a write at t.
	stamp() string
	stampArgs(t time.Time) []any
	// jsonTime is the expression of the timestamp at key of the JSON
	// column col (a time as encoding/json writes it), as the dialect
	// stores times; NULL when the key is missing.
	jsonTime(col, key string) string
	// text and jsonText make a string and a record's JSON storable in a
	// text and a JSON column (see nulEscape).
	text(s string) string
	jsonText(b []byte) []byte
	// begin is the statement that starts a write transaction.
	begin() string
	// distinct is the null-safe "differs" operator.
	distinct() string
	// rowsPerStatement is how many rows of cols columns one INSERT binds
	// (within the bound of bind parameters of one statement: 32766 in
	// SQLite, 65535 in PostgreSQL).
	rowsPerStatement(cols int) int
	// insertFirst reports whether rows are written with a multi-row
	// INSERT OR IGNORE first and upserted one by one only where that
	// skipped some (see run.upsert), rather than upserted directly.
	insertFirst() bool
	// setup prepares the connection a sync or migration writes through.
	setup(ctx context.Context, conn *sql.Conn) error
	// tableExists reports whether a table of that name is visible.
	tableExists(ctx context.Context, conn *sql.Conn, table string) (bool, error)
	// lockSchema serializes schema creation and migration inside a
	// transaction begun with begin.
	lockSchema(ctx context.Context, conn *sql.Conn) error
	// lockSync claims a sync's name for one run, if the database can do so
	// for the life of the connection; the returned function releases it.
	lockSync(ctx context.Context, conn *sql.Conn, name string) (func(context.Context), error)
}

// timeFormat is how SQLite stores timestamps: RFC 3339 in UTC, fixed width
// to the microsecond (PostgreSQL's precision), so that text order is time
// order.
const timeFormat = "2006-01-02T15:04:05.000000Z07:00"

type sqliteDialect struct{}

func (sqliteDialect) name() string           { return "sqlite" }
func (sqliteDialect) placeholder(int) string { return "?" }
func (sqliteDialect) timeType() string       { return "TEXT" }
func (sqliteDialect) jsonType() string       { return "TEXT" }
func (sqliteDialect) begin() string          { return "BEGIN IMMEDIATE" }
func (sqliteDialect) distinct() string       { return "IS NOT" }
func (sqliteDialect) insertFirst() bool      { return true }

// rowsPerStatement: the driver (modernc.org/sqlite) matches each bind
// parameter to its argument by a linear search, so binding a statement
// costs the square of its parameters. Measured on 100,000 messages, 25
// rows (175-200 parameters) a statement took a fifth less time than 100.
func (sqliteDialect) rowsPerStatement(int) int { return 25 }

// SQLite stores every string as it is, U+0000 included.
func (sqliteDialect) text(s string) string     { return s }
func (sqliteDialect) jsonText(b []byte) []byte { return b }

// stamp: the first parameter, which every row names (?1); the rows' own
// parameters (?) number on from it.
func (sqliteDialect) stamp() string                 { return "?1" }
func (d sqliteDialect) stampArgs(t time.Time) []any { return []any{d.timeArg(t)} }

// jsonTime: strftime keeps milliseconds; the microseconds are padded.
func (sqliteDialect) jsonTime(col, key string) string {
	return "(strftime('%Y-%m-%dT%H:%M:%f', json_extract(" + col + ", '$." + key + "')) || '000Z')"
}

func (sqliteDialect) timeArg(t time.Time) any {
	if t.IsZero() {
		return nil
	}
	return t.UTC().Format(timeFormat)
}

// busyTimeout is how long a SQLite write waits for another writer when
// the caller's connection has no timeout of its own.
const busyTimeout = 30 * time.Second

func (sqliteDialect) setup(ctx context.Context, conn *sql.Conn) error {
	var ms int64
	if err := conn.QueryRowContext(ctx, "PRAGMA busy_timeout").Scan(&ms); err != nil {
		return err
	}
	if ms == 0 {
		_, err := conn.ExecContext(ctx, "PRAGMA busy_timeout = "+strconv.FormatInt(busyTimeout.Milliseconds(), 10))
		return err
	}
	return nil
}

func (sqliteDialect) tableExists(ctx context.Context, conn *sql.Conn, table string) (bool, error) {
	var n int
	err := conn.QueryRowContext(ctx, "SELECT count(*) FROM sqlite_master WHERE type IN ('table', 'view') AND name = ?", table).Scan(&n)
	return n > 0, err
}

func (sqliteDialect) lockSchema(context.Context, *sql.Conn) error { return nil } // BEGIN IMMEDIATE did

// lockSync claims a sync's name with a lock file beside the database
// (see syncLockPath), held by this process for the run: a second run of
// the sync, in this process or another, fails at once; a run that dies,
// even by kill -9, leaves no stale lock, as the system releases the lock
// with its process. A database with no file (in memory, temporary) and a
// system without file locks have no lock: there, the state row's
// generation check refuses the second of two concurrent runs when it
// commits.
func (sqliteDialect) lockSync(ctx context.Context, conn *sql.Conn, name string) (func(context.Context), error) {
	none := func(context.Context) {}
	if !fileLocking {
		return none, nil
	}
	file, err := sqliteFile(ctx, conn)
	if err != nil || file == "" {
		return none, err
	}
	path := syncLockPath(file, name)
	f, busy, err := lockFile(path)
	if err != nil {
		return nil, fmt.Errorf("the sync's lock file: %w", err)
	}
	if busy {
		return nil, fmt.Errorf("%w: another session holds it%s", ErrBusy, sqliteLockHolder(path))
	}
	// Whoever finds the lock taken reads who holds it.
	host, _ := os.Hostname()
	if f.Truncate(0) == nil {
		fmt.Fprintf(f, "process %d on %s, since %s\n", os.Getpid(), host, time.Now().UTC().Format(time.RFC3339))
	}
	return func(context.Context) { f.Close() }, nil
}

// sqliteFile returns the file of the connection's main database, "" for
// one in memory or temporary.
func sqliteFile(ctx context.Context, conn *sql.Conn) (string, error) {
	rows, err := conn.QueryContext(ctx, "PRAGMA database_list")
	if err != nil {
		return "", err
	}
	defer rows.Close()
	for rows.Next() {
		var seq int
		var name, file string
		if err := rows.Scan(&seq, &name, &file); err != nil {
			return "", err
		}
		if name == "main" {
			return file, rows.Err()
		}
	}
	return "", rows.Err()
}

// syncLockPath is the lock file of the sync name in the SQLite database
// file: beside it, like SQLite's own -wal and -shm files, named by a hash
// of the sync's name.
func syncLockPath(file, name string) string {
	h := sha256.Sum256([]byte(name))
	return file + "-sync-" + hex.EncodeToString(h[:8]) + ".lock"
}

// sqliteLockHolder describes the process that holds a sync's lock file,
// as it wrote itself there, for the error that refuses a second run; ""
// when it cannot be read.
func sqliteLockHolder(path string) string {
	b, err := os.ReadFile(path)
	d := strings.TrimSpace(string(b))
	if err != nil || d == "" || len(d) > 300 || strings.ContainsFunc(d, func(r rune) bool { return r < ' ' || r == 0x7f }) {
		return ""
	}
	return " (" + d + ")"
}

type postgresDialect struct{}

func (postgresDialect) name() string             { return "postgres" }
func (postgresDialect) placeholder(i int) string { return "$" + strconv.Itoa(i) }
func (postgresDialect) timeType() string         { return "timestamptz" }
func (postgresDialect) jsonType() string         { return "jsonb" }
func (postgresDialect) begin() string            { return "BEGIN" }
func (postgresDialect) distinct() string         { return "IS DISTINCT FROM" }
func (postgresDialect) insertFirst() bool        { return false }

// rowsPerStatement: 500 rows of 8 columns is 4000 parameters, well within
// PostgreSQL's 65535, in one round trip.
func (postgresDialect) rowsPerStatement(cols int) int { return min(500, 65535/cols) }

// PostgreSQL's text and jsonb cannot hold U+0000: see nulEscape.
func (postgresDialect) text(s string) string {
	if strings.IndexByte(s, 0) < 0 {
		return s
	}
	return strings.ReplaceAll(s, "\x00", nulEscape)
}

func (postgresDialect) jsonText(b []byte) []byte { return escapeJSONNul(b) }

// stamp: the start of the transaction, so that its rows share one time.
func (postgresDialect) stamp() string             { return "now()" }
func (postgresDialect) stampArgs(time.Time) []any { return nil }

func (postgresDialect) jsonTime(col, key string) string {
	return "(" + col + "->>'" + key + "')::timestamptz"
}

func (postgresDialect) timeArg(t time.Time) any {
	if t.IsZero() {
		return nil
	}
	return t.UTC()
}

func (postgresDialect) setup(context.Context, *sql.Conn) error { return nil }

func (postgresDialect) tableExists(ctx context.Context, conn *sql.Conn, table string) (bool, error) {
	var ok bool
	err := conn.QueryRowContext(ctx, "SELECT to_regclass($1) IS NOT NULL", table).Scan(&ok)
	return ok, err
}

// Advisory lock keys: one class for the schema, one for syncs, each
// qualified by the schema the tables live in.
const (
	pgLockSchema = "convo.mirror.schema"
	pgLockSync   = "convo.mirror.sync"
)

// The two keys of a sync's advisory lock, from the parameters $1
// (pgLockSync) and $2 (the sync's name): the lock, its release and the
// lookup of its holder all name it so.
const (
	pgSyncKey1 = "hashtext($1)"
	pgSyncKey2 = "hashtext(current_schema() || '/' || $2)"
)

func (postgresDialect) lockSchema(ctx context.Context, conn *sql.Conn) error {
	_, err := conn.ExecContext(ctx, "SELECT pg_advisory_xact_lock(hashtext($1), hashtext(current_schema()))", pgLockSchema)
	return err
}

func (postgresDialect) lockSync(ctx context.Context, conn *sql.Conn, name string) (func(context.Context), error) {
	var ok bool
	err := conn.QueryRowContext(ctx, "SELECT pg_try_advisory_lock("+pgSyncKey1+", "+pgSyncKey2+")", pgLockSync, name).Scan(&ok)
	if err != nil {
		return nil, err
	}
	if !ok {
		return nil, fmt.Errorf("%w: another session holds it%s", ErrBusy, pgLockHolder(ctx, conn, name))
	}
	return func(ctx context.Context) {
		conn.ExecContext(ctx, "SELECT pg_advisory_unlock("+pgSyncKey1+", "+pgSyncKey2+")", pgLockSync, name)
	}, nil
}

// pgLockHolder describes the session that holds a sync's advisory lock,
// for the error that refuses a second run: its backend's process id, and
// when it connected from where, as far as this role may see. A client
// that died without closing its connection (a machine lost, a network cut)
// leaves a session that holds the lock until the server notices, which
// can take hours; the description says how to end it. It is "" when the
// holder cannot be read (or has just gone).
func pgLockHolder(ctx context.Context, conn *sql.Conn, name string) string {
	var pid int64
	var from sql.NullString
	var since sql.NullTime
	err := conn.QueryRowContext(ctx, `SELECT l.pid, host(a.client_addr), a.backend_start
FROM pg_locks l LEFT JOIN pg_stat_activity a ON a.pid = l.pid
WHERE l.locktype = 'advisory' AND l.granted AND l.objsubid = 2
  AND l.database = (SELECT oid FROM pg_database WHERE datname = current_database())
  AND l.classid = oid(`+pgSyncKey1+`) AND l.objid = oid(`+pgSyncKey2+`)
LIMIT 1`, pgLockSync, name).Scan(&pid, &from, &since)
	if err != nil {
		return ""
	}
	var b strings.Builder
	fmt.Fprintf(&b, " (PostgreSQL backend %d", pid)
	if from.Valid {
		fmt.Fprintf(&b, " from %s", from.String)
	}
	if since.Valid {
		fmt.Fprintf(&b, ", connected %s", since.Time.UTC().Format(time.RFC3339))
	}
	fmt.Fprintf(&b, "; if that run is gone, end its session with SELECT pg_terminate_backend(%d))", pid)
	return b.String()
}

// placeholders returns "(lead, p1, p2, …), (lead, …)" for rows rows of
// lead and cols bound values.
func placeholders(d dialect, rows, cols int, lead string) string {
	var b strings.Builder
	n := 1
	for r := range rows {
		if r > 0 {
			b.WriteString(", ")
		}
		b.WriteByte('(')
		b.WriteString(lead)
		for range cols {
			b.WriteString(", ")
			b.WriteString(d.placeholder(n))
			n++
		}
		b.WriteByte(')')
	}
	return b.String()
}

// nulEscape is what a U+0000 (NUL) in a string becomes in PostgreSQL,
// whose text and jsonb types cannot hold that character: the six
// characters \u0000, in the typed columns and in the strings of data
// alike (data->>'body' reads the same as body). SQLite stores NUL as it
// is.
const nulEscape = `\u0000`

// escapeJSONNul rewrites each \u0000 escape in the JSON text b (how
// encoding/json writes a NUL) as the escaped backslash \\u0000, so that
// the string holds nulEscape instead of the NUL jsonb refuses. It returns
// b itself when there is none.
func escapeJSONNul(b []byte) []byte {
	if !bytes.Contains(b, []byte(nulEscape)) {
		return b
	}
	out := make([]byte, 0, len(b)+16)
	for i := 0; i < len(b); i++ {
		if b[i] != '\\' || i+1 >= len(b) {
			out = append(out, b[i])
			continue
		}
		// Every backslash in JSON starts an escape of two or more bytes.
		if bytes.HasPrefix(b[i:], []byte(nulEscape)) {
			out = append(out, `\\u0000`...)
			i += len(nulEscape) - 1
			continue
		}
		out = append(out, b[i], b[i+1])
		i++
	}
	return out
}
