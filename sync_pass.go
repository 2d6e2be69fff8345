package convo

import (
	"context"
	"errors"
)

// messages runs one conversation's pass: it reads its messages page by
// page from where the pass stands and sends each page's new (and, on a
// recheck, changed) messages as a batch, or the error that ends it. A
// stored position the server refuses makes it read the conversation again
// from its start, skipping through the last message delivered. It returns
// false when the sync is stopping.
func (r *syncRun) messages(ctx context.Context, job pendingConversation, send func(syncEvent) bool) bool {
	m := &messagePass{r: r, job: job, send: send, start: !job.delivered, cursor: job.cursor, token: job.token}
	if job.noRead { // only the record changed: it is the whole batch
		return m.sendBatch(nil, nil, true, "", "")
	}
	for attempt := 0; ; attempt++ {
		ok, refused := m.read(ctx, attempt)
		if !refused {
			return ok
		}
		m.cursor, m.token = "", ""
	}
}

// messagePass is the state of one conversation's pass.
type messagePass struct {
	r       *syncRun
	job     pendingConversation
	send    func(syncEvent) bool
	start   bool    // the next batch delivered is the conversation's first
	cursor  string  // the message cursor to resume at, or ""
	token   string  // when cursor is "": the page to start at, or ""
	skip    msgMark // drop messages through this one (a page read again)
	onePage bool    // skip only within the first page: a page token starts at or just after it
	found   bool    // the pass has found messages to deliver

	// A recheck's progress through the messages delivered before.
	beyond  bool   // oldest first: past the newest message delivered before (job.pos): what follows is new
	reached bool   // newest first: at or past the newest message delivered before (job.stop)
	older   bool   // newest first: a message older than the window was read after reached
	anchor  string // oldest first: where a later recheck may start, before the window ("": none found)
}

// read makes one attempt at the pass: it reads from the pass's position
// to the end. It returns false in ok when the sync is stopping, and true
// in refused when the first attempt's stored position was refused (nothing
// was sent then).
func (m *messagePass) read(ctx context.Context, attempt int) (ok, refused bool) {
	pager := m.pager(ctx)
	stored := m.cursor != "" || m.token != ""
	first := true
	for page, err := range pager.pagesAt() {
		if err != nil {
			return m.failed(ctx, err, first && stored && attempt == 0)
		}
		first = false
		items, updated, end := m.classify(page)
		if len(items) == 0 && len(updated) == 0 && !end {
			continue // nothing new or changed on this page
		}
		keep, after := "", ""
		if len(items) > 0 || len(updated) > 0 || attempt > 0 {
			keep = pager.Cursor()
		}
		if len(items) > 0 && !m.r.spec.newestFirst {
			after = page.after // the page's last item is the newest delivered
		}
		if !m.sendBatch(items, updated, end, keep, after) {
			return false, false
		}
		if end {
			return true, false // stops the pager when the pass ends before the list does
		}
	}
	return true, false
}

// failed ends an attempt on an error of its pager: the sync is stopping
// (ok false), the stored position was refused and may be (refusable: the
// first page of the first attempt from a stored position) read again from
// the start (refused), or the conversation fails.
func (m *messagePass) failed(ctx context.Context, err error, refusable bool) (ok, refused bool) {
	switch {
	case ctx.Err() != nil:
		return false, false
	case refusable && positionRefused(err):
		return true, true
	}
	conv := m.job.conv
	return m.send(syncEvent{kind: evBatch, seq: m.job.seq, conv: conv, batch: &ConversationSync{Conversation: conv}, err: err}), false
}

// sendBatch sends a page's new and changed messages as a batch, with the
// message cursor to keep ("": unchanged) and the token the list continues
// from after its newest message, and reports whether the sync goes on. A
// quiet pass's batches are silent until it finds a message.
func (m *messagePass) sendBatch(items, updated []Message, end bool, keep, after string) bool {
	m.found = m.found || len(items) > 0 || len(updated) > 0
	b := &ConversationSync{Conversation: m.job.conv, Start: m.start, Messages: items, Updated: updated, Done: end}
	silent := m.job.quiet && !m.found
	ev := syncEvent{kind: evBatch, seq: m.job.seq, conv: m.job.conv, batch: b, cursor: keep, page: after, anchor: m.anchor, silent: silent}
	if !m.send(ev) {
		return false
	}
	if !silent {
		m.start = false
	}
	return true
}

// pager returns the pager of the pass's messages from where it stands.
func (m *messagePass) pager(ctx context.Context) *Pager[Message] {
	c := m.r.c
	m.beyond, m.reached, m.older = false, false, false
	if m.cursor != "" { // a pass resumed where it stopped (with the page size it started with)
		return c.Messages.List(ctx, m.job.conv.ID, &MessageListParams{Cursor: m.cursor})
	}
	// From the start, the page of the newest message delivered (what was
	// delivered comes again), or a recheck's start before the window.
	m.skip = m.job.pos
	m.onePage = m.token != ""
	if m.job.recheck && !m.r.spec.newestFirst {
		m.skip = msgMark{} // compared, not skipped
	}
	return newPager(ctx, c, pagerParams[Message]{ep: &c.provider.d.messages, scope: m.job.conv.ID, pageSize: m.r.params.MessagePageSize, startToken: m.token})
}

