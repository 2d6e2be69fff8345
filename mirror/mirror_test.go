package mirror

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"os"
	"regexp"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/convokit/convo"
	"github.com/convokit/convo/convotest"
	"github.com/convokit/convo/internal/fakedata"
)

// A full sync mirrors exactly what Client.Sync delivers, typed columns and
// model JSON, for every provider and both databases.
func TestSyncMirrorsEverything(t *testing.T) {
	t.Parallel()
	forEach(t, func(t *testing.T, b backend, p convo.Provider) {
		srv, client, db, m := mirrorOf(t, b, p)
		st, err := m.Sync(ctxT(t), client, &Options{FlushRows: 50})
		require.NoError(t, err)
		want := expected(t, client, nil)
		got := takeSnapshot(t, db, b.dialect)
		assert.Equal(t, want, got)
		data := srv.Dataset()
		assert.Len(t, got.Conversations, len(data.Conversations))
		assert.Len(t, got.Messages, data.MessageCount())
		assert.Equal(t, int64(len(got.Conversations)), st.Conversations)
		assert.Equal(t, int64(len(got.Messages)), st.Messages)
		assert.Equal(t, int64(len(got.Messages)), st.Delivered)
		assert.True(t, st.Done)
		assert.Greater(t, st.Transactions, 2, "FlushRows 50 splits the sync into several transactions")
		cp, ok, err := m.State(ctxT(t), DefaultName(p, nil))
		require.NoError(t, err)
		require.True(t, ok)
		assert.True(t, cp.Done())
	})
}

// A rerun after a complete sync is incremental: with nothing new and no
// refresh due it makes at most the requests API.md allows and writes
// nothing — no row, and not the state either; nor does a Vobiz run, which
// refreshes every time, when it finds nothing changed.
func TestRerunWritesNothing(t *testing.T) {
	t.Parallel()
	forEach(t, func(t *testing.T, b backend, p convo.Provider) {
		srv, client, db, m := syncedMirrorOf(t, b, p)
		before := takeSnapshot(t, db, b.dialect)
		convAt, msgAt := mirroredAt(t, db, b.dialect, "conversations"), mirroredAt(t, db, b.dialect, "messages")
		state, ok := readState(t, db, b.dialect, p.Name())
		require.True(t, ok)
		entries := stateEntries(t, db, p.Name())

		srv.ResetRequests()
		time.Sleep(2 * time.Millisecond) // a rewritten state would carry a later updated_at
		noRefresh := &Options{Params: convo.SyncParams{Refresh: -1}}
		st, err := m.Sync(ctxT(t), client, noRefresh)
		require.NoError(t, err)
		again, _ := readState(t, db, b.dialect, p.Name())
		assertNothingWritten(t, st, state, again)
		assert.Equal(t, entries, stateEntries(t, db, p.Name()))
		assert.Equal(t, before, takeSnapshot(t, db, b.dialect))
		bound := 1 // one conversation-list request
		if p == convo.Vobiz {
			bound += len(before.Conversations) // and one message page per conversation
		}
		assert.LessOrEqual(t, len(srv.Requests()), bound)

		// Open on a current schema writes nothing either.
		mustOpen(t, db, b.dialect)
		reopened, _ := readState(t, db, b.dialect, p.Name())
		assert.Equal(t, again, reopened)

		// The default refresh: not due yet (the full sync was one), but
		// at every Vobiz run, which finds nothing changed.
		st, err = m.Sync(ctxT(t), client, nil)
		require.NoError(t, err)
		again, _ = readState(t, db, b.dialect, p.Name())
		assertNothingWritten(t, st, state, again)
		assert.Equal(t, entries, stateEntries(t, db, p.Name()), "no conversation's state changed")
		assert.Equal(t, before, takeSnapshot(t, db, b.dialect))
		assert.Equal(t, convAt, mirroredAt(t, db, b.dialect, "conversations"), "no row written")
		assert.Equal(t, msgAt, mirroredAt(t, db, b.dialect, "messages"), "no row written")
	})
}

