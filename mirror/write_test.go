package mirror

import (
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/convokit/convo"
)

// A transaction whose rows are partly new, partly stored unchanged and
// partly stored with other data inserts the new, updates the changed,
// leaves the unchanged alone, and counts the first two apart: whether a chunk of
// rows is all new (one INSERT) or not (rows upserted one by one).
func TestWriteMixedNewChangedUnchanged(t *testing.T) {
	t.Parallel()
	for _, b := range backends(t) {
		t.Run(b.name, func(t *testing.T) {
			ctx := ctxT(t)
			db := b.open(t)
			m := mustOpen(t, db, b.dialect)
			conn, err := db.Conn(ctx)
			require.NoError(t, err)
			defer conn.Close()
			r := &run{m: m, d: m.d, conn: conn, opts: Options{Name: "w"}, provider: "agentmessage"}
			defer r.closeStmts()
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

			got := map[string]string{}
			rows, err := db.QueryContext(ctx, "SELECT id, body FROM messages")
			require.NoError(t, err)
			defer rows.Close()
			for rows.Next() {
				var id, body string
				require.NoError(t, rows.Scan(&id, &body))
				got[id] = body
			}
			require.NoError(t, rows.Err())
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
}
