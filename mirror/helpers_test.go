package mirror

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"encoding/json"
	"net/url"
	"os"
	"path/filepath"
	"sort"
	"testing"
	"time"

	_ "github.com/jackc/pgx/v5/stdlib"
	"github.com/stretchr/testify/require"
	_ "modernc.org/sqlite"

	"github.com/convokit/convo"
	"github.com/convokit/convo/convotest"
	"github.com/convokit/convo/internal/fakedata"
	"github.com/convokit/convo/internal/testproc"
)

// postgresEnv names the URL of the PostgreSQL server the tests use. CI
// starts one (see .ci/run); without it the PostgreSQL tests skip, except
// under CI, where they fail.
const postgresEnv = "CONVO_TEST_POSTGRES_URL"

// backend opens empty databases of one dialect.
type backend struct {
	name    string
	dialect Dialect
	open    func(t *testing.T) *sql.DB
}

// backends returns SQLite and, when a server is configured, PostgreSQL.
func backends(t *testing.T) []backend {
	b := []backend{{"sqlite", SQLite, openSQLite}}
	if postgresURL(t) != "" {
		b = append(b, backend{"postgres", PostgreSQL, openPostgres})
	}
	return b
}

// postgresURL returns the test server's URL, or "" after saying why the
// PostgreSQL tests skip. Under CI a missing server fails the test.
func postgresURL(t *testing.T) string {
	u := os.Getenv(postgresEnv)
	if u == "" {
		if os.Getenv("CI") == "true" {
			t.Fatalf("%s is not set: CI must run the PostgreSQL tests (see .ci/run)", postgresEnv)
		}
		t.Logf("PostgreSQL tests skipped: %s is not set (.ci/run starts a server and sets it)", postgresEnv)
	}
	return u
}

// openSQLite returns a new SQLite database file.
func openSQLite(t *testing.T) *sql.DB {
	t.Helper()
	return openSQLitePath(t, filepath.Join(t.TempDir(), "mirror.db"))
}

// openSQLitePath opens the database file at path as the command does: WAL,
// with synchronous=NORMAL (no fsync at each commit; the tests end runs by
// failing them, not by crashing the machine).
func openSQLitePath(t *testing.T, path string) *sql.DB {
	t.Helper()
	db, err := sql.Open("sqlite", "file:"+path+"?_pragma=busy_timeout(30000)&_pragma=journal_mode(WAL)&_pragma=synchronous(NORMAL)")
	require.NoError(t, err)
	t.Cleanup(func() { db.Close() })
	return db
}

// openPostgres returns a connection pool whose tables live in a new schema
// of the test server, dropped at the end of the test.
func openPostgres(t *testing.T) *sql.DB {
	t.Helper()
	base := postgresURL(t)
	if base == "" {
		t.Skip("no PostgreSQL server")
	}
	admin, err := sql.Open("pgx", base)
	require.NoError(t, err)
	t.Cleanup(func() { admin.Close() })
	var b [6]byte
	rand.Read(b[:])
	schema := "mirror_test_" + hex.EncodeToString(b[:])
	_, err = admin.Exec("CREATE SCHEMA " + schema)
	require.NoError(t, err, "connect to %s", postgresEnv)
	t.Cleanup(func() { admin.Exec("DROP SCHEMA " + schema + " CASCADE") })
	return openSchema(t, schema, "")
}

// openSchema returns a connection pool of the test server, or of host
// (a proxy of it) when that is not "", whose tables are those of schema.
func openSchema(t *testing.T, schema, host string) *sql.DB {
	t.Helper()
	u, err := url.Parse(postgresURL(t))
	require.NoError(t, err)
	if host != "" {
		u.Host = host
	}
	q := u.Query()
	q.Set("search_path", schema)
	u.RawQuery = q.Encode()
	db, err := sql.Open("pgx", u.String())
	require.NoError(t, err)
	t.Cleanup(func() { db.Close() })
	return db
}

