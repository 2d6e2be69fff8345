package convo

import (
	"context"
	"fmt"
	"iter"
	"net/url"
	"strconv"
	"strings"
	"sync"
)

// Page is one page of a list.
type Page[T any] struct {
	// Items are the page's items, in the provider's order. On the first page
	// of a resumed iteration, the items already yielded are left out.
	Items []T
	// HasMore reports whether another page follows.
	HasMore bool
	// Total is the number of items the provider reports for the whole list,
	// valid when TotalKnown is set: when the list reports a total its
	// provider documents as reliable.
	Total      int
	TotalKnown bool
	// RequestID is the response's X-Request-Id header, when sent.
	RequestID string
	// RateLimit is the rate-limit state the response reported in
	// X-RateLimit-* headers, or nil.
	RateLimit *RateLimit
}

// Pager iterates over a list across its pages, whatever the provider's
// pagination style. Each call of [Pager.All] or [Pager.Pages] starts a new
// iteration from the params' Cursor (or the beginning); the first error ends
// the iteration.
//
// Within one iteration no item is yielded twice: an item whose id was on
// the previous page (a newest-first page-number list shifts when items
// arrive at its head) or earlier on the same page is left out. The pager
// remembers only the previous page's ids for this, so its memory does not
// grow with the length of the list.
//
// A Pager is meant to be iterated by one goroutine at a time; [Pager.Cursor]
// may be called from any goroutine.
type Pager[T any] struct {
	c           *Client
	ctx         context.Context
	ep          *listEndpoint[T]
	scope       string // conversation id, for items whose wire form lacks it
	path        string // escaped, built once
	query       string // encoded filters, built once
	limit       int    // page size sent; 0: the provider's default
	fingerprint string
	startCursor string
	start       position
	err         error // invalid params: yielded by the first step

	mu    sync.Mutex
	at    *fetched[T] // the page of the last item yielded; nil before any
	atIdx int         // its index in at.page.Items
	moved bool        // an item or page has been yielded in the current iteration
}

// pagerParams is what a list operation hands to newPager.
type pagerParams[T any] struct {
	ep       *listEndpoint[T]
	scope    string     // the conversation id of a message list; "" otherwise
	filters  url.Values // sent with every page
	pageSize int        // 0: the provider's default
	cursor   string     // a Pager.Cursor() value to resume from
	// startToken starts an iteration that has no cursor at an internal
	// position instead of the beginning: the request token of the
	// endpoint's paging style. For starting_after it is the id of the last
	// item already seen (the list continues after it); for a cursor style a
	// next_cursor value the server handed out; for page numbers the page
	// number in decimal ("1" is the first page). Every item of that page is
	// yielded, and the pager's Cursor() values resume like any other's (the
	// token is bound to the same provider, resource, scope and filters).
	// Incremental sync uses it to continue a list where it stopped.
	startToken string
	err        error // reported by the first step instead of any request
}

func newPager[T any](ctx context.Context, c *Client, pp pagerParams[T]) *Pager[T] {
	ep := pp.ep
	p := &Pager[T]{c: c, ctx: ctx, ep: ep, scope: pp.scope, startCursor: pp.cursor, err: pp.err}
	if ctx == nil {
		p.ctx = context.Background()
	}
	if p.err != nil {
		return p
	}
	p.path = ep.path(url.PathEscape(pp.scope))
	p.query = pp.filters.Encode()
	p.fingerprint = fingerprint(pp.scope, p.query)
	if p.err = ep.checkPageSize(c.provider.Name(), pp.pageSize); p.err != nil {
		return p
	}
	if ep.limitParam != "" {
		p.limit = pp.pageSize
	}
	p.start = position{token: pp.startToken}
	if pp.cursor != "" {
		p.start, p.err = p.resumeAt(pp.cursor, pp.pageSize)
	}
	return p
}

