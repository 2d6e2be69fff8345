package convo_test

import (
	"context"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"net/url"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/convokit/convo"
	"github.com/convokit/convo/convotest"
)

// incBase is the time of the first message of the incremental-sync data.
var incBase = time.Date(2026, 5, 1, 8, 0, 0, 0, time.UTC)

// incClock hands out message times later than everything before, as a
// server's clock does.
type incClock struct{ t time.Time }

func (c *incClock) next() time.Time {
	c.t = c.t.Add(time.Second)
	return c.t
}

// incConversation is a conversation of provider p with its fields, made
// at incBase.
func incConversation(p convo.Provider, id string) convo.Conversation {
	c := convo.Conversation{ID: id, ContactID: "contact-" + id, Status: "open", CreatedAt: incBase}
	switch p {
	case convo.VantaxAI:
		c.Channel = "sms"
	case convo.Rentalot:
		c.Channel, c.Status = "sms", "active"
	case convo.AgentMessage:
		c.ContactNumber, c.PhoneNumber, c.PhoneNumberID = "+1555"+id, "+15550000000", "pn_1"
	}
	return c
}

func incMessages(clock *incClock, conv string, from, n int) []convo.Message {
	msgs := make([]convo.Message, n)
	for i := range msgs {
		dir := convo.Inbound
		if (from+i)%2 == 1 {
			dir = convo.Outbound
		}
		msgs[i] = convo.Message{ID: fmt.Sprintf("%s-m%04d", conv, from+i), Direction: dir, Body: "message", SentAt: clock.next()}
	}
	return msgs
}

// incData is convs conversations of perConv messages each, newest
// activity first, as a provider lists them.
func incData(p convo.Provider, clock *incClock, convs, perConv int) *convotest.Dataset {
	d := convotest.NewDataset()
	var all []convotest.ConversationData
	for i := range convs {
		id := fmt.Sprintf("c%03d", i)
		conv := incConversation(p, id)
		msgs := incMessages(clock, id, 0, perConv)
		conv.LastMessageAt, conv.MessageCount, conv.UpdatedAt = msgs[len(msgs)-1].SentAt, len(msgs), msgs[len(msgs)-1].SentAt
		all = append(all, convotest.ConversationData{Conversation: conv, Messages: msgs})
	}
	slices.Reverse(all)
	d.Conversations = all
	return d
}

// incStore is what a consumer keeps: every record and message delivered,
// and how many times.
type incStore struct {
	records  map[string]convo.Conversation
	deliverd map[string]int // conversation id -> Start batches
	msgs     map[string]int // message id -> deliveries
	msgConv  map[string]string
	batches  int
	starts   []string
	removed  map[string]bool // messages delivered, then removed from the data
}

func newIncStore() *incStore {
	return &incStore{records: map[string]convo.Conversation{}, deliverd: map[string]int{}, msgs: map[string]int{}, msgConv: map[string]string{}, removed: map[string]bool{}}
}

func (s *incStore) apply(t *testing.T, b *convo.ConversationSync) {
	t.Helper()
	s.batches++
	id := b.Conversation.ID
	if b.Start {
		s.records[id] = *b.Conversation
		s.deliverd[id]++
		s.starts = append(s.starts, id)
	}
	_, seen := s.records[id]
	require.True(t, seen, "conversation %s: a batch before its record", id)
	for _, m := range b.Messages {
		s.msgs[m.ID]++
		s.msgConv[m.ID] = id
		assert.Equal(t, 1, s.msgs[m.ID], "message %s delivered once", m.ID)
	}
}

