package main

import (
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/convokit/convo"
)

// mirrorDB is a database the sync command writes into, as --db takes it.
type mirrorDB struct {
	name   string
	arg    string // --db
	driver string
	dsn    string
}

// mirrorDBs returns a new SQLite file and, when CONVO_TEST_POSTGRES_URL
// names a server, a new schema of it. Under CI the server must be there.
func mirrorDBs(t *testing.T) []mirrorDB {
	t.Helper()
	path := filepath.Join(t.TempDir(), "inbox.db")
	dbs := []mirrorDB{{name: "sqlite", arg: path, driver: "sqlite", dsn: "file:" + path}}
	base := os.Getenv("CONVO_TEST_POSTGRES_URL")
	if base == "" {
		if os.Getenv("CI") == "true" {
			t.Fatal("CONVO_TEST_POSTGRES_URL is not set: CI must run the PostgreSQL tests (see .ci/run)")
		}
		t.Log("PostgreSQL tests skipped: CONVO_TEST_POSTGRES_URL is not set")
		return dbs
	}
	admin, err := sql.Open("pgx", base)
	require.NoError(t, err)
	schema := uniqueName("cli_test_")
	_, err = admin.Exec("CREATE SCHEMA " + schema)
	require.NoError(t, err)
	t.Cleanup(func() {
		admin.Exec("DROP SCHEMA " + schema + " CASCADE")
		admin.Close()
	})
	dsn := withQuery(t, base, "search_path", schema)
	return append(dbs, mirrorDB{name: "postgres", arg: dsn, driver: "pgx", dsn: dsn})
}

// uniqueName is prefix and 12 random hex digits.
func uniqueName(prefix string) string {
	var b [6]byte
	rand.Read(b[:])
	return prefix + hex.EncodeToString(b[:])
}

// withQuery returns the URL raw with the query parameter key set to value.
func withQuery(t *testing.T, raw, key, value string) string {
	t.Helper()
	u, err := url.Parse(raw)
	require.NoError(t, err)
	q := u.Query()
	q.Set(key, value)
	u.RawQuery = q.Encode()
	return u.String()
}

// named returns m with its PostgreSQL connections labelled with a new
// application name, and the name ("" for SQLite).
func (m mirrorDB) named(t *testing.T) (mirrorDB, string) {
	t.Helper()
	if m.name != "postgres" {
		return m, ""
	}
	app := uniqueName("convo_test_")
	m.arg = withQuery(t, m.arg, "application_name", app) // the command's connections; the test reads through m.dsn
	return m, app
}

// awaitSessionsGone waits until the server has ended every session of
// application app (none for ""). A killed client's session outlives it:
// a COMMIT it sent before it died still completes, so the mirror read too
// early can show the rows of one transaction and then the state of the
// next.
func awaitSessionsGone(t *testing.T, db *sql.DB, app string) {
	t.Helper()
	if app == "" {
		return
	}
	for range 300 { // 30 s at most
		var n int
		require.NoError(t, db.QueryRow("SELECT count(*) FROM pg_stat_activity WHERE application_name = $1", app).Scan(&n))
		if n == 0 {
			return
		}
		time.Sleep(100 * time.Millisecond)
	}
	t.Fatalf("the killed sync's PostgreSQL session (%s) did not end within 30 s", app)
}

func (m mirrorDB) open(t *testing.T) *sql.DB {
	t.Helper()
	db, err := sql.Open(m.driver, m.dsn)
	require.NoError(t, err)
	t.Cleanup(func() { db.Close() })
	return db
}

// mirrored is the content of a mirror for one provider, in the shape of
// an export: each record's typed columns and its JSON.
type mirrored struct {
	Conversations map[string]string // id -> contact|channel|status|json
	Messages      map[string]string // id -> conversation|direction|body|json
}

// canonical re-encodes a JSON object with sorted keys.
func canonical(t *testing.T, b []byte) string {
	t.Helper()
	var v map[string]any
	require.NoError(t, json.Unmarshal(b, &v), "%s", b)
	out, err := json.Marshal(v)
	require.NoError(t, err)
	return string(out)
}

