package mirror

import (
	"database/sql"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/convokit/convo"
	"github.com/convokit/convo/convotest"
)

// v2Dataset is the AgentMessage data of testdata/v2.db: three
// conversations of four messages, the first message of the second
// conversation's body removed by the provider's retention.
func v2Dataset() *convotest.Dataset {
	at := time.Date(2026, 3, 1, 9, 0, 0, 0, time.UTC)
	data := convotest.NewDataset()
	for c := range 3 {
		var msgs []convo.Message
		for i := range 4 {
			m := convo.Message{ID: fmt.Sprintf("msg_%d_%d", c, i), Direction: convo.Inbound, Body: fmt.Sprintf("hello %d %d", c, i),
				SentAt:        at.Add(time.Duration(c*10+i) * time.Minute),
				PhoneNumberID: "pn_1", FromNumber: "+15550001", ToNumber: "+15550002", SegmentCount: 1}
			if c == 1 && i == 0 {
				m.Body = ""
				m.RedactedAt = at.Add(48 * time.Hour)
			}
			msgs = append(msgs, m)
		}
		data.AddConversation(convo.Conversation{ID: fmt.Sprintf("conv_%d", c), ContactID: "+1555000" + fmt.Sprint(c), Channel: "sms", Status: "active",
			LastMessageAt: at.Add(time.Duration(c*10+3) * time.Minute), CreatedAt: at}, msgs...)
	}
	return data
}

// copyFixture copies a database file of testdata into a new directory.
func copyFixture(t *testing.T, name string) string {
	t.Helper()
	src, err := os.Open(filepath.Join("testdata", name))
	require.NoError(t, err)
	defer src.Close()
	path := filepath.Join(t.TempDir(), name)
	dst, err := os.Create(path)
	require.NoError(t, err)
	_, err = io.Copy(dst, src)
	require.NoError(t, err)
	require.NoError(t, dst.Close())
	return path
}

// A mirror written by the previous version (schema 2: an AgentMessage
// sync done, a VantaxAI sync interrupted) is migrated in place to version
// 3, keeping its rows; both syncs then go on from their stored state: the
// done one incrementally, writing nothing when nothing is new, and the
// interrupted one to the exact mirror.
func TestMigrateFromVersion2File(t *testing.T) {
	t.Parallel()
	db := openSQLitePath(t, copyFixture(t, "v2.db"))
	before := takeSnapshot(t, db, SQLite)
	require.NotEmpty(t, before.Messages)
	amState, ok := readState(t, db, SQLite, "agentmessage")
	require.True(t, ok)

	m := mustOpen(t, db, SQLite)
	assert.Equal(t, "3", queryString(t, db, "SELECT value FROM convo_meta WHERE key = 'schema_version'"))
	assert.Equal(t, before, takeSnapshot(t, db, SQLite), "the rows are kept")
	assert.Equal(t, []string{"provider", "id", "contact_id", "channel", "status", "last_message_at", "created_at", "data", "mirrored_at"}, columns(t, db, SQLite, "conversations"))
	assert.Equal(t, []string{"provider", "id", "conversation_id", "direction", "body", "sent_at", "data", "mirrored_at", "redacted_at"}, columns(t, db, SQLite, "messages"))
	for _, ix := range []string{"conversations_mirrored_at", "messages_mirrored_at"} {
		assert.True(t, hasIndex(t, db, SQLite, ix), ix)
	}
	assert.Contains(t, tables(t, db, SQLite), "convo_sync_conversations")
	redacted := queryStrings(t, db, "SELECT id || ' ' || redacted_at FROM messages WHERE redacted_at IS NOT NULL")
	assert.Equal(t, []string{"msg_1_0 2026-03-03T09:00:00.000000Z"}, redacted, "the provider's redaction is marked")
	var unstamped int
	require.NoError(t, db.QueryRow("SELECT count(*) FROM messages WHERE mirrored_at IS NULL").Scan(&unstamped))
	assert.Equal(t, len(before.Messages), unstamped, "rows written before version 3 have no mirrored_at")

	// The done sync: nothing new, no row written; its first run moves its
	// state into rows, once, and the next writes nothing at all.
	_, am := newServer(t, convo.AgentMessage, convotest.WithData(v2Dataset()))
	st, err := m.Sync(ctxT(t), am, &Options{Params: convo.SyncParams{Refresh: -1}})
	require.NoError(t, err)
	assert.Equal(t, Stats{Done: true, Transactions: 1}, st)
	assert.Equal(t, before, takeSnapshot(t, db, SQLite))
	moved, _ := readState(t, db, SQLite, "agentmessage")
	assert.NotContains(t, moved.Checkpoint, `"known"`)
	assert.Contains(t, amState.Checkpoint, `"known"`)
	var entries int
	require.NoError(t, db.QueryRow("SELECT count(*) FROM convo_sync_conversations WHERE name = 'agentmessage'").Scan(&entries))
	assert.Equal(t, 3, entries, "one row per conversation")
	cp, _, err := m.State(ctxT(t), "agentmessage")
	require.NoError(t, err)
	assert.Equal(t, 3, cp.Known())
	st, err = m.Sync(ctxT(t), am, &Options{Params: convo.SyncParams{Refresh: -1}})
	require.NoError(t, err)
	assert.Equal(t, Stats{Done: true}, st)
	again, _ := readState(t, db, SQLite, "agentmessage")
	assert.Equal(t, moved, again)

	// The interrupted one completes.
	_, vx := newServer(t, convo.VantaxAI)
	st, err = m.Sync(ctxT(t), vx, nil)
	require.NoError(t, err)
	assert.True(t, st.Done)
	want := expected(t, am, nil)
	for k, v := range expected(t, vx, nil).Conversations {
		want.Conversations[k] = v
	}
	for k, v := range expected(t, vx, nil).Messages {
		want.Messages[k] = v
	}
	assert.Equal(t, want, takeSnapshot(t, db, SQLite))
}

