package convo_test

import (
	"context"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/convokit/convo"
	"github.com/convokit/convo/convotest"
)

// Tests of refresh and recheck: changes that move no activity field reach
// the consumer, at the cost the documentation states.

// refreshClock hands out message times just before the client's clock,
// later than everything before: new messages of a server that keeps time.
type refreshClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *refreshClock) next() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	now := time.Now().UTC().Truncate(time.Millisecond).Add(-time.Second)
	if !now.After(c.t) {
		now = c.t.Add(time.Millisecond)
	}
	c.t = now
	return now
}

// refreshData is convs conversations of perConv messages each, spread
// evenly over the span before now (so that most are older than a recheck
// window shorter than span), newest activity first, with the fields of
// provider p that change in place.
func refreshData(p convo.Provider, convs, perConv int, span time.Duration) *convotest.Dataset {
	now := time.Now().UTC().Truncate(time.Second).Add(-time.Minute)
	step := span / time.Duration(perConv)
	d := convotest.NewDataset()
	for i := range convs {
		id := fmt.Sprintf("r%03d", i)
		c := incConversation(p, id)
		c.Tags = []string{"lead"}
		if p == convo.AgentMessage {
			c.Consent = &convo.Consent{OptedIn: true, OptedInAt: now.Add(-span)}
		}
		msgs := make([]convo.Message, perConv)
		for j := range msgs {
			at := now.Add(-span + time.Duration(j+1)*step - time.Duration(i)*time.Hour)
			msgs[j] = convo.Message{ID: fmt.Sprintf("%s-m%04d", id, j), Direction: convo.Inbound, Body: fmt.Sprintf("message %d", j), SentAt: at}
			if j%2 == 1 {
				msgs[j].Direction = convo.Outbound
			}
			if p == convo.Vobiz || p == convo.VantaxAI {
				msgs[j].Status = "sent"
			}
		}
		d.AddConversation(withActivity(p, c, msgs), msgs...)
	}
	return d
}

// replica is what a consumer that keeps a copy does: it upserts Start
// records, Messages and Updated by id. It checks what the sync promises
// of each batch as it goes.
type replica struct {
	t         *testing.T
	convs     map[string]convo.Conversation
	msgs      map[string]convo.Message
	delivered map[string]int // message id -> times in Messages
	updated   []string       // message ids in Updated, in order
	starts    []string       // conversation ids of Start batches, in order
	lenient   bool           // Updated may repeat a record (the first refresh of a checkpoint of an earlier format)
}

func newReplica(t *testing.T) *replica {
	return &replica{t: t, convs: map[string]convo.Conversation{}, msgs: map[string]convo.Message{}, delivered: map[string]int{}}
}

func (r *replica) apply(b *convo.ConversationSync) {
	t := r.t
	t.Helper()
	id := b.Conversation.ID
	if b.Start {
		r.convs[id] = *b.Conversation
		r.starts = append(r.starts, id)
	}
	_, known := r.convs[id]
	require.True(t, known, "conversation %s: a batch before its record", id)
	for _, m := range b.Messages {
		r.delivered[m.ID]++
		if r.delivered[m.ID] != 1 {
			assert.Equal(t, 1, r.delivered[m.ID], "message %s in Messages once", m.ID)
		}
		r.msgs[m.ID] = m
	}
	for _, m := range b.Updated {
		was, ok := r.msgs[m.ID]
		require.True(t, ok, "Updated message %s was delivered before", m.ID)
		if !r.lenient {
			assert.NotEqual(t, jsonOf(t, was), jsonOf(t, m), "Updated message %s has a real change", m.ID)
		}
		r.msgs[m.ID] = m
		r.updated = append(r.updated, m.ID)
	}
}

func jsonOf(t *testing.T, v any) string {
	t.Helper()
	b, err := json.Marshal(v)
	require.NoError(t, err)
	return string(b)
}

