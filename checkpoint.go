package convo

import (
	"encoding/base64"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"sync"
	"time"
)

// checkpointVersion is the version of the checkpoint file format.
// Versions 1 (no per-conversation state) and 2 (no record digests, no
// refresh) still load; see Checkpoint.
const checkpointVersion = 3

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
// window, a conversation's entry is under 130 bytes of JSON for Vobiz,
// 190 for VantaxAI and Rentalot, and 280 for AgentMessage (whose entries
// keep the server's page cursors), whatever the length of its history.
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
	anchor    string            // oldest-first lists: a new recheck start found by this pass; "": unchanged
	digests   []msgDigest       // this pass's deliveries inside the recheck window
	compare   map[uint64]uint64 // a recheck pass's: record digest by id digest of what was delivered inside the window
}

// checkpointFile is the JSON form of a Checkpoint.
type checkpointFile struct {
	Version       int             `json:"version"`
	Provider      string          `json:"provider,omitempty"`
	ListCursor    string          `json:"list_cursor,omitempty"`
	ListDone      bool            `json:"list_done,omitempty"`
	Pending       []pendingFile   `json:"pending,omitempty"`
	Done          bool            `json:"done,omitempty"`
	Conversations int64           `json:"conversations"`
	Messages      int64           `json:"messages"`
	Updated       int64           `json:"updated,omitempty"`
	Meta          json.RawMessage `json:"meta,omitempty"`
	Legacy        bool            `json:"legacy,omitempty"`
	Watermark     time.Time       `json:"watermark,omitzero"`
	Refreshed     time.Time       `json:"refreshed,omitzero"`
	Span          time.Duration   `json:"recheck_span,omitempty"`
	Run           *runFile        `json:"run,omitempty"`
	Known         []knownFile     `json:"known,omitempty"`
}

type runFile struct {
	Incremental bool          `json:"incremental,omitempty"`
	Window      time.Time     `json:"window,omitzero"`
	Since       bool          `json:"since,omitempty"`
	Watermark   time.Time     `json:"watermark,omitzero"`
	Refresh     bool          `json:"refresh,omitempty"`
	Started     time.Time     `json:"started,omitzero"`
	Recheck     time.Time     `json:"recheck,omitzero"`
	Span        time.Duration `json:"span,omitempty"`
	Widened     bool          `json:"widened,omitempty"`
}

type pendingFile struct {
	Conversation  Conversation `json:"conversation"`
	Delivered     bool         `json:"delivered,omitempty"`
	MessageCursor string       `json:"message_cursor,omitempty"`
	PageToken     string       `json:"page_token,omitempty"`
	Newest        string       `json:"newest,omitempty"`
	NewestAt      time.Time    `json:"newest_at,omitzero"`
	Pos           string       `json:"pos,omitempty"`
	PosAt         time.Time    `json:"pos_at,omitzero"`
	Stop          string       `json:"stop,omitempty"`
	StopAt        time.Time    `json:"stop_at,omitzero"`
	Quiet         bool         `json:"quiet,omitempty"`
	Recheck       bool         `json:"recheck,omitempty"`
	NoRead        bool         `json:"no_read,omitempty"`
	Page          string       `json:"page,omitempty"`
	Anchor        string       `json:"anchor,omitempty"`
	Digests       string       `json:"digests,omitempty"`
}

type knownFile struct {
	ID       string    `json:"id"`
	Activity time.Time `json:"activity,omitzero"`
	Signals  string    `json:"signals,omitempty"`
	Record   string    `json:"record,omitempty"`
	Newest   string    `json:"newest,omitempty"`
	NewestAt time.Time `json:"newest_at,omitzero"`
	Page     string    `json:"page,omitempty"`
	Anchor   string    `json:"anchor,omitempty"`
	Digests  string    `json:"digests,omitempty"`
}

