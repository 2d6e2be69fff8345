package main

import (
	"bytes"
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/convokit/convo"
	"github.com/convokit/convo/convotest"
	"github.com/convokit/convo/internal/testproc"
	"github.com/convokit/convo/mirror"
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
	dbs := []mirrorDB{{name: "sqlite", arg: path, driver: "sqlite", dsn: "file:" + path + "?_pragma=busy_timeout(30000)"}}
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

// eachMirrorDB runs f as a subtest for each of mirrorDBs.
func eachMirrorDB(t *testing.T, f func(t *testing.T, mdb mirrorDB)) {
	for _, mdb := range mirrorDBs(t) {
		t.Run(mdb.name, func(t *testing.T) { f(t, mdb) })
	}
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
	// Each row: its id, then its typed columns and its data, joined.
	byID := func(into map[string]string) func([]string) {
		return func(cols []string) {
			last := len(cols) - 1
			into[cols[0]] = strings.Join(append(cols[1:last], canonical(t, []byte(cols[last]))), "|")
		}
	}
	eachRow(t, db, byID(m.Conversations), "SELECT id, coalesce(contact_id, 'NULL'), coalesce(channel, 'NULL'), coalesce(status, 'NULL'), CAST(data AS TEXT) FROM conversations WHERE provider = "+ph, p.Name())
	eachRow(t, db, byID(m.Messages), "SELECT id, conversation_id, coalesce(direction, 'NULL'), coalesce(body, 'NULL'), CAST(data AS TEXT) FROM messages WHERE provider = "+ph, p.Name())
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
	return rowTexts(t, db, "SELECT name, generation, CAST(updated_at AS TEXT), checkpoint FROM convo_syncs ORDER BY name")
}

// Every provider's demo data, mirrored into one database, equals its
// export row for row; a rerun writes nothing.
func TestCLISyncEqualsExport(t *testing.T) {
	if testing.Short() {
		t.Skip("syncs every provider twice through the built command; runs without -short")
	}
	t.Parallel()
	eachMirrorDB(t, func(t *testing.T, mdb mirrorDB) {
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
	stopAndResumeSyncs(t, []convo.Provider{convo.Vobiz, convo.AgentMessage}, 30, func(t *testing.T, cmd *exec.Cmd, wait func() result) { // of 49 or 55
		require.NoError(t, cmd.Process.Signal(syscall.SIGINT))
		r := wait()
		require.Equal(t, 130, r.code, r.stderr)
		assert.Contains(t, r.stderr, "interrupted;")
		assert.Contains(t, r.stderr, "to resume, run the same command again")
	})
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
	stopAndResumeSyncs(t, []convo.Provider{convo.Rentalot, convo.VantaxAI}, 35, func(t *testing.T, cmd *exec.Cmd, wait func() result) { // of 50 or 51
		require.NoError(t, cmd.Process.Kill())
		r := wait()
		require.NotEqual(t, 0, r.code)
	})
}

// stopAndResumeSyncs runs, for each mirror database and each of
// providers, a sync (syncArgs) that stop stops after its nth request
// attempt and checks, and resumes it (resumeStoppedSync) once the server
// has ended its sessions.
func stopAndResumeSyncs(t *testing.T, providers []convo.Provider, n int, stop func(t *testing.T, cmd *exec.Cmd, wait func() result)) {
	for _, mdb := range mirrorDBs(t) {
		for _, p := range providers {
			t.Run(mdb.name+"/"+p.Name(), func(t *testing.T) {
				mdb, app := mdb.named(t)
				args := syncArgs(p, mdb.arg)
				cmd, wait := startExport(t, args, n)
				stop(t, cmd, wait)
				db := mdb.open(t)
				awaitSessionsGone(t, db, app)
				resumeStoppedSync(t, db, p, args)
			})
		}
	}
}

// resumeStoppedSync checks a mirror whose sync was stopped midway (by an
// interruption or a kill): some transactions committed, each consistent
// with the state that covers it; then it runs args again, which completes
// the mirror to exactly the export.
func resumeStoppedSync(t *testing.T, db *sql.DB, p convo.Provider, args []string) {
	t.Helper()
	partial := readMirror(t, db, p)
	want := exported(t, p)
	assert.NotEmpty(t, partial.Messages, "transactions committed before the stop")
	assert.Less(t, len(partial.Messages), len(want.Messages), "the stop came midway")
	assertConsistent(t, db, p, partial)

	r := convoRun(t, nil, args...)
	require.Equal(t, 0, r.code, r.stderr)
	assert.Equal(t, want, readMirror(t, db, p))
}

// An interrupted sync exits 130 with the resume hint, the mirror at the
// end of a transaction; the rerun completes it to exactly the export.
func TestCLISyncInterruptAndResumeInProcess(t *testing.T) {
	t.Parallel()
	for _, mdb := range mirrorDBs(t) {
		for _, p := range []convo.Provider{convo.Vobiz, convo.AgentMessage} {
			t.Run(mdb.name+"/"+p.Name(), func(t *testing.T) {
				args := syncArgs(p, mdb.arg)
				r := runInterrupted(t, []string{"CONVO_DEMO_LATENCY=5ms"}, 30, nil, args...) // of 49 or 55
				require.Equal(t, exitInterrupted, r.code, r.stderr)
				assert.Contains(t, r.stderr, "interrupted;")
				assert.Contains(t, r.stderr, "to resume, run the same command again")
				resumeStoppedSync(t, mdb.open(t), p, args)
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
		top := sharedTempDir(t)
		ro := filepath.Join(top, "ro")
		require.NoError(t, os.Mkdir(ro, 0o555))
		r := runAsUnprivileged(t, top, "sync", "--demo", "--provider", "vantaxai", "--db", filepath.Join(ro, "inbox.db"))
		assert.Equal(t, 2, r.code)
		assert.Contains(t, r.stderr, "cannot create the database: permission denied")
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
		assert.Contains(t, r.stderr, "mysql:// is not a database location convo knows")
		assert.NotContains(t, r.stderr, "hunter2")
	})
	t.Run("unreachable PostgreSQL", func(t *testing.T) {
		r := sync("postgres://app:hunter2@127.0.0.1:1/app?connect_timeout=5")
		assert.Equal(t, 1, r.code)
		assert.Contains(t, r.stderr, "cannot connect to PostgreSQL at postgres://127.0.0.1:1/app:")
		assert.NotContains(t, r.stderr, "hunter2")
		assert.NotContains(t, r.stderr, "//app")
	})
	t.Run("unsupported filter on a new file", func(t *testing.T) {
		path := filepath.Join(dir, "new.db")
		r := convoRun(t, nil, "sync", "--demo", "--provider", "vobiz", "--db", path, "--channel", "sms")
		assert.Equal(t, 2, r.code)
		assert.Contains(t, r.stderr, "vobiz does not document the conversation filter Channel")
		assert.NotContains(t, r.stderr, "mirror:")
		assert.NoFileExists(t, path, "nothing written, not even the file")
		left, err := filepath.Glob(path + "*")
		require.NoError(t, err)
		assert.Empty(t, left, "nor its lock")
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

// Syncs of different providers started together on one new SQLite file
// all succeed: each connection waits for the others' locks (the schema's
// creation, the switch to WAL) instead of failing, and none is taken for
// "not a SQLite database".
func TestCLISyncRacingFirstRuns(t *testing.T) {
	t.Parallel()
	for round := range 3 {
		path := filepath.Join(t.TempDir(), fmt.Sprintf("race%d.db", round))
		results := make(chan result, len(convo.Providers()))
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		for _, p := range convo.Providers() {
			go func() {
				results <- runWith(ctx, "sync", "--demo", "--provider", p.Name(), "--db", path, "--batch-rows", "50")
			}()
		}
		for range convo.Providers() {
			r := <-results
			assert.Equal(t, 0, r.code, "round %d: %s", round, r.stderr)
		}
		db, err := sql.Open("sqlite", "file:"+path+"?_pragma=busy_timeout(30000)")
		require.NoError(t, err)
		var n int
		require.NoError(t, db.QueryRow("SELECT count(DISTINCT provider) FROM conversations").Scan(&n))
		db.Close()
		assert.Equal(t, len(convo.Providers()), n, "round %d: every provider mirrored", round)
	}
}

// runWith runs the command line in this process under ctx, its output not
// a terminal and its environment empty; unlike convoRun it may be called
// from any goroutine.
func runWith(ctx context.Context, args ...string) result { return invocation{}.run(ctx, args...) }

// The same in SQLite: another connection takes the write lock after the
// first transaction, and SQLite's busy wait does not end with the
// context.
func TestCLISyncInterruptWhileSQLiteIsLocked(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "inbox.db")
	db, err := sql.Open("sqlite", "file:"+path+"?_pragma=busy_timeout(30000)")
	require.NoError(t, err)
	defer db.Close()
	var holder *sql.Conn
	defer func() {
		if holder != nil {
			holder.Close()
		}
	}()
	interruptStuckSync(t, db, path, func() {
		holder, err = db.Conn(context.Background())
		require.NoError(t, err)
		_, err = holder.ExecContext(context.Background(), "BEGIN IMMEDIATE")
		require.NoError(t, err)
	}, func() error {
		_, err := holder.ExecContext(context.Background(), "ROLLBACK")
		return err
	})
}

// When the database stops answering mid-sync, an interrupt still ends
// the command within the mirror's bound, with exit 130, and its summary
// claims only what committed transactions stored.
func TestCLISyncInterruptWhileTheDatabaseHangs(t *testing.T) {
	t.Parallel()
	base := os.Getenv("CONVO_TEST_POSTGRES_URL")
	if base == "" {
		mirrorDBs(t) // fails under CI
		return
	}
	var pg mirrorDB
	for _, m := range mirrorDBs(t) {
		if m.name == "postgres" {
			pg = m
		}
	}
	db := pg.open(t)
	u, err := url.Parse(pg.arg)
	require.NoError(t, err)
	proxy := testproc.NewStallProxy(t, u.Host)
	u.Host = proxy.Addr
	interruptStuckSync(t, db, u.String(), proxy.Stall, func() error {
		proxy.Resume()
		return nil
	})
}

// interruptStuckSync runs, in this process, a slow sync into --db dbArg,
// whose database db is; once the sync has committed its first
// transaction it calls stick (the database stops answering), and
// interrupts the sync 300 ms later. The sync must end within the mirror's
// bound, with exit 130, saying that its last write did not complete and
// claiming no more than db holds; unstick lets the database answer again.
func interruptStuckSync(t *testing.T, db *sql.DB, dbArg string, stick func(), unstick func() error) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	done := make(chan result, 1)
	go func() {
		done <- runWith(ctx, "sync", "--demo", "--demo-latency", "20ms", "--provider", "vantaxai", "--db", dbArg,
			"--page-size", "5", "--batch-rows", "10", "--concurrency", "1")
	}()
	awaitState(t, db)
	stick()
	time.Sleep(300 * time.Millisecond)
	cancel()
	stopped := time.Now()
	var r result
	select {
	case r = <-done:
	case <-time.After(15 * time.Second):
		unstick()
		t.Fatal("convo sync had not ended 15 s after the interrupt")
	}
	took := time.Since(stopped)
	require.NoError(t, unstick())
	assert.Less(t, took, mirror.StopGrace+2*time.Second)
	assert.Equal(t, exitInterrupted, r.code, r.stderr)
	assert.NotContains(t, r.stderr, "holds everything delivered")
	assert.Contains(t, r.stderr, "did not complete")
	var stored int
	require.NoError(t, db.QueryRow("SELECT count(*) FROM messages").Scan(&stored))
	assertClaimsAtMost(t, r.stderr, stored)
}

// convo sync writes delivered rows within its second even when the next
// answer is slow: here the server holds every request after the first
// page of messages until the test has seen rows in the database (or for
// 10 s, longer than the test looks).
func TestCLISyncWritesWithinASecondWhileTheNetworkWaits(t *testing.T) {
	t.Parallel()
	gate := make(chan struct{})
	var once sync.Once
	open := func() { once.Do(func() { close(gate) }) }
	defer open()
	srv := convotest.NewServer(convo.VantaxAI, convotest.WithRequestHook(func(r convotest.Request) {
		if r.N >= 3 { // the conversation list and the first message page pass
			select {
			case <-gate:
			case <-time.After(10 * time.Second):
			}
		}
	}))
	defer srv.Close()
	path := filepath.Join(t.TempDir(), "inbox.db")
	done := make(chan result, 1)
	go func() {
		done <- invocation{vars: []string{"VANTAXAI_API_KEY=" + convotest.DemoVantaxAIKey}}.run(context.Background(), "sync", "--provider", "vantaxai", "--base-url", srv.URL(), "--db", path,
			"--concurrency", "1", "--page-size", "5")
	}()
	var seen bool
	for i := 0; i < 160 && !seen; i++ { // 8 s at most
		time.Sleep(50 * time.Millisecond)
		seen = countRows(path, "messages") > 0
	}
	open()
	r := <-done
	require.True(t, seen, "no message in the database within 8 s while the network waited")
	assert.Equal(t, 0, r.code, r.stderr)
}

// countRows counts the rows of table in the SQLite file at path; 0 when
// it cannot be read yet.
func countRows(path, table string) int {
	db, err := sql.Open("sqlite", "file:"+path+"?_pragma=busy_timeout(30000)&mode=ro")
	if err != nil {
		return 0
	}
	defer db.Close()
	var n int
	if db.QueryRow("SELECT count(*) FROM "+table).Scan(&n) != nil {
		return 0
	}
	return n
}

// A second run of a sync that is running fails at once, before any
// request, with the same words for SQLite and PostgreSQL; the first goes
// on undisturbed.
func TestCLISyncSecondRunRefusedAtOnce(t *testing.T) {
	t.Parallel()
	eachMirrorDB(t, func(t *testing.T, mdb mirrorDB) {
		t.Parallel()
		args := []string{"sync", "--demo", "--provider", "rentalot", "--db", mdb.arg, "-v", "--page-size", "5", "--concurrency", "1"}
		ctx, cancel := context.WithCancel(context.Background())
		defer cancel()
		first := make(chan result, 1)
		go func() { first <- runWith(ctx, append(args, "--demo-latency", "60ms")...) }()
		db := mdb.open(t)
		awaitState(t, db)

		start := time.Now()
		r := runWith(context.Background(), args...)
		took := time.Since(start)
		assert.Equal(t, exitFailure, r.code, r.stderr)
		assert.Contains(t, r.stderr, "sync is running elsewhere: another session holds it (")
		if mdb.name == "sqlite" {
			assert.Regexp(t, fmt.Sprintf(`holds it \(process %d on [^ ]+, since [0-9T:-]+Z\)`, os.Getpid()), r.stderr)
		}
		assert.NotContains(t, r.stderr, attemptMark, "no request made")
		assert.Less(t, took, 5*time.Second)
		assert.Equal(t, 1, strings.Count(strings.TrimSpace(r.stderr), "\n")+1, "one line: %s", r.stderr)

		// --reset is refused too, the running sync's state kept.
		r = runWith(context.Background(), append(args, "--reset")...)
		assert.Equal(t, exitFailure, r.code, r.stderr)
		assert.Contains(t, r.stderr, "sync is running elsewhere")
		assert.NotEmpty(t, syncStateOf(t, db), "the state is not reset")

		cancel()
		assert.Equal(t, exitInterrupted, (<-first).code)
	})
}

// awaitState waits until a sync has committed its first transaction into
// db (its state row is there).
func awaitState(t *testing.T, db *sql.DB) {
	t.Helper()
	for range 1000 { // 10 s at most
		var n int
		if db.QueryRow("SELECT count(*) FROM convo_syncs").Scan(&n) == nil && n > 0 {
			return
		}
		time.Sleep(10 * time.Millisecond)
	}
	t.Fatal("no sync state written within 10 s")
}

// kill -9 of a sync leaves no lock behind: the next run of the same sync
// runs (and completes the mirror).
func TestCLISyncKillLeavesNoLock(t *testing.T) {
	if testing.Short() {
		t.Skip("kills a sync of the built command; runs without -short")
	}
	t.Parallel()
	eachMirrorDB(t, func(t *testing.T, mdb mirrorDB) {
		t.Parallel()
		mdb, app := mdb.named(t)
		args := []string{"sync", "--demo", "--provider", "vantaxai", "--db", mdb.arg, "--page-size", "5", "--concurrency", "1"}
		cmd, wait := startCmd(t, []string{"CONVO_DEMO_LATENCY=60ms"}, args, nil)
		db := mdb.open(t)
		awaitState(t, db)
		require.NoError(t, cmd.Process.Signal(syscall.SIGKILL))
		r := wait()
		require.Equal(t, -1, r.code, "killed")
		awaitSessionsGone(t, db, app)

		r = convoRun(t, nil, args...)
		require.Equal(t, 0, r.code, r.stderr)
		assert.Equal(t, exported(t, convo.VantaxAI), readMirror(t, db, convo.VantaxAI))
	})
}

// A permission problem is named as one, never as "not a SQLite
// database", which is said only of a file that is not one: a mirror in a
// directory the user cannot write (SQLite cannot make its -wal and -shm
// files there), and the errors SQLite gives for each.
func TestCLISyncSQLitePermissionWords(t *testing.T) {
	t.Parallel()
	t.Run("read-only directory", func(t *testing.T) {
		t.Parallel()
		dir := sharedTempDir(t)
		ro := filepath.Join(dir, "ro")
		require.NoError(t, os.Mkdir(ro, 0o755))
		path := filepath.Join(ro, "inbox.db")
		r := convoRun(t, nil, "sync", "--demo", "--provider", "vobiz", "--db", path)
		require.Equal(t, 0, r.code, r.stderr)
		entries, err := os.ReadDir(ro)
		require.NoError(t, err)
		for _, e := range entries {
			require.NoError(t, os.Chmod(filepath.Join(ro, e.Name()), 0o666))
		}
		require.NoError(t, os.Chmod(ro, 0o555))
		r = runAsUnprivileged(t, dir, "sync", "--demo", "--provider", "vobiz", "--db", path)
		assert.Equal(t, exitUsage, r.code, r.stderr)
		assert.Contains(t, r.stderr, "permission denied")
		assert.NotContains(t, r.stderr, "not a SQLite database")
	})
	t.Run("errors of SQLite", func(t *testing.T) {
		t.Parallel()
		dir := t.TempDir()
		notes := filepath.Join(dir, "notes.txt")
		require.NoError(t, os.WriteFile(notes, []byte("dear diary, this is not a database at all\n"), 0o644))
		mirrorPath := filepath.Join(dir, "inbox.db")
		require.Equal(t, 0, convoRun(t, nil, "sync", "--demo", "--provider", "vobiz", "--db", mirrorPath).code)
		sqliteErr := func(dsn, query string) error {
			db, err := sql.Open("sqlite", dsn)
			require.NoError(t, err)
			defer db.Close()
			_, err = db.Exec(query)
			require.Error(t, err)
			return err
		}
		for _, c := range []struct {
			name string
			err  error
			want string
		}{
			{"not a database", sqliteErr("file:"+notes, "SELECT count(*) FROM sqlite_master"), "not a SQLite database"},
			{"read-only", sqliteErr("file:"+mirrorPath+"?mode=ro", "CREATE TABLE t (x)"), "permission denied"},
			{"cannot open", sqliteErr("file:"+filepath.Join(dir, "missing", "x.db")+"?mode=ro", "SELECT 1 FROM sqlite_master"), "permission denied"},
		} {
			msg := sqliteOpenError("x.db", c.err).Error()
			assert.Contains(t, msg, c.want, c.name)
			if c.want != "not a SQLite database" {
				assert.NotContains(t, msg, "not a SQLite database", c.name)
			}
		}
	})
}

// sharedTempDir returns a new directory that every user may enter (as
// runAsUnprivileged's user must), removed with the test, whatever its
// subdirectories' permissions: under the temporary directory, or under
// /tmp when that one is not open to all (a TMPDIR of mode 0700).
func sharedTempDir(t *testing.T) string {
	t.Helper()
	base := os.TempDir()
	if st, err := os.Stat(base); os.Geteuid() == 0 && (err != nil || st.Mode().Perm()&0o001 == 0) {
		base = "/tmp"
	}
	dir, err := os.MkdirTemp(base, "convo-perm")
	require.NoError(t, err)
	require.NoError(t, os.Chmod(dir, 0o755))
	t.Cleanup(func() {
		filepath.WalkDir(dir, func(p string, d os.DirEntry, err error) error {
			if err == nil && d.IsDir() {
				os.Chmod(p, 0o755)
			}
			return nil
		})
		os.RemoveAll(dir)
	})
	return dir
}

// runAsUnprivileged runs the command in a process of its own as a user
// whom file permissions bind: this one, or, for root (whom they do not),
// nobody, from a copy of the test binary in dir (which must be readable
// by all).
func runAsUnprivileged(t *testing.T, dir string, args ...string) result {
	t.Helper()
	if os.Geteuid() != 0 {
		return convoExec(t, nil, args...)
	}
	exe, err := os.Executable()
	require.NoError(t, err)
	b, err := os.ReadFile(exe)
	require.NoError(t, err)
	copyPath := filepath.Join(dir, "convo")
	require.NoError(t, os.WriteFile(copyPath, b, 0o755))
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, copyPath, args...)
	cmd.Env = cleanEnv("HOME=" + dir)
	cmd.Dir = dir
	asNobody(cmd)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err = cmd.Run()
	require.NoError(t, ctx.Err())
	var ee *exec.ExitError
	if err != nil {
		require.ErrorAs(t, err, &ee, "as nobody: %v", err)
	}
	return result{code: cmd.ProcessState.ExitCode(), stdout: stdout.String(), stderr: stderr.String()}
}

// storedClaim matches the messages an interrupted sync says it stored.
var storedClaim = regexp.MustCompile(`did not complete .*; \d+ conversations and (\d+) messages inserted, \d+ conversations and \d+ messages changed in place by this run are stored`)

// assertClaimsAtMost checks that an interrupted sync whose last write did
// not complete claims no more stored messages than the database holds
// (it may hold more: a COMMIT whose answer was lost on the way back).
func assertClaimsAtMost(t *testing.T, stderr string, stored int) {
	t.Helper()
	m := storedClaim.FindStringSubmatch(stderr)
	require.Len(t, m, 2, "the summary names what is stored: %s", stderr)
	claimed, err := strconv.Atoi(m[1])
	require.NoError(t, err)
	assert.LessOrEqual(t, claimed, stored, "the summary claims no message the database does not hold")
}

// kill -9 during a refresh, then a rerun: the mirror equals a full sync of
// the changed data, row for row.
func TestCLISyncKillDuringRefresh(t *testing.T) {
	if testing.Short() {
		t.Skip("kills and resumes a refresh of the built command; runs without -short")
	}
	t.Parallel()
	for _, mdb := range mirrorDBs(t) {
		for _, p := range []convo.Provider{convo.Vobiz, convo.AgentMessage} {
			t.Run(mdb.name+"/"+p.Name(), func(t *testing.T) {
				srv, env := fakeOf(t, p, convotest.WithLatency(20*time.Millisecond))
				mdb, app := mdb.named(t)
				args := []string{"sync", "--provider", p.Name(), "--base-url", srv.URL(), "--db", mdb.arg, "--page-size", "10", "--batch-rows", "15",
					"--name", "refresh-" + p.Name(), "--recheck", "3650d"}
				r := convoRun(t, env, args...)
				require.Equal(t, 0, r.code, r.stderr)

				changeRecords(t, srv)
				truth := filepath.Join(t.TempDir(), "truth.db")
				r = convoRun(t, env, "sync", "--provider", p.Name(), "--base-url", srv.URL(), "--db", truth)
				require.Equal(t, 0, r.code, r.stderr)
				want := readMirror(t, mirrorDB{driver: "sqlite", dsn: "file:" + truth}.open(t), p)

				refresh := append(args, "--refresh", "0", "-v")
				seen := 0
				cmd, wait := startCmd(t, env, refresh, func(line string) bool {
					if strings.Contains(line, "msg=attempt") {
						seen++
					}
					return seen >= 6
				})
				require.NoError(t, cmd.Process.Kill())
				r = wait()
				require.NotEqual(t, 0, r.code)
				require.Contains(t, r.stderr, "this run refreshes", "the kill came during the refresh")
				db := mdb.open(t)
				awaitSessionsGone(t, db, app)
				assert.NotEqual(t, want, readMirror(t, db, p), "the kill came before the refresh completed")

				r = convoRun(t, env, refresh...)
				require.Equal(t, 0, r.code, r.stderr)
				assert.Equal(t, want, readMirror(t, db, p))
			})
		}
	}
}

// -v says when a run refreshes; the summary counts the rows changed in
// place; the rows are the truth after it.
func TestCLISyncRefreshVerboseAndSummary(t *testing.T) {
	t.Parallel()
	for _, p := range []convo.Provider{convo.VantaxAI, convo.AgentMessage} {
		t.Run(p.Name(), func(t *testing.T) {
			t.Parallel()
			srv, env := fakeOf(t, p)
			path := filepath.Join(t.TempDir(), "inbox.db")
			args := []string{"sync", "--provider", p.Name(), "--base-url", srv.URL(), "--db", path, "--recheck", "3650d", "-v"}
			r := runTTY(t, env, args...)
			require.Equal(t, 0, r.code, r.stderr)
			assert.NotContains(t, r.stderr, "refreshes", "a full sync is no refresh")

			r = runTTY(t, env, args...)
			require.Equal(t, 0, r.code, r.stderr)
			assert.NotContains(t, r.stderr, "refreshes", "the last refresh (the full sync) is not an hour old")
			assert.Contains(t, r.stderr, "0 conversations and 0 messages inserted, 0 conversations and 0 messages changed in place by this run")

			convs, msgs, _ := changeRecords(t, srv)
			r = runTTY(t, env, append(args, "--refresh", "0")...)
			require.Equal(t, 0, r.code, r.stderr)
			assert.Regexp(t, `convo: this run refreshes \(last at 20\d\d-[0-9-]+T[0-9:]+Z\): it reads the whole conversation list again, and rechecks the messages sent within 87600h0m0s\n`, r.stderr)
			assert.Contains(t, r.stderr, fmt.Sprintf("0 conversations and 0 messages inserted, %d conversations and %d messages changed in place by this run", len(convs), len(msgs)))

			truth := filepath.Join(t.TempDir(), "truth.db")
			r = convoRun(t, env, "sync", "--provider", p.Name(), "--base-url", srv.URL(), "--db", truth)
			require.Equal(t, 0, r.code, r.stderr)
			assert.Equal(t, readMirror(t, mirrorDB{driver: "sqlite", dsn: "file:" + truth}.open(t), p),
				readMirror(t, mirrorDB{driver: "sqlite", dsn: "file:" + path}.open(t), p))
		})
	}
}

// --retention removes from the mirror the bodies of exactly the messages
// sent longer ago than it, and says how many in the summary.
func TestCLISyncRetention(t *testing.T) {
	t.Parallel()
	now := time.Now().UTC()
	d := convotest.NewDataset()
	var msgs []convo.Message
	for i := 10; i >= 1; i-- { // 10 to 1 days old, less an hour
		msgs = append(msgs, convo.Message{ID: fmt.Sprintf("m%02d", i), Direction: convo.Inbound, Body: "hello", SentAt: now.Add(-time.Duration(i)*24*time.Hour + time.Hour)})
	}
	d.AddConversation(convo.Conversation{ID: "c1", ContactID: "ct_1", Channel: "sms", Status: "open", LastMessageAt: msgs[9].SentAt}, msgs...)
	srv := convotest.NewServer(convo.VantaxAI, convotest.WithData(d))
	defer srv.Close()
	env := demoKeys(convo.VantaxAI)
	path := filepath.Join(t.TempDir(), "inbox.db")
	args := []string{"sync", "--provider", "vantaxai", "--base-url", srv.URL(), "--db", path}
	r := runTTY(t, env, append(args, "--retention", "7d")...)
	require.Equal(t, 0, r.code, r.stderr)
	bodies := func() []string {
		db := mirrorDB{driver: "sqlite", dsn: "file:" + path}.open(t)
		return rowTexts(t, db, "SELECT id, coalesce(body, 'NULL'), (redacted_at IS NOT NULL) FROM messages ORDER BY id")
	}
	want := func(days int) []string {
		var out []string
		for i := 1; i <= 10; i++ {
			if i > days {
				out = append(out, fmt.Sprintf("m%02d NULL 1", i))
			} else {
				out = append(out, fmt.Sprintf("m%02d hello 0", i))
			}
		}
		return out
	}
	assert.Equal(t, want(7), bodies())
	r = runTTY(t, env, append(args, "--retention", "3d")...)
	require.Equal(t, 0, r.code, r.stderr)
	assert.Equal(t, want(3), bodies())
	assert.Contains(t, r.stderr, ", 4 message bodies removed for --retention by this run")
	r = runTTY(t, env, args...)
	require.Equal(t, 0, r.code, r.stderr)
	assert.Equal(t, want(3), bodies(), "without --retention, removed bodies stay removed")
}

// --reset on an existing mirror forgets the sync's state: the run is a
// full sync again (as many requests as the first), where a plain rerun is
// incremental (fewer).
func TestCLISyncResetOnAnExistingDatabase(t *testing.T) {
	t.Parallel()
	eachMirrorDB(t, func(t *testing.T, mdb mirrorDB) {
		t.Parallel()
		args := []string{"sync", "--demo", "--provider", "vantaxai", "--db", mdb.arg, "-v"}
		attempts := func(extra ...string) int {
			r := convoRun(t, nil, append(args, extra...)...)
			require.Equal(t, 0, r.code, r.stderr)
			return strings.Count(r.stderr, attemptMark)
		}
		full := attempts()
		incremental := attempts()
		require.Less(t, incremental, full, "a rerun is incremental")
		assert.Equal(t, full, attempts("--reset"), "--reset makes the run a full sync")
		assert.Equal(t, incremental, attempts(), "and the next is incremental again")
	})
}

// Entering WAL mode while another connection writes the file (a racing
// first run of another sync creating the schema) waits for the writer
// instead of failing with SQLITE_BUSY: SQLite's busy timeout does not
// cover this lock.
func TestSetWALWaitsForAWriter(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "new.db")
	dsn := sqliteDSN(path)
	db, err := sql.Open("sqlite", dsn)
	require.NoError(t, err)
	defer db.Close()
	_, err = db.Exec("CREATE TABLE t (x INTEGER)")
	require.NoError(t, err)

	other, err := sql.Open("sqlite", dsn)
	require.NoError(t, err)
	defer other.Close()
	writer, err := other.Conn(context.Background())
	require.NoError(t, err)
	defer writer.Close()
	// The other run's schema transaction: it holds the write lock, and
	// SQLite refuses at once (no busy wait: it would be a deadlock) a
	// reader that asks for the exclusive lock WAL needs.
	_, err = writer.ExecContext(context.Background(), "BEGIN IMMEDIATE")
	require.NoError(t, err)
	_, err = writer.ExecContext(context.Background(), "INSERT INTO t VALUES (1)")
	require.NoError(t, err)
	released := make(chan struct{})
	go func() {
		time.Sleep(300 * time.Millisecond)
		writer.ExecContext(context.Background(), "COMMIT")
		close(released)
	}()

	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	require.NoError(t, setWAL(ctx, db))
	<-released
	var mode string
	require.NoError(t, db.QueryRow("PRAGMA journal_mode").Scan(&mode))
	assert.Equal(t, "wal", mode)
}
