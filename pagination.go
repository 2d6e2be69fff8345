package convo

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"hash/fnv"
	"hash/maphash"
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
// A Pager is meant to be iterated by one goroutine at a time; [Pager.Cursor]
// may be called from any goroutine.
type Pager[T any] struct {
	c           *Client
	ctx         context.Context
	ep          *listEndpoint[T]
	scope       string // conversation id, for items whose wire form lacks it
	path        string // escaped, built once
	query       string // encoded filters, built once
	pageSize    int
	fingerprint string
	startCursor string
	start       position
	err         error // invalid params: yielded by the first step

	mu    sync.Mutex
	limit int      // page size of the current iteration
	pos   position // just after the last item yielded
	moved bool     // an item or page has been yielded in the current iteration
}

// position is a place in a list: the request token of a page, how many of
// its items were consumed, and the id of the last one.
type position struct {
	token string
	skip  int
	last  string
}

func newPager[T any](ctx context.Context, c *Client, ep *listEndpoint[T], scope string, query url.Values, pageSize int, cursor string, err error) *Pager[T] {
	p := &Pager[T]{c: c, ctx: ctx, ep: ep, scope: scope, pageSize: pageSize, startCursor: cursor, err: err}
	if ctx == nil {
		p.ctx = context.Background()
	}
	if p.err != nil {
		return p
	}
	p.path = ep.path(url.PathEscape(scope))
	p.query = query.Encode()
	p.fingerprint = fingerprint(scope, p.query)
	if ep.limitParam != "" && pageSize != 0 && (pageSize < ep.minLimit || pageSize > ep.maxLimit) {
		p.err = invalidParams("%s %s: page size %d is outside %d..%d", c.provider.Name(), ep.resource, pageSize, ep.minLimit, ep.maxLimit)
		return p
	}
	if pageSize < 0 {
		p.err = invalidParams("%s %s: negative page size %d", c.provider.Name(), ep.resource, pageSize)
		return p
	}
	p.limit = pageSize
	if ep.limitParam == "" {
		p.limit = 0
	}
	if cursor != "" {
		tok, err := decodeCursor(cursor)
		switch {
		case err != nil:
			p.err = invalidParams("%s %s: cursor is not a convo cursor: %v", c.provider.Name(), ep.resource, err)
		case tok.P != c.provider.Name():
			p.err = invalidParams("cursor was made by provider %q, not %q", tok.P, c.provider.Name())
		case tok.R != ep.resource:
			p.err = invalidParams("%s: cursor was made for %s, not %s", c.provider.Name(), tok.R, ep.resource)
		case tok.S != p.fingerprint:
			p.err = invalidParams("%s %s: cursor was made for another conversation, query or filters", c.provider.Name(), ep.resource)
		default:
			p.start = position{token: tok.T, skip: tok.K, last: tok.I}
			if tok.L > 0 && ep.limitParam != "" {
				p.limit = tok.L // the page boundaries of the original iteration
			}
		}
	}
	return p
}

// Cursor returns an opaque token for the position just after the last item
// yielded by the current (or last) iteration: fed back through the params'
// Cursor it resumes there, in the middle of a page too, with no item repeated
// or skipped. Before any item is yielded it returns the params' Cursor.
//
// A resumed iteration keeps the page size it started with. A token only
// resumes the same provider, resource, conversation and filters; anything
// else is rejected with [ErrInvalidParams].
func (p *Pager[T]) Cursor() string {
	p.mu.Lock()
	defer p.mu.Unlock()
	if !p.moved {
		return p.startCursor
	}
	return encodeCursor(cursorToken{
		V: 1, P: p.c.provider.Name(), R: p.ep.resource, S: p.fingerprint,
		T: p.pos.token, L: p.limit, K: p.pos.skip, I: p.pos.last,
	})
}

// All returns an iterator over every item of the list, fetching pages as
// needed. It stops at the first error, which it yields once with the zero
// item: an [*APIError], a transport error, an error wrapping the context's
// error, or one wrapping [ErrInvalidParams], [ErrUnsupported] or
// [ErrPaginationStalled]. Breaking out of the loop stops all work of the
// iteration, prefetching included.
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
// [Pager.Cursor] points just after its last item.
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
	token  string // request token of the page
	offset int    // raw items dropped at its start (resume)
	next   string // request token of the next page; "" at the end
}