// MarshalJSON encodes the checkpoint, everything it holds.
func (cp *Checkpoint) MarshalJSON() ([]byte, error) {
	cp.mu.Lock()
	defer cp.mu.Unlock()
	f := checkpointFile{
		Version: checkpointVersion, Provider: cp.provider, ListCursor: cp.list, ListDone: cp.listDone, Done: cp.done,
		Conversations: cp.conversations, Messages: cp.messages, Updated: cp.updated, Meta: cp.meta,
		Legacy: cp.legacy, Watermark: cp.watermark, Refreshed: cp.refreshed, Span: cp.span,
	}
	if r := cp.run; r != (runState{}) {
		f.Run = &runFile{Incremental: r.incremental, Window: r.window, Since: r.since, Watermark: r.watermark,
			Refresh: r.refresh, Started: r.started, Recheck: r.recheck, Span: r.span, Widened: r.widened}
	}
	for _, p := range cp.pending {
		f.Pending = append(f.Pending, pendingFile{
			Conversation: *p.conv, Delivered: p.delivered, MessageCursor: p.cursor, PageToken: p.token,
			Newest: p.newest.id, NewestAt: p.newest.at, Pos: p.pos.id, PosAt: p.pos.at,
			Stop: p.stop.id, StopAt: p.stop.at, Quiet: p.quiet, Recheck: p.recheck, NoRead: p.noRead,
			Page: p.page, Anchor: p.anchor, Digests: packDigests(p.digests),
		})
	}
	f.Known = make([]knownFile, len(cp.states))
	for i, s := range cp.states {
		f.Known[i] = knownFile{ID: s.id, Activity: s.activity, Signals: s.signals, Record: digestText(s.record),
			Newest: s.newest.id, NewestAt: s.newest.at, Page: s.token, Anchor: s.anchor, Digests: packDigests(s.digests)}
	}
	return json.Marshal(f)
}

// UnmarshalJSON decodes a checkpoint made by [Checkpoint.MarshalJSON], of
// this release or an earlier one, replacing cp's content.
func (cp *Checkpoint) UnmarshalJSON(b []byte) error {
	var f checkpointFile
	if err := json.Unmarshal(b, &f); err != nil {
		return fmt.Errorf("convo: checkpoint: %w", err)
	}
	if err := f.upgrade(); err != nil {
		return err
	}
	if f.Provider == "" && (f.ListCursor != "" || len(f.Pending) > 0 || f.Done || len(f.Known) > 0) {
		return errors.New("convo: checkpoint: no provider")
	}
	states, known, err := f.knownStates()
	if err != nil {
		return err
	}
	pending, err := f.pendingConversations()
	if err != nil {
		return err
	}
	cp.mu.Lock()
	defer cp.mu.Unlock()
	cp.provider, cp.list, cp.listDone, cp.done = f.Provider, f.ListCursor, f.ListDone, f.Done
	cp.conversations, cp.messages, cp.updated, cp.meta = f.Conversations, f.Messages, f.Updated, f.Meta
	cp.legacy, cp.watermark, cp.refreshed, cp.span = f.Legacy, f.Watermark, f.Refreshed, f.Span
	cp.run = runState{}
	if r := f.Run; r != nil {
		cp.run = runState{incremental: r.Incremental, window: r.Window, since: r.Since, watermark: r.Watermark,
			refresh: r.Refresh, started: r.Started, recheck: r.Recheck, span: r.Span, widened: r.Widened}
	}
	cp.states, cp.known = states, known
	cp.pending, cp.nextSeq = pending, int64(len(pending))
	return nil
}

// upgrade checks f's version and brings a file of an earlier format to
// the current form: a format 1 checkpoint with a position in a run is a
// legacy one; a format 2 one has no digests (every record reads as
// changed) and was never refreshed.
func (f *checkpointFile) upgrade() error {
	switch f.Version {
	case 1:
		// Format 1 has the fields of a run's position and nothing else: a
		// newer field in it is not format 1.
		if f.ListDone || f.Legacy || !f.Watermark.IsZero() || f.Run != nil || f.Known != nil || !f.Refreshed.IsZero() {
			return errors.New("convo: checkpoint: version 1 with fields of a later version")
		}
		f.Legacy = f.ListCursor != "" || len(f.Pending) > 0 || f.Done || f.Conversations > 0 || f.Messages > 0
	case 2, checkpointVersion:
	default:
		return fmt.Errorf("convo: checkpoint: unknown version %d (this release reads 1 to %d)", f.Version, checkpointVersion)
	}
	return nil
}

