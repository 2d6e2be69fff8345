package convo

import (
	"context"
	"errors"
	"time"
)

// list hands the checkpoint's unfinished conversations to the workers,
// then walks the list after the checkpoint's list cursor and hands out
// each conversation that needs a pass (new, or changed since it was last
// caught up), announcing it (with the list cursor after it) before a
// worker can report on it. An incremental walk stops at the first
// conversation whose activity is older than its window.
func (r *syncRun) list(ctx context.Context, jobs chan<- pendingConversation, send func(syncEvent) bool) {
	w := &listWalk{
		r: r, ctx: ctx, jobs: jobs, send: send,
		lp:        r.params.Conversations,
		window:    r.plan.run.window,
		seq:       r.plan.nextSeq,
		watermark: r.plan.run.watermark,
		taken:     make(map[string]bool, len(r.plan.pending)),
		listed:    map[string]string{},
	}
	for _, p := range r.plan.pending {
		w.taken[p.conv.ID] = true
		if !w.give(p) {
			return
		}
	}
	if r.plan.listDone {
		return
	}
	if r.plan.run.since {
		w.lp.Since = r.plan.run.window
	}
	pages, end, ok := w.walk(r.plan.list, false, "")
	if !ok {
		return
	}
	if pages > 1 && r.spec.byActivity {
		if _, _, ok := w.walk(r.params.Conversations.Cursor, true, end); !ok {
			return
		}
	}
	send(syncEvent{kind: evListed, watermark: w.watermark})
}

// listWalk is the state of the list reader.
type listWalk struct {
	r         *syncRun
	ctx       context.Context
	jobs      chan<- pendingConversation
	send      func(syncEvent) bool
	lp        ConversationListParams
	window    time.Time         // an incremental walk ends at activity older than this
	seq       int64             // the next pass's number
	watermark time.Time         // the newest activity listed so far
	taken     map[string]bool   // ids handed out in this run
	listed    map[string]string // id -> activity signals as this run listed it
}

// give hands a pass to the workers; false when the sync is stopping.
func (w *listWalk) give(j pendingConversation) bool {
	select {
	case w.jobs <- j:
		return true
	case <-w.ctx.Done():
		return false
	}
}

// walk reads the list from cursor and hands out the conversations that
// need a pass. A recheck walk reads the head of the list again and stops
// at the first conversation listed unchanged: what moved to the front
// while the list was read (new activity lifts a conversation past the
// point already read) is above it; its passes are announced with keep,
// the main walk's end, which stays the list's position. walk returns the
// pages read, the list cursor where it ended, and false when the sync is
// stopping.
func (w *listWalk) walk(cursor string, recheck bool, keep string) (pages int, end string, ok bool) {
	lp := w.lp
	lp.Cursor = cursor
	if cursor == "" && lp.PageSize == 0 { // a new walk: the fewest requests (a cursor keeps its own size)
		lp.PageSize = w.r.c.provider.d.conversations.largestPage()
	}
	pager := w.r.c.Conversations.List(w.ctx, &lp)
	at := cursor // the list cursor before the page being read
	for page, err := range pager.Pages() {
		if err != nil {
			if w.ctx.Err() == nil || !errors.Is(err, w.ctx.Err()) {
				w.send(syncEvent{kind: evListError, err: err})
			}
			return pages, at, false
		}
		pages++
		listCursor := at
		if recheck {
			listCursor = keep
		}
		for i := range page.Items {
			cv := page.Items[i]
			if !w.note(&cv, recheck) {
				return pages, at, true
			}
			if more, ok := w.handOut(&cv, recheck, listCursor); !more || !ok {
				return pages, at, ok
			}
		}
		at = pager.Cursor()
	}
	return pages, at, true
}

// note records a listed conversation's activity, and reports whether the
// walk goes on past it: not when it is older than the window (everything
// further is older), nor, on a recheck, when the main walk listed it
// unchanged.
func (w *listWalk) note(cv *Conversation, recheck bool) bool {
	spec := w.r.spec
	if spec.activity != nil {
		act, ordering := spec.activity(cv)
		if ordering && !w.window.IsZero() && act.Before(w.window) {
			return false
		}
		if !recheck {
			w.watermark = later(w.watermark, act)
		}
	}
	sig := w.signature(cv)
	if !recheck {
		w.listed[cv.ID] = sig
		return true
	}
	was, ok := w.listed[cv.ID]
	return !ok || was != sig
}

// signature is a conversation's activity and signals, as the list shows
// them; "" when the provider lists no activity.
func (w *listWalk) signature(c *Conversation) string {
	spec := w.r.spec
	if spec.activity == nil {
		return ""
	}
	at, _ := spec.activity(c)
	return at.UTC().Format(time.RFC3339Nano) + " " + signalsOf(c, spec)
}

// handOut announces a conversation's pass, with the list cursor to keep,
// and gives it to the workers, unless it is already taken or needs no pass
// (known, and nothing moved: a recheck ends there). It reports whether the
// walk goes on (more) and false in ok when the sync is stopping.
func (w *listWalk) handOut(cv *Conversation, recheck bool, listCursor string) (more, ok bool) {
	if w.taken[cv.ID] {
		return true, true
	}
	pass := w.r.book.next(cv)
	if pass == nil {
		return !recheck, true
	}
	w.taken[cv.ID] = true
	pass.seq = w.seq
	if !w.send(syncEvent{kind: evStarted, pass: *pass, cursor: listCursor, watermark: w.watermark}) || !w.give(*pass) {
		return false, false
	}
	w.seq++
	return true, true
}