// A conversation that changed is updated in place; unchanged rows
// delivered again are not rewritten.
func TestChangedConversationUpdatedInPlace(t *testing.T) {
	t.Parallel()
	eachBackend(t, func(t *testing.T, b backend) {
		data := convotest.DemoDataset(convo.Rentalot, convotest.DefaultSeed)
		_, _, db, m := syncedMirrorOf(t, b, convo.Rentalot, convotest.WithData(data))

		changed := data.Clone()
		id := changed.Conversations[3].Conversation.ID
		status := "archived"
		if changed.Conversations[3].Conversation.Status == status {
			status = "active"
		}
		changed.Conversations[3].Conversation.Status = status
		_, client2 := newServer(t, convo.Rentalot, convotest.WithData(changed))
		ok, err := m.Reset(ctxT(t), "rentalot")
		require.NoError(t, err)
		require.True(t, ok)
		st, err := m.Sync(ctxT(t), client2, nil) // a full sync again over the same rows
		require.NoError(t, err)
		assert.Equal(t, int64(1), st.ConversationsChanged, "only the changed conversation is written")
		assert.Zero(t, st.Conversations, "no conversation inserted")
		assert.Zero(t, st.Messages+st.MessagesChanged, "no message changed")
		assert.Equal(t, int64(data.MessageCount()), st.Delivered)

		got := takeSnapshot(t, db, b.dialect)
		assert.Equal(t, expected(t, client2, nil), got)
		assert.Equal(t, status, got.Conversations["rentalot/"+id].Cols[4])
		assert.Len(t, got.Conversations, len(data.Conversations))
	})
}

// An interrupted sync writes what it delivered with the checkpoint that
// covers it; the next run completes the mirror with nothing missing or
// repeated.
func TestInterruptThenResume(t *testing.T) {
	t.Parallel()
	forEach(t, func(t *testing.T, b backend, p convo.Provider) {
		_, client, db, m := mirrorOf(t, b, p, convotest.WithLatency(time.Millisecond))
		ctx, cancel := context.WithCancel(ctxT(t))
		defer cancel()
		st, err := m.Sync(ctx, client, &Options{FlushRows: 20, Params: convo.SyncParams{MessagePageSize: 10},
			Progress: func(s Stats) {
				if s.Transactions == 2 {
					cancel()
				}
			}})
		require.ErrorIs(t, err, context.Canceled)
		assert.False(t, st.Done)
		partial := takeSnapshot(t, db, b.dialect)
		assert.NotEmpty(t, partial.Messages)
		cp, ok, err := m.State(ctxT(t), p.Name())
		require.NoError(t, err)
		require.True(t, ok)
		assert.Equal(t, int64(len(partial.Messages)), cp.Messages(), "the stored checkpoint covers exactly the stored rows")

		st, err = m.Sync(ctxT(t), client, nil)
		require.NoError(t, err)
		assert.True(t, st.Done)
		want := expected(t, client, nil)
		assert.Equal(t, want, takeSnapshot(t, db, b.dialect))
		assert.Equal(t, int64(len(want.Messages)-len(partial.Messages)), st.Delivered, "nothing delivered twice")
	})
}

// A transaction that fails after writing its rows (a crash before COMMIT)
// leaves the previous transaction's rows and state; the next run completes
// the mirror exactly.
func TestFailedTransactionThenResume(t *testing.T) {
	t.Parallel()
	eachBackend(t, func(t *testing.T, b backend) {
		_, client, db, m := mirrorOf(t, b, convo.VantaxAI)
		crash := errors.New("crash before commit")
		var seen []int
		m.beforeCommit = func(n int) error {
			seen = append(seen, n)
			if n == 3 {
				return crash
			}
			return nil
		}
		_, err := m.Sync(ctxT(t), client, &Options{FlushRows: 30})
		require.ErrorIs(t, err, crash)
		m.beforeCommit = nil
		partial := takeSnapshot(t, db, b.dialect)
		cp, _, err := m.State(ctxT(t), "vantaxai")
		require.NoError(t, err)
		assert.Equal(t, int64(len(partial.Messages)), cp.Messages())
		assert.Equal(t, []int{1, 2, 3}, seen, "the writer stops at the failed transaction")

		_, err = m.Sync(ctxT(t), client, nil)
		require.NoError(t, err)
		assert.Equal(t, expected(t, client, nil), takeSnapshot(t, db, b.dialect))
	})
}

