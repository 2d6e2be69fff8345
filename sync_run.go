package convo

import (
	"context"
	"fmt"
	"sync"
	"time"
)

// syncRun is one run of a sync.
type syncRun struct {
	c      *Client
	params SyncParams
	book   *ledger
	plan   syncPlan
	spec   *changeSpec
}

type syncEventKind int

const (
	evStarted   syncEventKind = iota + 1 // a conversation was taken from the list
	evBatch                              // a page of messages, or a conversation's error
	evListError                          // the conversation list failed
	evListed                             // the list walk is complete
)

// syncEvent travels from the list reader and the workers to the goroutine
// that yields. One channel carries them all, so that a conversation's
// evStarted arrives before its batches and its batches arrive in order.
type syncEvent struct {
	kind      syncEventKind
	seq       int64
	conv      *Conversation
	pass      pendingConversation // evStarted: the conversation's pass
	cursor    string              // evStarted: the list cursor after conv; evBatch: the message cursor to keep ("": unchanged)
	page      string              // evBatch: the request token the list continues from after the newest message delivered ("": unchanged)
	anchor    string              // evBatch, with anchorSet: where a recheck of the conversation starts, before the window ("": the list's start)
	anchorSet bool                // evBatch: the pass has found anchor
	watermark time.Time           // evStarted, evListed: the newest activity listed so far
	batch     *ConversationSync
	silent    bool // evBatch: record it, do not yield it
	err       error
}

func (r *syncRun) run(parent context.Context, yield func(*ConversationSync, error) bool) {
	ctx, cancel := context.WithCancel(parent)
	defer cancel()
	d := &syncDelivery{r: r, yield: yield, cancel: cancel}
	for ev := range r.produce(ctx) {
		if d.stopped {
			continue // draining: the producers are stopping
		}
		if parent.Err() != nil {
			yield(nil, fmt.Errorf("convo: sync: %w", parent.Err()))
			d.stop()
			continue
		}
		d.handle(ev)
	}
	switch {
	case d.stopped:
	case parent.Err() != nil:
		yield(nil, fmt.Errorf("convo: sync: %w", parent.Err()))
	case !d.failed:
		r.book.finish()
	}
}

// produce starts the list reader and the workers and returns the channel
// of their events, closed when they have all returned. They stop when ctx
// is done.
func (r *syncRun) produce(ctx context.Context) <-chan syncEvent {
	events := make(chan syncEvent, r.params.Concurrency)
	jobs := make(chan pendingConversation)
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
	return events
}

// syncDelivery is the goroutine that yields: it records the events in the
// checkpoint and yields the batches and errors to the caller's body.
type syncDelivery struct {
	r       *syncRun
	yield   func(*ConversationSync, error) bool
	cancel  context.CancelFunc // stops the producers
	stopped bool               // the body broke or the sync failed for good: the events left are drained
	failed  bool               // an error was yielded: the checkpoint is not done
}

// stop ends the sync: the producers stop and their last events are
// drained unseen.
func (d *syncDelivery) stop() {
	d.stopped = true
	d.cancel()
}

// handle records one event and yields what it carries.
func (d *syncDelivery) handle(ev syncEvent) {
	switch ev.kind {
	case evStarted:
		d.r.book.started(ev.pass, ev.cursor, ev.watermark)
	case evListed:
		d.r.book.listed(ev.watermark)
	case evListError:
		d.fail(nil, &syncListError{ev.err})
	case evBatch:
		switch {
		case ev.err != nil:
			d.fail(ev.batch, &ConversationError{ConversationID: ev.conv.ID, Err: ev.err})
		case ev.silent:
			d.r.book.commit(&ev, true)
		default:
			d.deliver(ev)
		}
	}
}

// fail yields an error, and stops the sync when the body breaks or the
// sync stops on the first error.
func (d *syncDelivery) fail(batch *ConversationSync, err error) {
	d.failed = true
	if !d.yield(batch, err) || d.r.params.StopOnError {
		d.stop()
	}
}

// deliver yields a batch, which the body may commit itself; the batch is
// committed when the body returns, unless it breaks.
func (d *syncDelivery) deliver(ev syncEvent) {
	committed := false
	commit := func() {
		if !committed {
			committed = true
			d.r.book.commit(&ev, false)
		}
	}
	ev.batch.commit = commit
	ok := d.yield(ev.batch, nil)
	ev.batch.commit = nil
	if !ok {
		d.stop()
		return
	}
	commit()
}