func orNull(s string) string {
	if s == "" {
		return "NULL"
	}
	return s
}

// readMirror reads what the mirror db holds for provider p.
func readMirror(t *testing.T, db *sql.DB, p convo.Provider) mirrored {
	t.Helper()
	ph := placeholder(db)
	m := mirrored{Conversations: map[string]string{}, Messages: map[string]string{}}
	rows, err := db.Query("SELECT id, coalesce(contact_id, 'NULL'), coalesce(channel, 'NULL'), coalesce(status, 'NULL'), CAST(data AS TEXT) FROM conversations WHERE provider = "+ph, p.Name())
	require.NoError(t, err)
	for rows.Next() {
		var id, contact, channel, status, data string
		require.NoError(t, rows.Scan(&id, &contact, &channel, &status, &data))
		m.Conversations[id] = strings.Join([]string{contact, channel, status, canonical(t, []byte(data))}, "|")
	}
	require.NoError(t, rows.Err())
	rows.Close()
	rows, err = db.Query("SELECT id, conversation_id, coalesce(direction, 'NULL'), coalesce(body, 'NULL'), CAST(data AS TEXT) FROM messages WHERE provider = "+ph, p.Name())
	require.NoError(t, err)
	for rows.Next() {
		var id, conv, dir, body, data string
		require.NoError(t, rows.Scan(&id, &conv, &dir, &body, &data))
		m.Messages[id] = strings.Join([]string{conv, dir, body, canonical(t, []byte(data))}, "|")
	}
	require.NoError(t, rows.Err())
	rows.Close()
	return m
}

// placeholder is the first bind parameter in db's dialect.
func placeholder(db *sql.DB) string {
	if strings.Contains(fmt.Sprintf("%T", db.Driver()), "sqlite") {
		return "?"
	}
	return "$1"
}

// exported runs convo export for p and returns its lines in the same
// shape, each record exactly once.
func exported(t *testing.T, p convo.Provider) mirrored {
	t.Helper()
	out := filepath.Join(t.TempDir(), "export.jsonl")
	r := convoRun(t, nil, "export", "--demo", "--provider", p.Name(), "--out", out)
	require.Equal(t, 0, r.code, r.stderr)
	m := mirrored{Conversations: map[string]string{}, Messages: map[string]string{}}
	type line struct {
		Kind           string          `json:"kind"`
		ConversationID string          `json:"conversation_id"`
		Conversation   json.RawMessage `json:"conversation"`
		Message        json.RawMessage `json:"message"`
	}
	for _, l := range jsonLines[line](t, readFile(t, out)) {
		switch l.Kind {
		case "conversation":
			var c convo.Conversation
			require.NoError(t, json.Unmarshal(l.Conversation, &c))
			require.NotContains(t, m.Conversations, c.ID)
			m.Conversations[c.ID] = strings.Join([]string{orNull(c.ContactID), orNull(c.Channel), orNull(c.Status), canonical(t, l.Conversation)}, "|")
		case "message":
			var msg convo.Message
			require.NoError(t, json.Unmarshal(l.Message, &msg))
			require.NotContains(t, m.Messages, msg.ID)
			m.Messages[msg.ID] = strings.Join([]string{l.ConversationID, orNull(string(msg.Direction)), orNull(msg.Body), canonical(t, l.Message)}, "|")
		}
	}
	require.NotEmpty(t, m.Messages)
	return m
}

// syncState reads a sync's state row: generation and last write.
func syncStateOf(t *testing.T, db *sql.DB) []string {
	t.Helper()
	rows, err := db.Query("SELECT name, generation, CAST(updated_at AS TEXT), checkpoint FROM convo_syncs ORDER BY name")
	require.NoError(t, err)
	defer rows.Close()
	var out []string
	for rows.Next() {
		var name, gen, updated, cp string
		require.NoError(t, rows.Scan(&name, &gen, &updated, &cp))
		out = append(out, name+" "+gen+" "+updated+" "+cp)
	}
	require.NoError(t, rows.Err())
	return out
}