// knownStates returns the known conversations' states, in the file's order,
// and the index of each id among them; an id missing or known twice is an
// error.
func (f *checkpointFile) knownStates() ([]convState, map[string]int, error) {
	known := make(map[string]int, len(f.Known))
	states := make([]convState, len(f.Known))
	for i, k := range f.Known {
		if k.ID == "" {
			return nil, nil, errors.New("convo: checkpoint: a known conversation without an id")
		}
		if _, dup := known[k.ID]; dup {
			return nil, nil, fmt.Errorf("convo: checkpoint: conversation %q is known twice", k.ID)
		}
		record, err := readDigestText(k.Record)
		if err != nil {
			return nil, nil, fmt.Errorf("convo: checkpoint: conversation %q: %w", k.ID, err)
		}
		digests, err := unpackDigests(k.Digests)
		if err != nil {
			return nil, nil, fmt.Errorf("convo: checkpoint: conversation %q: %w", k.ID, err)
		}
		known[k.ID] = i
		states[i] = convState{id: k.ID, activity: k.Activity, signals: k.Signals, record: record,
			newest: msgMark{k.Newest, k.NewestAt}, token: k.Page, anchor: k.Anchor, digests: digests}
	}
	return states, known, nil
}

// pendingConversations returns the conversations started but not finished,
// numbered from 0 in the file's order; nil when there are none.
func (f *checkpointFile) pendingConversations() ([]*pendingConversation, error) {
	var pending []*pendingConversation
	for i := range f.Pending {
		p := &f.Pending[i]
		conv := p.Conversation
		digests, err := unpackDigests(p.Digests)
		if err != nil {
			return nil, fmt.Errorf("convo: checkpoint: pending conversation %q: %w", conv.ID, err)
		}
		pending = append(pending, &pendingConversation{
			seq: int64(i), conv: &conv, delivered: p.Delivered, cursor: p.MessageCursor, token: p.PageToken,
			newest: msgMark{p.Newest, p.NewestAt}, pos: msgMark{p.Pos, p.PosAt}, stop: msgMark{p.Stop, p.StopAt}, quiet: p.Quiet,
			recheck: p.Recheck, noRead: p.NoRead, page: p.Page, anchor: p.Anchor, digests: digests,
		})
	}
	return pending, nil
}

// digestText is a record digest in the JSON form: 16 hex digits; "" for
// none.
func digestText(d uint64) string {
	if d == 0 {
		return ""
	}
	return fmt.Sprintf("%016x", d)
}

func readDigestText(s string) (uint64, error) {
	if s == "" {
		return 0, nil
	}
	d, err := strconv.ParseUint(s, 16, 64)
	if err != nil || len(s) != 16 {
		return 0, fmt.Errorf("malformed record digest %q", snippet([]byte(s), 40))
	}
	return d, nil
}

// msgDigestSize is the size of one packed msgDigest.
const msgDigestSize = 20

// packDigests packs message digests, big-endian, base64url-encoded; ""
// for none.
func packDigests(ds []msgDigest) string {
	if len(ds) == 0 {
		return ""
	}
	b := make([]byte, msgDigestSize*len(ds))
	for i, d := range ds {
		o := b[msgDigestSize*i:]
		binary.BigEndian.PutUint64(o, d.id)
		binary.BigEndian.PutUint64(o[8:], d.record)
		binary.BigEndian.PutUint32(o[16:], d.at)
	}
	return base64.RawURLEncoding.EncodeToString(b)
}

func unpackDigests(s string) ([]msgDigest, error) {
	if s == "" {
		return nil, nil
	}
	b, err := base64.RawURLEncoding.DecodeString(s)
	if err != nil || len(b)%msgDigestSize != 0 {
		return nil, errors.New("malformed message digests")
	}
	ds := make([]msgDigest, len(b)/msgDigestSize)
	for i := range ds {
		o := b[msgDigestSize*i:]
		ds[i] = msgDigest{id: binary.BigEndian.Uint64(o), record: binary.BigEndian.Uint64(o[8:]), at: binary.BigEndian.Uint32(o[16:])}
	}
	return ds, nil
}

// LoadCheckpoint reads a checkpoint saved by [Checkpoint.Save]. A missing
// file is an error matching [io/fs.ErrNotExist]: start a new sync with a zero
// Checkpoint then.
func LoadCheckpoint(path string) (*Checkpoint, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	cp := new(Checkpoint)
	if err := json.Unmarshal(b, cp); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return cp, nil
}

// Save writes the checkpoint to path atomically: to a temporary file in
// the same directory, synced to stable storage, then renamed over path (and
// the directory synced), so that path holds either the previous checkpoint
// or this one, never a partial file, whatever happens during the save.
func (cp *Checkpoint) Save(path string) error {
	b, err := json.Marshal(cp)
	if err != nil {
		return err
	}
	return writeFileAtomic(path, append(b, '\n'), writeAll)
}