// sync runs one sync into the replica; stop, when set, is asked after each
// batch whether to break (and whether the body committed it first).
func (r *replica) sync(c *convo.Client, p *convo.SyncParams, stop func(n int) (halt, keep bool)) {
	t := r.t
	t.Helper()
	n := 0
	for b, err := range c.Sync(context.Background(), p) {
		require.NoError(t, err)
		n++
		if stop != nil {
			if halt, keep := stop(n); halt {
				if keep {
					r.apply(b)
					b.Commit()
				}
				return
			}
		}
		r.apply(b)
	}
}

// truth reads the fake's data through the SDK: the records and messages a
// copy must hold.
func truth(t *testing.T, c *convo.Client) (map[string]convo.Conversation, map[string]convo.Message) {
	t.Helper()
	ctx := context.Background()
	convs, msgs := map[string]convo.Conversation{}, map[string]convo.Message{}
	for conv, err := range c.Conversations.List(ctx, nil).All() {
		require.NoError(t, err)
		convs[conv.ID] = conv
		for m, err := range c.Messages.List(ctx, conv.ID, nil).All() {
			require.NoError(t, err)
			msgs[m.ID] = m
		}
	}
	return convs, msgs
}

// check asserts that the replica equals the truth: every record, every
// message, and the record of every message sent since window.
func (r *replica) check(c *convo.Client, window time.Time, what string) {
	t := r.t
	t.Helper()
	convs, msgs := truth(t, c)
	assert.Equal(t, len(convs), len(r.convs), "%s: conversations", what)
	for id, want := range convs {
		if got, ok := r.convs[id]; assert.True(t, ok, "%s: conversation %s", what, id) {
			if a, b := jsonOf(t, want), jsonOf(t, got); a != b {
				assert.Equal(t, a, b, "%s: conversation %s is its current record", what, id)
			}
		}
	}
	assert.Equal(t, len(msgs), len(r.msgs), "%s: messages", what)
	for id, want := range msgs {
		got, ok := r.msgs[id]
		if !ok {
			assert.True(t, ok, "%s: message %s", what, id)
			continue
		}
		if !want.SentAt.Before(window) {
			if a, b := jsonOf(t, want), jsonOf(t, got); a != b {
				assert.Equal(t, a, b, "%s: message %s (inside the window) is its current record", what, id)
			}
		}
	}
}

// changeOf is a change of a conversation's record that moves no activity
// field, for each provider.
var changeOf = map[string]func(c *convo.Conversation, n int){
	"vobiz":        func(c *convo.Conversation, n int) { c.Status = []string{"open", "closed"}[n%2] },
	"vantaxai":     func(c *convo.Conversation, n int) { c.Tags, c.UnreadCount = []string{"lead", fmt.Sprint("t", n)}, 0 },
	"rentalot":     func(c *convo.Conversation, n int) { c.Status = []string{"active", "archived"}[n%2] },
	"agentmessage": func(c *convo.Conversation, n int) { c.Consent = &convo.Consent{OptedIn: n%2 == 0} },
}

// changeMessage changes a message's record as provider p documents: a
// delivery status, or (AgentMessage) a redaction; Rentalot documents none,
// its free-form metadata changes.
func changeMessage(t *testing.T, srv *convotest.Server, conv, id string, n int) {
	t.Helper()
	switch srv.Provider() {
	case convo.AgentMessage:
		require.NoError(t, srv.RedactMessage(conv, id, time.Now().UTC().Truncate(time.Second).Add(time.Duration(n)*time.Hour)))
	case convo.Rentalot:
		require.NoError(t, srv.ChangeMessage(conv, id, func(m *convo.Message) { m.Metadata = json.RawMessage(fmt.Sprintf(`{"n":%d}`, n)) }))
	default:
		require.NoError(t, srv.ChangeMessage(conv, id, func(m *convo.Message) { m.Status = []string{"delivered", "read"}[n%2] }))
	}
}

// refreshNow makes a sync a refresh: the last one is always older than
// a nanosecond.
const refreshNow = time.Nanosecond

