package mirror

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/convokit/convo"
	"github.com/convokit/convo/convotest"
)

// A server that sends U+0000 in a text neither fails the sync nor loses
// the text: SQLite keeps it as it is, PostgreSQL (whose text and jsonb
// cannot hold it) as the six characters \u0000, in the body column and in
// data alike; a string that holds those six characters already is kept
// as it is. A second full sync finds every row unchanged.
func TestNulInTextMirrored(t *testing.T) {
	t.Parallel()
	const (
		withNul     = "before\x00after \x00"
		withLiteral = `a literal \u0000 and \\u0000`
	)
	forEach(t, func(t *testing.T, b backend, p convo.Provider) {
		data := convotest.DemoDataset(p, 7)
		msgs := data.Conversations[0].Messages
		require.GreaterOrEqual(t, len(msgs), 2)
		for i, body := range []string{withNul, withLiteral} {
			if msgs[i].Content == msgs[i].Body {
				msgs[i].Content = body
			}
			if p == convo.Vobiz { // the server renders {"body": Body}
				msgs[i].Content, msgs[i].Payload = "", nil
			}
			msgs[i].Body = body
		}
		nulID, literalID := msgs[0].ID, msgs[1].ID
		_, client, db, m := mirrorOf(t, b, p, convotest.WithData(data))
		st, err := m.Sync(ctxT(t), client, &Options{Name: "nul"})
		require.NoError(t, err)
		assert.Equal(t, int64(data.MessageCount()), st.Messages)

		stored := withNul
		if b.dialect == PostgreSQL {
			stored = strings.ReplaceAll(withNul, "\x00", `\u0000`)
		}
		for id, want := range map[string]string{nulID: stored, literalID: withLiteral} {
			var body, js string
			require.NoError(t, db.QueryRow("SELECT body, data FROM messages WHERE provider = "+b.dialect.d.placeholder(1)+" AND id = "+b.dialect.d.placeholder(2),
				p.Name(), id).Scan(&body, &js))
			assert.Equal(t, want, body, "body of %s", id)
			var msg convo.Message
			require.NoError(t, json.Unmarshal([]byte(js), &msg))
			assert.Equal(t, want, msg.Body, "data of %s", id)
		}

		_, err = m.Reset(ctxT(t), "nul")
		require.NoError(t, err)
		st, err = m.Sync(ctxT(t), client, &Options{Name: "nul"})
		require.NoError(t, err)
		assert.Equal(t, int64(0), st.Messages, "every row delivered again unchanged")
		assert.Equal(t, int64(data.MessageCount()), st.Delivered)
	})
}

// escapeJSONNul rewrites only the \u0000 escapes of the JSON text, not
// an escaped backslash followed by u0000, and keeps the JSON valid.
func TestEscapeJSONNul(t *testing.T) {
	for _, s := range []string{"", "plain", "\x00", "a\x00b\x00", `\u0000`, "\\\x00", `\\u0000` + "\x00", "é\x00€"} {
		b, err := json.Marshal(map[string]string{"s": s})
		require.NoError(t, err)
		var got map[string]string
		require.NoError(t, json.Unmarshal(escapeJSONNul(b), &got), "%q", s)
		assert.Equal(t, strings.ReplaceAll(s, "\x00", nulEscape), got["s"], "%q", s)
		assert.NotContains(t, got["s"], "\x00")
	}
}

// A PostgreSQL sync releases its advisory lock when it ends, on a
// connection that stays in the pool: another process (here another pool)
// then runs the same sync. A lock released under the wrong keys would
// stay with the pooled session and refuse every other process.
func TestPostgresLockReleasedIntoALongLivedPool(t *testing.T) {
	t.Parallel()
	base := postgresURL(t)
	if base == "" {
		return
	}
	db := openPostgres(t)
	db.SetMaxIdleConns(4)
	db.SetConnMaxIdleTime(0)
	db.SetConnMaxLifetime(0)
	schema := queryString(t, db, "SELECT current_schema()")
	other := openSchema(t, schema, "")

	_, client := newServer(t, convo.Rentalot)
	m := mustOpen(t, db, PostgreSQL)
	for i := range 2 { // the second run goes through the pool's connection again
		_, err := m.Sync(ctxT(t), client, nil)
		require.NoError(t, err, "run %d", i+1)
	}
	var held int
	require.NoError(t, db.QueryRow(`SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND granted
  AND database = (SELECT oid FROM pg_database WHERE datname = current_database())
  AND classid = oid(hashtext($1)) AND objid = oid(hashtext($2 || '/' || $3))`, pgLockSync, schema, "rentalot").Scan(&held))
	assert.Zero(t, held, "no session holds the sync's lock after the runs")
	_, err := mustOpen(t, other, PostgreSQL).Sync(ctxT(t), client, nil)
	assert.NoError(t, err, "another pool runs the same sync")
}