// Syncs of different providers and filters keep their own state in one
// database and never touch each other's.
func TestSeveralSyncsOneDatabase(t *testing.T) {
	t.Parallel()
	eachBackend(t, func(t *testing.T, b backend) {
		db := b.open(t)
		m := mustOpen(t, db, b.dialect)
		_, vantax := newServer(t, convo.VantaxAI)
		_, rentalot := newServer(t, convo.Rentalot)
		sms := &Options{Params: convo.SyncParams{Conversations: convo.ConversationListParams{Channel: "sms"}}}
		email := &Options{Params: convo.SyncParams{Conversations: convo.ConversationListParams{Channel: "email"}}}
		for _, run := range []struct {
			c *convo.Client
			o *Options
		}{{vantax, sms}, {rentalot, nil}, {vantax, email}} {
			st, err := m.Sync(ctxT(t), run.c, run.o)
			require.NoError(t, err)
			require.True(t, st.Done)
		}
		for _, name := range []string{"vantaxai?channel=sms", "vantaxai?channel=email", "rentalot"} {
			cp, ok, err := m.State(ctxT(t), name)
			require.NoError(t, err)
			require.True(t, ok, name)
			assert.True(t, cp.Done(), name)
		}
		want := expected(t, vantax, &sms.Params)
		for k, v := range expected(t, vantax, &email.Params).Conversations {
			want.Conversations[k] = v
		}
		for k, v := range expected(t, vantax, &email.Params).Messages {
			want.Messages[k] = v
		}
		for k, v := range expected(t, rentalot, nil).Conversations {
			want.Conversations[k] = v
		}
		for k, v := range expected(t, rentalot, nil).Messages {
			want.Messages[k] = v
		}
		assert.Equal(t, want, takeSnapshot(t, db, b.dialect))

		// A name holding another sync's state is refused, writing nothing.
		before := takeSnapshot(t, db, b.dialect)
		_, err := m.Sync(ctxT(t), vantax, &Options{Name: "rentalot"})
		require.ErrorIs(t, err, ErrNameInUse)
		assert.Contains(t, err.Error(), `"rentalot"`)
		_, err = m.Sync(ctxT(t), vantax, &Options{Name: "vantaxai?channel=sms", Params: email.Params})
		require.ErrorIs(t, err, ErrNameInUse)
		assert.Equal(t, before, takeSnapshot(t, db, b.dialect))
	})
}

// Two runs of one sync at once: one of them fails with ErrBusy, the state
// is never corrupted, and a later run leaves the exact mirror.
func TestConcurrentRunsOfOneSync(t *testing.T) {
	t.Parallel()
	eachBackend(t, func(t *testing.T, b backend) {
		_, client := newServer(t, convo.AgentMessage)
		var requests atomic.Int64
		_, other, db, m := mirrorOf(t, b, convo.AgentMessage, convotest.WithRequestHook(func(convotest.Request) { requests.Add(1) }))
		var once sync.Once
		var second error
		_, first := m.Sync(ctxT(t), client, &Options{FlushRows: 40, Progress: func(Stats) {
			// While the first run is between transactions, a second run
			// of the same sync (through a client of its own) is refused.
			once.Do(func() { _, second = m.Sync(ctxT(t), other, nil) })
		}})
		require.NoError(t, first)
		require.ErrorIs(t, second, ErrBusy, "the second run is refused at once")
		assert.Zero(t, requests.Load(), "the second run made no request")
		switch b.name {
		case "postgres":
			assert.Contains(t, second.Error(), `sync "agentmessage": sync is running elsewhere: another session holds it (PostgreSQL backend `)
			// It names the session that holds the sync, and how to end it.
			holder := regexp.MustCompile(`\(PostgreSQL backend (\d+) from 127\.0\.0\.1, connected 20\d\d-\d\d-\d\dT[0-9:]+Z; if that run is gone, end its session with SELECT pg_terminate_backend\((\d+)\)\)`).FindStringSubmatch(second.Error())
			require.Len(t, holder, 3, "%v", second)
			assert.Equal(t, holder[1], holder[2])
			var sessions int
			require.NoError(t, db.QueryRow("SELECT count(*) FROM pg_stat_activity WHERE pid = $1 AND datname = current_database()", holder[1]).Scan(&sessions))
			assert.Equal(t, 1, sessions, "a session of this database")
		case "sqlite":
			// The same words, naming the process that holds the lock.
			assert.Regexp(t, fmt.Sprintf(`sync "agentmessage": sync is running elsewhere: another session holds it \(process %d on [^ ]+, since 20\d\d-\d\d-\d\dT[0-9:]+Z\)$`, os.Getpid()), second.Error())
		}
		// The lock ended with the first run: the next one runs.
		_, err := m.Sync(ctxT(t), other, nil)
		require.NoError(t, err)
		assert.Equal(t, expected(t, client, nil), takeSnapshot(t, db, b.dialect))
	})
}