// Every provider's demo data, mirrored into one database, equals its
// export row for row; a rerun writes nothing.
func TestCLISyncEqualsExport(t *testing.T) {
	if testing.Short() {
		t.Skip("syncs every provider twice through the built command; runs without -short")
	}
	t.Parallel()
	for _, mdb := range mirrorDBs(t) {
		t.Run(mdb.name, func(t *testing.T) {
			db := mdb.open(t)
			for _, p := range convo.Providers() {
				r := convoRun(t, nil, "sync", "--demo", "--provider", p.Name(), "--db", mdb.arg)
				require.Equal(t, 0, r.code, r.stderr)
				assert.Empty(t, r.stderr, "silent when stderr is not a terminal")
				assert.Equal(t, exported(t, p), readMirror(t, db, p), p.Name())
			}
			before := syncStateOf(t, db)
			require.Len(t, before, 4, "one state per sync")
			for _, p := range convo.Providers() {
				r := convoRun(t, nil, "sync", "--demo", "--provider", p.Name(), "--db", mdb.arg)
				require.Equal(t, 0, r.code, r.stderr)
				assert.Equal(t, exported(t, p), readMirror(t, db, p), p.Name())
			}
			assert.Equal(t, before, syncStateOf(t, db), "a rerun writes nothing")
		})
	}
}

// syncArgs is a sync of small pages and small transactions, logging each
// request attempt (startExport counts them to stop the run midway).
func syncArgs(p convo.Provider, dbArg string) []string {
	return []string{"sync", "--demo", "--provider", p.Name(), "--db", dbArg, "-v", "--page-size", "10", "--batch-rows", "15"}
}

// SIGINT mid-sync: exit 130 with the resume hint, the mirror holds what
// was delivered; the rerun completes it to exactly the export.
func TestCLISyncInterruptAndResume(t *testing.T) {
	if testing.Short() {
		t.Skip("interrupts and resumes syncs of the built command; runs without -short")
	}
	t.Parallel()
	for _, mdb := range mirrorDBs(t) {
		for _, p := range []convo.Provider{convo.Vobiz, convo.AgentMessage} {
			t.Run(mdb.name+"/"+p.Name(), func(t *testing.T) {
				args := syncArgs(p, mdb.arg)
				cmd, wait := startExport(t, args, 30) // of 49 or 55
				require.NoError(t, cmd.Process.Signal(syscall.SIGINT))
				r := wait()
				require.Equal(t, 130, r.code, r.stderr)
				assert.Contains(t, r.stderr, "interrupted;")
				assert.Contains(t, r.stderr, "to resume, run the same command again")
				db := mdb.open(t)
				partial := readMirror(t, db, p)
				want := exported(t, p)
				assert.NotEmpty(t, partial.Messages, "written before the interruption")
				assert.Less(t, len(partial.Messages), len(want.Messages), "the interruption came midway")
				assertConsistent(t, db, p, partial)

				r = convoRun(t, nil, args...)
				require.Equal(t, 0, r.code, r.stderr)
				assert.Equal(t, want, readMirror(t, db, p))
			})
		}
	}
}

// assertConsistent checks that the stored checkpoint covers exactly the
// stored messages.
func assertConsistent(t *testing.T, db *sql.DB, p convo.Provider, m mirrored) {
	t.Helper()
	var b string
	require.NoError(t, db.QueryRow("SELECT checkpoint FROM convo_syncs WHERE provider = "+placeholder(db), p.Name()).Scan(&b))
	cp := new(convo.Checkpoint)
	require.NoError(t, json.Unmarshal([]byte(b), cp))
	assert.Equal(t, int64(len(m.Messages)), cp.Messages(), "the checkpoint covers exactly the rows")
}

