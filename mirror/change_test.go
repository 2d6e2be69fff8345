package mirror

import (
	"database/sql"
	"fmt"
	"sort"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/convokit/convo"
	"github.com/convokit/convo/convotest"
)

// mirroredAt reads the mirrored_at of every row of table, by provider/id,
// as text ("NULL" when unset).
func mirroredAt(t *testing.T, db *sql.DB, d Dialect, table string) map[string]string {
	t.Helper()
	col := "mirrored_at"
	if d.d.name() == "postgres" {
		col = "to_char(mirrored_at AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.US\"Z\"')"
	}
	rows, err := db.Query("SELECT provider || '/' || id, coalesce(" + col + ", 'NULL') FROM " + table)
	require.NoError(t, err)
	defer rows.Close()
	out := map[string]string{}
	for rows.Next() {
		var k, v string
		require.NoError(t, rows.Scan(&k, &v))
		out[k] = v
	}
	require.NoError(t, rows.Err())
	return out
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

// Records that changed are updated in place, typed columns and JSON, and
// counted apart from rows inserted; mirrored_at moves on exactly the rows
// written, so that "what changed since" reads exactly them.
func TestChangesAppliedInPlace(t *testing.T) {
	t.Parallel()
	forEach(t, func(t *testing.T, b backend, p convo.Provider) {
		data := convotest.DemoDataset(p, convotest.DefaultSeed)
		_, client := newServer(t, p, convotest.WithData(data))
		db := b.open(t)
		m := mustOpen(t, db, b.dialect)
		st, err := m.Sync(ctxT(t), client, nil)
		require.NoError(t, err)
		assert.Equal(t, int64(len(data.Conversations)), st.Conversations)
		assert.Equal(t, int64(data.MessageCount()), st.Messages)
		assert.Zero(t, st.ConversationsChanged)
		assert.Zero(t, st.MessagesChanged)
		convAt, msgAt := mirroredAt(t, db, b.dialect, "conversations"), mirroredAt(t, db, b.dialect, "messages")
		for k, v := range msgAt {
			require.NotEqual(t, "NULL", v, k)
		}

		// A conversation's status and two messages change: one's status
		// (or what its provider has of it), one's body removed by the
		// provider.
		changed := data.Clone()
		c := &changed.Conversations[1]
		c.Conversation.Status += "-changed"
		consent := convo.Consent{OptedIn: true}
		if c.Conversation.Consent != nil {
			consent = convo.Consent{OptedIn: !c.Conversation.Consent.OptedIn}
		}
		c.Conversation.Consent = &consent
		c.Messages[0].Status = map[bool]string{true: "delivered", false: "read"}[c.Messages[0].Status == "read"]
		c.Messages[0].Metadata = []byte(`{"read":true}`)
		c.Messages[0].SegmentCount++
		c.Messages[1].Body, c.Messages[1].Content, c.Messages[1].Payload = "", "", nil
		c.Messages[1].RedactedAt = time.Date(2026, 6, 1, 0, 0, 0, 0, time.UTC)
		_, client2 := newServer(t, p, convotest.WithData(changed))
		var redactedBefore int
		require.NoError(t, db.QueryRow("SELECT count(*) FROM messages WHERE redacted_at IS NOT NULL").Scan(&redactedBefore))
		before := expected(t, client, nil)
		after := expected(t, client2, nil)
		prov := p.Name() + "/"
		var wantMsgs []string
		for _, id := range []string{c.Messages[0].ID, c.Messages[1].ID} {
			if !assert.ObjectsAreEqual(before.Messages[prov+id], after.Messages[prov+id]) {
				wantMsgs = append(wantMsgs, prov+id)
			}
		}
		require.Len(t, wantMsgs, 2, "both messages changed on the wire")
		_, err = m.Reset(ctxT(t), DefaultName(p, nil))
		require.NoError(t, err)
		time.Sleep(2 * time.Millisecond)        // a row written again carries a later mirrored_at
		st, err = m.Sync(ctxT(t), client2, nil) // a full sync again over the same rows
		require.NoError(t, err)
		assert.Zero(t, st.Conversations, "no row inserted")
		assert.Zero(t, st.Messages)
		assert.Equal(t, int64(1), st.ConversationsChanged)
		assert.Equal(t, int64(2), st.MessagesChanged)

		got := takeSnapshot(t, db, b.dialect)
		assert.Equal(t, after, got, "every row equals the truth")
		assert.Equal(t, "NULL", got.Messages[prov+c.Messages[1].ID].Cols[4], "the removed body is NULL")
		assert.Equal(t, []string{prov + c.Conversation.ID}, changedKeys(convAt, mirroredAt(t, db, b.dialect, "conversations")))
		assert.ElementsMatch(t, wantMsgs, changedKeys(msgAt, mirroredAt(t, db, b.dialect, "messages")))
		redacted := -redactedBefore
		require.NoError(t, db.QueryRow("SELECT count(*) FROM messages WHERE redacted_at IS NOT NULL").Scan(&redactedBefore))
		redacted += redactedBefore
		if p == convo.AgentMessage { // the one provider with a redaction time
			assert.Equal(t, 1, redacted, "the provider's redaction is marked")
		} else {
			assert.Zero(t, redacted)
		}
	})
}

// A message delivered in Updated (its record changed since it was first
// delivered) is written over its row, counted as changed.
func TestUpdatedMessagesWritten(t *testing.T) {
	t.Parallel()
	for _, b := range backends(t) {
		t.Run(b.name, func(t *testing.T) {
			ctx := ctxT(t)
			db := b.open(t)
			m := mustOpen(t, db, b.dialect)
			conn, err := db.Conn(ctx)
			require.NoError(t, err)
			defer conn.Close()
			r := &run{m: m, d: m.d, conn: conn, opts: Options{Name: "w"}, provider: "vobiz"}
			defer r.closeStmts()
			at := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
			conv := &convo.Conversation{ID: "c1"}
			var msgs []convo.Message
			for i := range 5 {
				msgs = append(msgs, convo.Message{ID: fmt.Sprintf("m%d", i), Direction: convo.Outbound, Body: "hi", Status: "sent", SentAt: at.Add(time.Duration(i) * time.Minute)})
			}
			rows, err := r.messageRows(nil, &convo.ConversationSync{Conversation: conv, Start: true, Messages: msgs})
			require.NoError(t, err)
			require.NoError(t, r.write(ctx, &flush{convs: []convo.Conversation{*conv}, msgs: rows, state: stateDelta{head: []byte(`{"n":1}`), truncAt: -1}}))
			assert.Equal(t, int64(5), r.stats.Messages)

			up := []convo.Message{msgs[1], msgs[3]}
			up[0].Status, up[1].Status = "read", "delivered"
			rows, err = r.messageRows(nil, &convo.ConversationSync{Conversation: conv, Updated: up})
			require.NoError(t, err)
			require.NoError(t, r.write(ctx, &flush{msgs: rows, state: stateDelta{head: []byte(`{"n":2}`), truncAt: -1}}))
			assert.Equal(t, int64(5), r.stats.Messages)
			assert.Equal(t, int64(2), r.stats.MessagesChanged)

			got := map[string]string{}
			q, err := db.QueryContext(ctx, "SELECT id, CAST(data AS TEXT) FROM messages")
			require.NoError(t, err)
			defer q.Close()
			for q.Next() {
				var id, data string
				require.NoError(t, q.Scan(&id, &data))
				got[id] = data
			}
			require.NoError(t, q.Err())
			assert.Contains(t, got["m1"], `"read"`)
			assert.Contains(t, got["m3"], `"delivered"`)
			assert.Contains(t, got["m2"], `"sent"`)
		})
	}
}

// retentionDataset holds, for each provider, one conversation whose
// messages were sent 1 to 10 days (less an hour) before now, one a day:
// a window of 7 days holds the newest 7, one of 3 days the newest 3.
func retentionDataset(now time.Time) *convotest.Dataset {
	d := convotest.NewDataset()
	var msgs []convo.Message
	for i := 10; i >= 1; i-- {
		msgs = append(msgs, convo.Message{ID: fmt.Sprintf("m%02d", i), Direction: convo.Inbound, Body: fmt.Sprintf("sent %d days ago", i),
			SentAt: now.Add(-time.Duration(i)*24*time.Hour + time.Hour)})
	}
	d.AddConversation(convo.Conversation{ID: "c1", ContactID: "+15550001", Channel: "sms", Status: "open", LastMessageAt: msgs[len(msgs)-1].SentAt,
		CreatedAt: msgs[0].SentAt}, msgs...)
	return d
}

// bodies reads each message's body and redaction: id -> body|redacted_at
// ("NULL" for NULL).
func bodies(t *testing.T, db *sql.DB, d Dialect) map[string]string {
	t.Helper()
	col := "redacted_at"
	if d.d.name() == "postgres" {
		col = "to_char(redacted_at AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.US\"Z\"')"
	}
	rows, err := db.Query("SELECT id, coalesce(body, 'NULL'), coalesce(" + col + ", 'NULL'), CAST(data AS TEXT) FROM messages")
	require.NoError(t, err)
	defer rows.Close()
	out := map[string]string{}
	for rows.Next() {
		var id, body, red, data string
		require.NoError(t, rows.Scan(&id, &body, &red, &data))
		out[id] = body + "|" + red
		var m convo.Message
		require.NoError(t, jsonUnmarshal(data, &m))
		assert.Equal(t, body == "NULL", m.Body == "", "%s: the body column and data agree", id)
		assert.Equal(t, red == "NULL", m.RedactedAt.IsZero(), "%s: redacted_at and data agree", id)
	}
	require.NoError(t, rows.Err())
	return out
}

// Retention blanks exactly the messages sent before now minus the window:
// from the start for a message older than it, and on a later run with a
// shorter window for those that are now outside it; a run with nothing to
// blank writes nothing; a redacted message delivered again is not
// rewritten.
func TestRetention(t *testing.T) {
	t.Parallel()
	forEach(t, func(t *testing.T, b backend, p convo.Provider) {
		now := time.Now().UTC().Truncate(time.Microsecond)
		_, client := newServer(t, p, convotest.WithData(retentionDataset(now)))
		db := b.open(t)
		m := mustOpen(t, db, b.dialect)
		day := 24 * time.Hour
		// want is the bodies after runs with the given windows, longest
		// first: a message is blanked by the first window it is outside
		// of, and marked with the time it left that window.
		want := func(windows ...time.Duration) map[string]string {
			out := map[string]string{}
			for i := 10; i >= 1; i-- {
				sent := now.Add(-time.Duration(i)*day + time.Hour)
				id := fmt.Sprintf("m%02d", i)
				out[id] = fmt.Sprintf("sent %d days ago|NULL", i)
				for _, w := range windows {
					if sent.Before(time.Now().Add(-w)) {
						out[id] = "NULL|" + sent.Add(w).UTC().Format(timeFormat)
						break
					}
				}
			}
			return out
		}
		assert.False(t, hasIndex(t, db, b.dialect, "messages_unredacted_sent_at"), "made only for a retention")
		st, err := m.Sync(ctxT(t), client, &Options{Retention: 7 * day})
		require.NoError(t, err)
		assert.True(t, hasIndex(t, db, b.dialect, "messages_unredacted_sent_at"))
		assert.Equal(t, want(7*day), bodies(t, db, b.dialect), "messages older than 7 days are written without their body")
		assert.Equal(t, int64(10), st.Messages)
		assert.Zero(t, st.Redacted)

		st, err = m.Sync(ctxT(t), client, &Options{Retention: 3 * day, Params: convo.SyncParams{Refresh: -1}})
		require.NoError(t, err)
		assert.Equal(t, want(7*day, 3*day), bodies(t, db, b.dialect), "the shorter window blanks days 4 to 7 too")
		assert.Equal(t, int64(4), st.Redacted)
		assert.Equal(t, 1, st.Transactions)

		before := takeSnapshot(t, db, b.dialect)
		at := mirroredAt(t, db, b.dialect, "messages")
		st, err = m.Sync(ctxT(t), client, &Options{Retention: 3 * day, Params: convo.SyncParams{Refresh: -1}})
		require.NoError(t, err)
		assert.Equal(t, Stats{Done: true}, st, "nothing new, nothing left to blank")
		assert.Equal(t, at, mirroredAt(t, db, b.dialect, "messages"))
		assert.Equal(t, before, takeSnapshot(t, db, b.dialect))

		// A full sync again: the old messages are delivered with their
		// body, and stay blank; written again, under the window in force,
		// only those blanked under another.
		_, err = m.Reset(ctxT(t), DefaultName(p, nil))
		require.NoError(t, err)
		st, err = m.Sync(ctxT(t), client, &Options{Retention: 3 * day})
		require.NoError(t, err)
		assert.Equal(t, int64(3), st.MessagesChanged, "days 8 to 10, blanked under 7 days, now under 3")
		assert.Equal(t, want(3*day), bodies(t, db, b.dialect))
		before = takeSnapshot(t, db, b.dialect)
		_, err = m.Reset(ctxT(t), DefaultName(p, nil))
		require.NoError(t, err)
		st, err = m.Sync(ctxT(t), client, &Options{Retention: 3 * day})
		require.NoError(t, err)
		assert.Zero(t, st.MessagesChanged, "a blanked message delivered again is the same row")
		assert.Equal(t, before, takeSnapshot(t, db, b.dialect))

		// Without Retention, bodies already removed stay removed, and new
		// messages keep theirs.
		st, err = m.Sync(ctxT(t), client, nil)
		require.NoError(t, err)
		assert.Equal(t, before, takeSnapshot(t, db, b.dialect))
	})
}

// A transaction writes the state of the conversations its batches
// changed, not the whole checkpoint: after a complete sync, new messages
// in one conversation rewrite one state row.
func TestStateWritesOnlyWhatChanged(t *testing.T) {
	t.Parallel()
	for _, p := range providers {
		t.Run(p.Name(), func(t *testing.T) {
			t.Parallel()
			srv, client := newServer(t, p)
			db := openSQLite(t)
			m := mustOpen(t, db, SQLite)
			_, err := m.Sync(ctxT(t), client, &Options{Params: convo.SyncParams{Refresh: -1}})
			require.NoError(t, err)
			cp, _, err := m.State(ctxT(t), p.Name())
			require.NoError(t, err)
			require.Equal(t, cp.Known(), count(t, db, "convo_sync_conversations"), "one row per conversation")
			for _, stmt := range []string{
				"CREATE TABLE writes (n INTEGER)",
				"INSERT INTO writes VALUES (0)",
				"CREATE TRIGGER w_ins AFTER INSERT ON convo_sync_conversations BEGIN UPDATE writes SET n = n + 1; END",
				"CREATE TRIGGER w_upd AFTER UPDATE ON convo_sync_conversations BEGIN UPDATE writes SET n = n + 1; END",
			} {
				_, err := db.Exec(stmt)
				require.NoError(t, err)
			}
			data := srv.Dataset()
			target := data.Conversations[len(data.Conversations)/2]
			last := data.Conversations[0].Messages[len(data.Conversations[0].Messages)-1].SentAt
			require.NoError(t, srv.AddMessages(target.Conversation.ID, convo.Message{ID: "new-" + p.Name(), Direction: convo.Inbound, Body: "one more", SentAt: last.Add(time.Hour)}))
			st, err := m.Sync(ctxT(t), client, &Options{Params: convo.SyncParams{Refresh: -1}})
			require.NoError(t, err)
			require.Equal(t, int64(1), st.Messages)
			var n int
			require.NoError(t, db.QueryRow("SELECT n FROM writes").Scan(&n))
			assert.Equal(t, 1, n, "one state row written, of %d", cp.Known())
			got, _, err := m.State(ctxT(t), p.Name())
			require.NoError(t, err)
			assert.Equal(t, cp.Known(), got.Known())
			assert.True(t, got.Done())
		})
	}
}