func writeAll(f *os.File, b []byte) error {
	_, err := f.Write(b)
	return err
}

// writeFileAtomic writes b to path through a synced temporary file and a
// rename. write is the step that writes the temporary file (a test can
// make it fail half-way).
func writeFileAtomic(path string, b []byte, write func(*os.File, []byte) error) (err error) {
	dir, base := filepath.Split(path)
	if dir == "" {
		dir = "."
	}
	tmp, err := os.CreateTemp(dir, "."+base+".tmp-*")
	if err != nil {
		return fmt.Errorf("convo: save checkpoint: %w", err)
	}
	defer func() {
		if err != nil {
			tmp.Close()
			os.Remove(tmp.Name())
		}
	}()
	if err := write(tmp, b); err != nil {
		return fmt.Errorf("convo: save checkpoint: %w", err)
	}
	if err := tmp.Sync(); err != nil {
		return fmt.Errorf("convo: save checkpoint: %w", err)
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("convo: save checkpoint: %w", err)
	}
	if err := os.Rename(tmp.Name(), path); err != nil {
		return fmt.Errorf("convo: save checkpoint: %w", err)
	}
	// Make the rename itself durable. Not every system can sync a
	// directory; the file is in place either way.
	if d, derr := os.Open(dir); derr == nil {
		d.Sync()
		d.Close()
	}
	return nil
}

// Provider returns the name of the provider the checkpoint was made for;
// "" for a new checkpoint.
func (cp *Checkpoint) Provider() string {
	cp.mu.Lock()
	defer cp.mu.Unlock()
	return cp.provider
}

// Done reports whether the last run of the sync completed: every
// conversation it listed was delivered with all its messages. A sync given
// a done checkpoint runs incrementally: it delivers only what is new since,
// and marks the checkpoint done again when it completes.
func (cp *Checkpoint) Done() bool {
	cp.mu.Lock()
	defer cp.mu.Unlock()
	return cp.done
}

// Conversations returns the number of times a conversation was delivered
// completely, over every run of the sync: once per conversation for a full
// sync, and once more each time an incremental sync delivers it again.
func (cp *Checkpoint) Conversations() int64 {
	cp.mu.Lock()
	defer cp.mu.Unlock()
	return cp.conversations
}

// Messages returns the number of messages delivered, over every run of the
// sync.
func (cp *Checkpoint) Messages() int64 {
	cp.mu.Lock()
	defer cp.mu.Unlock()
	return cp.messages
}

// Updated returns the number of messages delivered in
// [ConversationSync].Updated (a record that changed after it was
// delivered), over every run of the sync.
func (cp *Checkpoint) Updated() int64 {
	cp.mu.Lock()
	defer cp.mu.Unlock()
	return cp.updated
}

// Refreshed returns when (by the client's clock) the last completed
// refresh began: the full sync, or the last incremental sync that re-read
// the whole conversation list (see [SyncParams].Refresh); zero when none
// completed, as for a checkpoint of an earlier release. Vobiz, whose every
// incremental sync is a refresh, keeps the full sync's time, so that a
// run that finds nothing new leaves its checkpoint unchanged.
func (cp *Checkpoint) Refreshed() time.Time {
	cp.mu.Lock()
	defer cp.mu.Unlock()
	return cp.refreshed
}

// RefreshDue reports whether a [Client.Sync] given this checkpoint and
// [SyncParams].Refresh = refresh would now run a refresh: it is done (or
// interrupted in a refresh) and its last refresh is older than refresh (0
// meaning [DefaultRefresh]; a negative refresh never is), or its provider
// lists no activity (Vobiz: every incremental sync is a refresh). A new or
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
// first run completes and for providers whose list shows no activity
// (Vobiz). The next incremental sync re-reads from Watermark minus
// [SyncParams].Lookback.
func (cp *Checkpoint) Watermark() time.Time {
	cp.mu.Lock()
	defer cp.mu.Unlock()
	return cp.watermark
}

// Known returns the number of conversations the checkpoint keeps a state
// for: every conversation delivered so far.
func (cp *Checkpoint) Known() int {
	cp.mu.Lock()
	defer cp.mu.Unlock()
	return len(cp.states)
}

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
	cp.mu.Lock()
	defer cp.mu.Unlock()
	return append(json.RawMessage(nil), cp.meta...)
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