// TestRefreshDeliversChanges changes conversations and messages without
// moving an activity field: an incremental sync that is not a refresh does
// not see them (Vobiz, which lists everything anyway, sees the
// conversations), a refresh delivers each once (Start with the current
// record; Updated for the messages inside the recheck window, not those
// before it), and the next refresh delivers nothing.
func TestRefreshDeliversChanges(t *testing.T) {
	t.Parallel()
	for _, p := range convo.Providers() {
		t.Run(p.Name(), func(t *testing.T) {
			t.Parallel()
			srv, client := newServer(t, p, convotest.WithData(refreshData(p, 6, 200, 20*24*time.Hour)), convotest.WithRateLimit(-1))
			cp := new(convo.Checkpoint)
			r := newReplica(t)
			r.sync(client, &convo.SyncParams{Checkpoint: cp}, nil)
			require.True(t, cp.Done())
			assert.False(t, cp.Refreshed().IsZero(), "a full sync counts as a refresh")
			assert.Equal(t, p == convo.Vobiz, cp.RefreshDue(0), "an hour has not passed (Vobiz refreshes on every run)")
			assert.True(t, cp.RefreshDue(refreshNow))
			assert.False(t, cp.RefreshDue(-1))

			d := srv.Dataset()
			c2, _ := d.Conversation("r002")
			inside, outside := c2.Messages[len(c2.Messages)-3].ID, c2.Messages[10].ID
			require.NoError(t, srv.ChangeConversation("r001", func(c *convo.Conversation) { changeOf[p.Name()](c, 1) }))
			changeMessage(t, srv, "r002", inside, 1)
			changeMessage(t, srv, "r002", outside, 1)

			// Not a refresh: the list is read down to the watermark only.
			r.starts = nil
			r.sync(client, &convo.SyncParams{Checkpoint: cp, Refresh: -1}, nil)
			if p == convo.Vobiz {
				assert.Equal(t, []string{"r001"}, r.starts, "Vobiz lists every conversation: the change is seen")
			} else {
				assert.Empty(t, r.starts, "no activity moved: not seen without a refresh")
			}
			assert.Empty(t, r.updated, "no recheck without a refresh")

			r.starts = nil
			srv.ResetRequests()
			before := cp.Refreshed()
			r.sync(client, &convo.SyncParams{Checkpoint: cp, Refresh: refreshNow}, nil)
			require.True(t, cp.Done())
			if p == convo.Vobiz {
				assert.Equal(t, before, cp.Refreshed(), "Vobiz refreshes on every run: the full sync's time stays")
			} else {
				assert.True(t, cp.Refreshed().After(before), "the refresh is recorded")
			}
			if p == convo.Vobiz {
				assert.Equal(t, []string{"r002"}, r.starts, "the conversation with a changed message")
			} else {
				assert.ElementsMatch(t, []string{"r001", "r002"}, r.starts, "the changed conversation, and the one with a changed message")
			}
			assert.Equal(t, []string{inside}, r.updated, "the message inside the window, once; not the one before it")
			assert.EqualValues(t, 1, cp.Updated())
			r.check(client, time.Now().Add(-convo.DefaultRecheck), "after the refresh")
			got := r.msgs[outside]
			assert.NotEqual(t, jsonOf(t, got), jsonOf(t, mustMessage(t, client, "r002", outside)), "a change before the window is not seen")

			// Nothing changed since: a refresh delivers nothing.
			r.starts, r.updated = nil, nil
			r.sync(client, &convo.SyncParams{Checkpoint: cp, Refresh: refreshNow}, nil)
			assert.Empty(t, r.starts)
			assert.Empty(t, r.updated)
		})
	}
}

func mustMessage(t *testing.T, c *convo.Client, conv, id string) convo.Message {
	t.Helper()
	for m, err := range c.Messages.List(context.Background(), conv, nil).All() {
		require.NoError(t, err)
		if m.ID == id {
			return m
		}
	}
	t.Fatalf("no message %s", id)
	return convo.Message{}
}

