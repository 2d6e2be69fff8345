package convo

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// testNow is the client's clock of the runs these tests begin.
var testNow = time.Date(2026, 1, 3, 0, 0, 0, 0, time.UTC)

// book returns the sync engine's ledger of cp, for a Rentalot sync unless
// cp is bound to another provider.
func book(cp *Checkpoint) *ledger {
	p, ok := ProviderByName(cp.Provider())
	if !ok {
		p = Rentalot
	}
	return &ledger{cp: cp, spec: &p.d.change}
}

// checkpointWith returns a checkpoint in the middle of a sync: conversation
// a delivered up to cursor "ca", b started but not delivered, c finished.
func checkpointWith(t *testing.T) *Checkpoint {
	t.Helper()
	cp := new(Checkpoint)
	spec := &rentalotDesc.change
	_, err := (&ledger{cp: cp, spec: spec}).begin(runOptions{provider: "rentalot", startCursor: "", lookback: DefaultLookback, now: testNow})
	require.NoError(t, err)
	t0 := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	a := &Conversation{ID: "a", Status: "active", Tags: []string{"x"}, CreatedAt: t0, LastMessageAt: t0.Add(time.Hour), MessageCount: 3}
	b := &Conversation{ID: "b", Consent: &Consent{OptedIn: true}, LastMessageAt: t0.Add(2 * time.Hour)}
	c := &Conversation{ID: "c", LastMessageAt: t0.Add(30 * time.Minute), MessageCount: 2}
	book(cp).started(pendingConversation{seq: 0, conv: a}, "list-after-a", a.LastMessageAt)
	book(cp).started(pendingConversation{seq: 1, conv: b}, "list-after-b", b.LastMessageAt)
	book(cp).started(pendingConversation{seq: 2, conv: c}, "list-after-c", b.LastMessageAt)
	msgs := func(ids ...string) []Message {
		var out []Message
		for i, id := range ids {
			out = append(out, Message{ID: id, SentAt: t0.Add(time.Duration(len(ids)-i) * time.Minute)})
		}
		return out
	}
	book(cp).commit(&syncEvent{seq: 0, batch: &ConversationSync{Conversation: a, Start: true, Messages: msgs("a3", "a2", "a1")}, cursor: "ca"}, false)
	book(cp).commit(&syncEvent{seq: 2, batch: &ConversationSync{Conversation: c, Start: true, Messages: msgs("c2", "c1"), Done: true}, cursor: "cc"}, false)
	require.NoError(t, cp.SetMeta(json.RawMessage(`{"offset":42}`)))
	return cp
}

func TestCheckpointJSONRoundTrip(t *testing.T) {
	t.Parallel()
	cp := checkpointWith(t)
	b, err := json.Marshal(cp)
	require.NoError(t, err)

	var got Checkpoint
	require.NoError(t, json.Unmarshal(b, &got))
	assert.Equal(t, "rentalot", got.Provider())
	assert.Equal(t, []string{"a", "b"}, got.Pending(), "c is finished")
	assert.EqualValues(t, 1, got.Conversations())
	assert.EqualValues(t, 5, got.Messages())
	assert.False(t, got.Done())
	assert.JSONEq(t, `{"offset":42}`, string(got.Meta()))

	assert.Equal(t, 1, got.Known())
	plan, err := (&ledger{cp: &got, spec: &rentalotDesc.change}).begin(runOptions{provider: "rentalot", startCursor: "", lookback: DefaultLookback, now: testNow})
	require.NoError(t, err)
	assert.Equal(t, "list-after-c", plan.list)
	assert.True(t, plan.run.watermark.Equal(time.Date(2026, 1, 2, 5, 4, 5, 0, time.UTC)), "the run's watermark so far")
	assert.Equal(t, msgMark{"a3", time.Date(2026, 1, 2, 3, 7, 5, 0, time.UTC)}, plan.pending[0].newest, "newest first: the first message delivered")
	assert.Equal(t, "a1", plan.pending[0].pos.id, "the last message delivered")
	got.mu.Lock()
	assert.Equal(t, []convState{{id: "c", activity: time.Date(2026, 1, 2, 3, 34, 5, 0, time.UTC), signals: "2",
		record: recordDigest(&Conversation{ID: "c", LastMessageAt: time.Date(2026, 1, 2, 3, 34, 5, 0, time.UTC), MessageCount: 2}),
		newest: msgMark{"c2", time.Date(2026, 1, 2, 3, 6, 5, 0, time.UTC)}}}, got.states)
	got.mu.Unlock()
	assert.EqualValues(t, 2, plan.nextSeq)
	require.Len(t, plan.pending, 2)
	assert.Equal(t, "a", plan.pending[0].conv.ID)
	assert.True(t, plan.pending[0].delivered)
	assert.Equal(t, "ca", plan.pending[0].cursor)
	assert.Equal(t, []string{"x"}, plan.pending[0].conv.Tags)
	assert.True(t, plan.pending[0].conv.CreatedAt.Equal(time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)))
	assert.Equal(t, "b", plan.pending[1].conv.ID)
	assert.False(t, plan.pending[1].delivered)
	assert.Empty(t, plan.pending[1].cursor)
	require.NotNil(t, plan.pending[1].conv.Consent)
	assert.True(t, plan.pending[1].conv.Consent.OptedIn)

	// Marshalling again gives the same document.
	again, err := json.Marshal(&got)
	require.NoError(t, err)
	assert.JSONEq(t, string(b), string(again))
}