// check asserts that the store holds exactly the dataset: every message
// once, no other, each conversation's latest record.
func (s *incStore) check(t *testing.T, d *convotest.Dataset) {
	t.Helper()
	want := 0
	for _, c := range d.Conversations {
		rec, ok := s.records[c.Conversation.ID]
		if !assert.True(t, ok, "conversation %s delivered", c.Conversation.ID) {
			continue
		}
		if !c.Conversation.LastMessageAt.IsZero() && !rec.LastMessageAt.IsZero() {
			assert.True(t, rec.LastMessageAt.Equal(c.Conversation.LastMessageAt), "conversation %s: the latest record (%v, want %v)", c.Conversation.ID, rec.LastMessageAt, c.Conversation.LastMessageAt)
		}
		for _, m := range c.Messages {
			want++
			// Compared first and asserted only when they differ: tens of
			// thousands of messages, and an assertion costs a stack walk.
			if n := s.msgs[m.ID]; n != 1 {
				assert.Equal(t, 1, n, "message %s delivered exactly once", m.ID)
			}
			if got := s.msgConv[m.ID]; got != c.Conversation.ID {
				assert.Equal(t, c.Conversation.ID, got, "message %s in its conversation", m.ID)
			}
		}
	}
	assert.Equal(t, want+len(s.removed), len(s.msgs), "no message outside the data")
	assert.Equal(t, len(d.Conversations), len(s.records), "no conversation outside the data")
}

// incSync runs one sync to its end and returns the Start batches'
// conversation ids in order. stop, when set, sees each batch (numbered
// from 1) before the store: it may halt the loop there, storing and
// committing that batch first (keep) or not.
func incSync(t *testing.T, c *convo.Client, s *incStore, p *convo.SyncParams, stop func(n int, b *convo.ConversationSync) (halt, keep bool)) []string {
	t.Helper()
	before := len(s.starts)
	n := 0
	for b, err := range c.Sync(context.Background(), p) {
		require.NoError(t, err)
		n++
		if stop != nil {
			if halt, keep := stop(n, b); halt {
				if keep {
					s.apply(t, b)
					b.Commit()
				}
				break
			}
		}
		s.apply(t, b)
	}
	return slices.Clone(s.starts[before:])
}

// incCost is the requests of a run: list pages, and message pages per
// conversation.
type incCost struct {
	list int
	msgs map[string]int
}

func (c incCost) messages() int {
	n := 0
	for _, v := range c.msgs {
		n += v
	}
	return n
}

func (c incCost) String() string {
	return fmt.Sprintf("%d list + %d message requests", c.list, c.messages())
}

func costOf(t *testing.T, srv *convotest.Server) incCost {
	t.Helper()
	c := incCost{msgs: map[string]int{}}
	u, err := url.Parse(srv.URL())
	require.NoError(t, err)
	for _, r := range srv.Requests() {
		rel := strings.TrimPrefix(r.Path, u.Path)
		switch {
		case rel == "/conversations":
			c.list++
		case strings.HasPrefix(rel, "/conversations/") && strings.HasSuffix(rel, "/messages"):
			id, err := url.PathUnescape(strings.TrimSuffix(strings.TrimPrefix(rel, "/conversations/"), "/messages"))
			require.NoError(t, err)
			c.msgs[id]++
		default:
			t.Errorf("unexpected request %s", r.Path)
		}
	}
	return c
}

// listPages is the number of list requests needed to reach n conversations
// of the list with pages of size (0: one page).
func listPages(n, size int) int {
	if size == 0 {
		return 1
	}
	return n/size + 1
}

func pagesFor(n, size int) int { return (n + size - 1) / size }

// hookSwitch lets a test install the fake's request hook after the fact.
type hookSwitch struct {
	mu sync.Mutex
	fn func(convotest.Request)
}

func (h *hookSwitch) set(fn func(convotest.Request)) {
	h.mu.Lock()
	h.fn = fn
	h.mu.Unlock()
}

func (h *hookSwitch) call(r convotest.Request) {
	h.mu.Lock()
	fn := h.fn
	h.mu.Unlock()
	if fn != nil {
		fn(r)
	}
}

