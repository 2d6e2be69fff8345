package convo

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sync"
)

// checkpointVersion is the version of the checkpoint file format.
const checkpointVersion = 1

// Checkpoint is the position of a [Client.Sync], so that a sync that stops
// (an error, a cancelled context, a crash, Ctrl-C) continues later where it
// stopped, with no message lost or delivered twice.
//
// It holds the conversation-list cursor (just after the last conversation
// the sync started) and, for each conversation started but not finished,
// the conversation itself, whether it has been delivered, and the message
// cursor just after its last delivered message. Cursors are [Pager.Cursor]
// tokens, so a checkpoint only resumes the provider and the filters it was
// made with.
//
// The zero value is a new checkpoint: a sync given it starts from the
// beginning and fills it in. A sync updates its checkpoint only on the
// goroutine that ranges over it, after the loop body has finished with a
// batch (see [Client.Sync]); [Checkpoint.Save] and the accessors may be
// called from any goroutine. A Checkpoint serves one sync at a time.
//
// It marshals to JSON with [json.Marshal] and back with [json.Unmarshal];
// [Checkpoint.Save] and [LoadCheckpoint] do so to a file, atomically.
type Checkpoint struct {
	mu            sync.Mutex
	provider      string
	list          string
	pending       []*pendingConversation // in list order
	done          bool
	conversations int64
	messages      int64
	meta          json.RawMessage
	nextSeq       int64
}

// pendingConversation is a conversation started but not finished.
type pendingConversation struct {
	seq       int64 // identifies it within one sync
	conv      *Conversation
	delivered bool   // its Start batch has been delivered
	cursor    string // message cursor after the last delivered message
}

// checkpointFile is the JSON form of a Checkpoint.
type checkpointFile struct {
	Version       int             `json:"version"`
	Provider      string          `json:"provider,omitempty"`
	ListCursor    string          `json:"list_cursor,omitempty"`
	Pending       []pendingFile   `json:"pending,omitempty"`
	Done          bool            `json:"done,omitempty"`
	Conversations int64           `json:"conversations"`
	Messages      int64           `json:"messages"`
	Meta          json.RawMessage `json:"meta,omitempty"`
}

type pendingFile struct {
	Conversation  Conversation `json:"conversation"`
	Delivered     bool         `json:"delivered,omitempty"`
	MessageCursor string       `json:"message_cursor,omitempty"`
}

// MarshalJSON encodes the checkpoint.
func (cp *Checkpoint) MarshalJSON() ([]byte, error) {
	cp.mu.Lock()
	defer cp.mu.Unlock()
	f := checkpointFile{
		Version: checkpointVersion, Provider: cp.provider, ListCursor: cp.list, Done: cp.done,
		Conversations: cp.conversations, Messages: cp.messages, Meta: cp.meta,
	}
	for _, p := range cp.pending {
		f.Pending = append(f.Pending, pendingFile{Conversation: *p.conv, Delivered: p.delivered, MessageCursor: p.cursor})
	}
	return json.Marshal(f)
}

// UnmarshalJSON decodes a checkpoint made by [Checkpoint.MarshalJSON],
// replacing cp's content.
func (cp *Checkpoint) UnmarshalJSON(b []byte) error {
	var f checkpointFile
	if err := json.Unmarshal(b, &f); err != nil {
		return fmt.Errorf("convo: checkpoint: %w", err)
	}
	if f.Version != checkpointVersion {
		return fmt.Errorf("convo: checkpoint: unknown version %d", f.Version)
	}
	if f.Provider == "" && (f.ListCursor != "" || len(f.Pending) > 0 || f.Done) {
		return errors.New("convo: checkpoint: no provider")
	}
	cp.mu.Lock()
	defer cp.mu.Unlock()
	cp.provider, cp.list, cp.done = f.Provider, f.ListCursor, f.Done
	cp.conversations, cp.messages, cp.meta = f.Conversations, f.Messages, f.Meta
	cp.pending, cp.nextSeq = nil, 0
	for i := range f.Pending {
		p := &f.Pending[i]
		conv := p.Conversation
		cp.pending = append(cp.pending, &pendingConversation{seq: cp.nextSeq, conv: &conv, delivered: p.Delivered, cursor: p.MessageCursor})
		cp.nextSeq++
	}
	return nil
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

// Done reports whether the sync completed: every conversation was
// delivered with all its messages. A sync resumed from a done checkpoint
// delivers nothing.
func (cp *Checkpoint) Done() bool {
	cp.mu.Lock()
	defer cp.mu.Unlock()
	return cp.done
}

// Conversations returns the number of conversations delivered completely,
// over every run of the sync.
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

// syncPlan is where a sync starts: a snapshot of its checkpoint.
type syncPlan struct {
	list    string
	pending []pendingConversation
	done    bool
	nextSeq int64 // sequence number of the next conversation taken from the list
}

// begin binds a new checkpoint to provider (starting the list at
// startCursor), or checks that a used one belongs to it, and returns where
// the sync starts.
func (cp *Checkpoint) begin(provider, startCursor string) (syncPlan, error) {
	cp.mu.Lock()
	defer cp.mu.Unlock()
	fresh := cp.provider == "" && cp.list == "" && len(cp.pending) == 0 && !cp.done
	switch {
	case fresh:
		cp.provider, cp.list = provider, startCursor
	case cp.provider != provider:
		return syncPlan{}, invalidParams("sync: the checkpoint was made for provider %q, not %q", cp.provider, provider)
	case startCursor != "":
		return syncPlan{}, invalidParams("sync: SyncParams.Conversations.Cursor must be empty when resuming a checkpoint")
	}
	plan := syncPlan{list: cp.list, done: cp.done, nextSeq: cp.nextSeq}
	for _, p := range cp.pending {
		plan.pending = append(plan.pending, *p)
	}
	return plan, nil
}

// started records that the conversation with seq was taken from the list,
// which now resumes at listCursor.
func (cp *Checkpoint) started(seq int64, conv *Conversation, listCursor string) {
	cp.mu.Lock()
	defer cp.mu.Unlock()
	cp.list = listCursor
	cp.pending = append(cp.pending, &pendingConversation{seq: seq, conv: conv})
	cp.nextSeq = max(cp.nextSeq, seq+1)
}

// commit records that batch s of the conversation with seq has been
// delivered; its messages resume at cursor.
func (cp *Checkpoint) commit(seq int64, s *ConversationSync, cursor string) {
	cp.mu.Lock()
	defer cp.mu.Unlock()
	cp.messages += int64(len(s.Messages))
	for i, p := range cp.pending {
		if p.seq != seq {
			continue
		}
		if s.Done {
			cp.pending = append(cp.pending[:i], cp.pending[i+1:]...)
			cp.conversations++
			return
		}
		p.delivered = p.delivered || s.Start
		p.cursor = cursor
		return
	}
}

// finish marks the sync complete.
func (cp *Checkpoint) finish() {
	cp.mu.Lock()
	defer cp.mu.Unlock()
	if len(cp.pending) == 0 {
		cp.done = true
	}
}
