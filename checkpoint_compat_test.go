package convo_test

import (
	"context"
	"crypto/sha256"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/convokit/convo"
	"github.com/convokit/convo/convotest"
)

// v1Data is the data the version-1 fixtures of testdata/checkpoint/ were
// made against: four AgentMessage conversations of five messages.
func v1Data() *convotest.Dataset {
	t0 := time.Date(2026, 3, 1, 9, 0, 0, 0, time.UTC)
	d := convotest.NewDataset()
	for c := range 4 {
		id := fmt.Sprintf("conv_v1_%c", 'a'+c)
		var msgs []convo.Message
		for i := range 5 {
			msgs = append(msgs, convo.Message{ID: fmt.Sprintf("%s_m%d", id, i), Direction: convo.Inbound, Body: "hi", SentAt: t0.Add(time.Duration(c*10+i) * time.Minute)})
		}
		d.AddConversation(convo.Conversation{ID: id, ContactNumber: fmt.Sprintf("+1555000000%d", c), LastMessageAt: t0.Add(time.Duration(c*10+4) * time.Minute)}, msgs...)
	}
	return d
}

// TestCheckpointVersion1Resumes loads a checkpoint saved by the previous
// format in the middle of a sync and resumes it: what it delivered before
// plus what the resumed sync delivers is the data, each item once.
func TestCheckpointVersion1Resumes(t *testing.T) {
	t.Parallel()
	cp, err := convo.LoadCheckpoint(filepath.Join("testdata", "checkpoint", "v1_interrupted.json"))
	require.NoError(t, err)
	assert.Equal(t, "agentmessage", cp.Provider())
	assert.False(t, cp.Done())
	assert.Equal(t, []string{"conv_v1_b", "conv_v1_c"}, cp.Pending())
	assert.EqualValues(t, 1, cp.Conversations())
	assert.EqualValues(t, 7, cp.Messages())
	var meta struct{ Delivered []string }
	require.NoError(t, json.Unmarshal(cp.Meta(), &meta))

	srv, client := newServer(t, convo.AgentMessage, convotest.WithData(v1Data()))
	seen := map[string]int{}
	for _, id := range meta.Delivered {
		seen[id]++
	}
	for b, err := range client.Sync(context.Background(), &convo.SyncParams{Checkpoint: cp, MessagePageSize: 2}) {
		require.NoError(t, err)
		if b.Start {
			seen[b.Conversation.ID]++
		}
		for _, m := range b.Messages {
			seen[m.ID]++
		}
	}
	assert.True(t, cp.Done())
	want := 0
	for _, c := range srv.Dataset().Conversations {
		want++
		assert.Equal(t, 1, seen[c.Conversation.ID], c.Conversation.ID)
		for _, m := range c.Messages {
			want++
			assert.Equal(t, 1, seen[m.ID], m.ID)
		}
	}
	assert.Len(t, seen, want)

	// A sync it completed cannot continue incrementally: it is refused, not
	// run as a full re-walk delivering everything again.
	assertLegacyRefused(t, srv, client, cp)
}

// TestCheckpointVersion1Done loads a completed checkpoint of the previous
// format: it reads back as done with its counts, and an incremental sync
// with it is refused with a clear error before any request.
func TestCheckpointVersion1Done(t *testing.T) {
	t.Parallel()
	cp, err := convo.LoadCheckpoint(filepath.Join("testdata", "checkpoint", "v1_done.json"))
	require.NoError(t, err)
	assert.True(t, cp.Done())
	assert.EqualValues(t, 4, cp.Conversations())
	assert.EqualValues(t, 20, cp.Messages())
	assert.Zero(t, cp.Known())

	// Saved again, it stays what it is.
	path := filepath.Join(t.TempDir(), "cp")
	require.NoError(t, cp.Save(path))
	b, err := os.ReadFile(path)
	require.NoError(t, err)
	assert.Contains(t, string(b), `"version":3`)
	cp, err = convo.LoadCheckpoint(path)
	require.NoError(t, err)

	srv, client := newServer(t, convo.AgentMessage, convotest.WithData(v1Data()))
	assertLegacyRefused(t, srv, client, cp)
}

func assertLegacyRefused(t *testing.T, srv *convotest.Server, client *convo.Client, cp *convo.Checkpoint) {
	t.Helper()
	srv.ResetRequests()
	var errs []error
	for b, err := range client.Sync(context.Background(), &convo.SyncParams{Checkpoint: cp}) {
		assert.Nil(t, b)
		errs = append(errs, err)
	}
	require.Len(t, errs, 1)
	assert.ErrorIs(t, errs[0], convo.ErrInvalidParams)
	assert.Contains(t, errs[0].Error(), "version 1")
	assert.Empty(t, srv.Requests(), "nothing was sent")
	assert.True(t, cp.Done(), "the checkpoint is left as it was")
}

