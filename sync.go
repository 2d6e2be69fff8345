package convo

import (
	"context"
	"errors"
	"fmt"
	"iter"
	"sync"
)

// DefaultSyncConcurrency is the number of conversations a [Client.Sync]
// fetches at once when [SyncParams].Concurrency is 0.
const DefaultSyncConcurrency = 4

// SyncParams configures [Client.Sync]. The zero value (or a nil pointer)
// walks every conversation with the provider's default page sizes,
// [DefaultSyncConcurrency] conversations at a time, without a checkpoint.
type SyncParams struct {
	// Conversations filters and pages the conversation list, as for
	// [ConversationService.List]. Its Cursor starts a new sync there; it
	// must be empty when Checkpoint has already been used.
	Conversations ConversationListParams
	// MessagePageSize is the page size of each conversation's message list,
	// and so the largest batch; 0 means the provider's default.
	MessagePageSize int
	// Concurrency is how many conversations have their messages fetched at
	// once; 0 means DefaultSyncConcurrency. The conversation list is read
	// by one more goroutine, ahead of the workers, so up to Concurrency+1
	// requests are in flight (more with WithPrefetch).
	Concurrency int
	// StopOnError ends the sync at the first error. By default an error in
	// one conversation is reported and the others go on.
	StopOnError bool
	// Checkpoint, when set, is where the sync starts and what it keeps up
	// to date: a zero Checkpoint starts from the beginning, a saved one
	// resumes. See [Checkpoint].
	Checkpoint *Checkpoint
}

// ConversationSync is one batch of a sync: a conversation and the next
// messages of it, at most one page, in the provider's order.
//
// The batches of one conversation arrive in order, the first with Start
// set and the last with Done set (a conversation with few messages comes in
// a single batch with both). Batches of different conversations
// interleave. A conversation whose messages cannot all be read ends with an
// error instead of a Done batch.
type ConversationSync struct {
	// Conversation is the conversation, shared by all its batches; do not
	// modify it.
	Conversation *Conversation
	// Start reports the first batch of the conversation: the conversation
	// itself has not been delivered before, in this sync or in the run its
	// checkpoint comes from. Batches of a resumed conversation that was
	// delivered before have Start unset.
	Start bool
	// Messages are the batch's messages, continuing the conversation's
	// previous batch; possibly none.
	Messages []Message
	// Done reports the conversation's last batch: all its messages have
	// been delivered.
	Done bool

	commit func() // set while the batch's loop body runs
}

// Commit records the batch as delivered in the sync's checkpoint now,
// instead of when the loop body finishes with it. Call it from the loop
// body before breaking out of the loop after handling the batch, or before
// saving a checkpoint that must cover it. Outside its own loop body it does
// nothing.
func (s *ConversationSync) Commit() {
	if s != nil && s.commit != nil {
		s.commit()
	}
}

// ConversationError is the error of one conversation in a sync: listing
// its messages failed. It wraps the cause.
type ConversationError struct {
	ConversationID string
	Err            error
}

// Error names the conversation and the cause.
func (e *ConversationError) Error() string {
	return errorLine(fmt.Sprintf("convo: sync: conversation %q: %s", snippet([]byte(e.ConversationID), 200), causeText(e.Err)))
}

// Unwrap returns the cause.
func (e *ConversationError) Unwrap() error { return e.Err }

// syncListError is a failure of a sync's conversation list.
type syncListError struct{ err error }

func (e *syncListError) Error() string {
	return errorLine("convo: sync: list conversations: " + causeText(e.err))
}
func (e *syncListError) Unwrap() error { return e.err }