// advance records that item i of f has been yielded.
func (p *Pager[T]) advance(f *fetched[T], i int) {
	id := p.ep.id(&f.page.Items[i])
	p.mu.Lock()
	defer p.mu.Unlock()
	p.moved = true
	switch {
	case p.ep.style == pagingStartingAfter:
		p.pos = position{token: id}
	case i == len(f.page.Items)-1 && f.next != "":
		p.pos = position{token: f.next}
	default:
		p.pos = position{token: f.token, skip: f.offset + i + 1, last: id}
	}
}

// run drives one iteration: it fetches pages in order and hands each (or the
// first error) to emit until emit returns false or the list ends. With
// prefetch, pages are fetched ahead by a goroutine that is stopped and
// waited for before run returns.
func (p *Pager[T]) run(emit func(*fetched[T], error) bool) {
	p.mu.Lock()
	p.pos, p.moved = p.start, false
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

// fetchAll fetches the pages of one iteration in order, applying the paging
// style's termination rules and refusing pagination that does not advance.
func (p *Pager[T]) fetchAll(ctx context.Context, emit func(*fetched[T], error) bool) {
	token, skip, last := p.start.token, p.start.skip, p.start.last
	resuming := skip > 0 || last != ""
	// What has been seen is kept as 64-bit hashes, so that a list of a
	// million pages costs a few megabytes, not the cursors themselves.
	seen := progressSet{seed: maphash.MakeSeed(), tokens: map[uint64]struct{}{}, firsts: map[uint64]string{}}
	for {
		f, rawFirst, err := p.fetch(ctx, token)
		if err == nil {
			err = p.checkProgress(f, token, rawFirst, &seen)
		}
		if err != nil {
			emit(nil, err)
			return
		}
		if resuming {
			resuming = false
			drop := skip
			if last != "" {
				for i := range f.page.Items {
					if p.ep.id(&f.page.Items[i]) == last {
						drop = i + 1
						break
					}
				}
			}
			drop = min(drop, len(f.page.Items))
			f.offset = drop
			f.page.Items = f.page.Items[drop:]
			if len(f.page.Items) == 0 && f.next != "" {
				token = f.next
				continue
			}
		}
		if !emit(f, nil) || f.next == "" {
			return
		}
		token = f.next
	}
}

// checkProgress returns an ErrPaginationStalled error when the page just
// fetched shows that following the server would loop or repeat items: a
// repeated cursor, "more" promised with an empty page, or a page that starts
// with the same item as an earlier page (a server ignoring the page number
// or cursor, or cycling). The last check applies to the last page too, so
// that a server reporting totalPages cannot repeat a page either.
func (p *Pager[T]) checkProgress(f *fetched[T], token, first string, seen *progressSet) error {
	name := p.c.provider.Name() + " " + p.ep.resource
	if f.next != "" {
		if len(f.page.Items) == 0 {
			return fmt.Errorf("%w: %s: the server reported more results with an empty page", ErrPaginationStalled, name)
		}
		switch p.ep.style {
		case pagingCursor:
			if seen.token(token, f.next) {
				return fmt.Errorf("%w: %s: the server repeated cursor %q", ErrPaginationStalled, name, snippet([]byte(f.next), 64))
			}
		case pagingStartingAfter:
			if seen.token(token, f.next) {
				return fmt.Errorf("%w: %s: starting_after did not advance past %q", ErrPaginationStalled, name, snippet([]byte(f.next), 64))
			}
		}
	}
	if first == "" {
		return nil
	}
	if prev, dup := seen.first(first, token, p.ep.style == pagingPageNumber); dup {
		if p.ep.style == pagingPageNumber {
			return fmt.Errorf("%w: %s: the server ignored the page number (page %s starts with the same item as page %s)",
				ErrPaginationStalled, name, pageLabel(token), pageLabel(prev))
		}
		return fmt.Errorf("%w: %s: the server answered a page it had already sent (starting again with item %q)",
			ErrPaginationStalled, name, snippet([]byte(first), 64))
	}
	return nil
}

// progressSet remembers, as hashes, the page tokens used and the first item
// of every page of one iteration.
type progressSet struct {
	seed   maphash.Seed
	tokens map[uint64]struct{}
	firsts map[uint64]string // -> page number (page-number style only), for the error
}

// token records the token just used and reports whether next was used before.
func (s *progressSet) token(used, next string) bool {
	s.tokens[maphash.String(s.seed, used)] = struct{}{}
	_, dup := s.tokens[maphash.String(s.seed, next)]
	return dup
}

// first records a page's first item and reports the page that started with
// it before, if any.
func (s *progressSet) first(id, token string, keepToken bool) (string, bool) {
	h := maphash.String(s.seed, id)
	if prev, dup := s.firsts[h]; dup {
		return prev, true
	}
	if !keepToken {
		token = ""
	}
	s.firsts[h] = token
	return "", false
}

// pageLabel names the page of a page-number token ("" is the first page).
func pageLabel(token string) string {
	if token == "" {
		return "1"
	}
	return token
}

// fetch requests the page for token and applies the paging style: it returns
// the page, the id of its first item, and the token of the next page.
func (p *Pager[T]) fetch(ctx context.Context, token string) (*fetched[T], string, error) {
	ep := p.ep
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
	pageNum := 1
	if ep.style == pagingPageNumber {
		if token != "" {
			n, err := strconv.Atoi(token)
			if err != nil || n < 1 {
				return nil, "", invalidParams("%s %s: cursor holds page %q", p.c.provider.Name(), ep.resource, token)
			}
			pageNum = n
		}
		add(ep.tokenParam, strconv.Itoa(pageNum))
	} else if token != "" && ep.tokenParam != "" {
		add(ep.tokenParam, token)
	}
	if p.limit > 0 && ep.limitParam != "" {
		add(ep.limitParam, strconv.Itoa(p.limit))
	}

	resp, err := p.c.get(ctx, p.path, q.String())
	if err != nil {
		return nil, "", err
	}
	raw, err := ep.decode(resp.body(), p.scope)
	if err != nil || len(raw.items) == 0 {
		err = emptyResponseError(p.c.provider.Name(), resp, err)
	}
	resp.release()
	if err != nil {
		return nil, "", err
	}
	page := &Page[T]{
		Items:     raw.items,
		RequestID: resp.header.Get("X-Request-Id"),
		RateLimit: resp.rateLimit,
	}
	if raw.total != nil {
		page.Total, page.TotalKnown = *raw.total, true
	}
	f := &fetched[T]{page: page, token: token}
	n := len(raw.items)
	switch ep.style {
	case pagingCursor:
		if raw.next != "" && (raw.more == nil || *raw.more) {
			f.next = raw.next
		}
	case pagingStartingAfter:
		if raw.more != nil && *raw.more && n > 0 {
			f.next = ep.id(&raw.items[n-1])
		} else if raw.more != nil && *raw.more {
			f.next = token // more promised with nothing to start after: caught as stalled
		}
	case pagingPageNumber:
		if raw.page > 0 && raw.page != pageNum {
			return nil, "", fmt.Errorf("%w: %s %s: asked for page %d, the server answered page %d", ErrPaginationStalled, p.c.provider.Name(), ep.resource, pageNum, raw.page)
		}
		limit := firstPositive(raw.limit, p.limit, ep.defaultLimit)
		more := n > 0 && n >= limit
		if raw.totalPages != nil {
			more = n > 0 && pageNum < *raw.totalPages
		}
		if more {
			f.next = strconv.Itoa(pageNum + 1)
		}
	}
	page.HasMore = f.next != ""
	first := ""
	if n > 0 {
		first = ep.id(&raw.items[0])
	}
	return f, first, nil
}

func firstPositive(v ...int) int {
	for _, x := range v {
		if x > 0 {
			return x
		}
	}
	return 0
}

// cursorToken is the content of a resume token.
type cursorToken struct {
	V int    `json:"v"`
	P string `json:"p"`           // provider
	R string `json:"r"`           // resource
	S string `json:"s"`           // fingerprint of scope and filters
	T string `json:"t,omitempty"` // request token of the page
	L int    `json:"l,omitempty"` // page size of the iteration
	K int    `json:"k,omitempty"` // items of the page already yielded
	I string `json:"i,omitempty"` // id of the last item yielded
}

func encodeCursor(t cursorToken) string {
	b, _ := json.Marshal(t) // cannot fail: strings and ints only
	return base64.RawURLEncoding.EncodeToString(b)
}

func decodeCursor(s string) (cursorToken, error) {
	var t cursorToken
	b, err := base64.RawURLEncoding.DecodeString(s)
	if err != nil {
		return t, fmt.Errorf("not base64url")
	}
	if err := json.Unmarshal(b, &t); err != nil {
		return t, fmt.Errorf("malformed")
	}
	if t.V != 1 {
		return t, fmt.Errorf("unknown version %d", t.V)
	}
	if t.K < 0 || t.L < 0 {
		return t, fmt.Errorf("negative position")
	}
	return t, nil
}

func fingerprint(scope, query string) string {
	h := fnv.New64a()
	h.Write([]byte(scope))
	h.Write([]byte{0})
	h.Write([]byte(query))
	return strconv.FormatUint(h.Sum64(), 36)
}
