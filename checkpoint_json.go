package convo

import (
	"encoding/base64"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"time"
)

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
	AnchorSet     bool         `json:"anchor_set,omitempty"`
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
			Page: p.page, Anchor: p.anchor, AnchorSet: p.anchorSet, Digests: packDigests(p.digests),
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
			recheck: p.Recheck, noRead: p.NoRead, page: p.Page, anchor: p.Anchor, anchorSet: p.AnchorSet, digests: digests,
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
