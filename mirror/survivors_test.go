package mirror

import (
	"reflect"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/convokit/convo"
)

// Every conversation filter is part of the default sync name, so that
// two syncs that differ in one filter only never share a state (one would
// lose the other's data): each filter field of ConversationListParams,
// set alone, gives a name of its own, also a field added later.
func TestDefaultNameHoldsEveryParamsField(t *testing.T) {
	t.Parallel()
	notFilters := map[string]bool{"PageSize": true, "Cursor": true}
	yes := true
	typ := reflect.TypeOf(convo.ConversationListParams{})
	names := map[string]string{DefaultName(convo.Rentalot, nil): "no filter"}
	for i := range typ.NumField() {
		f := typ.Field(i)
		if notFilters[f.Name] {
			continue
		}
		var p convo.ConversationListParams
		v := reflect.ValueOf(&p).Elem().Field(i)
		switch f.Type {
		case reflect.TypeOf(""):
			v.SetString("x1")
		case reflect.TypeOf(time.Time{}):
			v.Set(reflect.ValueOf(time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)))
		case reflect.TypeOf(&yes):
			v.Set(reflect.ValueOf(&yes))
		default:
			t.Fatalf("filter %s of type %s: teach this test its value", f.Name, f.Type)
		}
		name := DefaultName(convo.Rentalot, &p)
		prev, dup := names[name]
		assert.False(t, dup, "filter %s gives the name %q of %s", f.Name, name, prev)
		names[name] = f.Name
	}
	// Rentalot's contact filter, the case that lost data: two syncs, one
	// name each.
	a := DefaultName(convo.Rentalot, &convo.ConversationListParams{ContactID: "ct_1"})
	b := DefaultName(convo.Rentalot, &convo.ConversationListParams{ContactID: "ct_2"})
	assert.NotEqual(t, a, b)
	assert.Equal(t, "rentalot?contact_id=ct_1", a)
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

// The state-only flush at the end of a sync (the checkpoint marked done,
// no rows left to write) is written: with FlushRows 1 every row is
// written as it comes, so the last transaction holds only the state, and
// the next run must find the sync done (an incremental run).
func TestFinalStateOnlyFlushWritten(t *testing.T) {
	t.Parallel()
	eachBackend(t, func(t *testing.T, b backend) {
		t.Parallel()
		_, client, _, m := mirrorOf(t, b, convo.VantaxAI)
		st, err := m.Sync(ctxT(t), client, &Options{FlushRows: 1})
		require.NoError(t, err)
		require.True(t, st.Done)
		cp, ok, err := m.State(ctxT(t), "vantaxai")
		require.NoError(t, err)
		require.True(t, ok)
		assert.True(t, cp.Done(), "the stored state is done")
	})
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
