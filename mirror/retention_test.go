package mirror

import (
	"database/sql"
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/convokit/convo"
	"github.com/convokit/convo/convotest"
)

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
	out := map[string]string{}
	queryRows(t, db, "SELECT id, coalesce(body, 'NULL'), coalesce("+timeText(d, "redacted_at")+", 'NULL'), CAST(data AS TEXT) FROM messages", nil, func(rows *sql.Rows) {
		var id, body, red, data string
		require.NoError(t, rows.Scan(&id, &body, &red, &data))
		out[id] = body + "|" + red
		var m convo.Message
		require.NoError(t, jsonUnmarshal(data, &m))
		assert.Equal(t, body == "NULL", m.Body == "", "%s: the body column and data agree", id)
		assert.Equal(t, red == "NULL", m.RedactedAt.IsZero(), "%s: redacted_at and data agree", id)
	})
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
		_, client, db, m := mirrorOf(t, b, p, convotest.WithData(retentionDataset(now)))
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