// TestRefreshRandomized changes the fake at random, round after round (new
// messages and conversations, records changed in place, messages changed
// inside and before the window), and syncs, as a refresh or not, sometimes
// interrupted and resumed through JSON. After each refresh the replica
// equals the fake's truth (every record; every message, and the record of
// those inside the window); no message comes twice in Messages and no
// Updated entry comes without a real change (the replica checks each
// batch).
func TestRefreshRandomized(t *testing.T) {
	t.Parallel()
	rounds := 8
	if convo.Thorough() {
		rounds = 40
	}
	for i, p := range convo.Providers() {
		t.Run(p.Name(), func(t *testing.T) {
			t.Parallel()
			rng := rand.New(rand.NewPCG(21, uint64(i)))
			clock := &refreshClock{}
			hook := &hookSwitch{}
			srv, client := newServer(t, p, convotest.WithData(refreshData(p, 5, 120, 5*24*time.Hour)), convotest.WithRateLimit(-1), convotest.WithRequestHook(hook.call))
			pageSize := []int{0, 7}[rng.IntN(2)] // small pages: windows across pages
			cp := new(convo.Checkpoint)
			r := newReplica(t)
			r.sync(client, &convo.SyncParams{Checkpoint: cp, MessagePageSize: pageSize}, nil)
			added := 0
			for round := range rounds {
				for range 1 + rng.IntN(4) {
					randomChange(t, rng, srv, clock, &added)
				}
				refresh := rng.IntN(2) == 0
				params := &convo.SyncParams{Checkpoint: cp, MessagePageSize: pageSize, Concurrency: 1 + rng.IntN(3), Refresh: -1}
				if refresh {
					params.Refresh = refreshNow
				}
				// Sometimes the data changes during the run, at its k-th
				// request: this run or the next delivers it.
				during := rng.IntN(3) == 0
				if during {
					k, seen, n := 1+rng.IntN(6), 0, round*100+rng.IntN(100)
					var mu sync.Mutex
					pick := randomChangeDuring(rng, srv.Dataset())
					hook.set(func(convotest.Request) {
						mu.Lock()
						defer mu.Unlock()
						if seen++; seen == k {
							assert.NoError(t, pick(srv, clock, n))
						}
					})
				}
				if rng.IntN(3) == 0 {
					stopAt, keep := 1+rng.IntN(4), rng.IntN(2) == 0
					r.sync(client, params, func(n int) (bool, bool) { return n == stopAt, keep })
					b, err := json.Marshal(cp)
					require.NoError(t, err)
					cp = new(convo.Checkpoint)
					require.NoError(t, json.Unmarshal(b, cp))
					params.Checkpoint = cp
				}
				r.sync(client, params, nil)
				require.True(t, cp.Done(), "round %d", round)
				hook.set(nil)
				if during { // what changed during the run comes with the next
					params := &convo.SyncParams{Checkpoint: cp, MessagePageSize: pageSize, Refresh: params.Refresh}
					r.sync(client, params, nil)
				}
				what := fmt.Sprintf("round %d (refresh %v, page size %d, a change during the run %v)", round, refresh, pageSize, during)
				if refresh {
					r.check(client, time.Now().Add(-convo.DefaultRecheck), what)
					continue
				}
				_, msgs := truth(t, client)
				for id := range msgs {
					_, ok := r.msgs[id]
					assert.True(t, ok, "%s: message %s delivered", what, id)
				}
			}
		})
	}
}

// randomChange makes one random change to the fake's data.
func randomChange(t *testing.T, rng *rand.Rand, srv *convotest.Server, clock *refreshClock, added *int) {
	t.Helper()
	d := srv.Dataset()
	c := d.Conversations[rng.IntN(len(d.Conversations))]
	id := c.Conversation.ID
	newMessages := func(conv string) []convo.Message {
		msgs := make([]convo.Message, 1+rng.IntN(3))
		for i := range msgs {
			*added++
			msgs[i] = convo.Message{ID: fmt.Sprintf("%s-n%04d", conv, *added), Direction: convo.Inbound, Body: "new", SentAt: clock.next(), Status: "sent"}
		}
		return msgs
	}
	switch rng.IntN(5) {
	case 0:
		require.NoError(t, srv.AddMessages(id, newMessages(id)...))
	case 1:
		n := rng.IntN(100)
		require.NoError(t, srv.ChangeConversation(id, func(c *convo.Conversation) { changeOf[srv.Provider().Name()](c, n) }))
	case 2: // a message inside the window
		var inside []string
		for _, m := range c.Messages {
			if time.Since(m.SentAt) < 20*time.Hour {
				inside = append(inside, m.ID)
			}
		}
		if len(inside) > 0 {
			changeMessage(t, srv, id, inside[rng.IntN(len(inside))], rng.IntN(100))
		}
	case 3: // any message, most before the window
		changeMessage(t, srv, id, c.Messages[rng.IntN(len(c.Messages))].ID, rng.IntN(100))
	case 4:
		*added++
		conv := fmt.Sprintf("x%03d", *added)
		cv := incConversation(srv.Provider(), conv)
		require.NoError(t, srv.AddConversation(cv, newMessages(conv)...))
	}
}