// Cursor returns an opaque token for the position just after the last item
// yielded by the current (or last) iteration: fed back through the params'
// Cursor it resumes there, in the middle of a page too, with no item repeated
// or skipped. Before any item is yielded it returns the params' Cursor.
//
// Mid-page, the token holds the page's token and a 64-bit hash of the id of
// each item of that page already yielded (8 bytes an item; never a raw id),
// so that a resumed iteration leaves out exactly those even when items of
// the page were deleted or inserted meanwhile: a deleted item cannot make
// it skip the next one, an inserted one is yielded. At a page boundary it
// holds the next page's token and the hashes of the page just finished, so
// that a list that shifted meanwhile does not repeat them either. With
// starting_after pagination it is the id of the last item alone.
//
// A resumed iteration keeps the page size it started with; a different
// explicit PageSize beside the cursor is refused. A token only resumes the
// same provider, resource, conversation and filters; anything else is
// rejected with [ErrInvalidParams]. Tokens of the previous format (v1)
// still resume, by the last id (or, when it is gone, by position).
func (p *Pager[T]) Cursor() string {
	p.mu.Lock()
	defer p.mu.Unlock()
	if !p.moved {
		return p.startCursor
	}
	pos := p.start
	if p.at != nil {
		pos = p.after(p.at, p.atIdx)
	}
	return encodeCursor(cursorToken{
		V: cursorVersion, P: p.c.provider.Name(), R: p.ep.resource, S: p.fingerprint,
		T: pos.token, L: p.limit, H: pos.seen,
	})
}

// All returns an iterator over every item of the list, fetching pages as
// needed. It stops at the first error, which it yields once with the zero
// item: an [*APIError], a [*RequestError], a [*DecodeError], an error
// wrapping the context's error, or one wrapping [ErrInvalidParams],
// [ErrUnsupported] or [ErrPaginationStalled]. Breaking out of the loop
// stops all work of the iteration, prefetching included.
func (p *Pager[T]) All() iter.Seq2[T, error] {
	return func(yield func(T, error) bool) {
		var zero T
		p.run(func(f *fetched[T], err error) bool {
			if err != nil {
				yield(zero, err)
				return false
			}
			for i := range f.page.Items {
				p.advance(f, i)
				if !yield(f.page.Items[i], nil) {
					return false
				}
			}
			return true
		})
	}
}

// Pages returns an iterator over the list page by page. It stops at the
// first error, yielded once with a nil page. After a page is yielded,
// [Pager.Cursor] points just after its last item. Items already yielded by
// the iteration are left out of a page, and a page left with none is
// skipped unless it is the last.
func (p *Pager[T]) Pages() iter.Seq2[*Page[T], error] {
	return func(yield func(*Page[T], error) bool) {
		p.run(func(f *fetched[T], err error) bool {
			if err != nil {
				yield(nil, err)
				return false
			}
			if n := len(f.page.Items); n > 0 {
				p.advance(f, n-1)
			} else {
				p.mu.Lock()
				p.moved = true
				p.mu.Unlock()
			}
			return yield(f.page, nil)
		})
	}
}

// fetched is a page with what the pager needs to track positions in it.
type fetched[T any] struct {
	page   *Page[T]
	token  string   // request token of the page
	next   string   // request token of the next page; "" at the end
	hashes []uint64 // id hash of every item the server sent, in order
	kept   []int    // index in hashes of each item of page.Items; nil: the same index
	carry  []uint64 // hashes of a resumed position carried onto this page
}

// advance records that item i of f has been yielded. The position itself
// is worked out only when Cursor asks for it.
func (p *Pager[T]) advance(f *fetched[T], i int) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.moved = true
	p.at, p.atIdx = f, i
}

