package mirror

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/convokit/convo"
	"github.com/convokit/convo/convotest"
)

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
	c := data.Conversations[2]
	var ids []string
	for _, m := range []convo.Message{c.Messages[0], c.Messages[len(c.Messages)-1]} {
		if srv.Provider() == convo.AgentMessage {
			require.NoError(t, srv.RedactMessage(c.Conversation.ID, m.ID, time.Date(2026, 6, 1, 0, 0, 0, 0, time.UTC)))
		} else {
			require.NoError(t, srv.ChangeMessage(c.Conversation.ID, m.ID, func(m *convo.Message) {
				m.Status = map[bool]string{true: "delivered", false: "read"}[m.Status == "read"]
				m.Metadata = []byte(`{"seen":true}`)
			}))
		}
		ids = append(ids, m.ID)
	}
	return ids
}

// After records change on the server, a refresh brings every row to the
// truth (a full sync of the changed data), in place; the rows written are
// exactly the changed ones; and a run with nothing new and no refresh due
// then writes nothing.
func TestRefreshKeepsTheMirrorTrue(t *testing.T) {
	t.Parallel()
	forEach(t, func(t *testing.T, b backend, p convo.Provider) {
		srv, client := newServer(t, p)
		db := b.open(t)
		m := mustOpen(t, db, b.dialect)
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