// TestRefreshInterrupted interrupts a refresh that has changes to deliver
// in every way a consumer meets — a break without Commit, a break after
// Commit, a cancelled context, a crash after saving the checkpoint (the
// process ends: the next one loads the file) — then resumes it: every
// change arrives, none twice, nothing is lost, and the run after it
// delivers nothing.
func TestRefreshInterrupted(t *testing.T) {
	t.Parallel()
	type interrupt func(t *testing.T, srv *convotest.Server, client *convo.Client, r *replica, cp *convo.Checkpoint, path string) *convo.Checkpoint
	smallPages := func(cp *convo.Checkpoint) *convo.SyncParams {
		return &convo.SyncParams{Checkpoint: cp, Refresh: refreshNow, MessagePageSize: 3, Concurrency: 1}
	}
	cases := map[string]interrupt{
		"break": func(t *testing.T, _ *convotest.Server, client *convo.Client, r *replica, cp *convo.Checkpoint, _ string) *convo.Checkpoint {
			r.sync(client, smallPages(cp), func(n int) (bool, bool) { return n == 2, false })
			return cp
		},
		"break after commit": func(t *testing.T, _ *convotest.Server, client *convo.Client, r *replica, cp *convo.Checkpoint, _ string) *convo.Checkpoint {
			r.sync(client, smallPages(cp), func(n int) (bool, bool) { return n == 2, true })
			return cp
		},
		"cancel": func(t *testing.T, _ *convotest.Server, client *convo.Client, r *replica, cp *convo.Checkpoint, _ string) *convo.Checkpoint {
			ctx, cancel := context.WithCancel(context.Background())
			n := 0
			for b, err := range client.Sync(ctx, smallPages(cp)) {
				if err != nil {
					assert.ErrorIs(t, err, context.Canceled)
					break
				}
				r.apply(b)
				if n++; n == 2 {
					cancel()
				}
			}
			cancel()
			return cp
		},
		"break after commit, cursors expire": func(t *testing.T, srv *convotest.Server, client *convo.Client, r *replica, cp *convo.Checkpoint, _ string) *convo.Checkpoint {
			// The resumed pass's cursor is refused (Vobiz, AgentMessage): it
			// reads its conversation again, and what it delivered before
			// the break does not come again.
			r.sync(client, smallPages(cp), func(n int) (bool, bool) { return n == 2, true })
			srv.ExpireCursors()
			return cp
		},
		"crash after save": func(t *testing.T, _ *convotest.Server, client *convo.Client, r *replica, cp *convo.Checkpoint, path string) *convo.Checkpoint {
			n := 0
			for b, err := range client.Sync(context.Background(), smallPages(cp)) {
				require.NoError(t, err)
				r.apply(b)
				b.Commit()
				require.NoError(t, cp.Save(path))
				if n++; n == 3 {
					break // the process dies here: what it applied was saved with the checkpoint
				}
			}
			loaded, err := convo.LoadCheckpoint(path)
			require.NoError(t, err)
			return loaded
		},
	}
	for _, p := range convo.Providers() {
		for name, stop := range cases {
			t.Run(p.Name()+"/"+name, func(t *testing.T) {
				t.Parallel()
				srv, client := newServer(t, p, convotest.WithData(refreshData(p, 4, 60, 3*24*time.Hour)), convotest.WithRateLimit(-1))
				cp := new(convo.Checkpoint)
				r := newReplica(t)
				r.sync(client, &convo.SyncParams{Checkpoint: cp}, nil)
				d := srv.Dataset()
				var want []string
				for i, c := range d.Conversations {
					require.NoError(t, srv.ChangeConversation(c.Conversation.ID, func(c *convo.Conversation) { changeOf[p.Name()](c, 1) }))
					for _, j := range []int{len(c.Messages) - 1, len(c.Messages) - 4} {
						changeMessage(t, srv, c.Conversation.ID, c.Messages[j].ID, i+1)
						want = append(want, c.Messages[j].ID)
					}
				}
				cp = stop(t, srv, client, r, cp, filepath.Join(t.TempDir(), "checkpoint.json"))
				require.False(t, cp.Done(), "interrupted")
				r.sync(client, smallPages(cp), nil)
				require.True(t, cp.Done())
				r.check(client, time.Now().Add(-convo.DefaultRecheck), "after the resumed refresh")
				for _, id := range want {
					assert.Contains(t, r.updated, id)
				}
				n := len(r.updated)
				r.sync(client, smallPages(cp), nil)
				assert.Len(t, r.updated, n, "nothing more")
			})
		}
	}
}

