package convo

import (
	"encoding/json"
	"errors"
	"sync"
	"time"
)

// DefaultLookback is how far behind the last watermark an incremental
// [Client.Sync] re-reads when [SyncParams].Lookback is 0.
const DefaultLookback = 5 * time.Minute

// Checkpoint is the position of a [Client.Sync] and what it has delivered,
// so that a sync that stops (an error, a cancelled context, a crash,
// Ctrl-C) continues later where it stopped, and a finished sync can be run
// again as an incremental sync that delivers only what is new or changed —
// with no message lost or delivered twice either way.
//
// It holds:
//   - the position of the current run: the conversation-list cursor (just
//     after the last conversation started) and, for each conversation
//     started but not finished, its record, whether it has been delivered,
//     and where its messages continue;
//   - the watermark: the newest activity timestamp the server's
//     conversation list showed (never the client's clock), and the time
//     (the client's clock) of the last refresh;
//   - for every conversation delivered, a bounded state: its activity
//     signals when it was last caught up, a digest of its record as last
//     delivered, the id and time of the newest message delivered, (lists
//     that run oldest first) the server's token of the page holding it and
//     where a recheck starts, just before the recheck window;
//   - for each message delivered whose time is inside the recheck window
//     ([SyncParams].Recheck), and for no other, a digest of its id and of
//     its record: 20 bytes (27 in the JSON).
//
// Beside the conversation's and the message's ids and the messages of the
// window, a conversation's entry is 130 to 280 bytes of JSON, depending on
// the provider (the most where it keeps the server's page cursors;
// BENCHMARKS.md has the figure of each), whatever the length of its
// history.
//
// Cursors are [Pager.Cursor] tokens, so a checkpoint only serves the
// provider and the filters it was made with.
//
// A Checkpoint is data: the sync that uses it moves it from state to
// state. The zero value is a new checkpoint: a sync given it starts from
// the beginning and fills it in. A sync updates its checkpoint only on the
// goroutine that ranges over it, after the loop body has finished with a
// batch (see [Client.Sync]); [Checkpoint.Save], [json.Marshal] and the
// accessors may be called from any goroutine, the loop body included. A
// Checkpoint serves one sync at a time.
//
// It marshals to JSON with [json.Marshal] and back with [json.Unmarshal]
// (everything round-trips); [Checkpoint.Save] and [LoadCheckpoint] do so
// to a file, atomically.
//
// A checkpoint saved by the previous release (format version 2) loads and
// runs: its first incremental sync is a refresh. As it holds no digests,
// that refresh delivers every conversation it lists once more (Start, its
// current record) and, in Updated, every message of the recheck window
// delivered before: records already delivered may come once more, no
// change is lost; from then on only changes come. A checkpoint saved in
// the format of earlier releases (version 1) loads and resumes its sync;
// as it does not record what was delivered per conversation, a sync it
// completes cannot be followed by an incremental one, which refuses it
// with an error wrapping [ErrInvalidParams] (start a full sync with a new
// Checkpoint).
type Checkpoint struct {
	mu            sync.Mutex
	provider      string
	list          string
	listDone      bool                   // the current run has walked its list
	pending       []*pendingConversation // in list order
	done          bool
	conversations int64
	messages      int64
	updated       int64
	meta          json.RawMessage
	nextSeq       int64

	legacy    bool          // loaded from format 1 with a sync under way or done
	watermark time.Time     // newest activity the lists of the completed runs showed
	refreshed time.Time     // the client's clock when the last completed refresh (or full sync) began
	span      time.Duration // the Recheck that refresh kept digests and starting points for; < 0: none
	run       runState
	states    []convState    // delivered conversations, in the order first delivered
	known     map[string]int // id -> index in states
}

// runState is what a run fixes when it starts.
type runState struct {
	incremental bool
	window      time.Time     // activity older than this is not re-read; zero: no bound
	since       bool          // the window is sent as ConversationListParams.Since
	watermark   time.Time     // newest activity this run's list showed so far
	refresh     bool          // the run reads the whole list and rechecks the window
	started     time.Time     // the client's clock when the run began
	recheck     time.Time     // start of the recheck window; zero: none (Recheck < 0)
	span        time.Duration // the Recheck of the run; < 0: none
	widened     bool          // the window is wider than the one the starting points were kept for
}

// convState is what a sync keeps of a delivered conversation.
type convState struct {
	id       string
	activity time.Time   // activity when it was last caught up
	signals  string      // the provider's other activity signals then
	record   uint64      // digest of the record last delivered; 0: unknown (an earlier format)
	newest   msgMark     // newest message delivered
	token    string      // oldest-first lists: the request token the list continues from after newest
	anchor   string      // oldest-first lists: where a recheck starts, before the window; "": the start
	digests  []msgDigest // the delivered messages inside the recheck window
}

// msgMark is one message of a conversation: its id and time.
type msgMark struct {
	id string
	at time.Time
}

// msgDigest is what a checkpoint keeps of a delivered message inside the
// recheck window: digests of its id and its record, and its time (to let
// it go when it leaves the window).
type msgDigest struct {
	id, record uint64
	at         uint32 // seconds since 1970; 0 when unknown
}