// kill -9 mid-run, with transactions committing all the time: the mirror
// is at the end of some transaction, and the rerun completes it exactly.
func TestCLISyncKillAndResume(t *testing.T) {
	if testing.Short() {
		t.Skip("kills and resumes syncs of the built command; runs without -short")
	}
	t.Parallel()
	for _, mdb := range mirrorDBs(t) {
		for _, p := range []convo.Provider{convo.Rentalot, convo.VantaxAI} {
			t.Run(mdb.name+"/"+p.Name(), func(t *testing.T) {
				mdb, app := mdb.named(t)
				args := syncArgs(p, mdb.arg)
				cmd, wait := startExport(t, args, 35) // of 50 or 51
				require.NoError(t, cmd.Process.Kill())
				r := wait()
				require.NotEqual(t, 0, r.code)
				db := mdb.open(t)
				awaitSessionsGone(t, db, app)
				partial := readMirror(t, db, p)
				want := exported(t, p)
				assert.NotEmpty(t, partial.Messages, "transactions committed before the kill")
				assert.Less(t, len(partial.Messages), len(want.Messages), "the kill came midway")
				assertConsistent(t, db, p, partial)

				r = convoRun(t, nil, args...)
				require.Equal(t, 0, r.code, r.stderr)
				assert.Equal(t, want, readMirror(t, db, p))
			})
		}
	}
}

// Bad --db values and databases: a clear message, exit 2 or 1, nothing
// written.
func TestCLISyncBadDatabase(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	sync := func(db string, extra ...string) result {
		return convoRun(t, nil, append([]string{"sync", "--demo", "--provider", "vantaxai", "--db", db}, extra...)...)
	}
	t.Run("missing directory", func(t *testing.T) {
		r := sync(filepath.Join(dir, "no", "such", "inbox.db"))
		assert.Equal(t, 2, r.code)
		assert.Contains(t, r.stderr, "cannot create the database: directory")
		assert.NoDirExists(t, filepath.Join(dir, "no"))
	})
	t.Run("unwritable directory", func(t *testing.T) {
		if os.Geteuid() == 0 {
			t.Skip("root writes anywhere")
		}
		ro := filepath.Join(dir, "ro")
		require.NoError(t, os.Mkdir(ro, 0o500))
		r := sync(filepath.Join(ro, "inbox.db"))
		assert.Equal(t, 2, r.code)
		assert.Contains(t, r.stderr, "cannot create the database")
	})
	t.Run("a directory", func(t *testing.T) {
		r := sync(dir)
		assert.Equal(t, 2, r.code)
		assert.Contains(t, r.stderr, "not a file")
	})
	t.Run("not SQLite", func(t *testing.T) {
		path := filepath.Join(dir, "notes.txt")
		require.NoError(t, os.WriteFile(path, []byte("dear diary, this is not a database at all\n"), 0o644))
		r := sync(path)
		assert.Equal(t, 2, r.code)
		assert.Contains(t, r.stderr, "not a SQLite database")
		assert.Equal(t, "dear diary, this is not a database at all\n", readFile(t, path))
	})
	t.Run("neither path nor postgres URL", func(t *testing.T) {
		r := sync("mysql://app:hunter2@db.example/app")
		assert.Equal(t, 2, r.code)
		assert.Contains(t, r.stderr, "is neither a SQLite file path nor a postgres:// URL")
		assert.NotContains(t, r.stderr, "hunter2")
	})
	t.Run("unreachable PostgreSQL", func(t *testing.T) {
		r := sync("postgres://app:hunter2@127.0.0.1:1/app?connect_timeout=5")
		assert.Equal(t, 1, r.code)
		assert.Contains(t, r.stderr, "cannot connect to PostgreSQL at postgres://app:xxxxx@127.0.0.1:1/app")
		assert.NotContains(t, r.stderr, "hunter2")
	})
	t.Run("unsupported filter on a new file", func(t *testing.T) {
		path := filepath.Join(dir, "new.db")
		r := convoRun(t, nil, "sync", "--demo", "--provider", "vobiz", "--db", path, "--channel", "sms")
		assert.Equal(t, 2, r.code)
		assert.Contains(t, r.stderr, "vobiz does not document the conversation filter Channel")
		assert.NotContains(t, r.stderr, "mirror:")
		assert.NoFileExists(t, path, "nothing written, not even the file")
	})

	for _, mdb := range mirrorDBs(t) {
		t.Run(mdb.name+"/foreign tables", func(t *testing.T) {
			db := mdb.open(t)
			_, err := db.Exec("CREATE TABLE conversations (id TEXT, subject TEXT)")
			require.NoError(t, err)
			_, err = db.Exec("INSERT INTO conversations VALUES ('a', 'hello')")
			require.NoError(t, err)
			r := sync(mdb.arg)
			assert.Equal(t, 2, r.code)
			assert.Contains(t, r.stderr, `not a convo mirror: the database has a table "conversations"`)
			var n int
			require.NoError(t, db.QueryRow("SELECT count(*) FROM conversations").Scan(&n))
			assert.Equal(t, 1, n)
			_, err = db.Exec("SELECT 1 FROM convo_meta")
			assert.Error(t, err, "no table created")
			_, err = db.Exec("DROP TABLE conversations")
			require.NoError(t, err)
		})
		t.Run(mdb.name+"/name in use", func(t *testing.T) {
			db := mdb.open(t)
			r := sync(mdb.arg)
			require.Equal(t, 0, r.code, r.stderr)
			before := syncStateOf(t, db)
			require.Len(t, before, 1)
			name := strings.Fields(before[0])[0]
			r = convoRun(t, nil, "sync", "--demo", "--provider", "rentalot", "--db", mdb.arg, "--name", name)
			assert.Equal(t, 2, r.code)
			assert.Contains(t, r.stderr, "sync name in use")
			assert.Contains(t, r.stderr, "--name")
			assert.Equal(t, before, syncStateOf(t, db))
		})
		t.Run(mdb.name+"/newer schema", func(t *testing.T) {
			db := mdb.open(t)
			_, err := db.Exec("UPDATE convo_meta SET value = '7' WHERE key = 'schema_version'")
			require.NoError(t, err)
			before := syncStateOf(t, db)
			r := sync(mdb.arg, "--reset")
			assert.Equal(t, 1, r.code)
			assert.Contains(t, r.stderr, "at schema version 7, this convo writes version")
			assert.Contains(t, r.stderr, "upgrade convo")
			assert.Equal(t, before, syncStateOf(t, db), "nothing written, not even the reset")
		})
	}
}