// TestCheckpointRoundTripsEverything saves a checkpoint in the middle of
// an incremental sync and loads it: the JSON of the loaded one is the same
// document, and resuming from either delivers the same.
func TestCheckpointRoundTripsEverything(t *testing.T) {
	t.Parallel()
	clock := &incClock{t: incBase}
	srv, client := newServer(t, convo.AgentMessage, convotest.WithData(incData(convo.AgentMessage, clock, 6, 30)))
	cp := new(convo.Checkpoint)
	st := newIncStore()
	incSync(t, client, st, &convo.SyncParams{MessagePageSize: 10, Checkpoint: cp}, nil)
	require.NoError(t, srv.AddMessages("c002", incMessages(clock, "c002", 30, 25)...))
	require.NoError(t, srv.AddMessages("c004", incMessages(clock, "c004", 30, 25)...))
	incSync(t, client, st, &convo.SyncParams{MessagePageSize: 10, Concurrency: 1, Checkpoint: cp}, func(n int, _ *convo.ConversationSync) (bool, bool) {
		return n == 2, true
	})
	require.False(t, cp.Done())
	require.NotEmpty(t, cp.Pending())

	b, err := json.Marshal(cp)
	require.NoError(t, err)
	for _, key := range []string{`"watermark"`, `"run"`, `"incremental":true`, `"window"`, `"since":true`, `"known"`, `"newest"`, `"pending"`} {
		assert.Contains(t, string(b), key)
	}
	var loaded convo.Checkpoint
	require.NoError(t, json.Unmarshal(b, &loaded))
	again, err := json.Marshal(&loaded)
	require.NoError(t, err)
	assert.JSONEq(t, string(b), string(again))
	assert.Equal(t, cp.Pending(), loaded.Pending())
	assert.Equal(t, cp.Known(), loaded.Known())
	assert.True(t, cp.Watermark().Equal(loaded.Watermark()))

	incSync(t, client, st, &convo.SyncParams{MessagePageSize: 10, Checkpoint: &loaded}, nil)
	assert.True(t, loaded.Done())
	st.check(t, srv.Dataset())
}

// TestCheckpointSizePerConversation measures the checkpoint of a finished
// sync per conversation, whatever the length of the histories: the bound
// the Checkpoint documentation states.
func TestCheckpointSizePerConversation(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		p     convo.Provider
		bound int // bytes per conversation, beside its ids
	}{{convo.Vobiz, 130}, {convo.VantaxAI, 190}, {convo.Rentalot, 190}, {convo.AgentMessage, 280}} {
		t.Run(tt.p.Name(), func(t *testing.T) {
			t.Parallel()
			size := func(perConv int) (perConversation int, ids int) {
				clock := &incClock{t: incBase}
				d := incData(tt.p, clock, 20, perConv)
				srv := convotest.NewServer(tt.p, convotest.WithData(d))
				defer srv.Close()
				client, err := srv.Client(convo.WithMaxPacingWait(0))
				require.NoError(t, err)
				cp := new(convo.Checkpoint)
				for _, err := range client.Sync(context.Background(), &convo.SyncParams{Checkpoint: cp, MessagePageSize: 100}) {
					require.NoError(t, err)
				}
				b, err := json.Marshal(cp)
				require.NoError(t, err)
				for _, c := range d.Conversations {
					ids += len(c.Conversation.ID) + len(c.Messages[len(c.Messages)-1].ID) // its id, and its newest message's
				}
				return len(b) / 20, ids / 20
			}
			// A history ten times as long when Thorough, three times otherwise.
			longRun := 1500
			if !convo.Thorough() {
				longRun = 450
			}
			short, ids := size(150)
			long, _ := size(longRun)
			t.Logf("%s: %d bytes per conversation (150 messages each), %d (%d messages each), of which ids %d", tt.p.Name(), short, long, longRun, ids)
			assert.LessOrEqual(t, long-ids, tt.bound, "bounded per conversation")
			assert.LessOrEqual(t, long, short+8, "the same whatever the history's length (but for a few digits)")
		})
	}
}