// TestIncrementalSync runs, for each provider against a fake with live
// data (30 conversations of 200 messages), a full sync and then a series
// of changes and incremental syncs: nothing new; new messages in some
// conversations and a new conversation; activity during the sync; an
// interrupted incremental sync resumed from a saved checkpoint; a stored
// position the server refuses. After every step the union of what was
// delivered is the data, each message exactly once, and each run's
// requests stay within the bounds of the change.
func TestIncrementalSync(t *testing.T) {
	t.Parallel()
	const convs, perConv, pageSize = 30, 200, 50
	for _, p := range convo.Providers() {
		t.Run(p.Name(), func(t *testing.T) {
			t.Parallel()
			clock := &incClock{t: incBase}
			hook := &hookSwitch{}
			srv := convotest.NewServer(p, convotest.WithData(incData(p, clock, convs, perConv)), convotest.WithRequestHook(hook.call))
			defer srv.Close()
			client, err := srv.Client(convo.WithMaxRetries(0), convo.WithMaxPacingWait(0))
			require.NoError(t, err)
			dir := t.TempDir()
			cpPath := filepath.Join(dir, "sync.checkpoint")
			cp := new(convo.Checkpoint)
			params := func() *convo.SyncParams {
				return &convo.SyncParams{MessagePageSize: pageSize, Concurrency: 3, Checkpoint: cp}
			}
			st := newIncStore()
			listSize := map[string]int{"vobiz": 0, "vantaxai": 20, "rentalot": 20, "agentmessage": 50}[p.Name()]

			// Full sync.
			srv.ResetRequests()
			starts := incSync(t, client, st, params(), nil)
			require.True(t, cp.Done())
			st.check(t, srv.Dataset())
			assert.Len(t, starts, convs)
			full := costOf(t, srv)
			fullPages := pagesFor(perConv, pageSize)
			if p == convo.Rentalot {
				fullPages++ // a full last page: the end shows on the next, empty one
			}
			assert.Equal(t, convs*fullPages, full.messages(), "full sync: every page of every conversation")
			t.Logf("%s full sync: %v", p.Name(), full)
			if p != convo.Vobiz {
				assert.False(t, cp.Watermark().IsZero(), "the watermark is the newest activity listed")
				assert.True(t, cp.Watermark().Equal(clock.t), "the newest activity the server showed: %v, want %v", cp.Watermark(), clock.t)
			}
			require.NoError(t, cp.Save(cpPath))

			// Nothing new: one list request (Vobiz: plus one message page per
			// conversation), nothing delivered.
			nothingNew := func(step string) { incNothingNew(t, srv, client, st, params(), step) }
			nothingNew("nothing new")

			// New messages in three conversations (a few, more than a page,
			// more than two pages) and a new conversation.
			ids := []string{"c003", "c017", "c029"}
			added := map[string]int{"c003": 5, "c017": 60, "c029": 120}
			for _, id := range ids {
				require.NoError(t, srv.AddMessages(id, incMessages(clock, id, perConv, added[id])...))
			}
			newConv := incConversation(p, "c900")
			require.NoError(t, srv.AddConversation(newConv, incMessages(clock, "c900", 0, 70)...))
			added["c900"] = 70
			srv.ResetRequests()
			starts = incSync(t, client, st, params(), nil)
			assert.ElementsMatch(t, append(slices.Clone(ids), "c900"), starts, "exactly the changed and new conversations, each once")
			st.check(t, srv.Dataset())
			c := costOf(t, srv)
			t.Logf("%s 3 changed + 1 new (5, 60, 120, 70 messages): %v", p.Name(), c)
			assert.Equal(t, listPages(4, listSize), c.list, "list pages down to the watermark")
			for id, n := range added {
				assert.LessOrEqual(t, c.msgs[id], pagesFor(n, pageSize)+1, "conversation %s: its new pages plus at most one", id)
			}
			others := c.messages()
			for id := range added {
				others -= c.msgs[id]
			}
			if p == convo.Vobiz {
				assert.Equal(t, convs-len(ids), others, "Vobiz: one page for each unchanged conversation")
			} else {
				assert.Zero(t, others, "unchanged conversations are not read")
			}
			assert.Less(t, c.messages(), full.messages()/3, "far from a re-walk")
			nothingNew("nothing new again")

			// Activity during the sync: while the incremental sync reads, new
			// messages arrive in a conversation it has read and in one it
			// has not; this run or the next delivers them.
			require.NoError(t, srv.AddMessages("c010", incMessages(clock, "c010", perConv, 30)...))
			require.NoError(t, srv.AddMessages("c020", incMessages(clock, "c020", perConv, 30)...))
			var fired atomic.Bool
			hook.set(func(r convotest.Request) {
				if strings.HasSuffix(r.Path, "/messages") && fired.CompareAndSwap(false, true) {
					assert.NoError(t, srv.AddMessages("c010", incMessages(clock, "c010", perConv+30, 7)...))
					assert.NoError(t, srv.AddMessages("c005", incMessages(clock, "c005", perConv, 3)...))
				}
			})
			incSync(t, client, st, params(), nil)
			hook.set(nil)
			require.True(t, fired.Load())
			incSync(t, client, st, params(), nil) // picks up what arrived during the last one
			st.check(t, srv.Dataset())
			nothingNew("after activity during the sync")

			// An interrupted incremental sync: the consumer saves the
			// checkpoint from the loop body and dies after a few batches; a
			// new process loads it and resumes.
			for _, id := range []string{"c001", "c002", "c008", "c013", "c021"} {
				require.NoError(t, srv.AddMessages(id, incMessages(clock, id, perConv, 80)...))
			}
			srvSave := func() {
				meta, _ := json.Marshal(map[string]int{"batches": st.batches})
				require.NoError(t, cp.SetMeta(meta))
				require.NoError(t, cp.Save(cpPath))
			}
			srvSave()
			// The store is kept durable with the checkpoint: what it held at
			// the last save is what survives the crash.
			snapshot := cloneStore(st)
			incSync(t, client, st, &convo.SyncParams{MessagePageSize: pageSize, Concurrency: 2, Checkpoint: cp}, func(n int, b *convo.ConversationSync) (bool, bool) {
				if n == 3 { // the checkpoint covers the two batches before this one
					srvSave()
					snapshot = cloneStore(st)
				}
				return n == 5, false // dies before storing this batch
			})
			st = snapshot
			cp, err = convo.LoadCheckpoint(cpPath)
			require.NoError(t, err)
			require.False(t, cp.Done(), "interrupted")
			incSync(t, client, st, params(), nil)
			require.True(t, cp.Done())
			st.check(t, srv.Dataset())
			nothingNew("after the interrupted sync")

			// A stored position the server refuses: an expired cursor
			// (AgentMessage, Vobiz) or a starting_after it no longer knows
			// (VantaxAI). The conversation is re-read from its start,
			// skipping what was delivered.
			switch p {
			case convo.AgentMessage, convo.Vobiz:
				srv.ExpireCursors()
			case convo.VantaxAI:
				d := srv.Dataset()
				conv, _ := d.Conversation("c004")
				last := conv.Messages[len(conv.Messages)-1].ID
				require.NoError(t, srv.RemoveMessages("c004", last))
				st.removed[last] = true
			}
			require.NoError(t, srv.AddMessages("c004", incMessages(clock, "c004", perConv, 12)...))
			if p == convo.Vobiz {
				// A Vobiz position is stored only mid-conversation: interrupt
				// a pass, then expire its cursor.
				require.NoError(t, srv.AddMessages("c006", incMessages(clock, "c006", perConv, 130)...))
				incSync(t, client, st, &convo.SyncParams{MessagePageSize: pageSize, Concurrency: 1, Checkpoint: cp}, func(n int, b *convo.ConversationSync) (bool, bool) {
					return b.Conversation.ID == "c006" && !b.Done, true
				})
				require.Contains(t, cp.Pending(), "c006")
				srv.ExpireCursors()
			}
			srv.ResetRequests()
			incSync(t, client, st, params(), nil)
			require.True(t, cp.Done())
			st.check(t, srv.Dataset())
			if p != convo.Rentalot {
				// The stored position was refused, and the conversation read
				// again from its start. (A request the interrupted run had in
				// flight may reach the server late and be refused too.)
				refused, reread := refusedAndReread(srv, "/c004/", "/c006/")
				assert.GreaterOrEqual(t, refused, 1, "the stored position was refused")
				assert.GreaterOrEqual(t, reread, 1, "the conversation was read again from its start")
			}
			nothingNew("after a refused position")
		})
	}
}