// TestRefreshWiderRecheck raises Recheck after a full sync: the first
// refresh with the wider window loses no change inside it, though the
// starting points were kept for the narrower one (those messages of the
// wider window without a digest may come once more).
func TestRefreshWiderRecheck(t *testing.T) {
	t.Parallel()
	for _, p := range convo.Providers() {
		t.Run(p.Name(), func(t *testing.T) {
			t.Parallel()
			d := refreshData(p, 2, 300, 30*24*time.Hour) // a message every 2.4 hours
			srv, client := newServer(t, p, convotest.WithData(d), convotest.WithRateLimit(-1))
			cp := new(convo.Checkpoint)
			r := newReplica(t)
			r.sync(client, &convo.SyncParams{Checkpoint: cp, Recheck: 3 * time.Hour}, nil)
			c, _ := d.Conversation("r000")
			var changed string
			for _, m := range c.Messages {
				if age := time.Since(m.SentAt); age > 15*time.Hour && age < 20*time.Hour {
					changed = m.ID
				}
			}
			require.NotEmpty(t, changed)
			changeMessage(t, srv, "r000", changed, 1)
			r.lenient = true
			r.sync(client, &convo.SyncParams{Checkpoint: cp, Recheck: 24 * time.Hour, Refresh: refreshNow}, nil)
			assert.Contains(t, r.updated, changed)
			r.check(client, time.Now().Add(-24*time.Hour), "after the wider refresh")

			// From then on, the wider window's changes come exactly.
			r.lenient, r.updated = false, nil
			changeMessage(t, srv, "r000", changed, 2)
			r.sync(client, &convo.SyncParams{Checkpoint: cp, Recheck: 24 * time.Hour, Refresh: refreshNow}, nil)
			assert.Equal(t, []string{changed}, r.updated)
		})
	}
}

// TestRefreshRecordChangeCostsNoMessageRead: a conversation whose record
// changed and whose messages are all older than the window comes again
// with no message request (Vobiz reads each conversation's newest page on
// every run anyway).
func TestRefreshRecordChangeCostsNoMessageRead(t *testing.T) {
	t.Parallel()
	for _, p := range convo.Providers() {
		t.Run(p.Name(), func(t *testing.T) {
			t.Parallel()
			d := refreshData(p, 3, 50, 20*24*time.Hour)
			// Every message older than the window.
			for i := range d.Conversations {
				c := &d.Conversations[i]
				for j := range c.Messages {
					c.Messages[j].SentAt = c.Messages[j].SentAt.Add(-30 * 24 * time.Hour)
				}
				last := c.Messages[len(c.Messages)-1].SentAt
				c.Conversation.LastMessageAt, c.Conversation.UpdatedAt = last, last
			}
			srv, client := newServer(t, p, convotest.WithData(d), convotest.WithRateLimit(-1))
			cp := new(convo.Checkpoint)
			r := newReplica(t)
			r.sync(client, &convo.SyncParams{Checkpoint: cp}, nil)
			require.NoError(t, srv.ChangeConversation("r001", func(c *convo.Conversation) { changeOf[p.Name()](c, 1) }))
			srv.ResetRequests()
			r.starts = nil
			r.sync(client, &convo.SyncParams{Checkpoint: cp, Refresh: refreshNow}, nil)
			assert.Equal(t, []string{"r001"}, r.starts)
			cost := costOf(t, srv)
			assert.Equal(t, 1, cost.list)
			if p == convo.Vobiz {
				assert.Equal(t, 3, cost.messages(), "Vobiz: each conversation's newest page")
			} else {
				assert.Zero(t, cost.messages(), "no message request")
			}
			r.check(client, time.Now().Add(-convo.DefaultRecheck), "after the refresh")
		})
	}
}