func TestCheckpointUnmarshalRejects(t *testing.T) {
	t.Parallel()
	for name, doc := range map[string]string{
		"not JSON":        `{`,
		"unknown version": `{"version":7,"provider":"rentalot"}`,
		"no version":      `{"provider":"rentalot"}`,
		"no provider":     `{"version":1,"list_cursor":"x"}`,
		"v1 with v2 data": `{"version":1,"provider":"rentalot","known":[{"id":"a"}]}`,
		"known twice":     `{"version":2,"provider":"rentalot","known":[{"id":"a"},{"id":"a"}]}`,
		"known no id":     `{"version":2,"provider":"rentalot","known":[{"newest":"m"}]}`,
		"bad record":      `{"version":3,"provider":"rentalot","known":[{"id":"a","record":"xyz"}]}`,
		"short record":    `{"version":3,"provider":"rentalot","known":[{"id":"a","record":"12ab"}]}`,
		"bad digests":     `{"version":3,"provider":"rentalot","known":[{"id":"a","digests":"!!"}]}`,
		"digests cut off": `{"version":3,"provider":"rentalot","known":[{"id":"a","digests":"AAAA"}]}`,
		"pending digests": `{"version":3,"provider":"rentalot","pending":[{"conversation":{"id":"a"},"digests":"AAAA"}]}`,
		"v1 refreshed":    `{"version":1,"provider":"rentalot","refreshed":"2026-01-01T00:00:00Z"}`,
	} {
		t.Run(name, func(t *testing.T) {
			var cp Checkpoint
			assert.Error(t, json.Unmarshal([]byte(doc), &cp))
		})
	}
}

func TestCheckpointBegin(t *testing.T) {
	t.Parallel()
	cp := checkpointWith(t)
	_, err := (&ledger{cp: cp, spec: &vobizDesc.change}).begin(runOptions{provider: "vobiz", startCursor: "", lookback: DefaultLookback, now: testNow})
	assert.ErrorIs(t, err, ErrInvalidParams, "another provider")
	_, err = (&ledger{cp: cp, spec: &rentalotDesc.change}).begin(runOptions{provider: "rentalot", startCursor: "some-cursor", lookback: DefaultLookback, now: testNow})
	assert.ErrorIs(t, err, ErrInvalidParams, "a start cursor with a used checkpoint")

	fresh := new(Checkpoint)
	plan, err := (&ledger{cp: fresh, spec: &vobizDesc.change}).begin(runOptions{provider: "vobiz", startCursor: "start-here", lookback: DefaultLookback, now: testNow})
	require.NoError(t, err)
	assert.Equal(t, "start-here", plan.list)
	assert.Equal(t, "vobiz", fresh.Provider())
}