// incNothingNew runs an incremental sync with nothing new on the server:
// one list request (Vobiz: plus one message page per conversation),
// nothing delivered.
func incNothingNew(t *testing.T, srv *convotest.Server, client *convo.Client, st *incStore, params *convo.SyncParams, step string) {
	t.Helper()
	p := srv.Provider()
	srv.ResetRequests()
	before := st.batches
	incSync(t, client, st, params, nil)
	assert.Equal(t, before, st.batches, "%s: nothing new, nothing delivered", step)
	assert.True(t, params.Checkpoint.Done())
	c := costOf(t, srv)
	n := len(srv.Dataset().Conversations)
	if p == convo.Vobiz {
		assert.Equal(t, 1, c.list, step)
		assert.Equal(t, n, c.messages(), "%s: one message page per conversation", step)
		for id, k := range c.msgs {
			assert.Equal(t, 1, k, "%s: conversation %s", step, id)
		}
	} else {
		assert.Equal(t, 1, c.list, "%s: one list request", step)
		assert.Zero(t, c.messages(), "%s: no message request", step)
	}
	t.Logf("%s %s: %v", p.Name(), step, c)
}

// refusedAndReread counts the requests the server refused as a bad
// position, and the message requests of the conversations at the given
// paths that read from the start.
func refusedAndReread(srv *convotest.Server, paths ...string) (refused, reread int) {
	for _, r := range srv.Requests() {
		if r.Status == 400 || r.Status == 422 {
			refused++
		}
		q := r.Query()
		if slices.ContainsFunc(paths, func(p string) bool { return strings.Contains(r.Path, p) }) &&
			q.Get("cursor") == "" && q.Get("starting_after") == "" {
			reread++
		}
	}
	return refused, reread
}