// pendingConversation is a conversation started but not finished.
type pendingConversation struct {
	seq       int64 // identifies it within one sync
	conv      *Conversation
	delivered bool   // its Start batch has been delivered
	cursor    string // message cursor after the last delivered message of this pass
	token     string // oldest-first lists, when cursor is "": the page the pass starts at
	newest    msgMark
	pos       msgMark           // last message delivered in provider order: a re-read skips through it
	stop      msgMark           // newest-first lists: the pass ends at this message, delivered before
	quiet     bool              // a known conversation whose record did not change: silent unless it has new or changed messages
	recheck   bool              // the pass re-reads the recheck window and compares the messages delivered before
	noRead    bool              // only the record changed: one batch, no request
	page      string            // oldest-first lists: the request token the list continues from after newest
	anchor    string            // oldest-first lists: the recheck start this pass found ("": the list's start), when anchorSet
	anchorSet bool              // the pass found where a later recheck starts: anchor replaces the state's
	digests   []msgDigest       // this pass's deliveries inside the recheck window
	compare   map[uint64]uint64 // a recheck pass's: record digest by id digest of what was delivered inside the window
}

// locked returns what read reads of cp, under cp's lock: the accessors
// may be called from any goroutine while a sync updates cp.
func locked[T any](cp *Checkpoint, read func() T) T {
	cp.mu.Lock()
	defer cp.mu.Unlock()
	return read()
}

// Provider returns the name of the provider the checkpoint was made for;
// "" for a new checkpoint.
func (cp *Checkpoint) Provider() string { return locked(cp, func() string { return cp.provider }) }

// Done reports whether the last run of the sync completed: every
// conversation it listed was delivered with all its messages. A sync given
// a done checkpoint runs incrementally: it delivers only what is new since,
// and marks the checkpoint done again when it completes.
func (cp *Checkpoint) Done() bool { return locked(cp, func() bool { return cp.done }) }

// Conversations returns the number of times a conversation was delivered
// completely, over every run of the sync: once per conversation for a full
// sync, and once more each time an incremental sync delivers it again.
func (cp *Checkpoint) Conversations() int64 {
	return locked(cp, func() int64 { return cp.conversations })
}

// Messages returns the number of messages delivered, over every run of the
// sync.
func (cp *Checkpoint) Messages() int64 { return locked(cp, func() int64 { return cp.messages }) }

// Updated returns the number of messages delivered in
// [ConversationSync].Updated (a record that changed after it was
// delivered), over every run of the sync.
func (cp *Checkpoint) Updated() int64 { return locked(cp, func() int64 { return cp.updated }) }

// Refreshed returns when (by the client's clock) the last completed
// refresh began: the full sync, or the last incremental sync that re-read
// the whole conversation list (see [SyncParams].Refresh); zero when none
// completed, as for a checkpoint of an earlier release. A provider whose
// conversation list shows no activity, so that its every incremental sync
// is a refresh, keeps the full sync's time, so that a run that finds
// nothing new leaves its checkpoint unchanged.
func (cp *Checkpoint) Refreshed() time.Time {
	return locked(cp, func() time.Time { return cp.refreshed })
}

// RefreshDue reports whether a [Client.Sync] given this checkpoint and
// [SyncParams].Refresh = refresh would now run a refresh: it is done (or
// interrupted in a refresh) and its last refresh is older than refresh (0
// meaning [DefaultRefresh]; a negative refresh never is), or its provider
// lists no activity (every incremental sync is then a refresh). A new or
// interrupted full sync reports false: it reads everything anyway.
func (cp *Checkpoint) RefreshDue(refresh time.Duration) bool {
	cp.mu.Lock()
	defer cp.mu.Unlock()
	if !cp.done {
		return cp.run.refresh
	}
	p, _ := ProviderByName(cp.provider)
	return p.d != nil && refreshDue(cp.refreshed, refresh, &p.d.change, time.Now())
}

// Watermark returns the newest activity timestamp the conversation list
// showed in the completed runs, as the server wrote it; zero before the
// first run completes and for providers whose list shows no activity. The
// next incremental sync re-reads from Watermark minus
// [SyncParams].Lookback.
func (cp *Checkpoint) Watermark() time.Time {
	return locked(cp, func() time.Time { return cp.watermark })
}

// Known returns the number of conversations the checkpoint keeps a state
// for: every conversation delivered so far.
func (cp *Checkpoint) Known() int { return locked(cp, func() int { return len(cp.states) }) }

// Pending returns the ids of the conversations started but not finished
// (interrupted or failed), in list order. Resuming continues them first.
func (cp *Checkpoint) Pending() []string {
	cp.mu.Lock()
	defer cp.mu.Unlock()
	ids := make([]string, len(cp.pending))
	for i, p := range cp.pending {
		ids[i] = p.conv.ID
	}
	return ids
}

// Meta returns the application data stored with [Checkpoint.SetMeta].
func (cp *Checkpoint) Meta() json.RawMessage {
	return locked(cp, func() json.RawMessage { return append(json.RawMessage(nil), cp.meta...) })
}

// SetMeta stores application data (valid JSON) with the checkpoint, saved
// and loaded with it: typically what the application has written up to
// this checkpoint, such as the size of an output file, so that after a
// crash it can drop whatever it wrote after the checkpoint it resumes from.
func (cp *Checkpoint) SetMeta(m json.RawMessage) error {
	if len(m) > 0 && !json.Valid(m) {
		return errors.New("convo: checkpoint: meta is not valid JSON")
	}
	cp.mu.Lock()
	defer cp.mu.Unlock()
	cp.meta = append(json.RawMessage(nil), m...)
	return nil
}
