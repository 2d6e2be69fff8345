package mirror

import (
	"context"
	"database/sql"
	"strconv"
	"strings"
	"sync/atomic"
	"time"
)

// walCheckpointer copies a SQLite database's write-ahead log into the
// database file from a connection of its own, while the sync writes
// through another, so that the writes never wait for a checkpoint (its
// copying and its two fsyncs). SQLite would otherwise checkpoint in the
// COMMIT of the writing connection each time the log passes 1,000 pages.
//
// A checkpoint that runs beside the writer never catches up with the last
// commit, and SQLite starts the log over only when everything in it is
// copied; so when the log has grown past walMaxFrames, the writer waits,
// before its next transaction, for a checkpoint that began after its last
// commit (at most walWait), and then starts the log over.
type walCheckpointer struct {
	writer    *sql.Conn
	conn      *sql.Conn
	autoPages int64 // the writer's wal_autocheckpoint, restored at the end
	maxFrames int64

	commits atomic.Int64 // commits of the writer so far
	covered atomic.Int64 // commits covered by the last checkpoint run
	frames  atomic.Int64 // frames in the log at the last checkpoint run

	kick chan struct{} // a commit to checkpoint
	ran  chan struct{} // a checkpoint ran
	stop context.CancelFunc
	done chan struct{}
}

// walMaxFrames is the size of the log (in pages: 32 MiB of 4 KiB pages)
// past which the writer waits for the checkpointer to catch up. walWait
// bounds that wait: a reader holding an old snapshot keeps a checkpoint
// from copying everything, and the writer then goes on.
const (
	walMaxFrames = 8192
	walWait      = 2 * time.Second
)

// walConnWait is how long a sync waits for the checkpointer's connection
// (from a pool whose connections are all taken) before it checkpoints in
// its own commits, as SQLite does by default.
const walConnWait = time.Second

// startWALCheckpointer starts checkpointing from a second connection of db
// when writer's database is in WAL mode and db has a connection to spare;
// otherwise it returns nil and SQLite checkpoints in writer's commits.
func startWALCheckpointer(ctx context.Context, db *sql.DB, writer *sql.Conn, maxFrames int64) *walCheckpointer {
	if db.Stats().MaxOpenConnections == 1 {
		return nil
	}
	var mode string
	var auto int64
	if writer.QueryRowContext(ctx, "PRAGMA journal_mode").Scan(&mode) != nil || !strings.EqualFold(mode, "wal") ||
		writer.QueryRowContext(ctx, "PRAGMA wal_autocheckpoint").Scan(&auto) != nil || auto <= 0 {
		return nil
	}
	cctx, cancel := context.WithTimeout(ctx, walConnWait)
	conn, err := db.Conn(cctx)
	cancel()
	if err != nil {
		return nil
	}
	if _, err := writer.ExecContext(ctx, "PRAGMA wal_autocheckpoint = 0"); err != nil {
		conn.Close()
		return nil
	}
	lctx, stop := context.WithCancel(context.WithoutCancel(ctx))
	c := &walCheckpointer{
		writer: writer, conn: conn, autoPages: auto, maxFrames: maxFrames,
		kick: make(chan struct{}, 1), ran: make(chan struct{}, 1), stop: stop, done: make(chan struct{}),
	}
	go c.loop(lctx)
	return c
}

// loop checkpoints after each commit it is told of, until stopped.
func (c *walCheckpointer) loop(ctx context.Context) {
	defer close(c.done)
	for {
		select {
		case <-ctx.Done():
			return
		case <-c.kick:
		}
		c.checkpoint(ctx)
	}
}

// checkpoint runs one PASSIVE checkpoint, which copies what it can
// without waiting for the writer or for readers, and records what it saw.
func (c *walCheckpointer) checkpoint(ctx context.Context) {
	n := c.commits.Load()
	var busy, frames, copied int64
	if c.conn.QueryRowContext(ctx, "PRAGMA wal_checkpoint(PASSIVE)").Scan(&busy, &frames, &copied) != nil {
		frames = 0
	}
	c.frames.Store(frames)
	c.covered.Store(n)
	select {
	case c.ran <- struct{}{}:
	default:
	}
}

// committed tells the checkpointer of a commit of the writer.
func (c *walCheckpointer) committed() {
	if c == nil {
		return
	}
	c.commits.Add(1)
	select {
	case c.kick <- struct{}{}:
	default:
	}
}

// beforeWrite makes the writer wait, when the log has grown past
// maxFrames, until a checkpoint has covered its last commit, so that its
// next transaction starts the log over.
func (c *walCheckpointer) beforeWrite(ctx context.Context) {
	if c == nil || c.frames.Load() < c.maxFrames {
		return
	}
	timeout := time.NewTimer(walWait)
	defer timeout.Stop()
	for c.covered.Load() < c.commits.Load() {
		select {
		case <-c.ran:
		case <-timeout.C:
			return
		case <-ctx.Done():
			return
		}
	}
	c.frames.Store(0)
}

// close stops the checkpointer after a last checkpoint of everything
// committed, and gives the writer its automatic checkpoints back.
func (c *walCheckpointer) close(ctx context.Context) {
	if c == nil {
		return
	}
	c.stop()
	<-c.done
	ctx = context.WithoutCancel(ctx)
	c.conn.ExecContext(ctx, "PRAGMA wal_checkpoint(PASSIVE)")
	c.conn.Close()
	c.writer.ExecContext(ctx, "PRAGMA wal_autocheckpoint = "+strconv.FormatInt(c.autoPages, 10))
}