// Sync walks every conversation matching p.Conversations and the messages
// of each, fetching up to p.Concurrency conversations at once, and yields
// them in batches: each [ConversationSync] is one page of one
// conversation's messages. Memory stays bounded by the page size and the
// concurrency whatever the length of a conversation's history: no
// conversation is ever held whole.
//
// Errors:
//   - A conversation whose messages fail is yielded with its batch (no
//     messages) and a [*ConversationError] naming it; the other
//     conversations go on unless p.StopOnError is set. Its checkpoint entry
//     stays, so resuming retries it.
//   - A failure of the conversation list itself is yielded with a nil
//     batch; the conversations already started are finished, no other is
//     started.
//   - Invalid params are yielded with a nil batch before any request.
//   - When ctx is done the sync stops and yields an error wrapping
//     ctx.Err() with a nil batch, once.
//
// Breaking out of the loop, or the context ending, stops every request and
// goroutine of the sync before the loop statement returns.
//
// With p.Checkpoint, the sync starts where the checkpoint says and updates
// it as batches are delivered: a batch counts as delivered once the loop
// body has finished with it and asked for the next one, or when the body
// calls [ConversationSync.Commit]. So the checkpoint the body sees (and may
// [Checkpoint.Save]) covers every batch before the current one, and the
// checkpoint after the loop covers every batch whose body completed. A body
// that breaks without Commit leaves its batch undelivered: it comes again
// on resume (a body that breaks because it could not store the batch loses
// nothing). When every conversation has been delivered the checkpoint is
// marked done.
//
// The conversation list is read in the provider's order; conversations
// that change position while the sync runs (new activity moves a
// conversation to the front of a newest-first list) may be missed or seen
// twice, as with any listing.
func (c *Client) Sync(ctx context.Context, p *SyncParams) iter.Seq2[*ConversationSync, error] {
	return func(yield func(*ConversationSync, error) bool) {
		if ctx == nil {
			ctx = context.Background()
		}
		var params SyncParams
		if p != nil {
			params = *p
		}
		if params.Concurrency < 0 {
			yield(nil, invalidParams("sync: negative concurrency %d", params.Concurrency))
			return
		}
		if params.Concurrency == 0 {
			params.Concurrency = DefaultSyncConcurrency
		}
		// Refuse a bad message page size once, before any request, rather
		// than once per conversation.
		if err := c.provider.d.messages.checkPageSize(c.provider.Name(), params.MessagePageSize); err != nil {
			yield(nil, err)
			return
		}
		cp := params.Checkpoint
		if cp == nil {
			cp = new(Checkpoint)
		}
		plan, err := cp.begin(c.provider.Name(), params.Conversations.Cursor)
		if err != nil {
			yield(nil, err)
			return
		}
		if plan.done {
			return
		}
		r := &syncRun{c: c, params: params, cp: cp, plan: plan}
		r.run(ctx, yield)
	}
}

// syncRun is one run of a sync.
type syncRun struct {
	c      *Client
	params SyncParams
	cp     *Checkpoint
	plan   syncPlan
}

type syncEventKind int

const (
	evStarted   syncEventKind = iota + 1 // a conversation was taken from the list
	evBatch                              // a page of messages, or a conversation's error
	evListError                          // the conversation list failed
)

// syncEvent travels from the list reader and the workers to the goroutine
// that yields. One channel carries them all, so that a conversation's
// evStarted arrives before its batches and its batches arrive in order.
type syncEvent struct {
	kind   syncEventKind
	seq    int64
	conv   *Conversation
	cursor string // evStarted: the list cursor after conv; evBatch: the message cursor after the batch
	batch  *ConversationSync
	err    error
}

// syncJob is a conversation for a worker.
type syncJob struct {
	seq       int64
	conv      *Conversation
	cursor    string
	delivered bool
}