// classify returns the messages of a page never delivered before, those
// delivered before whose record changed (a recheck), and whether the pass
// ends with the page.
func (m *messagePass) classify(pg pageAt[Message]) (items, updated []Message, end bool) {
	switch {
	case !m.job.recheck:
		items, end = m.fresh(pg.Page)
		for i := range items {
			m.noteAnchor(&items[i], pg)
		}
		return items, nil, end
	case m.r.spec.newestFirst:
		return m.recheckNewestFirst(pg)
	default:
		return m.recheckOldestFirst(pg)
	}
}

// recheckOldestFirst reads a page of a recheck of an oldest-first list,
// which starts before the window: through the newest message delivered
// before, each message inside the window is compared with its digest;
// after it, every message is new.
func (m *messagePass) recheckOldestFirst(pg pageAt[Message]) (items, updated []Message, end bool) {
	from, pos := m.r.plan.run.recheck, m.job.pos
	for i := range pg.Items {
		x := &pg.Items[i]
		if !m.beyond {
			past := pos.id == "" || x.ID != pos.id && !pos.at.IsZero() && !x.SentAt.IsZero() && x.SentAt.After(pos.at)
			if !past {
				m.beyond = x.ID == pos.id
				if x.SentAt.Before(from) {
					m.noteAnchor(x, pg)
				} else if m.changed(x) {
					updated = append(updated, *x)
				}
				continue
			}
			m.beyond = true // pos is gone: x is past it in time
		}
		items = append(items, *x)
		m.noteAnchor(x, pg)
	}
	return items, updated, !pg.HasMore
}

// recheckNewestFirst reads a page of a recheck of a newest-first list,
// from its head: the messages before the newest one delivered before are
// new; from it on, each message inside the window is compared with its
// digest, and the pass ends with the page that reaches past the window.
func (m *messagePass) recheckNewestFirst(pg pageAt[Message]) (items, updated []Message, end bool) {
	rest := pg.Items
	if m.skip.id != "" { // read again from the head: what this pass delivered is dropped
		var still bool
		if rest, still = skipThrough(rest, m.skip, true); !still {
			m.skip = msgMark{}
		}
	}
	from, stop := m.r.plan.run.recheck, m.job.stop
	for i := range rest {
		x := &rest[i]
		if !m.reached {
			gone := !stop.at.IsZero() && !x.SentAt.IsZero() && x.SentAt.Before(stop.at)
			if stop.id == "" || x.ID != stop.id && !gone {
				items = append(items, *x)
				continue
			}
			m.reached = true
		}
		if x.SentAt.Before(from) {
			m.older = true
			continue
		}
		if m.changed(x) {
			updated = append(updated, *x)
		}
	}
	return items, updated, !pg.HasMore || m.reached && m.older
}

// changed reports whether a message delivered before has a record other
// than the one delivered (or one the checkpoint holds no digest of: a
// checkpoint of an earlier release).
func (m *messagePass) changed(x *Message) bool {
	d := messageDigest(x)
	was, ok := m.job.compare[d.id]
	return !ok || was != d.record
}

// noteAnchor notes a message read in an oldest-first list: one sent
// before the run's recheck window is a place a later recheck may start
// from (its id for starting_after, its page's token for a cursor).
func (m *messagePass) noteAnchor(x *Message, pg pageAt[Message]) {
	from := m.r.plan.run.recheck
	if m.r.spec.newestFirst || from.IsZero() || !x.SentAt.Before(from) {
		return
	}
	if m.r.c.provider.d.messages.style.itemPositions() {
		m.anchor = x.ID
	} else {
		m.anchor = pg.token
	}
}

// fresh returns the messages of a page the pass has not delivered, and
// whether the pass ends with the page.
func (m *messagePass) fresh(page *Page[Message]) (items []Message, end bool) {
	items = page.Items
	if m.skip.id != "" {
		rest, still := skipThrough(items, m.skip, m.r.spec.newestFirst)
		if still && m.onePage {
			rest, still = items, false // the page starts after it (starting_after)
		}
		if items = rest; !still {
			m.skip = msgMark{}
		}
	}
	end = !page.HasMore
	if m.job.stop.id != "" {
		var reached bool
		if items, reached = cutAt(items, m.job.stop); reached {
			end = true
		}
	}
	return items, end
}

// positionRefused reports whether err is a server's refusal of a stored
// position: a validation error (expired cursor, unknown starting_after) or
// a cursor the pager itself cannot use.
func positionRefused(err error) bool {
	return errors.Is(err, ErrValidation) || errors.Is(err, ErrInvalidParams)
}

// skipThrough drops the messages of a page, in list order, through the
// one marked m, and reports whether m is still ahead. A message past m in
// time (newer in an oldest-first list, older in a newest-first one) shows
// that m is gone: nothing more is dropped from there.
func skipThrough(items []Message, m msgMark, newestFirst bool) (rest []Message, still bool) {
	for i := range items {
		if items[i].ID == m.id {
			return items[i+1:], false
		}
		at := items[i].SentAt
		if !m.at.IsZero() && !at.IsZero() && (newestFirst && at.Before(m.at) || !newestFirst && at.After(m.at)) {
			return items[i:], false
		}
	}
	return nil, true
}

// cutAt keeps the messages of a newest-first page before the one marked
// stop (delivered before) and reports whether it was reached: the message
// itself, or one older than it (stop is gone).
func cutAt(items []Message, stop msgMark) (rest []Message, reached bool) {
	for i := range items {
		if items[i].ID == stop.id || !stop.at.IsZero() && !items[i].SentAt.IsZero() && items[i].SentAt.Before(stop.at) {
			return items[:i], true
		}
	}
	return items, false
}