func cloneStore(s *incStore) *incStore {
	c := newIncStore()
	for k, v := range s.records {
		c.records[k] = v
	}
	for k, v := range s.deliverd {
		c.deliverd[k] = v
	}
	for k, v := range s.msgs {
		c.msgs[k] = v
	}
	for k, v := range s.msgConv {
		c.msgConv[k] = v
	}
	for k, v := range s.removed {
		c.removed[k] = v
	}
	c.batches = s.batches
	c.starts = slices.Clone(s.starts)
	return c
}

// TestIncrementalSyncRandomized runs many rounds of random changes
// (messages added to random conversations, new conversations, changes
// while a sync runs) and incremental syncs, some interrupted at a random
// batch and resumed from a checkpoint that went through JSON. After each
// round that ran to its end without concurrent changes, the union of the
// deliveries is the data, each message exactly once.
func TestIncrementalSyncRandomized(t *testing.T) {
	t.Parallel()
	rounds := 12
	if !convo.Thorough() {
		rounds = 5
	}
	for _, p := range convo.Providers() {
		t.Run(p.Name(), func(t *testing.T) {
			seed := uint64(20260501)
			rng := rand.New(rand.NewPCG(seed, uint64(len(p.Name()))))
			clock := &incClock{t: incBase}
			hook := &hookSwitch{}
			var mu sync.Mutex // the clock and rng are shared with the hook
			srv := convotest.NewServer(p, convotest.WithData(incData(p, clock, 15, 60)), convotest.WithRequestHook(hook.call),
				convotest.WithPageSize(25))
			defer srv.Close()
			client, err := srv.Client(convo.WithMaxRetries(0), convo.WithMaxPacingWait(0))
			require.NoError(t, err)
			cp := new(convo.Checkpoint)
			st := newIncStore()
			incSync(t, client, st, &convo.SyncParams{MessagePageSize: 20, Checkpoint: cp}, nil)
			st.check(t, srv.Dataset())
			next := 100
			deadline := time.Now().Add(60 * time.Second)
			for round := range rounds {
				require.True(t, time.Now().Before(deadline), "bounded in time")
				mu.Lock()
				d := srv.Dataset()
				for range rng.IntN(5) {
					id := d.Conversations[rng.IntN(len(d.Conversations))].Conversation.ID
					conv, _ := d.Conversation(id)
					n := rng.IntN(70)
					require.NoError(t, srv.AddMessages(id, incMessages(clock, id, 1000+len(conv.Messages)+next, n)...))
					next += n
				}
				if rng.IntN(3) == 0 {
					id := fmt.Sprintf("n%03d", round)
					require.NoError(t, srv.AddConversation(incConversation(p, id), incMessages(clock, id, 0, rng.IntN(50)+1)...))
				}
				during := rng.IntN(3) == 0
				mu.Unlock()
				if during {
					var fired atomic.Bool
					hook.set(func(r convotest.Request) {
						if fired.CompareAndSwap(false, true) {
							mu.Lock()
							defer mu.Unlock()
							id := d.Conversations[rng.IntN(len(d.Conversations))].Conversation.ID
							assert.NoError(t, srv.AddMessages(id, incMessages(clock, id, 5000+next, 9)...))
							next += 9
						}
					})
				}
				params := &convo.SyncParams{MessagePageSize: 20, Concurrency: 1 + rng.IntN(4), Checkpoint: cp}
				if stopAt := rng.IntN(8); stopAt > 0 && rng.IntN(2) == 0 {
					// Interrupted: the consumer keeps what it committed, the
					// checkpoint goes through JSON, the sync resumes.
					keep := rng.IntN(2) == 0
					incSync(t, client, st, params, func(n int, b *convo.ConversationSync) (bool, bool) {
						return n == stopAt, keep
					})
					b, err := json.Marshal(cp)
					require.NoError(t, err)
					cp = new(convo.Checkpoint)
					require.NoError(t, json.Unmarshal(b, cp))
					params.Checkpoint = cp
				}
				incSync(t, client, st, params, nil)
				hook.set(nil)
				require.True(t, cp.Done(), "round %d", round)
				if !during {
					st.check(t, srv.Dataset())
				}
			}
			// A last run with no changes leaves nothing behind.
			incSync(t, client, st, &convo.SyncParams{MessagePageSize: 20, Checkpoint: cp}, nil)
			st.check(t, srv.Dataset())
		})
	}
}