// TestIncrementalSyncLookback delivers a message the server wrote with a
// timestamp behind the watermark (a lagging write), inside the lookback
// window, and sends AgentMessage's since as the window's start.
func TestIncrementalSyncLookback(t *testing.T) {
	t.Parallel()
	for _, p := range []convo.Provider{convo.VantaxAI, convo.AgentMessage, convo.Rentalot} {
		t.Run(p.Name(), func(t *testing.T) {
			clock := &incClock{t: incBase}
			srv, client := newServer(t, p, convotest.WithData(incData(p, clock, 10, 20)))
			cp := new(convo.Checkpoint)
			st := newIncStore()
			incSync(t, client, st, &convo.SyncParams{Checkpoint: cp}, nil)
			w := cp.Watermark()
			require.True(t, w.Equal(clock.t))

			// c003's last activity is long before the watermark; a message
			// it gets now carries a time 2 minutes behind the watermark.
			late := convo.Message{ID: "late", Direction: convo.Inbound, Body: "late", SentAt: w.Add(-2 * time.Minute)}
			require.NoError(t, srv.AddMessages("c003", late))
			srv.ResetRequests()
			starts := incSync(t, client, st, &convo.SyncParams{Checkpoint: cp, Lookback: 3 * time.Minute}, nil)
			assert.Equal(t, []string{"c003"}, starts)
			assert.Equal(t, 1, st.msgs["late"], "delivered: inside the lookback")
			st.check(t, srv.Dataset())
			if p == convo.AgentMessage {
				since := srv.Requests()[0].Query().Get("since")
				at, err := time.Parse(time.RFC3339Nano, since)
				require.NoError(t, err, "since=%q", since)
				assert.True(t, at.Equal(w.Add(-3*time.Minute)), "since is the watermark minus the lookback")
			}
			assert.True(t, cp.Watermark().Equal(w), "the watermark is the newest activity shown, not the clock")
		})
	}
}

func TestIncrementalSyncCallerSince(t *testing.T) {
	t.Parallel()
	clock := &incClock{t: incBase}
	srv, client := newServer(t, convo.AgentMessage, convotest.WithData(incData(convo.AgentMessage, clock, 10, 20)))
	since := incBase.Add(time.Minute)
	params := &convo.SyncParams{Checkpoint: new(convo.Checkpoint), Conversations: convo.ConversationListParams{Since: since}}
	for _, err := range client.Sync(context.Background(), params) {
		require.NoError(t, err)
	}
	srv.ResetRequests()
	for _, err := range client.Sync(context.Background(), params) {
		require.NoError(t, err)
	}
	reqs := srv.Requests()
	require.Len(t, reqs, 1, "nothing new: one list request")
	assert.Equal(t, since.Format(time.RFC3339), reqs[0].Query().Get("since"), "the caller's since is kept")
}

func TestSyncRefusesNegativeLookback(t *testing.T) {
	t.Parallel()
	srv, client := syncServer(t, convo.VantaxAI)
	n := 0
	for b, err := range client.Sync(context.Background(), &convo.SyncParams{Lookback: -time.Second}) {
		n++
		assert.Nil(t, b)
		assert.ErrorIs(t, err, convo.ErrInvalidParams)
		assert.Contains(t, err.Error(), "lookback")
	}
	assert.Equal(t, 1, n)
	assert.Empty(t, srv.Requests())
}

// upgradeBase is the time of the first message of the data the format-2
// checkpoint fixtures (testdata/checkpoint/v2_*.json) were written from.
var upgradeBase = time.Date(2026, 11, 2, 8, 0, 0, 0, time.UTC)

// upgradeData is the data of the format-2 fixtures: three conversations of
// 60 messages each, a minute apart, newest activity first, with the fields
// of provider p (a status and delivery statuses to change later).
func upgradeData(p convo.Provider) *convotest.Dataset {
	d := convotest.NewDataset()
	for i := 2; i >= 0; i-- {
		id := fmt.Sprintf("up%d", i)
		c := incConversation(p, id)
		c.CreatedAt, c.Tags = upgradeBase, []string{"lead"}
		if p == convo.AgentMessage {
			c.ContactNumber, c.Status, c.Tags = "+1555010"+fmt.Sprint(i), "", nil
			c.Consent = &convo.Consent{OptedIn: true, OptedInAt: upgradeBase}
		}
		var msgs []convo.Message
		for j := range 60 {
			at := upgradeBase.Add(time.Duration(i*60+j) * time.Minute)
			m := convo.Message{ID: fmt.Sprintf("%s-m%03d", id, j), Direction: convo.Inbound, Body: fmt.Sprintf("message %d of %s", j, id), SentAt: at}
			if j%2 == 1 {
				m.Direction = convo.Outbound
			}
			switch p {
			case convo.Vobiz, convo.VantaxAI:
				m.Status = "delivered"
			}
			msgs = append(msgs, m)
		}
		d.AddConversation(withActivity(p, c, msgs), msgs...)
	}
	return d
}