// On a terminal, sync shows its progress and a summary.
func TestSyncProgressOnTerminal(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "inbox.db")
	r := runInProcess(t, false, true, "sync", "--demo", "--provider", "rentalot", "--db", path)
	require.Equal(t, 0, r.code, r.stderr)
	n := demoData(convo.Rentalot).MessageCount()
	assert.Regexp(t, fmt.Sprintf(`\r\x1b\[K%d messages delivered, \d+ rows written, \d+ msg/s, \d+s\n`, n), r.stderr)
	assert.Contains(t, r.stderr, fmt.Sprintf("is up to date: %d conversations and %d messages inserted, 0 conversations and 0 messages changed in place by this run\n", len(demoData(convo.Rentalot).Conversations), n))
}

// The default name tells accounts apart without revealing credentials.
func TestDefaultSyncName(t *testing.T) {
	t.Parallel()
	env := func(key string) *env {
		return &env{getenv: func(k string) string {
			if k == "RENTALOT_API_KEY" {
				return key
			}
			return ""
		}}
	}
	c := &common{}
	a := defaultSyncName(c, env("ra_live_secret_one"), convo.Rentalot, &convo.ConversationListParams{Status: "active"})
	b := defaultSyncName(c, env("ra_live_secret_two"), convo.Rentalot, &convo.ConversationListParams{Status: "active"})
	assert.Regexp(t, `^rentalot@[0-9a-f]{12}\?status=active$`, a)
	assert.NotEqual(t, a, b, "two accounts, two states")
	assert.NotContains(t, a, "secret")
	assert.Equal(t, "rentalot@demo", defaultSyncName(&common{demo: true}, env(""), convo.Rentalot, nil))
}
