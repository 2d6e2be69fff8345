package mirror

import (
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/convokit/convo"
	"github.com/convokit/convo/convotest"
)

// A transaction whose rows are partly new, partly stored unchanged and
// partly stored with other data inserts the new, updates the changed,
// leaves the unchanged alone, and counts the first two apart: whether a chunk of
// rows is all new (one INSERT) or not (rows upserted one by one).
func TestWriteMixedNewChangedUnchanged(t *testing.T) {
	t.Parallel()
	eachBackend(t, func(t *testing.T, b backend) {
		ctx, db, r := newRun(t, b, "agentmessage")
		at := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
		msg := func(i int, body string) messageRow {
			m := convo.Message{ID: fmt.Sprintf("m%03d", i), Direction: convo.Inbound, Body: body, SentAt: at.Add(time.Duration(i) * time.Second)}
			s := &convo.ConversationSync{Conversation: &convo.Conversation{ID: "c1"}, Messages: []convo.Message{m}}
			rows, err := r.messageRows(nil, s)
			require.NoError(t, err)
			return rows[0]
		}
		var first, second []messageRow
		for i := range 30 {
			first = append(first, msg(i, "v1"))
		}
		require.NoError(t, r.write(ctx, &flush{msgs: first, state: stateDelta{head: []byte(`{"n":1}`), truncAt: -1}}))
		assert.Equal(t, int64(30), r.stats.Messages)
		assert.Zero(t, r.stats.MessagesChanged)
		for i := range 50 {
			switch {
			case i < 10:
				second = append(second, msg(i, "v1")) // unchanged
			case i < 20:
				second = append(second, msg(i, "v2")) // changed
			case i >= 30:
				second = append(second, msg(i, "v2")) // new
			}
		}
		require.NoError(t, r.write(ctx, &flush{msgs: second, state: stateDelta{head: []byte(`{"n":2}`), truncAt: -1}}))
		assert.Equal(t, int64(30+20), r.stats.Messages, "20 new rows counted as inserted")
		assert.Equal(t, int64(10), r.stats.MessagesChanged, "10 changed rows counted as changed, 10 unchanged not")

		got := queryMap(t, db, "SELECT id, body FROM messages")
		want := map[string]string{}
		for i := range 50 {
			switch {
			case i < 10, i >= 20 && i < 30:
				want[fmt.Sprintf("m%03d", i)] = "v1"
			default:
				want[fmt.Sprintf("m%03d", i)] = "v2"
			}
		}
		assert.Equal(t, want, got)
	})
}

// Records that changed are updated in place, typed columns and JSON, and
// counted apart from rows inserted; mirrored_at moves on exactly the rows
// written, so that "what changed since" reads exactly them.
func TestChangesAppliedInPlace(t *testing.T) {
	t.Parallel()
	forEach(t, func(t *testing.T, b backend, p convo.Provider) {
		data := convotest.DemoDataset(p, convotest.DefaultSeed)
		_, client, db, m := mirrorOf(t, b, p, convotest.WithData(data))
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
	eachBackend(t, func(t *testing.T, b backend) {
		ctx, db, r := newRun(t, b, "vobiz")
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

		got := queryMap(t, db, "SELECT id, CAST(data AS TEXT) FROM messages")
		assert.Contains(t, got["m1"], `"read"`)
		assert.Contains(t, got["m3"], `"delivered"`)
		assert.Contains(t, got["m2"], `"sent"`)
	})
}

// Of a row repeated within one flush, the last copy (the newest record)
// is written, not the first.
func TestFlushKeepsTheLastCopyOfARow(t *testing.T) {
	t.Parallel()
	msgs := []messageRow{
		{id: "m2", args: [7]any{"m2", "c1", nil, "first of m2", nil, "{}", nil}},
		{id: "m1", args: [7]any{"m1", "c1", nil, "only m1", nil, "{}", nil}},
		{id: "m2", args: [7]any{"m2", "c1", nil, "second of m2", nil, "{}", nil}},
		{id: "m2", args: [7]any{"m2", "c1", nil, "last of m2", nil, "{}", nil}},
	}
	got := dedupMessages(msgs)
	require.Len(t, got, 2)
	assert.Equal(t, "only m1", got[0].args[3])
	assert.Equal(t, "last of m2", got[1].args[3])

	convs := []convo.Conversation{{ID: "c2", Status: "open"}, {ID: "c1", Status: "open"}, {ID: "c2", Status: "closed"}}
	gotC := dedupConversations(convs)
	require.Len(t, gotC, 2)
	assert.Equal(t, "c1", gotC[0].ID)
	assert.Equal(t, convo.Conversation{ID: "c2", Status: "closed"}, gotC[1])
}
