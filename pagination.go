package convo

import (
	"context"
	"encoding/base64"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"iter"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"time"
)

// Page is one page of a list.
type Page[T any] struct {
	// Items are the page's items, in the provider's order. On the first page
	// of a resumed iteration, the items already yielded are left out.
	Items []T
	// HasMore reports whether another page follows.
	HasMore bool
	// Total is the number of items the provider reports for the whole list,
	// valid when TotalKnown is set (VantaxAI and Rentalot conversations,
	// Rentalot search). AgentMessage's meta.total is documented as
	// unreliable and is not reported.
	Total      int
	TotalKnown bool
	// RequestID is the response's X-Request-Id header, when sent.
	RequestID string
	// RateLimit is the rate-limit state the response reported (Rentalot's
	// X-RateLimit-* headers), or nil.
	RateLimit *RateLimit
}

// RateLimit is a provider's rate-limit state as reported by its response
// headers.
type RateLimit struct {
	Limit     int       // requests allowed per window
	Remaining int       // requests left in the current window
	Reset     time.Time // when the window resets; zero when not sent
	Resource  string    // what the request counted against
}

func parseRateLimit(h http.Header) *RateLimit {
	rl, _ := readRateLimit(h)
	return rl
}

// readRateLimit reads the X-RateLimit-* headers; remainingOK reports whether
// X-RateLimit-Remaining was a number (a missing one reads as 0, which must
// not be taken for a used-up window).
func readRateLimit(h http.Header) (rl *RateLimit, remainingOK bool) {
	lim, rem, reset := h.Get("X-RateLimit-Limit"), h.Get("X-RateLimit-Remaining"), h.Get("X-RateLimit-Reset")
	if lim == "" && rem == "" && reset == "" {
		return nil, false
	}
	rl = &RateLimit{Resource: h.Get("X-RateLimit-Resource")}
	rl.Limit, _ = strconv.Atoi(strings.TrimSpace(lim))
	var err error
	rl.Remaining, err = strconv.Atoi(strings.TrimSpace(rem))
	if secs, err := strconv.ParseInt(strings.TrimSpace(reset), 10, 64); err == nil && secs > 0 {
		rl.Reset = time.Unix(secs, 0)
	}
	return rl, err == nil
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

// position is a place in a list: the request token of a page and the id
// hashes of items already yielded that may be on that page (the yielded
// part of it, or the whole previous page when the position is at a page
// boundary). A v1 cursor carries a skip count and the last id instead.
type position struct {
	token  string
	seen   []uint64
	legacy *legacyPosition
}

// legacyPosition is the mid-page position of a v1 cursor.
type legacyPosition struct {
	skip int    // items of the page already yielded
	last string // id of the last one
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

// resumeAt reads a Pager.Cursor() value: it must have been made by this
// provider, resource, scope and filters, and a page size given beside it
// must be the one it was made with (the page boundaries depend on it).
func (p *Pager[T]) resumeAt(cursor string, pageSize int) (position, error) {
	name, res := p.c.provider.Name(), p.ep.resource
	tok, err := decodeCursor(cursor)
	switch {
	case err != nil:
		return position{}, invalidParams("%s %s: cursor is not a convo cursor: %v", name, res, err)
	case tok.P != name:
		return position{}, invalidParams("cursor was made by provider %q, not %q", tok.P, name)
	case tok.R != res:
		return position{}, invalidParams("%s: cursor was made for %s, not %s", name, tok.R, res)
	case tok.S != p.fingerprint:
		return position{}, invalidParams("%s %s: cursor was made for another conversation, query or filters", name, res)
	}
	if p.ep.limitParam != "" {
		if made := firstPositive(tok.L, p.ep.defaultLimit); pageSize != 0 && pageSize != made {
			return position{}, invalidParams("%s %s: the cursor resumes with page size %d, not PageSize %d (leave PageSize 0 when resuming)", name, res, made, pageSize)
		}
		p.limit = tok.L // the page boundaries of the original iteration
	}
	pos := position{token: tok.T, seen: tok.H}
	if tok.V == 1 && (tok.K > 0 || tok.I != "") {
		pos.legacy = &legacyPosition{skip: tok.K, last: tok.I}
	}
	return pos, nil
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

// legacySkip returns how many items at the start of a page a v1 cursor had
// yielded: through its last id when the page still holds it, else its skip
// count.
func legacySkip[T any](l *legacyPosition, items []T, id func(*T) string) int {
	if l == nil {
		return 0
	}
	for i := range items {
		if id(&items[i]) == l.last {
			return i + 1
		}
	}
	return min(l.skip, len(items))
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
		return "", invalidParams("%s: cursor holds %v", p.listName(), err)
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

// pageFacts is what a paging style reads from one decoded page.
type pageFacts struct {
	items        int    // items the server sent
	lastID       string // id of the last of them
	more         *bool  // has_more, when sent
	next         string // next cursor, when sent
	page         int    // page number the server reports
	limit        int    // page size the server reports
	totalPages   *int   // number of pages, when reported
	requested    int    // page size asked for; 0: the default
	defaultLimit int    // the endpoint's documented default page size
}

// pagingStyle is how an endpoint moves from one page to the next. Each
// style is a small type below; the pager asks its endpoint's style and
// never looks at which one it is.
type pagingStyle interface {
	// param returns the query parameter that asks for the page at token
	// (name "" sends none), or an error for a token the style cannot hold.
	param(token string) (name, value string, err error)
	// next returns the token of the page after the one fetched at token,
	// "" when the list ends, or the reason the reply cannot be followed
	// (reported as ErrPaginationStalled).
	next(token string, f pageFacts) (string, error)
	// itemPositions reports whether the token just after an item is that
	// item's id (starting_after), so that a position needs nothing else.
	itemPositions() bool
	// label names the page at token in log lines and errors, without
	// revealing an opaque token.
	label(token string) string
	// loops reports whether a next token used before means a loop, and
	// how to say so.
	loops(next string) (checked bool, reason string)
	// repeated says that the page at token starts with the item that
	// started an earlier page (earlier names it: "page 3").
	repeated(token, earlier, first string) string
}

// cursorPaging follows the next_cursor the server hands out while it
// reports more (has_more true or absent).
type cursorPaging struct{ key string }

// startingAfterPaging asks for the items after the id of the last item seen,
// while has_more is true.
type startingAfterPaging struct{ key string }

// pageNumberPaging asks for 1-based page numbers; the last page is the one
// with fewer items than the page size the server reports (or, when it
// reports totalPages, the last of those).
type pageNumberPaging struct{ key string }

// singlePage is a list of one page.
type singlePage struct{}

func tokenParam(name, token string) (string, string, error) {
	if token == "" {
		return "", "", nil
	}
	return name, token, nil
}

func (s cursorPaging) param(token string) (string, string, error) { return tokenParam(s.key, token) }

func (cursorPaging) next(_ string, f pageFacts) (string, error) {
	if f.next != "" && (f.more == nil || *f.more) {
		return f.next, nil
	}
	return "", nil
}

func (cursorPaging) itemPositions() bool { return false }

func (cursorPaging) label(token string) string { return opaqueLabel("cursor", token) }

func (cursorPaging) loops(next string) (bool, string) {
	return true, fmt.Sprintf("the server repeated cursor %q", snippet([]byte(next), 64))
}

func (cursorPaging) repeated(_, _, first string) string { return repeatedPage(first) }

func (s startingAfterPaging) param(token string) (string, string, error) {
	return tokenParam(s.key, token)
}

func (startingAfterPaging) next(token string, f pageFacts) (string, error) {
	switch {
	case f.more == nil || !*f.more:
		return "", nil
	case f.items == 0:
		return token, nil // more promised with nothing to start after: caught as stalled
	}
	return f.lastID, nil
}

func (startingAfterPaging) itemPositions() bool { return true }

func (startingAfterPaging) label(token string) string { return opaqueLabel("after", token) }

func (startingAfterPaging) loops(next string) (bool, string) {
	return true, fmt.Sprintf("starting_after did not advance past %q", snippet([]byte(next), 64))
}

func (startingAfterPaging) repeated(_, _, first string) string { return repeatedPage(first) }

func (s pageNumberPaging) param(token string) (string, string, error) {
	n, err := pageNumber(token)
	return s.key, strconv.Itoa(n), err
}

func (pageNumberPaging) next(token string, f pageFacts) (string, error) {
	n, err := pageNumber(token)
	if err != nil {
		return "", err
	}
	if f.page > 0 && f.page != n {
		return "", fmt.Errorf("asked for page %d, the server answered page %d", n, f.page)
	}
	more := f.items > 0 && f.items >= firstPositive(f.limit, f.requested, f.defaultLimit)
	if f.totalPages != nil {
		more = f.items > 0 && n < *f.totalPages
	}
	if !more {
		return "", nil
	}
	return strconv.Itoa(n + 1), nil
}

func (pageNumberPaging) itemPositions() bool { return false }

func (pageNumberPaging) label(token string) string {
	if token == "" {
		return "1"
	}
	return token
}

func (pageNumberPaging) loops(string) (bool, string) { return false, "" } // every next page is new

func (s pageNumberPaging) repeated(token, earlier, _ string) string {
	return fmt.Sprintf("the server ignored the page number (page %s starts with the same item as %s)", s.label(token), earlier)
}

func (singlePage) param(string) (string, string, error)   { return "", "", nil }
func (singlePage) next(string, pageFacts) (string, error) { return "", nil }
func (singlePage) itemPositions() bool                    { return false }
func (singlePage) label(string) string                    { return "1" }
func (singlePage) loops(string) (bool, string)            { return false, "" }
func (singlePage) repeated(_, _, first string) string     { return repeatedPage(first) }

// pageNumber reads a page-number token; "" is the first page.
func pageNumber(token string) (int, error) {
	if token == "" {
		return 1, nil
	}
	n, err := strconv.Atoi(token)
	if err != nil || n < 1 {
		return 0, fmt.Errorf("page %q", token)
	}
	return n, nil
}

func repeatedPage(first string) string {
	return fmt.Sprintf("the server answered a page it had already sent (starting again with item %q)", snippet([]byte(first), 64))
}

// opaqueLabel names a page by a short hash of its token: enough to tell
// pages apart in a log, nothing of the token itself.
func opaqueLabel(kind, token string) string {
	if token == "" {
		return "first"
	}
	return fmt.Sprintf("%s#%08x", kind, uint32(hashID(token)))
}

// progressWindow is how many recent pages progress remembers exactly.
const progressWindow = 128

// progress detects pagination that does not advance, in memory that does
// not grow with the number of pages: it keeps the hashes of the tokens and
// first items of the last progressWindow pages, which catches a server that
// ignores the cursor or page number or cycles over a few pages at once, and
// runs Brent's cycle detection over the pages' first items, which catches a
// longer cycle within a few times its length.
type progress struct {
	recent [progressWindow]pageMark
	n      int // pages recorded

	mark        uint64 // Brent: the first item of the page at the last power of two
	marked      bool
	power, lamb int
}

type pageMark struct {
	token, first uint64
	hasFirst     bool
	label        string // the page's label (pagingStyle.label), for the error
}

// check returns an ErrPaginationStalled error when the page just fetched
// shows that following the server would loop or repeat items: "more"
// promised with an empty page, a next token used before, or a page that
// starts with the same item as an earlier page (a server ignoring the page
// number or cursor, or cycling). The last check applies to the last page
// too, so that a server reporting totalPages cannot repeat a page either.
func (g *progress) check(style pagingStyle, name string, f pageOutline) error {
	stalled := func(reason string) error { return fmt.Errorf("%w: %s: %s", ErrPaginationStalled, name, reason) }
	used := hashID(f.token)
	if f.next != "" {
		if f.items == 0 {
			return stalled("the server reported more results with an empty page")
		}
		if checked, reason := style.loops(f.next); checked && g.usedToken(used, hashID(f.next)) {
			return stalled(reason)
		}
	}
	if f.items > 0 { // an item without an id starts a page too: "" repeats like any id
		first := hashID(f.first)
		if earlier, dup := g.startedWith(first); dup {
			return stalled(style.repeated(f.token, earlier, f.first))
		}
		if g.cycles(first) {
			return stalled(style.repeated(f.token, "an earlier page", f.first))
		}
	}
	g.record(pageMark{token: used, first: hashID(f.first), hasFirst: f.items > 0, label: style.label(f.token)})
	return nil
}

// pageOutline is what progress reads of a page.
type pageOutline struct {
	token, next, first string
	items              int
}

// usedToken reports whether next is the token just used or one of the
// recent pages'.
func (g *progress) usedToken(used, next uint64) bool {
	if next == used {
		return true
	}
	for i := range min(g.n, progressWindow) {
		if g.recent[i].token == next {
			return true
		}
	}
	return false
}

// startedWith names a recent page that started with first ("page 3").
func (g *progress) startedWith(first uint64) (string, bool) {
	for i := range min(g.n, progressWindow) {
		if m := g.recent[i]; m.hasFirst && m.first == first {
			return "page " + m.label, true
		}
	}
	return "", false
}

// cycles is one step of Brent's cycle detection over the first items of
// the pages: it reports a first item equal to the one remembered at the
// last power of two.
func (g *progress) cycles(first uint64) bool {
	if g.marked && first == g.mark {
		return true
	}
	g.lamb++
	if g.power == 0 || g.lamb == g.power {
		g.mark, g.marked = first, true
		g.power, g.lamb = max(1, 2*g.power), 0
	}
	return false
}

func (g *progress) record(m pageMark) {
	g.recent[g.n%progressWindow] = m
	g.n++
}

func firstPositive(v ...int) int {
	for _, x := range v {
		if x > 0 {
			return x
		}
	}
	return 0
}

// cursorVersion is the version of the cursors Pager.Cursor makes. Version 1
// (a skip count and the last id instead of hashes) is still read.
const cursorVersion = 2

// cursorToken is the content of a resume token: JSON, base64url-encoded,
// then for a mid-page or page-boundary position "." and the packed
// big-endian id hashes, base64url-encoded.
type cursorToken struct {
	V int      `json:"v"`
	P string   `json:"p"`           // provider
	R string   `json:"r"`           // resource
	S string   `json:"s"`           // fingerprint of scope and filters
	T string   `json:"t,omitempty"` // request token of the page
	L int      `json:"l,omitempty"` // page size of the iteration
	K int      `json:"k,omitempty"` // v1: items of the page already yielded
	I string   `json:"i,omitempty"` // v1: id of the last item yielded
	H []uint64 `json:"-"`           // id hashes of items yielded that may be on page T
}

func encodeCursor(t cursorToken) string {
	b, _ := json.Marshal(t) // cannot fail: strings and ints only
	s := base64.RawURLEncoding.EncodeToString(b)
	if len(t.H) == 0 {
		return s
	}
	packed := make([]byte, 8*len(t.H))
	for i, h := range t.H {
		binary.BigEndian.PutUint64(packed[8*i:], h)
	}
	return s + "." + base64.RawURLEncoding.EncodeToString(packed)
}

func decodeCursor(s string) (cursorToken, error) {
	var t cursorToken
	head, hashes, _ := strings.Cut(s, ".")
	b, err := base64.RawURLEncoding.DecodeString(head)
	if err != nil {
		return t, errors.New("not base64url")
	}
	if err := json.Unmarshal(b, &t); err != nil {
		return t, errors.New("malformed")
	}
	switch {
	case t.V != 1 && t.V != cursorVersion:
		return t, fmt.Errorf("unknown version %d", t.V)
	case t.P == "" || t.R == "" || t.S == "":
		return t, errors.New("incomplete")
	case t.K < 0 || t.L < 0:
		return t, errors.New("negative position")
	}
	if hashes != "" {
		packed, err := base64.RawURLEncoding.DecodeString(hashes)
		if err != nil || len(packed)%8 != 0 || t.V == 1 {
			return t, errors.New("malformed position")
		}
		t.H = make([]uint64, len(packed)/8)
		for i := range t.H {
			t.H[i] = binary.BigEndian.Uint64(packed[8*i:])
		}
	}
	return t, nil
}

func fingerprint(scope, query string) string {
	h := hashID(scope + "\x00" + query)
	return strconv.FormatUint(h, 36)
}

// hashID is the 64-bit FNV-1a hash of an id (or token). It is stable across
// processes, as a resume token needs.
func hashID(s string) uint64 {
	const offset, prime = 14695981039346656037, 1099511628211
	h := uint64(offset)
	for i := 0; i < len(s); i++ {
		h ^= uint64(s[i])
		h *= prime
	}
	return h
}