// queryString returns the one value, as text, of q.
func queryString(t *testing.T, db *sql.DB, q string, args ...any) string {
	t.Helper()
	var v string
	require.NoError(t, db.QueryRow(q, args...).Scan(&v))
	return v
}

// forEach runs f for every backend and provider, in parallel: each run
// has a server and a database of its own.
func forEach(t *testing.T, f func(t *testing.T, b backend, p convo.Provider)) {
	eachBackend(t, func(t *testing.T, b backend) {
		t.Parallel()
		eachProvider(t, func(t *testing.T, p convo.Provider) { f(t, b, p) })
	})
}

// eachProvider runs f for every provider, as parallel subtests.
var eachProvider = fakedata.EachProvider

func TestMain(m *testing.M) { testproc.Main(m) }

func ctxT(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	t.Cleanup(cancel)
	return ctx
}

// snapshot is the content of a mirror, comparable with assert.Equal.
type snapshot struct {
	Conversations map[string]row // provider/id -> row
	Messages      map[string]row
}

// row is a mirrored row: its typed columns as text and its data decoded.
type row struct {
	Cols []string
	Data map[string]any
}

func takeSnapshot(t *testing.T, db *sql.DB, d Dialect) snapshot {
	t.Helper()
	s := snapshot{Conversations: map[string]row{}, Messages: map[string]row{}}
	ts := func(col string) string { return timeText(d, col) }
	read := func(q string, into map[string]row, ncols int) {
		rows, err := db.Query(q)
		require.NoError(t, err)
		defer rows.Close()
		for rows.Next() {
			vals := make([]sql.NullString, ncols+1)
			ptrs := make([]any, len(vals))
			for i := range vals {
				ptrs[i] = &vals[i]
			}
			require.NoError(t, rows.Scan(ptrs...))
			var r row
			for _, v := range vals[:ncols] {
				if v.Valid {
					r.Cols = append(r.Cols, v.String)
				} else {
					r.Cols = append(r.Cols, "NULL")
				}
			}
			require.NoError(t, json.Unmarshal([]byte(vals[ncols].String), &r.Data))
			key := r.Cols[0] + "/" + r.Cols[1]
			_, dup := into[key]
			require.False(t, dup, "row %s twice", key)
			into[key] = r
		}
		require.NoError(t, rows.Err())
	}
	read("SELECT provider, id, contact_id, channel, status, "+ts("last_message_at")+", "+ts("created_at")+", data FROM conversations", s.Conversations, 7)
	read("SELECT provider, id, conversation_id, direction, body, "+ts("sent_at")+", data FROM messages", s.Messages, 6)
	return s
}

// expected is what a mirror of everything client.Sync delivers holds,
// built by a plain sync into maps, the way an export would.
func expected(t *testing.T, client *convo.Client, p *convo.SyncParams) snapshot {
	t.Helper()
	s := snapshot{Conversations: map[string]row{}, Messages: map[string]row{}}
	prov := client.Provider().Name()
	tm := func(v time.Time) string {
		if v.IsZero() {
			return "NULL"
		}
		return v.UTC().Format("2006-01-02T15:04:05.000000Z")
	}
	str := func(v string) string {
		if v == "" {
			return "NULL"
		}
		return v
	}
	data := func(v any) map[string]any {
		b, err := json.Marshal(v)
		require.NoError(t, err)
		var m map[string]any
		require.NoError(t, json.Unmarshal(b, &m))
		return m
	}
	for b, err := range client.Sync(context.Background(), p) {
		require.NoError(t, err)
		c := b.Conversation
		if b.Start {
			s.Conversations[prov+"/"+c.ID] = row{Cols: []string{prov, c.ID, str(c.ContactID), str(c.Channel), str(c.Status), tm(c.LastMessageAt), tm(c.CreatedAt)}, Data: data(c)}
		}
		for _, m := range b.Messages {
			_, dup := s.Messages[prov+"/"+m.ID]
			require.False(t, dup, "message %s delivered twice", m.ID)
			s.Messages[prov+"/"+m.ID] = row{Cols: []string{prov, m.ID, c.ID, str(string(m.Direction)), str(m.Body), tm(m.SentAt)}, Data: data(m)}
		}
	}
	return s
}