// TestIncrementalSyncConversationMovingDuringTheWalk changes 21
// conversations (more than a VantaxAI list page), then, while the walk
// reads its second page, gives new activity to the one changed first,
// which sat on that page: it moves to the front, already read. The run
// still delivers everything that existed when it started, that
// conversation included, by reading the head of the list again.
func TestIncrementalSyncConversationMovingDuringTheWalk(t *testing.T) {
	clock := &incClock{t: incBase}
	hook := &hookSwitch{}
	srv := convotest.NewServer(convo.VantaxAI, convotest.WithData(incData(convo.VantaxAI, clock, 30, 10)), convotest.WithRequestHook(hook.call))
	defer srv.Close()
	client, err := srv.Client(convo.WithMaxRetries(0))
	require.NoError(t, err)
	cp := new(convo.Checkpoint)
	st := newIncStore()
	// VantaxAI's default list page (20), so that 21 conversations take two.
	params := &convo.SyncParams{Checkpoint: cp, Conversations: convo.ConversationListParams{PageSize: 20}}
	incSync(t, client, st, params, nil)
	st.check(t, srv.Dataset())

	for i := range 21 {
		id := fmt.Sprintf("c%03d", i)
		require.NoError(t, srv.AddMessages(id, incMessages(clock, id, 10, 1)...))
	}
	atStart := srv.Dataset()
	var fired atomic.Bool
	hook.set(func(r convotest.Request) {
		if strings.HasSuffix(r.Path, "/conversations") && r.Query().Get("starting_after") != "" && fired.CompareAndSwap(false, true) {
			assert.NoError(t, srv.AddMessages("c000", incMessages(clock, "c000", 11, 1)...))
		}
	})
	srv.ResetRequests()
	incSync(t, client, st, params, nil)
	hook.set(nil)
	require.True(t, fired.Load())
	for _, c := range atStart.Conversations {
		for _, m := range c.Messages {
			assert.Equal(t, 1, st.msgs[m.ID], "message %s existed when the run started", m.ID)
		}
	}
	assert.Equal(t, 1, st.msgs["c000-m0011"], "the activity during the walk comes with it")
	assert.Equal(t, 3, costOf(t, srv).list, "two pages down to the watermark, and the head again")
	st.check(t, srv.Dataset())
}