// Where no lock holds a sync's name (a SQLite database in memory), the
// second of two concurrent runs fails when it commits, its batch not
// written: the state's generation check.
func TestConcurrentRunsWithoutLock(t *testing.T) {
	t.Parallel()
	_, client := newServer(t, convo.AgentMessage)
	db, err := sql.Open("sqlite", "file:concurrent?mode=memory&cache=shared&_pragma=busy_timeout(30000)")
	require.NoError(t, err)
	defer db.Close()
	m := mustOpen(t, db, SQLite)
	var once sync.Once
	var second error
	_, first := m.Sync(ctxT(t), client, &Options{FlushRows: 40, Progress: func(Stats) {
		once.Do(func() { _, second = m.Sync(ctxT(t), client, nil) })
	}})
	busy := 0
	for _, err := range []error{first, second} {
		if err != nil {
			require.ErrorIs(t, err, ErrBusy)
			busy++
		}
	}
	assert.Equal(t, 1, busy, "first: %v, second: %v", first, second)
	_, err = m.Sync(ctxT(t), client, nil)
	require.NoError(t, err)
	assert.Equal(t, expected(t, client, nil), takeSnapshot(t, db, SQLite))
}

// Bad params are refused before any request, with nothing written.
func TestInvalidParamsWriteNothing(t *testing.T) {
	t.Parallel()
	eachBackend(t, func(t *testing.T, b backend) {
		srv, client, db, m := mirrorOf(t, b, convo.Vobiz)
		_, err := m.Sync(ctxT(t), client, &Options{Params: convo.SyncParams{Conversations: convo.ConversationListParams{Channel: "sms"}}})
		require.ErrorIs(t, err, convo.ErrUnsupported)
		_, err = m.Sync(ctxT(t), client, &Options{Params: convo.SyncParams{Checkpoint: new(convo.Checkpoint)}})
		require.ErrorIs(t, err, convo.ErrInvalidParams)
		assert.Empty(t, srv.Requests())
		assert.Equal(t, 0, count(t, db, "convo_syncs"))
		assert.Equal(t, 0, count(t, db, "messages"))
	})
}

// A conversation whose messages fail is reported; the others are
// mirrored, and the next run retries it.
func TestFailedConversationRetried(t *testing.T) {
	t.Parallel()
	eachBackend(t, func(t *testing.T, b backend) {
		srv, client := newServer(t, convo.Rentalot)
		victim := srv.Dataset().Conversations[2].Conversation.ID
		_, failing, db, m := mirrorOf(t, b, convo.Rentalot, convotest.WithFaults(convotest.Fault{
			Kind: convotest.FaultStatus, Status: 404, Path: "/conversations/" + victim + "/messages", Times: -1,
		}))
		st, err := m.Sync(ctxT(t), failing, nil)
		var ce *convo.ConversationError
		require.ErrorAs(t, err, &ce)
		assert.Equal(t, []string{victim}, st.Failed)
		assert.False(t, st.Done)
		cp, _, err := m.State(ctxT(t), "rentalot")
		require.NoError(t, err)
		assert.Equal(t, []string{victim}, cp.Pending())

		st, err = m.Sync(ctxT(t), client, nil)
		require.NoError(t, err)
		assert.True(t, st.Done)
		assert.Equal(t, expected(t, client, nil), takeSnapshot(t, db, b.dialect))
	})
}