// syncState is a sync's stored state row.
type syncState struct {
	Generation int64
	Updated    string
	Checkpoint string
}

func readState(t *testing.T, db *sql.DB, d Dialect, name string) (syncState, bool) {
	t.Helper()
	var s syncState
	err := db.QueryRow("SELECT generation, CAST(updated_at AS TEXT), checkpoint FROM convo_syncs WHERE name = "+d.d.placeholder(1), name).
		Scan(&s.Generation, &s.Updated, &s.Checkpoint)
	if err == sql.ErrNoRows {
		return s, false
	}
	require.NoError(t, err)
	return s, true
}

func count(t *testing.T, db *sql.DB, table string) int {
	t.Helper()
	var n int
	require.NoError(t, db.QueryRow("SELECT count(*) FROM "+table).Scan(&n))
	return n
}

func tables(t *testing.T, db *sql.DB, d Dialect) []string {
	t.Helper()
	q := "SELECT name FROM sqlite_master WHERE type = 'table'"
	if d.d.name() == "postgres" {
		q = "SELECT table_name FROM information_schema.tables WHERE table_schema = current_schema()"
	}
	out := queryStrings(t, db, q)
	sort.Strings(out)
	return out
}

func newServer(t *testing.T, p convo.Provider, opts ...convotest.Option) (*convotest.Server, *convo.Client) {
	t.Helper()
	srv := convotest.NewServer(p, opts...)
	t.Cleanup(srv.Close)
	client, err := srv.Client()
	require.NoError(t, err)
	return srv, client
}

func mustOpen(t *testing.T, db *sql.DB, d Dialect) *Mirror {
	t.Helper()
	m, err := Open(ctxT(t), db, d)
	require.NoError(t, err)
	return m
}

func jsonUnmarshal(s string, v any) error { return json.Unmarshal([]byte(s), v) }

// stateEntries reads the rows of a sync's state per conversation, in
// order.
func stateEntries(t *testing.T, db *sql.DB, name string) []string {
	t.Helper()
	return queryStrings(t, db, "SELECT position || ' ' || coalesce(conversation_id, '') || ' ' || state FROM convo_sync_conversations WHERE name = '"+name+"' ORDER BY position")
}

// mirroredAt reads the mirrored_at of every row of table, by provider/id,
// as text ("NULL" when unset).
func mirroredAt(t *testing.T, db *sql.DB, d Dialect, table string) map[string]string {
	t.Helper()
	return queryMap(t, db, "SELECT provider || '/' || id, coalesce("+timeText(d, "mirrored_at")+", 'NULL') FROM "+table)
}

// changedKeys returns the keys whose value differs between two maps of
// the same keys, sorted.
func changedKeys(a, b map[string]string) []string {
	var out []string
	for k, v := range b {
		if a[k] != v {
			out = append(out, k)
		}
	}
	sort.Strings(out)
	return out
}

func hasIndex(t *testing.T, db *sql.DB, d Dialect, name string) bool {
	t.Helper()
	q := "SELECT count(*) FROM sqlite_master WHERE type = 'index' AND name = ?"
	if d.d.name() == "postgres" {
		q = "SELECT count(*) FROM pg_indexes WHERE schemaname = current_schema() AND indexname = $1"
	}
	var n int
	require.NoError(t, db.QueryRow(q, name).Scan(&n))
	return n == 1
}

func columns(t *testing.T, db *sql.DB, d Dialect, table string) []string {
	t.Helper()
	q := "SELECT name FROM pragma_table_info(?) ORDER BY cid"
	if d.d.name() == "postgres" {
		q = "SELECT column_name FROM information_schema.columns WHERE table_schema = current_schema() AND table_name = $1 ORDER BY ordinal_position"
	}
	return queryStrings(t, db, q, table)
}

