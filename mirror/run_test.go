package mirror

import (
	"context"
	"database/sql"
	"errors"
	"net/url"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/convokit/convo"
	"github.com/convokit/convo/convotest"
	"github.com/convokit/convo/internal/testproc"
)

// The state-only flush at the end of a sync (the checkpoint marked done,
// no rows left to write) is written: with FlushRows 1 every row is
// written as it comes, so the last transaction holds only the state, and
// the next run must find the sync done (an incremental run).
func TestFinalStateOnlyFlushWritten(t *testing.T) {
	t.Parallel()
	eachBackend(t, func(t *testing.T, b backend) {
		t.Parallel()
		_, client, _, m := mirrorOf(t, b, convo.VantaxAI)
		st, err := m.Sync(ctxT(t), client, &Options{FlushRows: 1})
		require.NoError(t, err)
		require.True(t, st.Done)
		cp, ok, err := m.State(ctxT(t), "vantaxai")
		require.NoError(t, err)
		require.True(t, ok)
		assert.True(t, cp.Done(), "the stored state is done")
	})
}

// Open and the start of Sync (its setup, lock and state read) are
// bounded like the writes: SQLite's wait for another connection's lock
// does not end with ctx, so Open stops waiting a second after ctx ends,
// and Sync within StopGrace and a second. Once the lock is free, what they
// abandoned is rolled back and released: the next Open and the next run of
// the same sync succeed.
func TestOpenAndSyncStartReturnWhenTheDatabaseHangs(t *testing.T) {
	t.Parallel()
	// hold takes the lock of the database at path that the step needs
	// (BEGIN IMMEDIATE: the write lock, which Open's migration takes;
	// BEGIN EXCLUSIVE without WAL: every lock, which a read needs too) and
	// returns its release.
	hold := func(t *testing.T, db *sql.DB, begin string) func() {
		c, err := db.Conn(ctxT(t))
		require.NoError(t, err)
		_, err = c.ExecContext(ctxT(t), begin)
		require.NoError(t, err)
		return func() {
			_, err := c.ExecContext(context.Background(), "ROLLBACK")
			assert.NoError(t, err)
			c.Close()
		}
	}
	shortly := func(t *testing.T) context.Context {
		ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
		t.Cleanup(cancel)
		return ctx
	}
	t.Run("open", func(t *testing.T) {
		t.Parallel()
		path := t.TempDir() + "/mirror.db"
		db := openSQLitePath(t, path)
		release := hold(t, openSQLitePath(t, path), "BEGIN IMMEDIATE")
		start := time.Now()
		m, err := Open(shortly(t), db, SQLite)
		elapsed := time.Since(start)
		release()
		assert.Nil(t, m)
		assert.ErrorIs(t, err, context.DeadlineExceeded)
		assert.Less(t, elapsed, 200*time.Millisecond+2*time.Second, "Open returned %s after it began", elapsed)
		mustOpen(t, db, SQLite)
	})
	t.Run("sync", func(t *testing.T) {
		t.Parallel()
		path := t.TempDir() + "/mirror.db"
		open := func() *sql.DB {
			db, err := sql.Open("sqlite", "file:"+path+"?_pragma=busy_timeout(30000)") // no WAL: a write lock keeps readers out
			require.NoError(t, err)
			t.Cleanup(func() { db.Close() })
			return db
		}
		m := mustOpen(t, open(), SQLite)
		_, client := newServer(t, convo.AgentMessage)
		release := hold(t, open(), "BEGIN EXCLUSIVE")
		start := time.Now()
		st, err := m.Sync(shortly(t), client, nil)
		elapsed := time.Since(start)
		release()
		assert.ErrorIs(t, err, context.DeadlineExceeded)
		assert.Less(t, elapsed, 200*time.Millisecond+StopGrace+2*time.Second, "Sync returned %s after it began", elapsed)
		assert.Zero(t, st.Delivered)
		require.Eventually(t, func() bool {
			st, err = m.Sync(ctxT(t), client, nil)
			return !errors.Is(err, ErrBusy)
		}, 10*time.Second, 20*time.Millisecond, "the abandoned start releases the sync's lock")
		require.NoError(t, err)
		assert.True(t, st.Done)
	})
}