// An incremental walk of a list ordered by activity goes on through a
// conversation whose activity is exactly its window's edge (the
// watermark minus the lookback): only older activity ends it. With
// whole-second timestamps the equality is a real case. Here a
// conversation appears after the first run with its activity on the
// edge; the incremental run must deliver it.
func TestIncrementalSyncWalksThroughTheLookbackEdge(t *testing.T) {
	t.Parallel()
	const lookback = 10 * time.Minute
	newest := incBase.Add(time.Hour)
	edge := newest.Add(-lookback)
	for _, p := range []convo.Provider{convo.VantaxAI, convo.Rentalot} { // by activity, no since parameter
		t.Run(p.Name(), func(t *testing.T) {
			t.Parallel()
			d := convotest.NewDataset()
			conv := func(id string, last time.Time) convotest.ConversationData {
				c := incConversation(p, id)
				msgs := []convo.Message{
					{ID: id + "-m1", Direction: convo.Inbound, Body: "hello", SentAt: last.Add(-time.Minute)},
					{ID: id + "-m2", Direction: convo.Outbound, Body: "hi", SentAt: last},
				}
				c.LastMessageAt, c.UpdatedAt, c.MessageCount = last, last, len(msgs)
				return convotest.ConversationData{Conversation: c, Messages: msgs}
			}
			// Newest activity first, as the provider lists them.
			d.Conversations = []convotest.ConversationData{conv("a", newest), conv("c", edge.Add(-time.Minute))}
			srv, client := newServer(t, p, convotest.WithData(d))

			ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
			defer cancel()
			cp := new(convo.Checkpoint)
			params := &convo.SyncParams{Checkpoint: cp, Lookback: lookback, Concurrency: 1}
			store := newIncStore()
			for b, err := range client.Sync(ctx, params) {
				require.NoError(t, err)
				store.apply(t, b)
			}
			require.True(t, cp.Done())

			onEdge := conv("b", edge)
			require.NoError(t, srv.AddConversation(onEdge.Conversation, onEdge.Messages...))
			var got []string
			for b, err := range client.Sync(ctx, params) {
				require.NoError(t, err)
				for _, m := range b.Messages {
					got = append(got, m.ID)
				}
			}
			require.True(t, cp.Done())
			assert.ElementsMatch(t, []string{"b-m1", "b-m2"}, got, fmt.Sprintf("the conversation at the edge (%s) is delivered", edge.Format(time.RFC3339)))
		})
	}
}