// queryStrings returns the one column, as text, of every row of q.
func queryStrings(t *testing.T, db *sql.DB, q string, args ...any) []string {
	t.Helper()
	var out []string
	queryRows(t, db, q, args, func(rows *sql.Rows) {
		var s string
		require.NoError(t, rows.Scan(&s))
		out = append(out, s)
	})
	return out
}

// queryMap returns the rows of q, whose two columns are a key and its
// value, as text.
func queryMap(t *testing.T, db *sql.DB, q string, args ...any) map[string]string {
	t.Helper()
	out := map[string]string{}
	queryRows(t, db, q, args, func(rows *sql.Rows) {
		var k, v string
		require.NoError(t, rows.Scan(&k, &v))
		out[k] = v
	})
	return out
}

// queryRows calls scan for every row of q.
func queryRows(t *testing.T, db *sql.DB, q string, args []any, scan func(*sql.Rows)) {
	t.Helper()
	rows, err := db.Query(q, args...)
	require.NoError(t, err)
	defer rows.Close()
	for rows.Next() {
		scan(rows)
	}
	require.NoError(t, rows.Err())
}

// timeText is the SQL of the time column col as the text SQLite stores
// (timeFormat, in UTC).
func timeText(d Dialect, col string) string {
	if d.d.name() == "postgres" {
		return "to_char(" + col + " AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.US\"Z\"')"
	}
	return col
}

// mirrorOf returns a server of p holding the data of opts, its client,
// and an empty mirror in a new database of b.
func mirrorOf(t *testing.T, b backend, p convo.Provider, opts ...convotest.Option) (*convotest.Server, *convo.Client, *sql.DB, *Mirror) {
	t.Helper()
	srv, client := newServer(t, p, opts...)
	db := b.open(t)
	return srv, client, db, mustOpen(t, db, b.dialect)
}

// newRun returns a run of a sync named "w" of provider in a new mirror
// of b, its statements closed and its connection released at the end
// of the test, and the database.
func newRun(t *testing.T, b backend, provider string) (context.Context, *sql.DB, *run) {
	t.Helper()
	ctx := ctxT(t)
	db := b.open(t)
	m := mustOpen(t, db, b.dialect)
	conn, err := db.Conn(ctx)
	require.NoError(t, err)
	r := &run{m: m, d: m.d, conn: conn, opts: Options{Name: "w"}, provider: provider}
	t.Cleanup(func() {
		r.closeStmts()
		conn.Close()
	})
	return ctx, db, r
}

// eachBackend runs f as a subtest for every backend.
func eachBackend(t *testing.T, f func(t *testing.T, b backend)) {
	for _, b := range backends(t) {
		t.Run(b.name, func(t *testing.T) { f(t, b) })
	}
}

// syncedMirrorOf is mirrorOf after a first, complete sync.
func syncedMirrorOf(t *testing.T, b backend, p convo.Provider, opts ...convotest.Option) (*convotest.Server, *convo.Client, *sql.DB, *Mirror) {
	t.Helper()
	srv, client, db, m := mirrorOf(t, b, p, opts...)
	_, err := m.Sync(ctxT(t), client, nil)
	require.NoError(t, err)
	return srv, client, db, m
}

// openAtVersion returns a new database of b holding an empty mirror of
// schema version.
func openAtVersion(t *testing.T, b backend, version int) *sql.DB {
	t.Helper()
	db := b.open(t)
	_, err := open(ctxT(t), db, b.dialect, version)
	require.NoError(t, err)
	return db
}

// mustExec runs q on db, failing the test when it fails.
func mustExec(t *testing.T, db *sql.DB, q string, args ...any) {
	t.Helper()
	_, err := db.Exec(q, args...)
	require.NoError(t, err)
}