// upgradeData is pinned: the format-2 fixtures were written from it, so a
// change to it is a change to them. TestCheckpointVersion2FirstRefresh
// alone would not see every such change: it expects every conversation once
// more in any case, so a conversation's changed status passes it.
func TestUpgradeDataPinned(t *testing.T) {
	t.Parallel()
	want := map[string]string{
		"vobiz":        "e9d90ae246f55f6e5188dcfb1faca1d1b28e253a8b865eec99ba2ad936062bac",
		"vantaxai":     "508684c945cb43de51d04e8f754a472199ba4a1829caa85470c84485ef116aea",
		"rentalot":     "5ba151ae33bb4ed433a71e0cb4adcbb422f9fff99bf036a4495b93b29400eecc",
		"agentmessage": "ab16926c71c4a13d30837222d19ad28e0036ddd279895343fce434355625802b",
	}
	for _, p := range convo.Providers() {
		b, err := json.Marshal(upgradeData(p))
		require.NoError(t, err)
		assert.Equal(t, want[p.Name()], fmt.Sprintf("%x", sha256.Sum256(b)),
			"%s: testdata/checkpoint/v2_%[1]s.json was written from upgradeData; change both together", p.Name())
	}
}

// TestCheckpointVersion2FirstRefresh loads, for each provider, a checkpoint
// written by the previous release (format 2) after a full sync of
// upgradeData, changes the data (a conversation's record, a message's
// record, new messages) and runs the first incremental sync: it is a
// refresh, and it loses no change — every conversation comes once more
// with its current record, the messages of the window come in Updated
// (the changed one with its new record), the new messages come in
// Messages and no other message does. The next refresh delivers nothing.
func TestCheckpointVersion2FirstRefresh(t *testing.T) {
	t.Parallel()
	for _, p := range convo.Providers() {
		t.Run(p.Name(), func(t *testing.T) {
			t.Parallel()
			cp, err := convo.LoadCheckpoint(filepath.Join("testdata", "checkpoint", "v2_"+p.Name()+".json"))
			require.NoError(t, err)
			require.True(t, cp.Done())
			assert.Equal(t, 3, cp.Known())
			assert.True(t, cp.Refreshed().IsZero(), "format 2 records no refresh")
			assert.True(t, cp.RefreshDue(time.Hour), "its first incremental sync is a refresh")
			assert.False(t, cp.RefreshDue(-1), "unless refresh is off")

			srv, client := newServer(t, p, convotest.WithData(upgradeData(p)), convotest.WithRateLimit(-1))
			// The consumer holds what the previous release delivered.
			r := newReplica(t)
			convs, msgs := truth(t, client)
			for id, c := range convs {
				r.convs[id] = c
			}
			for id, m := range msgs {
				r.msgs[id], r.delivered[id] = m, 1
			}

			require.NoError(t, srv.ChangeConversation("up1", func(c *convo.Conversation) { changeOf[p.Name()](c, 1) }))
			changeMessage(t, srv, "up2", "up2-m055", 1)
			at := upgradeBase.Add(5 * time.Hour)
			fresh := []convo.Message{{ID: "up0-new1", Direction: convo.Inbound, Body: "new", SentAt: at}, {ID: "up0-new2", Direction: convo.Outbound, Body: "new", SentAt: at.Add(time.Second)}}
			require.NoError(t, srv.AddMessages("up0", fresh...))

			// The window reaches back over the whole data.
			recheck := time.Since(upgradeBase) + time.Hour
			r.lenient = true
			r.sync(client, &convo.SyncParams{Checkpoint: cp, Recheck: recheck}, nil)
			require.True(t, cp.Done())
			r.check(client, upgradeBase, "after the first refresh")
			assert.ElementsMatch(t, []string{"up0", "up1", "up2"}, r.starts, "every conversation once more")
			assert.Contains(t, r.updated, "up2-m055", "the changed message")
			assert.Equal(t, 2, len(r.delivered)-len(msgs), "the new messages, and no other, in Messages")
			assert.Equal(t, 1, r.delivered["up0-new1"])

			// From now on, only changes.
			r.lenient, r.starts, r.updated = false, nil, nil
			r.sync(client, &convo.SyncParams{Checkpoint: cp, Recheck: recheck, Refresh: refreshNow}, nil)
			assert.Empty(t, r.starts)
			assert.Empty(t, r.updated)
			changeMessage(t, srv, "up1", "up1-m010", 3)
			r.sync(client, &convo.SyncParams{Checkpoint: cp, Recheck: recheck, Refresh: refreshNow}, nil)
			assert.Equal(t, []string{"up1-m010"}, r.updated)
		})
	}
}