func TestCheckpointFinish(t *testing.T) {
	t.Parallel()
	cp := checkpointWith(t)
	spec := &rentalotDesc.change
	book(cp).finish()
	assert.False(t, cp.Done(), "conversations are pending")

	a := &Conversation{ID: "a"}
	book(cp).commit(&syncEvent{seq: 0, batch: &ConversationSync{Conversation: a, Messages: make([]Message, 1), Done: true}, cursor: ""}, false)
	book(cp).commit(&syncEvent{seq: 1, batch: &ConversationSync{Conversation: &Conversation{ID: "b"}, Start: true, Done: true}, cursor: ""}, false)
	book(cp).finish()
	assert.False(t, cp.Done(), "the list has not been walked to its end")
	book(cp).listed(time.Time{})
	book(cp).finish()
	assert.True(t, cp.Done())
	assert.Empty(t, cp.Pending())
	assert.EqualValues(t, 3, cp.Conversations())
	assert.EqualValues(t, 6, cp.Messages())
	assert.Equal(t, 3, cp.Known())
	assert.True(t, cp.Watermark().Equal(time.Date(2026, 1, 2, 5, 4, 5, 0, time.UTC)), "the newest activity listed")

	// The next run is incremental, its window Lookback behind the watermark.
	plan, err := (&ledger{cp: cp, spec: spec}).begin(runOptions{provider: "rentalot", startCursor: "", lookback: time.Minute, now: testNow})
	require.NoError(t, err)
	assert.False(t, cp.Done())
	assert.True(t, plan.run.incremental)
	assert.True(t, plan.run.window.Equal(time.Date(2026, 1, 2, 5, 3, 5, 0, time.UTC)))
	assert.False(t, plan.run.since, "Rentalot has no since filter")
	assert.Empty(t, plan.list)
}

func TestCheckpointSetMetaRejectsInvalidJSON(t *testing.T) {
	t.Parallel()
	cp := new(Checkpoint)
	assert.Error(t, cp.SetMeta(json.RawMessage(`{"a":`)))
	assert.NoError(t, cp.SetMeta(nil))
}

func TestCheckpointSaveAndLoad(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	path := filepath.Join(dir, "sync.checkpoint")

	_, err := LoadCheckpoint(path)
	assert.ErrorIs(t, err, fs.ErrNotExist)

	cp := checkpointWith(t)
	require.NoError(t, cp.Save(path))
	got, err := LoadCheckpoint(path)
	require.NoError(t, err)
	assert.Equal(t, cp.Pending(), got.Pending())
	assert.Equal(t, cp.Messages(), got.Messages())
	assert.Equal(t, []string{"sync.checkpoint"}, dirNames(t, dir), "no temporary file is left behind")

	require.NoError(t, os.WriteFile(path, []byte("garbage"), 0o600))
	_, err = LoadCheckpoint(path)
	require.Error(t, err)
	assert.Contains(t, err.Error(), path)
}

func TestCheckpointSaveIsAtomic(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	path := filepath.Join(dir, "sync.checkpoint")
	cp := checkpointWith(t)
	require.NoError(t, cp.Save(path))
	before, err := os.ReadFile(path)
	require.NoError(t, err)

	// A save that dies half-way through writing leaves the previous
	// checkpoint in place and no temporary file.
	require.NoError(t, cp.SetMeta(json.RawMessage(`{"offset":4242}`)))
	b, err := json.Marshal(cp)
	require.NoError(t, err)
	halfThenFail := func(f *os.File, b []byte) error {
		if _, err := f.Write(b[:len(b)/2]); err != nil {
			return err
		}
		return errors.New("disk on fire")
	}
	err = writeFileAtomic(path, b, halfThenFail)
	require.Error(t, err)
	assert.Contains(t, err.Error(), "disk on fire")
	after, err := os.ReadFile(path)
	require.NoError(t, err)
	assert.Equal(t, before, after, "the previous checkpoint is intact")
	assert.Equal(t, []string{"sync.checkpoint"}, dirNames(t, dir))

	// A save into a directory that does not exist fails cleanly.
	assert.Error(t, cp.Save(filepath.Join(dir, "missing", "x.checkpoint")))
}