func (r *syncRun) run(parent context.Context, yield func(*ConversationSync, error) bool) {
	ctx, cancel := context.WithCancel(parent)
	defer cancel()
	events := make(chan syncEvent, r.params.Concurrency)
	jobs := make(chan syncJob)
	var wg sync.WaitGroup

	send := func(ev syncEvent) bool {
		select {
		case events <- ev:
			return true
		case <-ctx.Done():
			return false
		}
	}

	wg.Add(1 + r.params.Concurrency)
	go func() {
		defer wg.Done()
		defer close(jobs)
		r.list(ctx, jobs, send)
	}()
	for range r.params.Concurrency {
		go func() {
			defer wg.Done()
			for job := range jobs {
				if !r.messages(ctx, job, send) {
					return
				}
			}
		}()
	}
	go func() {
		wg.Wait()
		close(events)
	}()

	stopped, failed := false, false
	stop := func() {
		stopped = true
		cancel()
	}
	for ev := range events {
		if stopped {
			continue // draining: the producers are stopping
		}
		if parent.Err() != nil {
			yield(nil, fmt.Errorf("convo: sync: %w", parent.Err()))
			stop()
			continue
		}
		switch ev.kind {
		case evStarted:
			r.cp.started(ev.seq, ev.conv, ev.cursor)
		case evListError:
			failed = true
			if !yield(nil, &syncListError{ev.err}) || r.params.StopOnError {
				stop()
			}
		case evBatch:
			if ev.err != nil {
				failed = true
				if !yield(ev.batch, &ConversationError{ConversationID: ev.conv.ID, Err: ev.err}) || r.params.StopOnError {
					stop()
				}
				continue
			}
			committed := false
			commit := func() {
				if !committed {
					committed = true
					r.cp.commit(ev.seq, ev.batch, ev.cursor)
				}
			}
			ev.batch.commit = commit
			ok := yield(ev.batch, nil)
			ev.batch.commit = nil
			if !ok {
				stop()
				continue
			}
			commit()
		}
	}
	switch {
	case stopped:
	case parent.Err() != nil:
		yield(nil, fmt.Errorf("convo: sync: %w", parent.Err()))
	case !failed:
		r.cp.finish()
	}
}

// list hands the checkpoint's unfinished conversations to the workers,
// then every conversation of the list after the checkpoint's list cursor,
// announcing each (with the list cursor after it) before a worker can
// report on it.
func (r *syncRun) list(ctx context.Context, jobs chan<- syncJob, send func(syncEvent) bool) {
	give := func(j syncJob) bool {
		select {
		case jobs <- j:
			return true
		case <-ctx.Done():
			return false
		}
	}
	for _, p := range r.plan.pending {
		if !give(syncJob{seq: p.seq, conv: p.conv, cursor: p.cursor, delivered: p.delivered}) {
			return
		}
	}
	lp := r.params.Conversations
	lp.Cursor = r.plan.list
	pager := r.c.Conversations.List(ctx, &lp)
	seq := r.plan.nextSeq
	for conv, err := range pager.All() {
		if err != nil {
			if ctx.Err() == nil || !errors.Is(err, ctx.Err()) {
				send(syncEvent{kind: evListError, err: err})
			}
			return
		}
		cv := conv
		if !send(syncEvent{kind: evStarted, seq: seq, conv: &cv, cursor: pager.Cursor()}) {
			return
		}
		if !give(syncJob{seq: seq, conv: &cv}) {
			return
		}
		seq++
	}
}

// messages reads one conversation's messages page by page and sends each
// page as a batch, or the error that ends it. It returns false when the
// sync is stopping.
func (r *syncRun) messages(ctx context.Context, job syncJob, send func(syncEvent) bool) bool {
	pager := r.c.Messages.List(ctx, job.conv.ID, &MessageListParams{PageSize: r.params.MessagePageSize, Cursor: job.cursor})
	start := !job.delivered
	for page, err := range pager.Pages() {
		if err != nil {
			if ctx.Err() != nil {
				return false
			}
			return send(syncEvent{kind: evBatch, seq: job.seq, conv: job.conv, batch: &ConversationSync{Conversation: job.conv}, err: err})
		}
		b := &ConversationSync{Conversation: job.conv, Start: start, Messages: page.Items, Done: !page.HasMore}
		start = false
		if !send(syncEvent{kind: evBatch, seq: job.seq, conv: job.conv, batch: b, cursor: pager.Cursor()}) {
			return false
		}
	}
	return true
}