// randomChangeDuring picks a change to make while a sync runs (from a
// request hook: it reports errors instead of failing the test): a new
// message, a record changed in place, or a message changed inside the
// window.
func randomChangeDuring(rng *rand.Rand, d *convotest.Dataset) func(srv *convotest.Server, clock *refreshClock, n int) error {
	c := d.Conversations[rng.IntN(len(d.Conversations))]
	id := c.Conversation.ID
	var inside string
	for _, m := range c.Messages {
		if time.Since(m.SentAt) < 20*time.Hour {
			inside = m.ID
		}
	}
	kind := rng.IntN(3)
	return func(srv *convotest.Server, clock *refreshClock, n int) error {
		switch {
		case kind == 0 || inside == "":
			return srv.AddMessages(id, convo.Message{ID: fmt.Sprintf("%s-d%04d", id, n), Direction: convo.Inbound, Body: "during", SentAt: clock.next()})
		case kind == 1:
			return srv.ChangeConversation(id, func(c *convo.Conversation) { changeOf[srv.Provider().Name()](c, n) })
		case srv.Provider() == convo.AgentMessage:
			return srv.RedactMessage(id, inside, time.Now().UTC().Truncate(time.Second).Add(time.Duration(n)*time.Hour))
		case srv.Provider() == convo.Rentalot:
			return srv.ChangeMessage(id, inside, func(m *convo.Message) { m.Metadata = json.RawMessage(fmt.Sprintf(`{"d":%d}`, n)) })
		default:
			return srv.ChangeMessage(id, inside, func(m *convo.Message) { m.Status = fmt.Sprint("s", n) })
		}
	}
}

// TestRefreshWiderRecheckMovesTheStartBack: after a wider window moved
// the start of an oldest-first list's recheck back (to the first page, or
// to the list's start when every message is inside the window), the next
// refresh starts there, not at the place kept for the narrower window,
// which lies inside the wider one.
func TestRefreshWiderRecheckMovesTheStartBack(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		p       convo.Provider
		wide    time.Duration
		changed string
	}{
		{convo.AgentMessage, 11 * 24 * time.Hour, "r000-m0195"}, // messages 190 to 299: the start on the first page
		{convo.AgentMessage, 40 * 24 * time.Hour, "r000-m0010"}, // every message: the list's start
		{convo.VantaxAI, 40 * 24 * time.Hour, "r000-m0010"},
	} {
		t.Run(fmt.Sprint(tt.p.Name(), "/", tt.wide), func(t *testing.T) {
			t.Parallel()
			d := refreshData(tt.p, 1, 300, 30*24*time.Hour) // message j is (299-j)×2.4 hours old
			srv, client := newServer(t, tt.p, convotest.WithData(d))
			cp := new(convo.Checkpoint)
			r := newReplica(t)
			r.sync(client, &convo.SyncParams{Checkpoint: cp, Recheck: 3 * time.Hour}, nil) // starts kept near the end
			r.lenient = true
			r.sync(client, &convo.SyncParams{Checkpoint: cp, Recheck: tt.wide, Refresh: refreshNow}, nil)
			r.lenient, r.updated = false, nil
			changeMessage(t, srv, "r000", tt.changed, 1)
			r.sync(client, &convo.SyncParams{Checkpoint: cp, Recheck: tt.wide, Refresh: refreshNow}, nil)
			assert.Equal(t, []string{tt.changed}, r.updated)
		})
	}
}