// When ctx ends while the database does not answer (SQLite: another
// connection holds the write lock; PostgreSQL: the network to the server
// stops forwarding), Sync returns within StopGrace and a second, having
// abandoned the write, and its Stats claim no row the database does not
// hold.
func TestSyncReturnsWhenTheDatabaseHangs(t *testing.T) {
	t.Parallel()
	t.Run("sqlite", func(t *testing.T) {
		t.Parallel()
		path := t.TempDir() + "/mirror.db"
		db := openSQLitePath(t, path)
		m := mustOpen(t, db, SQLite)
		holder := openSQLitePath(t, path)
		hc, err := holder.Conn(ctxT(t))
		require.NoError(t, err)
		defer hc.Close()
		_, err = hc.ExecContext(ctxT(t), "BEGIN IMMEDIATE")
		require.NoError(t, err)
		defer hc.ExecContext(context.Background(), "ROLLBACK")

		delivered := make(chan struct{})
		var once sync.Once
		_, client := newServer(t, convo.Vobiz, convotest.WithRequestHook(func(r convotest.Request) {
			if r.N == 4 { // three answers delivered
				once.Do(func() { close(delivered) })
			}
		}))
		st, elapsed, err := syncUntilCancelled(t, m, client, func(Stats) {}, delivered)
		hc.ExecContext(context.Background(), "ROLLBACK")
		require.Error(t, err)
		assert.Less(t, elapsed, StopGrace+2*time.Second, "Sync returned %s after ctx ended", elapsed)
		assert.ErrorIs(t, err, context.Canceled)
		assert.Zero(t, st.Transactions)
		assert.Zero(t, st.Messages)
		assert.Positive(t, st.Unwritten, "the delivered messages are reported unwritten")
		assert.Equal(t, 0, count(t, db, "messages"))
	})
	t.Run("postgres", func(t *testing.T) {
		t.Parallel()
		base := postgresURL(t)
		if base == "" {
			return
		}
		db := openPostgres(t) // a schema of its own
		mustOpen(t, db, PostgreSQL)
		u, err := url.Parse(base)
		require.NoError(t, err)
		p := testproc.NewStallProxy(t, u.Host)
		m := mustOpen(t, openSchema(t, queryString(t, db, "SELECT current_schema()"), p.Addr), PostgreSQL)

		_, client := newServer(t, convo.Vobiz, convotest.WithLatency(time.Millisecond))
		stalled := make(chan struct{})
		st, elapsed, err := syncUntilCancelled(t, m, client, func(s Stats) {
			if s.Transactions == 1 {
				p.Stall()
				close(stalled)
			}
		}, stalled)
		p.Resume()
		require.Error(t, err)
		assert.Less(t, elapsed, StopGrace+2*time.Second, "Sync returned %s after ctx ended", elapsed)
		assert.ErrorIs(t, err, context.Canceled)
		assert.Equal(t, 1, st.Transactions)
		assert.Positive(t, st.Unwritten)
		// The abandoned transaction never committed: another session sees
		// exactly the rows of the committed one.
		var n int64
		require.NoError(t, db.QueryRow("SELECT count(*) FROM messages").Scan(&n))
		assert.Equal(t, st.Messages, n, "Stats.Messages is what the database holds")
	})
}

// syncUntilCancelled runs a sync (FlushRows 20) whose ctx is cancelled
// 300 ms after trigger is closed, and returns its result and how long
// after the cancellation it returned (failing the test if Sync has not
// returned 15 s after it started).
func syncUntilCancelled(t *testing.T, m *Mirror, client *convo.Client, progress func(Stats), trigger <-chan struct{}) (Stats, time.Duration, error) {
	t.Helper()
	ctx, cancel := context.WithCancel(ctxT(t))
	defer cancel()
	var cancelled atomic.Int64 // unix nanoseconds
	go func() {
		select {
		case <-trigger:
		case <-ctx.Done():
			return
		}
		time.Sleep(300 * time.Millisecond)
		cancelled.Store(time.Now().UnixNano())
		cancel()
	}()
	type result struct {
		st  Stats
		err error
	}
	done := make(chan result, 1)
	go func() {
		st, err := m.Sync(ctx, client, &Options{FlushRows: 20, Params: convo.SyncParams{MessagePageSize: 10, Concurrency: 1}, Progress: progress})
		done <- result{st, err}
	}()
	select {
	case r := <-done:
		return r.st, time.Since(time.Unix(0, cancelled.Load())), r.err
	case <-time.After(15 * time.Second):
		t.Fatal("Sync had not returned 15 s after it started")
	}
	return Stats{}, 0, errors.New("unreachable")
}
