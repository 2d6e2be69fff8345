package mirror

import (
	"context"
	"database/sql"
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/convokit/convo"
	"github.com/convokit/convo/convotest"
)

// walDataset is 10,000 messages (40 conversations of 250), about 8 MB of
// SQLite: more than SQLite's own checkpoints let the log grow to.
func walDataset() *convotest.Dataset {
	d := convotest.NewDataset()
	start := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	for c := range 40 {
		msgs := make([]convo.Message, 250)
		for i := range msgs {
			msgs[i] = convo.Message{
				ID: fmt.Sprintf("msg_%03d_%03d", c, i), Direction: convo.Inbound, SentAt: start.Add(time.Duration(c*250+i) * time.Second),
				Body: fmt.Sprintf("message %d of conversation %d, long enough to fill the pages of a log that must stay small", i, c),
			}
		}
		d.AddConversation(convo.Conversation{ID: fmt.Sprintf("conv_%03d", c), ContactID: fmt.Sprintf("+1555%07d", c), LastMessageAt: msgs[len(msgs)-1].SentAt}, msgs...)
	}
	return d
}

// In WAL mode a sync checkpoints from a second connection, and the log
// stays near its bound (not the size of the data) however many
// transactions the sync writes; at the end everything is in the database
// file.
func TestSyncCheckpointsWALBeside(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "mirror.db")
	db := openSQLitePath(t, path)
	m := mustOpen(t, db, SQLite)
	m.walMaxFrames = 1 // the writer waits for the checkpoint of each transaction
	_, client := newServer(t, convo.AgentMessage, convotest.WithData(walDataset()))
	st, err := m.Sync(ctxT(t), client, &Options{FlushRows: 500})
	require.NoError(t, err)
	assert.Equal(t, int64(10_000), st.Messages)
	assert.Greater(t, st.Transactions, 15)
	assert.Equal(t, expected(t, client, nil), takeSnapshot(t, db, SQLite))

	db.SetMaxOpenConns(1) // what follows reads the file as the sync left it
	main, err := os.Stat(path)
	require.NoError(t, err)
	wal, err := os.Stat(path + "-wal")
	require.NoError(t, err)
	assert.Greater(t, main.Size(), int64(5<<20), "the data is in the database file")
	t.Logf("log %d bytes", wal.Size())
	assert.Less(t, wal.Size(), int64(2<<20), "the log starts over after each transaction (SQLite alone lets it reach 1,000 pages)")
	var busy, frames, copied int
	require.NoError(t, db.QueryRow("PRAGMA wal_checkpoint(PASSIVE)").Scan(&busy, &frames, &copied))
	assert.Equal(t, frames, copied, "the last checkpoint copied every frame of the log")
	var auto int
	require.NoError(t, db.QueryRow("PRAGMA wal_autocheckpoint").Scan(&auto))
	assert.Equal(t, 1000, auto, "the writing connection has its automatic checkpoints back")
}

// A pool with no connection to spare for checkpoints (one connection in
// all, or the others taken) syncs as well, SQLite checkpointing in the
// writer's commits.
func TestSyncWALNoSpareConnection(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name  string
		setup func(t *testing.T, db *sql.DB)
	}{
		{"one connection", func(t *testing.T, db *sql.DB) { db.SetMaxOpenConns(1) }},
		{"others taken", func(t *testing.T, db *sql.DB) {
			db.SetMaxOpenConns(2)
			conn, err := db.Conn(ctxT(t))
			require.NoError(t, err)
			t.Cleanup(func() { conn.Close() })
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			db := openSQLite(t)
			m := mustOpen(t, db, SQLite)
			tc.setup(t, db)
			_, client := newServer(t, convo.Vobiz)
			ctx, cancel := context.WithTimeout(ctxT(t), 30*time.Second)
			defer cancel()
			_, err := m.Sync(ctx, client, &Options{FlushRows: 50})
			require.NoError(t, err)
			assert.Equal(t, expected(t, client, nil), takeSnapshot(t, db, SQLite))
		})
	}
}

// Readers keep working while a sync writes: one that holds a read
// transaction from before the sync keeps its snapshot, and one that reads
// after each commit sees exactly what is committed.
func TestSyncWALReaders(t *testing.T) {
	t.Parallel()
	db := openSQLite(t)
	m := mustOpen(t, db, SQLite)
	m.walMaxFrames = 1
	ctx := ctxT(t)
	old, err := db.Conn(ctx)
	require.NoError(t, err)
	defer old.Close()
	_, err = old.ExecContext(ctx, "BEGIN")
	require.NoError(t, err)
	n := func(q interface {
		QueryRowContext(context.Context, string, ...any) *sql.Row
	}) int64 {
		var n int64
		require.NoError(t, q.QueryRowContext(ctx, "SELECT count(*) FROM messages").Scan(&n))
		return n
	}
	require.Equal(t, int64(0), n(old))

	_, client := newServer(t, convo.AgentMessage, convotest.WithData(walDataset()))
	var seen []int64
	st, err := m.Sync(ctx, client, &Options{FlushRows: 500, Progress: func(s Stats) {
		assert.Equal(t, s.Messages, n(db), "a new reader sees every committed row")
		assert.Equal(t, int64(0), n(old), "an old reader keeps its snapshot")
		seen = append(seen, s.Messages)
	}})
	require.NoError(t, err)
	assert.Equal(t, int64(10_000), st.Messages)
	assert.Greater(t, len(seen), 15)
	_, err = old.ExecContext(ctx, "COMMIT")
	require.NoError(t, err)
	assert.Equal(t, int64(10_000), n(old))
}
