package convo

import (
	"cmp"
	"context"
	"iter"
	"time"
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
	// and so the largest batch; 0 means the largest page the provider
	// documents ([Provider.MaxPageSize]), the fewest requests. (A
	// conversation list PageSize of 0 likewise asks for its largest page.)
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
	// to date: a zero Checkpoint starts a full sync, one of an interrupted
	// sync resumes it, and a done one runs an incremental sync. See
	// [Checkpoint].
	Checkpoint *Checkpoint
	// Lookback is how far behind the checkpoint's watermark an incremental
	// sync re-reads the conversation list, for activity that the server
	// wrote with an earlier timestamp than it showed last time (clock skew,
	// replication lag); what it re-reads and delivered before is dropped by
	// id. 0 means DefaultLookback (5 minutes); a negative value is refused.
	Lookback time.Duration
	// Refresh is how often an incremental sync re-reads the whole
	// conversation list, to see changes that move no activity field: a run
	// whose checkpoint was last refreshed (see [Checkpoint.Refreshed]) more
	// than Refresh ago is a refresh. 0 means DefaultRefresh, a negative
	// value never. A provider whose list shows no activity has every
	// conversation listed on every run, so its every run is a refresh
	// unless Refresh is negative (its variable's doc says so).
	Refresh time.Duration
	// Recheck is how far back, by message time (the client's clock), a
	// refresh re-reads messages delivered before, to find those whose
	// record changed (delivered in [ConversationSync].Updated); the
	// checkpoint keeps a digest of each delivered message inside this
	// window. 0 means DefaultRecheck, a negative value never.
	Recheck time.Duration
}

// DefaultRefresh is the SyncParams.Refresh used when it is zero: an
// incremental sync re-reads the whole conversation list once an hour.
const DefaultRefresh = time.Hour

// DefaultRecheck is the SyncParams.Recheck used when it is zero: a
// refresh re-reads the messages of the last day.
const DefaultRecheck = 24 * time.Hour

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
	// Start reports the first batch of the conversation in this pass: the
	// batch carries the conversation's current record, which is new, or
	// changed since it was last delivered (an incremental sync), or comes
	// with new or changed messages. Batches of a resumed conversation whose
	// Start batch was delivered before the interruption have Start unset.
	Start bool
	// Messages are the batch's messages, continuing the conversation's
	// previous batch: messages never delivered before under the sync's
	// checkpoint; possibly none.
	Messages []Message
	// Updated are messages delivered before under the sync's checkpoint
	// whose record (the Message as JSON) changed since: their current
	// record, each change delivered once. Only a refresh's recheck fills
	// it, with messages sent inside SyncParams.Recheck; upsert them by id
	// like Messages.
	Updated []Message
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

