package mirror

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"path/filepath"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/convokit/convo"
)

// syntheticCheckpoint is the JSON of a done checkpoint that knows n
// conversations, each entry shaped as an AgentMessage sync writes it.
func syntheticCheckpoint(n int) []byte {
	at := time.Date(2026, 3, 1, 9, 0, 0, 0, time.UTC)
	type known struct {
		ID       string    `json:"id"`
		Activity time.Time `json:"activity"`
		Signals  string    `json:"signals"`
		Newest   string    `json:"newest"`
		NewestAt time.Time `json:"newest_at"`
		Page     string    `json:"page"`
	}
	f := struct {
		Version       int     `json:"version"`
		Provider      string  `json:"provider"`
		Done          bool    `json:"done"`
		Conversations int64   `json:"conversations"`
		Messages      int64   `json:"messages"`
		Watermark     string  `json:"watermark"`
		Known         []known `json:"known"`
	}{Version: 2, Provider: "agentmessage", Done: true, Conversations: int64(n), Messages: int64(n), Watermark: at.Format(time.RFC3339Nano)}
	for i := range n {
		t := at.Add(time.Duration(i) * time.Second)
		f.Known = append(f.Known, known{ID: fmt.Sprintf("conv_%08d", i), Activity: t, Signals: "1", Newest: fmt.Sprintf("msg_%08d", i), NewestAt: t, Page: fmt.Sprintf("eyJjIjoibXNnXyUwOGQiLCJsIjoyMDB9_%08d", i)})
	}
	b, _ := json.Marshal(f)
	return b
}

// Split and joined, a checkpoint's JSON loads into the same checkpoint;
// the diff against what was written names exactly the changed entries.
func TestCheckpointSplitJoin(t *testing.T) {
	t.Parallel()
	b := syntheticCheckpoint(50)
	want := new(convo.Checkpoint)
	require.NoError(t, json.Unmarshal(b, want))
	wantJSON, err := json.Marshal(want)
	require.NoError(t, err)

	p, err := splitCheckpoint(wantJSON)
	require.NoError(t, err)
	assert.Len(t, p.entries, 50)
	assert.NotContains(t, string(p.head), `"known"`)
	assert.Equal(t, "conv_00000007", entryID(p.entries[7]))
	got := new(convo.Checkpoint)
	require.NoError(t, json.Unmarshal(joinCheckpoint(p.head, p.entries), got))
	gotJSON, err := json.Marshal(got)
	require.NoError(t, err)
	assert.JSONEq(t, string(wantJSON), string(gotJSON))
	assert.Equal(t, 50, got.Known())

	d := diff(p, nil)
	assert.Len(t, d.changed, 50, "nothing written yet: every entry")
	assert.Equal(t, -1, d.truncAt)
	written := d.hashes
	assert.True(t, (&stateDelta{head: p.head, truncAt: -1}).empty(p.head))
	assert.Empty(t, diff(p, written).changed)

	p.entries[3] = json.RawMessage(`{"id":"conv_00000003","signals":"2"}`)
	p.entries = append(p.entries, json.RawMessage(`{"id":"conv_new"}`))
	d = diff(p, written)
	assert.Equal(t, []int{3, 50}, d.changed)
	d = diff(checkpointParts{head: p.head, entries: p.entries[:10]}, written)
	assert.Equal(t, 10, d.truncAt)
	assert.Equal(t, []int{3}, d.changed)

	// A checkpoint without entries, and a head stored whole, come back as
	// they are.
	for _, whole := range []string{`{"version":2}`, `{}`, `{"version":2,"known":[{"id":"a"}]}`} {
		p, err := splitCheckpoint([]byte(whole))
		require.NoError(t, err)
		assert.JSONEq(t, whole, string(joinCheckpoint(p.head, p.entries)))
		assert.Equal(t, whole, string(joinCheckpoint([]byte(whole), nil)))
	}
}

