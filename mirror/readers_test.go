package mirror

import (
	"context"
	"database/sql"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/convokit/convo"
	"github.com/convokit/convo/convotest"
	"github.com/convokit/convo/internal/fakedata"
)

// walDataset is 10,000 messages (40 conversations of 250), about 8 MB of
// SQLite: the log is checkpointed several times during a sync.
func walDataset() *convotest.Dataset { return fakedata.Volume(40, 250) }

// Readers keep working while a sync writes (WAL): one that holds a read
// transaction from before the sync keeps its snapshot, and one that reads
// after each commit sees exactly what is committed.
func TestSyncWALReaders(t *testing.T) {
	t.Parallel()
	db := openSQLite(t)
	m := mustOpen(t, db, SQLite)
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
