package mirror

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/convokit/convo"
)

// flush is a group of delivered batches and the state covering them.
type flush struct {
	convs     []convo.Conversation
	msgs      []messageRow
	state     stateDelta // what changed in the checkpoint since the flush before
	delivered int64
	final     bool
	retain    bool // the run's last flush, with Options.Retention to apply after it
}

// messageRow is one message's row, its values ready to bind: made on the
// goroutine that gathers, so that the writer's goroutine only writes, and
// small, since rows are gathered, sorted and deduplicated by the thousand.
type messageRow struct {
	id   string // the message's id, as stored
	args [7]any // id, conversation_id, direction, body, sent_at, data, redacted_at: every column but provider and mirrored_at
}

// gatherer groups the batches of a sync into flushes. Its flush is handed
// to the writer when it holds enough rows (by the goroutine that ranges
// over the sync) or when its first rows have waited FlushInterval (by the
// timer's goroutine, while the sync waits for the network): mu orders the
// two. The checkpoint is marshalled under mu too, after the rows it covers
// have been added: the sync updates it only on the ranging goroutine,
// after the loop body, and nothing it records there claims a batch the
// body has not added.
type gatherer struct {
	r         *run
	w         *writer
	cp        *convo.Checkpoint
	mu        sync.Mutex
	cur       *flush
	rows      int
	delivered int64 // messages of the flushes handed to the writer
	kick      chan struct{}
	timerErr  error    // a hand by the timer that failed
	handed    []uint64 // digests of the checkpoint's entries as last handed to the writer

	convErrs  []error
	failedIDs []string
}

// gatherOnTime is gather with a timer that hands the flush to the writer
// once its first rows have waited FlushInterval.
func (g *gatherer) gatherOnTime(ctx context.Context, client *convo.Client, params *convo.SyncParams) error {
	g.kick = make(chan struct{}, 1)
	stop := make(chan struct{})
	stopped := make(chan struct{})
	go func() {
		defer close(stopped)
		g.timer(stop)
	}()
	err := g.gather(ctx, client, params)
	close(stop)
	<-stopped
	if err == nil {
		err = g.timerErr
	}
	return err
}

// timer hands the flush to the writer FlushInterval after its first rows
// were added (g.kick), until stop is closed.
func (g *gatherer) timer(stop <-chan struct{}) {
	t := time.NewTimer(time.Hour)
	t.Stop()
	defer t.Stop()
	for {
		select {
		case <-stop:
			return
		case <-g.kick:
			t.Reset(g.r.opts.FlushInterval)
		case <-t.C:
			g.mu.Lock()
			if g.rows > 0 && g.timerErr == nil && !g.w.failed() {
				g.timerErr = g.hand(false)
			}
			g.mu.Unlock()
		}
	}
}

// gather ranges over the sync, handing a flush to the writer whenever
// enough rows or time have gathered. It returns the error that ended the
// sync early, if any; failed conversations are recorded in g.
func (g *gatherer) gather(ctx context.Context, client *convo.Client, params *convo.SyncParams) error {
	for s, err := range client.Sync(ctx, params) {
		if err != nil {
			var ce *convo.ConversationError
			if !errors.As(err, &ce) {
				return err
			}
			g.failedIDs = append(g.failedIDs, ce.ConversationID)
			g.convErrs = append(g.convErrs, err)
			continue
		}
		if ok, err := g.take(s); !ok {
			return err // after a failed write: the batch is not committed, it comes again next run
		}
	}
	return nil
}

// take commits a batch into the current flush, and hands the flush to
// the writer when it is full. It reports false when the sync must stop:
// a write has failed (the batch is then not committed), or err.
func (g *gatherer) take(s *convo.ConversationSync) (bool, error) {
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.w.failed() || g.timerErr != nil {
		return false, g.timerErr
	}
	// The rows are made before the batch is committed: a batch that
	// cannot be stored is not covered by the checkpoint.
	msgs, err := g.r.messageRows(g.cur.msgs, s)
	if err != nil {
		return false, err // cur is as it was: its rows do not include the batch's
	}
	s.Commit() // the checkpoint now covers s, and cur will hold it
	empty := g.rows == 0
	g.add(s, msgs)
	if g.rows >= g.r.opts.FlushRows {
		if err := g.hand(false); err != nil {
			return false, err
		}
		return !g.w.failed(), nil
	}
	if empty && g.rows > 0 {
		select {
		case g.kick <- struct{}{}: // the timer starts at the flush's first rows
		default:
		}
	}
	return true, nil
}

// add puts a committed batch into the current flush: its conversation, and
// msgs, the flush's rows with the batch's appended by messageRows.
func (g *gatherer) add(s *convo.ConversationSync, msgs []messageRow) {
	if s.Start {
		g.cur.convs = append(g.cur.convs, *s.Conversation)
		g.rows++
	}
	g.cur.msgs = msgs
	g.rows += len(s.Messages) + len(s.Updated)
	g.cur.delivered += int64(len(s.Messages))
}

// hand passes the current flush, with the checkpoint as it is now, to the
// writer and starts the next.
func (g *gatherer) hand(final bool) error {
	b, err := json.Marshal(g.cp)
	if err != nil {
		return err
	}
	parts, err := splitCheckpoint(b)
	if err != nil {
		return err
	}
	g.cur.state, g.cur.final = diff(parts, g.handed), final
	if err := g.w.send(g.cur); err != nil {
		return err
	}
	g.handed = g.cur.state.hashes
	g.delivered += g.cur.delivered
	g.cur, g.rows = g.newFlush(), 0
	return nil
}

// newFlush starts a flush with room for the rows it will gather (up to a
// bound, for a caller's very large FlushRows), so that they are not copied
// as it grows.
func (g *gatherer) newFlush() *flush {
	return &flush{msgs: make([]messageRow, 0, min(g.r.opts.FlushRows, maxPreallocatedRows))}
}

// maxPreallocatedRows bounds the rows a flush makes room for at its start.
const maxPreallocatedRows = 10_000

// messageRows appends the rows of a batch's messages, new (Messages) and
// changed (Updated), to rows, their JSON and every value bound made here,
// on the goroutine that gathers, so that the writer's goroutine only
// writes. A message sent before the run's retention cutoff is stored
// without its body (see redact).
func (r *run) messageRows(rows []messageRow, s *convo.ConversationSync) ([]messageRow, error) {
	t := r.d.text
	for _, list := range [2][]convo.Message{s.Messages, s.Updated} {
		for i := range list {
			m := &list[i]
			if !r.cutoff.IsZero() && !m.SentAt.IsZero() && m.SentAt.Before(r.cutoff) {
				c := *m
				redact(&c, r.opts.Retention)
				m = &c
			}
			data, err := json.Marshal(m)
			if err != nil {
				return rows, fmt.Errorf("message %q: %w", m.ID, err)
			}
			convID := m.ConversationID
			if convID == "" {
				convID = s.Conversation.ID
			}
			id := t(m.ID)
			rows = append(rows, messageRow{id: id, args: [7]any{id, t(convID), null(t(string(m.Direction))), null(t(m.Body)),
				r.d.timeArg(m.SentAt), string(r.d.jsonText(data)), r.d.timeArg(m.RedactedAt)}})
		}
	}
	return rows, nil
}