// The cost of a transaction's state at 10,000 conversations: marshalling
// the checkpoint (as before) against marshalling and splitting it (as
// now), and the size written.
func BenchmarkCheckpointState(b *testing.B) {
	cp := new(convo.Checkpoint)
	require.NoError(b, json.Unmarshal(syntheticCheckpoint(10_000), cp))
	b.Run("marshal", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			out, _ := json.Marshal(cp)
			b.SetBytes(int64(len(out)))
		}
	})
	b.Run("marshal+split+diff", func(b *testing.B) {
		b.ReportAllocs()
		out, _ := json.Marshal(cp)
		p, _ := splitCheckpoint(out)
		written := diff(p, nil).hashes
		for b.Loop() {
			out, _ := json.Marshal(cp)
			p, _ := splitCheckpoint(out)
			d := diff(p, written)
			b.SetBytes(int64(len(out)))
			if len(d.changed) != 0 {
				b.Fatal("changed")
			}
		}
		b.ReportMetric(float64(len(p.head)), "head-bytes")
	})
}

// The write of a transaction's state at 10,000 conversations, one of them
// changed: the whole checkpoint in the sync's row (as schema version 2
// wrote it) against the head and the one changed entry (as now), each in
// a transaction of its own, on SQLite.
func BenchmarkStateWrite(b *testing.B) {
	ctx := context.Background()
	whole := syntheticCheckpoint(10_000)
	parts, err := splitCheckpoint(whole)
	require.NoError(b, err)
	for _, tc := range []struct {
		name  string
		delta func(i int) stateDelta
	}{
		{"whole", func(i int) stateDelta {
			return stateDelta{head: append(whole[:len(whole):len(whole)], ' '), truncAt: -1}
		}},
		{"rows", func(i int) stateDelta {
			p := checkpointParts{head: parts.head, entries: slices.Clone(parts.entries)}
			p.entries[i%len(p.entries)] = json.RawMessage(fmt.Sprintf(`{"id":"conv_%08d","signals":"%d"}`, i%len(p.entries), i))
			return stateDelta{head: p.head, entries: p.entries, changed: []int{i % len(p.entries)}, truncAt: -1}
		}},
	} {
		b.Run(tc.name, func(b *testing.B) {
			db, err := sql.Open("sqlite", "file:"+filepath.Join(b.TempDir(), "m.db")+"?_pragma=journal_mode(WAL)&_pragma=synchronous(NORMAL)")
			require.NoError(b, err)
			defer db.Close()
			m, err := Open(ctx, db, SQLite)
			require.NoError(b, err)
			conn, err := db.Conn(ctx)
			require.NoError(b, err)
			defer conn.Close()
			r := &run{m: m, d: m.d, conn: conn, opts: Options{Name: "bench"}, provider: "agentmessage"}
			first := diff(parts, nil)
			require.NoError(b, r.write(ctx, &flush{state: first}))
			b.ReportAllocs()
			i := 0
			for b.Loop() {
				i++
				d := tc.delta(i)
				require.NoError(b, r.write(ctx, &flush{state: d}))
			}
		})
	}
}

// A transaction writes the state of the conversations its batches
// changed, not the whole checkpoint: after a complete sync, new messages
// in one conversation rewrite one state row.
func TestStateWritesOnlyWhatChanged(t *testing.T) {
	t.Parallel()
	eachProvider(t, func(t *testing.T, p convo.Provider) {
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
			mustExec(t, db, stmt)
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

// Reset refuses, deleting nothing, while a run of the same sync holds it:
// it takes the sync's lock as Sync does. Once the run is over it resets.
func TestResetRefusedWhileTheSyncRuns(t *testing.T) {
	t.Parallel()
	eachBackend(t, func(t *testing.T, b backend) {
		t.Parallel()
		_, client, db, m := mirrorOf(t, b, convo.VantaxAI)
		var once sync.Once
		var resetErr error
		var reset bool
		var before, during syncState
		_, err := m.Sync(ctxT(t), client, &Options{FlushRows: 40, Progress: func(Stats) {
			once.Do(func() {
				before, _ = readState(t, db, b.dialect, "vantaxai")
				reset, resetErr = m.Reset(ctxT(t), "vantaxai")
				during, _ = readState(t, db, b.dialect, "vantaxai")
			})
		}})
		require.NoError(t, err, "the running sync is undisturbed")
		require.ErrorIs(t, resetErr, ErrBusy)
		assert.False(t, reset)
		assert.Contains(t, resetErr.Error(), "another session holds it")
		assert.Equal(t, before, during, "nothing deleted")

		reset, err = m.Reset(ctxT(t), "vantaxai")
		require.NoError(t, err)
		assert.True(t, reset)
		_, ok := readState(t, db, b.dialect, "vantaxai")
		assert.False(t, ok)
	})
}