// after is the position just after item i of f.
func (p *Pager[T]) after(f *fetched[T], i int) position {
	switch {
	case p.ep.style.itemPositions():
		return position{token: p.ep.id(&f.page.Items[i])}
	case i == len(f.page.Items)-1 && f.next != "":
		return position{token: f.next, seen: seenSet(f.hashes, f.carry, p.ep.maxLimit)}
	}
	raw := i
	if f.kept != nil {
		raw = f.kept[i]
	}
	return position{token: f.token, seen: seenSet(f.hashes[:raw+1], f.carry, p.ep.maxLimit)}
}

// seenSet is the hashes a position carries: those of the page so far, then
// those carried from the position the iteration resumed at, at most two
// pages of them.
func seenSet(page, carry []uint64, maxLimit int) []uint64 {
	limit := 2 * max(maxLimit, 100)
	out := make([]uint64, 0, min(len(page)+len(carry), limit))
	out = append(out, page[:min(len(page), limit)]...)
	return append(out, carry[:min(len(carry), limit-len(out))]...)
}

// run drives one iteration: it fetches pages in order and hands each (or the
// first error) to emit until emit returns false or the list ends. With
// prefetch, pages are fetched ahead by a goroutine that is stopped and
// waited for before run returns.
func (p *Pager[T]) run(emit func(*fetched[T], error) bool) {
	p.mu.Lock()
	p.at, p.moved = nil, false
	p.mu.Unlock()
	if p.err != nil {
		emit(nil, p.err)
		return
	}
	if err := p.ctx.Err(); err != nil {
		emit(nil, fmt.Errorf("convo: %w", err))
		return
	}
	ahead := p.c.cfg.prefetch
	if ahead == 0 {
		p.fetchAll(p.ctx, emit)
		return
	}

	type result struct {
		f   *fetched[T]
		err error
	}
	ctx, cancel := context.WithCancel(p.ctx)
	results := make(chan result, ahead-1)
	done := make(chan struct{})
	go func() {
		defer close(done)
		defer close(results)
		p.fetchAll(ctx, func(f *fetched[T], err error) bool {
			select {
			case results <- result{f, err}:
				return err == nil
			case <-ctx.Done():
				return false
			}
		})
	}()
	defer func() {
		cancel()
		<-done
	}()
	for {
		select {
		case r, ok := <-results:
			if !ok || !emit(r.f, r.err) {
				return
			}
		case <-p.ctx.Done():
			emit(nil, fmt.Errorf("convo: %w", p.ctx.Err()))
			return
		}
	}
}

// fetchAll fetches the pages of one iteration in order, refusing
// pagination that does not advance and leaving out items already yielded.
// Its memory is one page's ids and a fixed-size progress record, whatever
// the length of the list.
func (p *Pager[T]) fetchAll(ctx context.Context, emit func(*fetched[T], error) bool) {
	var prog progress
	token, carry, legacy := p.start.token, p.start.seen, p.start.legacy
	// The ids of the previous page (and of a resumed position), and the
	// set of the current page's, swapped page after page.
	previous, current := map[uint64]struct{}{}, map[uint64]struct{}{}
	for {
		f, err := p.fetch(ctx, token)
		if err == nil {
			err = prog.check(p.ep.style, p.listName(), f.outline(p.ep.id))
		}
		if err != nil {
			emit(nil, err)
			return
		}
		f.carry = carry
		f.keepNew(previous, current, legacy, p.ep.id)
		previous, current = current, previous
		carry, legacy = nil, nil
		if len(f.page.Items) == 0 && f.next != "" {
			token = f.next // every item was yielded before: nothing to hand out
			continue
		}
		if !emit(f, nil) || f.next == "" {
			return
		}
		token = f.next
	}
}