// A database with a table of a mirror's name that is not a mirror, and a
// mirror of a newer schema, are refused with nothing written.
func TestOpenRefusesForeignAndNewer(t *testing.T) {
	t.Parallel()
	for _, b := range backends(t) {
		t.Run(b.name+"/foreign", func(t *testing.T) {
			db := b.open(t)
			mustExec(t, db, "CREATE TABLE messages (id INTEGER PRIMARY KEY, text TEXT)")
			_, err := Open(ctxT(t), db, b.dialect)
			require.ErrorIs(t, err, ErrNotMirror)
			assert.Contains(t, err.Error(), `table "messages"`)
			assert.Equal(t, []string{"messages"}, tables(t, db, b.dialect))
		})
		t.Run(b.name+"/newer", func(t *testing.T) {
			db := b.open(t)
			mustOpen(t, db, b.dialect)
			mustExec(t, db, "UPDATE convo_meta SET value = '99' WHERE key = 'schema_version'")
			before := tables(t, db, b.dialect)
			_, err := Open(ctxT(t), db, b.dialect)
			require.ErrorIs(t, err, ErrNewerSchema)
			assert.Contains(t, err.Error(), "version 99")
			assert.Equal(t, before, tables(t, db, b.dialect))
			v := queryString(t, db, "SELECT value FROM convo_meta")
			assert.Equal(t, "99", v)
		})
		t.Run(b.name+"/no-version", func(t *testing.T) {
			db := b.open(t)
			mustExec(t, db, "CREATE TABLE convo_meta (key TEXT PRIMARY KEY, value TEXT NOT NULL)")
			_, err := Open(ctxT(t), db, b.dialect)
			require.ErrorIs(t, err, ErrNotMirror)
		})
	}
}

// After a complete sync, new messages and a new conversation arrive: the
// next run writes exactly them (and the conversations whose activity
// moved), and the mirror equals a full sync of the changed data.
func TestIncrementalRunWritesOnlyTheChange(t *testing.T) {
	t.Parallel()
	forEach(t, func(t *testing.T, b backend, p convo.Provider) {
		srv, client, db, m := syncedMirrorOf(t, b, p)

		data := srv.Dataset()
		last := data.Conversations[0].Messages[len(data.Conversations[0].Messages)-1].SentAt
		target := data.Conversations[len(data.Conversations)/2].Conversation
		added := []convo.Message{
			{ID: "new-1-" + p.Name(), Direction: convo.Inbound, Body: "is the offer still open?", SentAt: last.Add(time.Hour)},
			{ID: "new-2-" + p.Name(), Direction: convo.Outbound, Body: "yes, until Friday", SentAt: last.Add(time.Hour + time.Minute)},
		}
		require.NoError(t, srv.AddMessages(target.ID, added...))
		fresh := convo.Conversation{ID: "fresh-" + p.Name(), ContactID: "contact-fresh", Status: target.Status, Channel: target.Channel}
		require.NoError(t, srv.AddConversation(fresh, convo.Message{ID: "new-3-" + p.Name(), Direction: convo.Inbound, Body: "hello", SentAt: last.Add(2 * time.Hour)}))

		srv.ResetRequests()
		st, err := m.Sync(ctxT(t), client, nil)
		require.NoError(t, err)
		assert.True(t, st.Done)
		assert.Equal(t, int64(3), st.Messages, "exactly the new messages are written")
		assert.Equal(t, int64(3), st.Delivered)
		assert.Equal(t, int64(1), st.Conversations, "the new conversation inserted")
		assert.LessOrEqual(t, st.ConversationsChanged, int64(1), "the one whose activity moved changed in place")

		_, fullClient := newServer(t, p, convotest.WithData(srv.Dataset()))
		assert.Equal(t, expected(t, fullClient, nil), takeSnapshot(t, db, b.dialect))

		// And then nothing new: nothing written.
		state, _ := readState(t, db, b.dialect, p.Name())
		st, err = m.Sync(ctxT(t), client, &Options{Params: convo.SyncParams{Refresh: -1}})
		require.NoError(t, err)
		again, _ := readState(t, db, b.dialect, p.Name())
		assertNothingWritten(t, st, state, again)
	})
}