// The migration from version 2, in each dialect: the columns, indexes and
// state table are added, a body the provider removed is marked redacted,
// and the rows are kept.
func TestMigrateFromVersion2(t *testing.T) {
	t.Parallel()
	eachBackend(t, func(t *testing.T, b backend) {
		db := openAtVersion(t, b, 2)
		p := b.dialect.d.placeholder
		ins := "INSERT INTO messages (provider, id, conversation_id, body, sent_at, data) VALUES ('agentmessage', " + p(1) + ", 'c1', " + p(2) + ", " + p(3) + ", " + p(4) + ")"
		sent := time.Date(2026, 3, 1, 9, 0, 0, 0, time.UTC)
		mustExec(t, db, ins, "kept", "hello", b.dialect.d.timeArg(sent), `{"id":"kept","body":"hello","sent_at":"2026-03-01T09:00:00Z"}`)
		mustExec(t, db, ins, "gone", nil, b.dialect.d.timeArg(sent), `{"id":"gone","sent_at":"2026-03-01T09:00:00Z","redacted_at":"2026-03-03T11:00:00.25+02:00"}`)
		before := takeSnapshot(t, db, b.dialect)

		mustOpen(t, db, b.dialect)
		assert.Equal(t, before, takeSnapshot(t, db, b.dialect))
		assert.Contains(t, columns(t, db, b.dialect, "conversations"), "mirrored_at")
		assert.Contains(t, columns(t, db, b.dialect, "messages"), "redacted_at")
		for _, ix := range []string{"conversations_mirrored_at", "messages_mirrored_at"} {
			assert.True(t, hasIndex(t, db, b.dialect, ix), ix)
		}
		var kept, gone sql.NullTime
		q := "SELECT redacted_at FROM messages WHERE id = " + p(1)
		if b.name == "sqlite" {
			var s sql.NullString
			require.NoError(t, db.QueryRow(q, "gone").Scan(&s))
			assert.Equal(t, "2026-03-03T09:00:00.250000Z", s.String)
			require.NoError(t, db.QueryRow(q, "kept").Scan(&s))
			assert.False(t, s.Valid)
			return
		}
		require.NoError(t, db.QueryRow(q, "gone").Scan(&gone))
		require.NoError(t, db.QueryRow(q, "kept").Scan(&kept))
		assert.True(t, gone.Time.Equal(time.Date(2026, 3, 3, 9, 0, 0, 250e6, time.UTC)), "%v", gone.Time)
		assert.False(t, kept.Valid)
	})
}

// A mirror of an older schema is migrated by version, keeping its rows.
func TestMigrateFromVersion1(t *testing.T) {
	t.Parallel()
	eachBackend(t, func(t *testing.T, b backend) {
		db := openAtVersion(t, b, 1)
		p := b.dialect.d.placeholder
		mustExec(t, db, "INSERT INTO conversations (provider, id, status, data) VALUES ('vantaxai', 'c1', 'open', "+p(1)+")", `{"id":"c1","status":"open"}`)
		mustExec(t, db, "INSERT INTO messages (provider, id, conversation_id, body, data) VALUES ('vantaxai', 'm1', 'c1', 'hi', "+p(1)+")", `{"id":"m1","body":"hi"}`)
		before := takeSnapshot(t, db, b.dialect)
		assert.False(t, hasIndex(t, db, b.dialect, "messages_conversation_sent_at"))

		mustOpen(t, db, b.dialect)
		assert.True(t, hasIndex(t, db, b.dialect, "messages_conversation_sent_at"))
		assert.True(t, hasIndex(t, db, b.dialect, "messages_mirrored_at"))
		assert.Equal(t, strconv.Itoa(SchemaVersion), queryString(t, db, "SELECT value FROM convo_meta WHERE key = 'schema_version'"))
		assert.Equal(t, before, takeSnapshot(t, db, b.dialect))
	})
}