// keepNew leaves out of f's page the items whose id is in previous or
// earlier on the page (or among those carried onto it, or, for a v1 cursor,
// those it had yielded), and fills current with the ids to leave out of the
// next page: this page's and those carried onto it.
func (f *fetched[T]) keepNew(previous, current map[uint64]struct{}, legacy *legacyPosition, id func(*T) string) {
	clear(current)
	for _, h := range f.carry {
		current[h] = struct{}{}
	}
	skip := legacySkip(legacy, f.page.Items, id)
	items := f.page.Items[:0]
	for i, h := range f.hashes {
		_, before := previous[h]
		_, here := current[h]
		current[h] = struct{}{}
		if before || here || i < skip {
			if f.kept == nil { // the first item left out: from here on indexes differ
				f.kept = make([]int, len(items), len(f.hashes))
				for j := range items {
					f.kept[j] = j
				}
			}
			continue
		}
		items = append(items, f.page.Items[i])
		if f.kept != nil {
			f.kept = append(f.kept, i)
		}
	}
	clear(f.page.Items[len(items):]) // let dropped items go
	f.page.Items = items
}

// outline is what progress checks of the page as the server sent it.
func (f *fetched[T]) outline(id func(*T) string) pageOutline {
	o := pageOutline{token: f.token, next: f.next, items: len(f.page.Items)}
	if o.items > 0 {
		o.first = id(&f.page.Items[0])
	}
	return o
}

// listName names the list in errors: provider and resource.
func (p *Pager[T]) listName() string { return p.c.provider.Name() + " " + p.ep.resource }

// fetch requests the page at token, decodes it and asks the paging style
// for the next page.
func (p *Pager[T]) fetch(ctx context.Context, token string) (*fetched[T], error) {
	ep := p.ep
	q, err := p.pageQuery(token)
	if err != nil {
		return nil, err
	}
	resp, err := p.c.get(ctx, p.path, q, ep.style.label(token))
	if err != nil {
		return nil, err
	}
	raw, err := ep.decode(resp.body(), p.scope)
	if err != nil || len(raw.items) == 0 {
		err = emptyResponseError(p.c.provider.Name(), p.path, resp, err)
	}
	resp.release()
	if err != nil {
		return nil, err
	}
	f := &fetched[T]{
		page:   &Page[T]{Items: raw.items, RequestID: resp.header.Get("X-Request-Id"), RateLimit: resp.rateLimit},
		token:  token,
		hashes: make([]uint64, len(raw.items)),
	}
	for i := range raw.items {
		f.hashes[i] = hashID(ep.id(&raw.items[i]))
	}
	if raw.total != nil {
		f.page.Total, f.page.TotalKnown = *raw.total, true
	}
	facts := pageFacts{items: len(raw.items), more: raw.more, next: raw.next, page: raw.page,
		limit: raw.limit, totalPages: raw.totalPages, requested: p.limit, defaultLimit: ep.defaultLimit}
	if n := len(raw.items); n > 0 {
		facts.lastID = ep.id(&raw.items[n-1])
	}
	if f.next, err = ep.style.next(token, facts); err != nil {
		return nil, fmt.Errorf("%w: %s: %s", ErrPaginationStalled, p.listName(), err.Error())
	}
	f.page.HasMore = f.next != ""
	return f, nil
}

// pageQuery is the query of the page at token: the filters, the style's
// position parameter and the page size.
func (p *Pager[T]) pageQuery(token string) (string, error) {
	name, value, err := p.ep.style.param(token)
	if err != nil {
		return "", invalidField("Cursor", "%s: cursor holds %v", p.listName(), err)
	}
	var q strings.Builder
	q.WriteString(p.query)
	add := func(k, v string) {
		if q.Len() > 0 {
			q.WriteByte('&')
		}
		q.WriteString(url.QueryEscape(k))
		q.WriteByte('=')
		q.WriteString(url.QueryEscape(v))
	}
	if name != "" {
		add(name, value)
	}
	if p.limit > 0 {
		add(p.ep.limitParam, strconv.Itoa(p.limit))
	}
	return q.String(), nil
}

func firstPositive(v ...int) int {
	for _, x := range v {
		if x > 0 {
			return x
		}
	}
	return 0
}