// assertNothingWritten checks a run that found nothing new: no row and no
// state written.
func assertNothingWritten(t *testing.T, st Stats, before, after syncState) {
	t.Helper()
	assert.Equal(t, Stats{Done: true}, st)
	assert.Equal(t, before, after, "the state row is not rewritten")
}

// everything is a recheck window that holds every message of the demo
// data.
const everything = 20 * 365 * 24 * time.Hour

// changeSome changes, while srv serves, two conversations' records and two
// messages' records (a delivery status, metadata, AgentMessage's
// redaction), and returns the ids of the messages.
func changeSome(t *testing.T, srv *convotest.Server) []string {
	t.Helper()
	data := srv.Dataset()
	for _, i := range []int{1, len(data.Conversations) - 2} {
		require.NoError(t, srv.ChangeConversation(data.Conversations[i].Conversation.ID, func(c *convo.Conversation) {
			c.Status += "-changed"
			c.Tags = append(c.Tags, "vip")
			c.UnreadCount++
			c.Category = "utility"
			c.Consent = &convo.Consent{OptedIn: c.Consent == nil || !c.Consent.OptedIn}
		}))
	}
	return fakedata.ChangeMessages(t, srv, data.Conversations[2])
}

// After records change on the server, a refresh brings every row to the
// truth (a full sync of the changed data), in place; the rows written are
// exactly the changed ones; and a run with nothing new and no refresh due
// then writes nothing.
func TestRefreshKeepsTheMirrorTrue(t *testing.T) {
	t.Parallel()
	forEach(t, func(t *testing.T, b backend, p convo.Provider) {
		srv, client, db, m := mirrorOf(t, b, p)
		// Every run with the same window, as a user's would be.
		_, err := m.Sync(ctxT(t), client, &Options{Params: convo.SyncParams{Recheck: everything}})
		require.NoError(t, err)
		msgAt := mirroredAt(t, db, b.dialect, "messages")

		changed := changeSome(t, srv)
		time.Sleep(2 * time.Millisecond)
		st, err := m.Sync(ctxT(t), client, &Options{Params: convo.SyncParams{Refresh: time.Nanosecond, Recheck: everything}})
		require.NoError(t, err)
		assert.True(t, st.Done)
		assert.Zero(t, st.Conversations+st.Messages, "nothing inserted")
		assert.GreaterOrEqual(t, st.ConversationsChanged, int64(2))
		assert.Equal(t, int64(2), st.MessagesChanged)
		_, truth := newServer(t, p, convotest.WithData(srv.Dataset()))
		assert.Equal(t, expected(t, truth, nil), takeSnapshot(t, db, b.dialect), "every row equals the truth")
		prov := p.Name() + "/"
		assert.ElementsMatch(t, []string{prov + changed[0], prov + changed[1]}, changedKeys(msgAt, mirroredAt(t, db, b.dialect, "messages")))
		if p == convo.AgentMessage { // the provider's redaction, without Options.Retention
			var n int
			q := "SELECT count(*) FROM messages WHERE body IS NULL AND redacted_at IS NOT NULL AND id IN (" + b.dialect.d.placeholder(1) + ", " + b.dialect.d.placeholder(2) + ")"
			require.NoError(t, db.QueryRow(q, changed[0], changed[1]).Scan(&n))
			assert.Equal(t, 2, n, "both bodies removed and marked redacted")
		}

		state, _ := readState(t, db, b.dialect, DefaultName(p, nil))
		entries := stateEntries(t, db, DefaultName(p, nil))
		// The default refresh: not due (Vobiz: due, and finds nothing).
		st, err = m.Sync(ctxT(t), client, &Options{Params: convo.SyncParams{Recheck: everything}})
		require.NoError(t, err)
		assert.Equal(t, Stats{Done: true}, st)
		again, _ := readState(t, db, b.dialect, DefaultName(p, nil))
		assert.Equal(t, state, again)
		assert.Equal(t, entries, stateEntries(t, db, DefaultName(p, nil)))
	})
}

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