func TestCheckpointSaveConcurrentReaders(t *testing.T) {
	t.Parallel()
	// Readers never see a partial file while saves of varying sizes replace it.
	dir := t.TempDir()
	path := filepath.Join(dir, "sync.checkpoint")
	cp := new(Checkpoint)
	_, err := (&ledger{cp: cp, spec: &vobizDesc.change}).begin(runOptions{provider: "vobiz", startCursor: "", lookback: DefaultLookback, now: testNow})
	require.NoError(t, err)
	require.NoError(t, cp.Save(path))

	saves := 60 // the reader spins on a core meanwhile: a third of them when not Thorough
	if !Thorough() {
		saves = 20
	}
	stop := make(chan struct{})
	var wg sync.WaitGroup
	var readErr error
	var reads int
	wg.Add(1)
	go func() {
		defer wg.Done()
		for {
			select {
			case <-stop:
				return
			default:
			}
			if _, err := LoadCheckpoint(path); err != nil {
				readErr = err
				return
			}
			reads++
		}
	}()
	for i := range saves {
		conv := &Conversation{ID: fmt.Sprintf("c%d", i), Status: strings.Repeat("x", (i%7)*500)}
		book(cp).started(pendingConversation{seq: int64(i), conv: conv}, fmt.Sprintf("list-%d", i), time.Time{})
		require.NoError(t, cp.Save(path))
	}
	close(stop)
	wg.Wait()
	require.NoError(t, readErr)
	assert.Positive(t, reads)
	got, err := LoadCheckpoint(path)
	require.NoError(t, err)
	assert.Len(t, got.Pending(), saves)
	assert.Equal(t, []string{"sync.checkpoint"}, dirNames(t, dir))
}

func dirNames(t *testing.T, dir string) []string {
	t.Helper()
	entries, err := os.ReadDir(dir)
	require.NoError(t, err)
	var names []string
	for _, e := range entries {
		names = append(names, e.Name())
	}
	return names
}

// BenchmarkCheckpointMarshal measures the JSON round trip of a done
// checkpoint that knows 10,000 conversations, what a caller that stores the
// checkpoint with each batch pays per batch.
func BenchmarkCheckpointMarshal(b *testing.B) {
	cp := new(Checkpoint)
	spec := &agentMessageDesc.change
	if _, err := (&ledger{cp: cp, spec: spec}).begin(runOptions{provider: "agentmessage", startCursor: "", lookback: DefaultLookback, now: testNow}); err != nil {
		b.Fatal(err)
	}
	t0 := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	for i := range 10000 {
		conv := &Conversation{ID: fmt.Sprintf("conv_%06d", i), LastMessageAt: t0.Add(time.Duration(i) * time.Second), MessageCount: 100}
		book(cp).started(pendingConversation{seq: int64(i), conv: conv}, "", conv.LastMessageAt)
		book(cp).commit(&syncEvent{seq: int64(i), batch: &ConversationSync{Conversation: conv, Start: true, Done: true,
			Messages: []Message{{ID: fmt.Sprintf("msg_%06d_99", i), SentAt: conv.LastMessageAt}}}, cursor: ""}, false)
	}
	book(cp).listed(time.Time{})
	book(cp).finish()
	first, err := json.Marshal(cp)
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	b.SetBytes(int64(len(first)))
	b.ResetTimer()
	for range b.N {
		out, err := json.Marshal(cp)
		if err != nil {
			b.Fatal(err)
		}
		var back Checkpoint
		if err := json.Unmarshal(out, &back); err != nil {
			b.Fatal(err)
		}
	}
}

// FuzzCheckpointUnmarshal: whatever a checkpoint file holds, loading it
// never panics, and what loads marshals to a document that loads to the
// same document again.
func FuzzCheckpointUnmarshal(f *testing.F) {
	f.Add([]byte(`{"version":3,"provider":"vantaxai","done":true,"refreshed":"2026-01-01T00:00:00Z","recheck_span":86400000000000,"known":[{"id":"a","record":"00000000000000ff","anchor":"m1","digests":"AAAAAAAAAAEAAAAAAAAAAgAAAAM"}]}`))
	f.Add([]byte(`{"version":2,"provider":"agentmessage","done":true,"known":[{"id":"a","newest":"m","page":"p"}]}`))
	f.Add([]byte(`{"version":3,"provider":"rentalot","run":{"refresh":true,"recheck":"2026-01-01T00:00:00Z"},"pending":[{"conversation":{"id":"a"},"recheck":true,"digests":""}]}`))
	f.Fuzz(func(t *testing.T, b []byte) {
		var cp Checkpoint
		if json.Unmarshal(b, &cp) != nil {
			return
		}
		once, err := json.Marshal(&cp)
		require.NoError(t, err)
		var again Checkpoint
		require.NoError(t, json.Unmarshal(once, &again))
		twice, err := json.Marshal(&again)
		require.NoError(t, err)
		assert.JSONEq(t, string(once), string(twice))
	})
}