// Sync walks the conversations matching p.Conversations and the messages
// of each, fetching up to p.Concurrency conversations at once, and yields
// them in batches: each [ConversationSync] is one page of one
// conversation's messages. Memory stays bounded by the page size and the
// concurrency whatever the length of a conversation's history: no
// conversation is ever held whole.
//
// # Full, resumed and incremental syncs
//
// Without p.Checkpoint, or with a zero one, Sync walks everything: a full
// sync, asking for the largest page each list documents when p sets no
// page size, the fewest requests those maxima allow. With the checkpoint of an interrupted sync it resumes that sync.
// With a checkpoint whose sync finished ([Checkpoint.Done]) it runs an
// incremental sync: it yields every conversation that is new or has new
// activity since (its first batch with Start set, carrying its current
// record), followed by exactly the messages not delivered before under
// this checkpoint, then marks the checkpoint done again. Nothing delivered
// before comes again; nothing that existed when it started is missed (a
// walk of more than one list page reads the list's head again at its end,
// for a conversation that new activity moved to the front meanwhile);
// activity that arrives while a sync runs is delivered by that run or the
// next, never lost. Incremental syncs can be interrupted and resumed like
// full ones.
//
// Its cost follows the change, not the history. The conversation list is
// read newest activity first down to the watermark (the newest activity the
// list showed last time) minus p.Lookback, with the list's since filter,
// where the provider has one, when the caller sets none; a conversation
// whose activity fields did not move is skipped; a changed one is read from
// where its messages stopped: a message list run oldest first continues
// after its last delivered message (starting_after it, or the cursor after
// it), one run newest first is read from the newest page down to it. A
// provider whose list shows no order or activity has its whole list read
// and each conversation's newest page. With nothing new that is one list
// request (for such a provider, plus one message page per conversation);
// with k changed conversations, the list pages down to the
// watermark (and the first once more when they are several) plus, for
// each, its new-message pages and at most one more. A
// stored position the server refuses (an expired cursor, a starting_after
// it no longer knows) is not an error: that conversation is read again
// from its start, dropping what was delivered before.
//
// An incremental sync that is not a refresh sees what moves a
// conversation's activity fields (last-message time, message or unread
// counts); a conversation it lists whose record changed in any other way
// comes again too (Start, its current record), with or without messages.
//
// # Refresh and recheck
//
// An incremental sync whose checkpoint was last refreshed more than
// p.Refresh ago (by default an hour) is a refresh: it reads the whole
// conversation list, not only down to the watermark, and yields every
// conversation whose record differs from the one last delivered (a status,
// tags, an unread count, consent, a preview that became "[redacted]"). It
// also rechecks, in every conversation with messages sent within
// p.Recheck of now (by default a day), the messages of that window, and
// yields those whose record changed since it was delivered in Updated (a
// delivery status that moved, a body removed by a retention window), each
// change once; an unchanged message is not delivered again. Messages keeps
// its meaning. A full sync counts as a refresh; a provider whose list shows
// no activity, read whole anyway, refreshes on every run unless p.Refresh
// is negative.
//
// A refresh costs the whole list at the largest page, plus, per
// conversation with messages in the window, the pages that hold them and
// at most one more: a message list run newest first is read from the
// newest page until one is older than the window; one run oldest first
// continues from a position before the window (starting_after a message
// delivered before it, or a page cursor handed out before it), kept per
// conversation and moved forward at each refresh (so it also reads the
// messages of at most one more Refresh interval). A kept position the
// server refuses makes that conversation read again from its start,
// delivering nothing twice. None of the providers documents deletions: a refresh reports none; a change to a
// message older than the window is not seen.
//
// # Errors
//
//   - A conversation whose messages fail is yielded with its batch (no
//     messages) and a [*ConversationError] naming it; the other
//     conversations go on unless p.StopOnError is set. Its checkpoint entry
//     stays, so resuming retries it.
//   - A failure of the conversation list itself is yielded with a nil
//     batch; the conversations already started are finished, no other is
//     started.
//   - Invalid params are yielded with a nil batch before any request: among
//     them a checkpoint of another provider, and a done checkpoint saved
//     in the format of earlier releases, which cannot run incrementally.
//   - When ctx is done the sync stops and yields an error wrapping
//     ctx.Err() with a nil batch, once.
//
// Breaking out of the loop, or the context ending, stops every request and
// goroutine of the sync before the loop statement returns.
//
// # Checkpoints
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
func (c *Client) Sync(ctx context.Context, p *SyncParams) iter.Seq2[*ConversationSync, error] {
	return func(yield func(*ConversationSync, error) bool) {
		if ctx == nil {
			ctx = context.Background()
		}
		var params SyncParams
		if p != nil {
			params = *p
		}
		if err := params.normalize(); err != nil {
			yield(nil, err)
			return
		}
		// Refuse a bad message page size and bad filters once, before any
		// request, rather than once per conversation or after a checkpoint
		// has been bound.
		if err := c.provider.d.messages.checkPageSize(c.provider.Name(), params.MessagePageSize); err != nil {
			yield(nil, err)
			return
		}
		if err := c.checkConversationParams(&params.Conversations); err != nil {
			yield(nil, err)
			return
		}
		if params.MessagePageSize == 0 {
			params.MessagePageSize = c.provider.d.messages.largestPage()
		}
		cp := params.Checkpoint
		if cp == nil {
			cp = new(Checkpoint)
		}
		spec := &c.provider.d.change
		book := &ledger{cp: cp, spec: spec}
		plan, err := book.begin(runOptions{
			provider: c.provider.Name(), startCursor: params.Conversations.Cursor, lookback: params.Lookback,
			refresh: params.Refresh, recheck: params.Recheck, callerSince: !params.Conversations.Since.IsZero(), now: time.Now(),
		})
		if err != nil {
			yield(nil, err)
			return
		}
		r := &syncRun{c: c, params: params, book: book, plan: plan, spec: spec}
		r.run(ctx, yield)
	}
}

// normalize refuses negative counts and durations that have no meaning
// and puts the defaults in place of zeros.
func (p *SyncParams) normalize() error {
	switch {
	case p.Concurrency < 0:
		return invalidParams("sync: negative concurrency %d", p.Concurrency)
	case p.Lookback < 0:
		return invalidParams("sync: negative lookback %v", p.Lookback)
	}
	p.Concurrency = cmp.Or(p.Concurrency, DefaultSyncConcurrency)
	p.Lookback = cmp.Or(p.Lookback, DefaultLookback)
	p.Refresh = cmp.Or(p.Refresh, DefaultRefresh)
	p.Recheck = cmp.Or(p.Recheck, DefaultRecheck)
	return nil
}
