package main

import (
	"context"
	"database/sql"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

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
