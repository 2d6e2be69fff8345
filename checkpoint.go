package convo

import (
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
// Version 1 (no per-conversation state) still loads; see Checkpoint.
const checkpointVersion = 2

// DefaultLookback is how far behind the last watermark an incremental
// [Client.Sync] re-reads when [SyncParams].Lookback is 0.
const DefaultLookback = 5 * time.Minute

// Checkpoint is the position of a [Client.Sync] and what it has delivered,
// so that a sync that stops (an error, a cancelled context, a crash,
// Ctrl-C) continues later where it stopped, and a finished sync can be run
// again as an incremental sync that delivers only what is new — with no
// message lost or delivered twice either way.
//
// It holds:
//   - the position of the current run: the conversation-list cursor (just
//     after the last conversation started) and, for each conversation
//     started but not finished, its record, whether it has been delivered,
//     and where its messages continue;
//   - the watermark: the newest activity timestamp the server's
//     conversation list showed (never the client's clock);
//   - for every conversation delivered, a bounded state: its activity
//     signals when it was last caught up, the id and time of the newest
//     message delivered, and (lists that run oldest first) the server's
//     token of the page holding it. That is one entry per conversation,
//     never per message, whatever the length of the histories: beside the
//     conversation's and the message's ids, under 100 bytes of JSON for
//     Vobiz, 150 for VantaxAI and Rentalot, and 200 for AgentMessage (whose
//     entries keep the server's page cursor).
//
// Cursors are [Pager.Cursor] tokens, so a checkpoint only serves the
// provider and the filters it was made with.
//
// The zero value is a new checkpoint: a sync given it starts from the
// beginning and fills it in. A sync updates its checkpoint only on the
// goroutine that ranges over it, after the loop body has finished with a
// batch (see [Client.Sync]); [Checkpoint.Save], [json.Marshal] and the
// accessors may be called from any goroutine, the loop body included. A
// Checkpoint serves one sync at a time.
//
// It marshals to JSON with [json.Marshal] and back with [json.Unmarshal]
// (everything round-trips); [Checkpoint.Save] and [LoadCheckpoint] do so
// to a file, atomically. A checkpoint saved in the format of earlier
// releases (version 1) loads and resumes its sync; as it does not record
// what was delivered per conversation, a sync it completes cannot be
// followed by an incremental one, which refuses it with an error wrapping
// [ErrInvalidParams] (start a full sync with a new Checkpoint).
type Checkpoint struct {
	mu            sync.Mutex
	provider      string
	list          string
	listDone      bool                   // the current run has walked its list
	pending       []*pendingConversation // in list order
	done          bool
	conversations int64
	messages      int64
	meta          json.RawMessage
	nextSeq       int64

	legacy    bool      // loaded from format 1 with a sync under way or done
	watermark time.Time // newest activity the lists of the completed runs showed
	run       runState
	states    []convState    // delivered conversations, in the order first delivered
	known     map[string]int // id -> index in states
}

// runState is what an incremental run fixes when it starts.
type runState struct {
	incremental bool
	window      time.Time // activity older than this is not re-read; zero: no bound
	since       bool      // the window is sent as ConversationListParams.Since
	watermark   time.Time // newest activity this run's list showed so far
}

// convState is what a sync keeps of a delivered conversation.
type convState struct {
	id       string
	activity time.Time // activity when it was last caught up
	signals  string    // the provider's other activity signals then
	newest   msgMark   // newest message delivered
	token    string    // oldest-first lists: the request token of the page holding newest
}

// msgMark is one message of a conversation: its id and time.
type msgMark struct {
	id string
	at time.Time
}

// pendingConversation is a conversation started but not finished.
type pendingConversation struct {
	seq       int64 // identifies it within one sync
	conv      *Conversation
	delivered bool   // its Start batch has been delivered
	cursor    string // message cursor after the last delivered message of this pass
	token     string // oldest-first lists, when cursor is "": the page the pass starts at
	newest    msgMark
	pos       msgMark // last message delivered in provider order: a re-read skips through it
	stop      msgMark // newest-first lists: the pass ends at this message, delivered before
	quiet     bool    // a known conversation whose provider shows no activity: silent unless it has new messages
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
	Meta          json.RawMessage `json:"meta,omitempty"`
	Legacy        bool            `json:"legacy,omitempty"`
	Watermark     time.Time       `json:"watermark,omitzero"`
	Run           *runFile        `json:"run,omitempty"`
	Known         []knownFile     `json:"known,omitempty"`
}

type runFile struct {
	Incremental bool      `json:"incremental,omitempty"`
	Window      time.Time `json:"window,omitzero"`
	Since       bool      `json:"since,omitempty"`
	Watermark   time.Time `json:"watermark,omitzero"`
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
}

type knownFile struct {
	ID       string    `json:"id"`
	Activity time.Time `json:"activity,omitzero"`
	Signals  string    `json:"signals,omitempty"`
	Newest   string    `json:"newest,omitempty"`
	NewestAt time.Time `json:"newest_at,omitzero"`
	Page     string    `json:"page,omitempty"`
}

// MarshalJSON encodes the checkpoint, everything it holds.
func (cp *Checkpoint) MarshalJSON() ([]byte, error) {
	cp.mu.Lock()
	defer cp.mu.Unlock()
	f := checkpointFile{
		Version: checkpointVersion, Provider: cp.provider, ListCursor: cp.list, ListDone: cp.listDone, Done: cp.done,
		Conversations: cp.conversations, Messages: cp.messages, Meta: cp.meta,
		Legacy: cp.legacy, Watermark: cp.watermark,
	}
	if r := cp.run; r != (runState{}) {
		f.Run = &runFile{Incremental: r.incremental, Window: r.window, Since: r.since, Watermark: r.watermark}
	}
	for _, p := range cp.pending {
		f.Pending = append(f.Pending, pendingFile{
			Conversation: *p.conv, Delivered: p.delivered, MessageCursor: p.cursor, PageToken: p.token,
			Newest: p.newest.id, NewestAt: p.newest.at, Pos: p.pos.id, PosAt: p.pos.at,
			Stop: p.stop.id, StopAt: p.stop.at, Quiet: p.quiet,
		})
	}
	f.Known = make([]knownFile, len(cp.states))
	for i, s := range cp.states {
		f.Known[i] = knownFile{ID: s.id, Activity: s.activity, Signals: s.signals, Newest: s.newest.id, NewestAt: s.newest.at, Page: s.token}
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
	pending := f.pendingConversations()
	cp.mu.Lock()
	defer cp.mu.Unlock()
	cp.provider, cp.list, cp.listDone, cp.done = f.Provider, f.ListCursor, f.ListDone, f.Done
	cp.conversations, cp.messages, cp.meta = f.Conversations, f.Messages, f.Meta
	cp.legacy, cp.watermark = f.Legacy, f.Watermark
	cp.run = runState{}
	if r := f.Run; r != nil {
		cp.run = runState{incremental: r.Incremental, window: r.Window, since: r.Since, watermark: r.Watermark}
	}
	cp.states, cp.known = states, known
	cp.pending, cp.nextSeq = pending, int64(len(pending))
	return nil
}

// upgrade checks f's version and brings a format 1 file to the current
// form: a format 1 checkpoint with a position in a run is a legacy one.
func (f *checkpointFile) upgrade() error {
	switch f.Version {
	case 1:
		// Format 1 has the fields of a run's position and nothing else: a
		// newer field in it is not format 1.
		if f.ListDone || f.Legacy || !f.Watermark.IsZero() || f.Run != nil || f.Known != nil {
			return errors.New("convo: checkpoint: version 1 with fields of a later version")
		}
		f.Legacy = f.ListCursor != "" || len(f.Pending) > 0 || f.Done || f.Conversations > 0 || f.Messages > 0
	case checkpointVersion:
	default:
		return fmt.Errorf("convo: checkpoint: unknown version %d (this release reads 1 and %d)", f.Version, checkpointVersion)
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
		known[k.ID] = i
		states[i] = convState{id: k.ID, activity: k.Activity, signals: k.Signals, newest: msgMark{k.Newest, k.NewestAt}, token: k.Page}
	}
	return states, known, nil
}

// pendingConversations returns the conversations started but not finished,
// numbered from 0 in the file's order; nil when there are none.
func (f *checkpointFile) pendingConversations() []*pendingConversation {
	var pending []*pendingConversation
	for i := range f.Pending {
		p := &f.Pending[i]
		conv := p.Conversation
		pending = append(pending, &pendingConversation{
			seq: int64(i), conv: &conv, delivered: p.Delivered, cursor: p.MessageCursor, token: p.PageToken,
			newest: msgMark{p.Newest, p.NewestAt}, pos: msgMark{p.Pos, p.PosAt}, stop: msgMark{p.Stop, p.StopAt}, quiet: p.Quiet,
		})
	}
	return pending
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

// syncPlan is where a run starts: a snapshot of its checkpoint.
type syncPlan struct {
	list     string
	listDone bool
	pending  []pendingConversation
	nextSeq  int64 // sequence number of the next conversation taken from the list
	run      runState
}

// begin binds a new checkpoint to provider (starting the list at
// startCursor), or checks that a used one belongs to it; a done one starts
// an incremental run whose window reaches lookback behind the watermark.
// It returns where the run starts.
func (cp *Checkpoint) begin(provider, startCursor string, lookback time.Duration, spec *changeSpec, callerSince bool) (syncPlan, error) {
	cp.mu.Lock()
	defer cp.mu.Unlock()
	fresh := cp.provider == "" && cp.list == "" && len(cp.pending) == 0 && !cp.done && len(cp.states) == 0
	switch {
	case fresh:
		cp.provider, cp.list, cp.legacy = provider, startCursor, false
	case cp.provider != provider:
		return syncPlan{}, invalidParams("sync: the checkpoint was made for provider %q, not %q", cp.provider, provider)
	case startCursor != "":
		return syncPlan{}, invalidParams("sync: SyncParams.Conversations.Cursor must be empty when resuming a checkpoint")
	}
	if cp.done {
		if cp.legacy {
			return syncPlan{}, invalidParams("sync: the checkpoint was saved in format version 1, which does not record what an incremental sync needs; start a full sync with a new Checkpoint")
		}
		run := runState{incremental: true}
		if !cp.watermark.IsZero() && spec.byActivity {
			run.window = cp.watermark.Add(-lookback)
			run.since = spec.since && !callerSince
		}
		cp.done, cp.list, cp.listDone, cp.nextSeq, cp.run = false, "", false, 0, run
	}
	plan := syncPlan{list: cp.list, listDone: cp.listDone, nextSeq: cp.nextSeq, run: cp.run}
	for _, p := range cp.pending {
		plan.pending = append(plan.pending, *p)
	}
	return plan, nil
}

// next returns the pass a listed conversation needs: nil when the
// checkpoint knows it and its activity and signals have not moved.
func (cp *Checkpoint) next(conv *Conversation, spec *changeSpec) *pendingConversation {
	cp.mu.Lock()
	defer cp.mu.Unlock()
	p := &pendingConversation{conv: conv}
	i, ok := cp.known[conv.ID]
	if !ok {
		return p // new: all its messages
	}
	s := &cp.states[i]
	if spec.activity != nil {
		at, _ := spec.activity(conv)
		if at.Equal(s.activity) && signalsOf(conv, spec) == s.signals {
			return nil
		}
	} else {
		p.quiet = true
	}
	p.newest = s.newest
	if spec.newestFirst {
		p.stop = s.newest
	} else {
		p.token, p.pos = s.token, s.newest
	}
	return p
}

// pageToken returns the request token of the page a Pager.Cursor value
// resumes in.
func pageToken(cursor string) string {
	tok, _ := decodeCursor(cursor) // made by the pager: cannot fail
	return tok.T
}

func signalsOf(conv *Conversation, spec *changeSpec) string {
	if spec.signals == nil {
		return ""
	}
	var b []byte
	for i, v := range spec.signals(conv) {
		if i > 0 {
			b = append(b, ',')
		}
		b = strconv.AppendInt(b, v, 10)
	}
	return string(b)
}

// started records that the conversation of p was taken from the list,
// which now resumes at listCursor, having shown activity up to watermark.
func (cp *Checkpoint) started(p pendingConversation, listCursor string, watermark time.Time) {
	cp.mu.Lock()
	defer cp.mu.Unlock()
	cp.list = listCursor
	cp.run.watermark = later(cp.run.watermark, watermark)
	cp.pending = append(cp.pending, &p)
	cp.nextSeq = max(cp.nextSeq, p.seq+1)
}

// listed records that the run has walked its list, which showed activity
// up to watermark.
func (cp *Checkpoint) listed(watermark time.Time) {
	cp.mu.Lock()
	defer cp.mu.Unlock()
	cp.listDone = true
	cp.run.watermark = later(cp.run.watermark, watermark)
}

// commit records that batch s of the conversation with seq has been
// delivered (or, silent, passed over: nothing in it for the caller); its
// messages resume at cursor ("": where they did).
func (cp *Checkpoint) commit(seq int64, s *ConversationSync, cursor string, spec *changeSpec, silent bool) {
	cp.mu.Lock()
	defer cp.mu.Unlock()
	cp.messages += int64(len(s.Messages))
	for i, p := range cp.pending {
		if p.seq != seq {
			continue
		}
		if n := len(s.Messages); n > 0 {
			first, last := &s.Messages[0], &s.Messages[n-1]
			switch {
			case !spec.newestFirst:
				p.newest = msgMark{last.ID, last.SentAt}
			case p.pos.id == "": // the first messages of this pass: the newest
				p.newest = msgMark{first.ID, first.SentAt}
			}
			p.pos = msgMark{last.ID, last.SentAt}
		}
		if cursor != "" {
			p.cursor = cursor
		}
		p.delivered = p.delivered || (s.Start && !silent)
		if !s.Done {
			return
		}
		cp.pending = append(cp.pending[:i], cp.pending[i+1:]...)
		if !silent {
			cp.conversations++
		}
		st := convState{id: p.conv.ID, signals: signalsOf(p.conv, spec), newest: p.newest}
		if spec.activity != nil {
			st.activity, _ = spec.activity(p.conv)
		}
		if !spec.newestFirst {
			st.token = p.token
			if p.cursor != "" {
				st.token = pageToken(p.cursor)
			}
		}
		if j, ok := cp.known[st.id]; ok {
			cp.states[j] = st
		} else {
			if cp.known == nil {
				cp.known = map[string]int{}
			}
			cp.known[st.id] = len(cp.states)
			cp.states = append(cp.states, st)
		}
		return
	}
}

// finish marks the run complete when nothing is pending and the list was
// walked: the watermark moves to the newest activity the run saw.
func (cp *Checkpoint) finish() {
	cp.mu.Lock()
	defer cp.mu.Unlock()
	if len(cp.pending) == 0 && cp.listDone {
		cp.done = true
		cp.watermark = later(cp.watermark, cp.run.watermark)
		cp.run = runState{}
		cp.list, cp.listDone, cp.nextSeq = "", false, 0
	}
}

func later(a, b time.Time) time.Time {
	if b.After(a) {
		return b
	}
	return a
}
