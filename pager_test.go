package convo

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// pagedServer serves n messages of one conversation in a provider's wire
// form and paging style, and counts the requests it receives.
type pagedServer struct {
	*httptest.Server
	requests atomic.Int64
	mu       sync.Mutex
	queries  []string
}

func (s *pagedServer) seen() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]string(nil), s.queries...)
}

func msgID(i int) string { return fmt.Sprintf("m%04d", i) }

// newPagedServer answers GET …/conversations/c1/messages for the provider's
// paging style. serverLimit, when positive, caps the page size the server
// uses and reports (a plan's cap).
func newPagedServer(t *testing.T, p Provider, n, serverLimit int) *pagedServer {
	t.Helper()
	s := &pagedServer{}
	s.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s.requests.Add(1)
		s.mu.Lock()
		s.queries = append(s.queries, r.URL.RawQuery)
		s.mu.Unlock()
		if !strings.HasSuffix(r.URL.Path, "/conversations/c1/messages") {
			http.NotFound(w, r)
			return
		}
		q := r.URL.Query()
		limit := p.d.messages.defaultLimit
		if v := q.Get("limit"); v != "" {
			limit, _ = strconv.Atoi(v)
		}
		if serverLimit > 0 && limit > serverLimit {
			limit = serverLimit
		}
		start := 0
		switch p {
		case Vobiz, AgentMessage:
			if c := q.Get("cursor"); c != "" {
				b, err := base64.RawURLEncoding.DecodeString(c)
				require.NoError(t, err)
				start, _ = strconv.Atoi(string(b))
			}
		case VantaxAI:
			if sa := q.Get("starting_after"); sa != "" {
				idx, _ := strconv.Atoi(strings.TrimPrefix(sa, "m"))
				start = idx + 1
			}
		case Rentalot:
			page, _ := strconv.Atoi(q.Get("page"))
			start = (page - 1) * limit
		}
		end := min(start+limit, n)
		items := []map[string]any{}
		for i := start; i < end; i++ {
			items = append(items, wireMessage(p, i))
		}
		more := end < n
		next := any(nil)
		if more {
			next = base64.RawURLEncoding.EncodeToString([]byte(strconv.Itoa(end)))
		}
		var body map[string]any
		switch p {
		case Vobiz:
			body = map[string]any{"items": items, "has_more": more, "next_cursor": next}
		case AgentMessage:
			body = map[string]any{"success": true, "data": items, "meta": map[string]any{"total": 0, "limit": limit, "offset": start, "next_cursor": next}}
		case VantaxAI:
			body = map[string]any{"success": true, "data": items, "pagination": map[string]any{"total": n, "limit": limit, "has_more": more}}
		case Rentalot:
			page, _ := strconv.Atoi(q.Get("page"))
			body = map[string]any{"data": items, "pagination": map[string]any{"page": page, "limit": limit}}
		}
		w.Header().Set("Content-Type", "application/json")
		require.NoError(t, json.NewEncoder(w).Encode(body))
	}))
	t.Cleanup(s.Close)
	return s
}

func wireMessage(p Provider, i int) map[string]any {
	ts := time.Date(2026, 3, 1, 0, 0, i, 0, time.UTC).Format(time.RFC3339)
	dir := "inbound"
	if i%2 == 1 {
		dir = "outbound"
	}
	text := fmt.Sprintf("message %d", i)
	switch p {
	case Vobiz:
		return map[string]any{"id": msgID(i), "conversation_id": "c1", "direction": dir, "type": "text",
			"content": fmt.Sprintf(`{"body":%q}`, text), "created_at": ts}
	case AgentMessage:
		return map[string]any{"id": msgID(i), "direction": dir, "body": text, "created_at": ts}
	case VantaxAI:
		return map[string]any{"id": msgID(i), "conversation_id": "c1", "direction": dir, "content": text, "created_at": ts}
	default:
		return map[string]any{"id": msgID(i), "conversationId": "c1", "direction": dir, "content": text, "sentAt": ts}
	}
}

func newTestClient(t *testing.T, p Provider, url string, opts ...Option) *Client {
	t.Helper()
	opts = append([]Option{WithBaseURL(url), WithAuth(Bearer("test-token")),
		WithRetryWait(time.Millisecond, 5*time.Millisecond)}, opts...)
	c, err := NewClient(p, opts...)
	require.NoError(t, err)
	return c
}

// collect iterates the pager, stopping after max items when max > 0.
func collect[T any](t *testing.T, pg *Pager[T], max int, id func(*T) string) []string {
	t.Helper()
	var ids []string
	for item, err := range pg.All() {
		require.NoError(t, err)
		ids = append(ids, id(&item))
		if max > 0 && len(ids) == max {
			break
		}
	}
	return ids
}

func wantIDs(from, to int) []string {
	var ids []string
	for i := from; i < to; i++ {
		ids = append(ids, msgID(i))
	}
	return ids
}

func TestPagerAllStyles(t *testing.T) {
	t.Parallel()
	for _, p := range Providers() {
		t.Run(p.Name(), func(t *testing.T) {
			const n = 23 // 5 pages of 5, the last one short
			srv := newPagedServer(t, p, n, 0)
			c := newTestClient(t, p, srv.URL)

			got := collect(t, c.Messages.List(context.Background(), "c1", &MessageListParams{PageSize: 5}), 0, messageID)
			assert.Equal(t, wantIDs(0, n), got, "every item once, in order")
			assert.EqualValues(t, 5, srv.requests.Load(), "one request per page, none after the last")

			// A second call of All starts again from the beginning.
			got = collect(t, c.Messages.List(context.Background(), "c1", &MessageListParams{PageSize: 5}), 0, messageID)
			assert.Len(t, got, n)
		})
	}
}

func TestPagerExactPageMultiple(t *testing.T) {
	t.Parallel()
	// 15 items in pages of 5: the page-number style asks for a 4th, empty
	// page (it cannot know); the others stop on the server's signal.
	wantReq := map[Provider]int64{Vobiz: 3, AgentMessage: 3, VantaxAI: 3, Rentalot: 4}
	for _, p := range Providers() {
		t.Run(p.Name(), func(t *testing.T) {
			srv := newPagedServer(t, p, 15, 0)
			c := newTestClient(t, p, srv.URL)
			got := collect(t, c.Messages.List(context.Background(), "c1", &MessageListParams{PageSize: 5}), 0, messageID)
			assert.Equal(t, wantIDs(0, 15), got)
			assert.Equal(t, wantReq[p], srv.requests.Load())
		})
	}
}

func TestPagerResumeMidPage(t *testing.T) {
	t.Parallel()
	for _, p := range Providers() {
		for _, stop := range []int{1, 7, 10, 11, 22, 23} {
			t.Run(fmt.Sprintf("%s/after%d", p.Name(), stop), func(t *testing.T) {
				const n = 23
				srv := newPagedServer(t, p, n, 0)
				c := newTestClient(t, p, srv.URL)

				first := c.Messages.List(context.Background(), "c1", &MessageListParams{PageSize: 5})
				assert.Empty(t, first.Cursor(), "before any item: the params' cursor")
				got := collect(t, first, stop, messageID)
				require.Equal(t, wantIDs(0, stop), got)
				cursor := first.Cursor()
				require.NotEmpty(t, cursor)

				resumed := c.Messages.List(context.Background(), "c1", &MessageListParams{Cursor: cursor})
				assert.Equal(t, cursor, resumed.Cursor(), "before any item: the params' cursor")
				rest := collect(t, resumed, 0, messageID)
				assert.Equal(t, wantIDs(stop, n), rest, "no item repeated or skipped")
				if stop < n {
					assert.NotEqual(t, cursor, resumed.Cursor())
				}
			})
		}
	}
}

func TestPagerResumeChained(t *testing.T) {
	t.Parallel()
	// Resume repeatedly, three items at a time, across page boundaries.
	for _, p := range Providers() {
		t.Run(p.Name(), func(t *testing.T) {
			const n = 17
			srv := newPagedServer(t, p, n, 0)
			c := newTestClient(t, p, srv.URL)
			var all []string
			cursor := ""
			for round := 0; round < 10 && len(all) < n; round++ {
				pg := c.Messages.List(context.Background(), "c1", &MessageListParams{PageSize: 4, Cursor: cursor})
				all = append(all, collect(t, pg, 3, messageID)...)
				cursor = pg.Cursor()
			}
			assert.Equal(t, wantIDs(0, n), all)
		})
	}
}

func TestPagerPagesAndCursor(t *testing.T) {
	t.Parallel()
	for _, p := range Providers() {
		t.Run(p.Name(), func(t *testing.T) {
			srv := newPagedServer(t, p, 12, 0)
			c := newTestClient(t, p, srv.URL)
			pg := c.Messages.List(context.Background(), "c1", &MessageListParams{PageSize: 5})
			var sizes []int
			var more []bool
			for page, err := range pg.Pages() {
				require.NoError(t, err)
				sizes = append(sizes, len(page.Items))
				more = append(more, page.HasMore)
				if len(sizes) == 1 {
					// After the first page, the cursor resumes at item 5.
					rest := collect(t, c.Messages.List(context.Background(), "c1", &MessageListParams{Cursor: pg.Cursor()}), 0, messageID)
					assert.Equal(t, wantIDs(5, 12), rest)
				}
			}
			assert.Equal(t, []int{5, 5, 2}, sizes)
			assert.Equal(t, []bool{true, true, false}, more)
		})
	}
}

func TestPagerResumeAfterEnd(t *testing.T) {
	t.Parallel()
	for _, p := range Providers() {
		t.Run(p.Name(), func(t *testing.T) {
			srv := newPagedServer(t, p, 8, 0)
			c := newTestClient(t, p, srv.URL)
			pg := c.Messages.List(context.Background(), "c1", &MessageListParams{PageSize: 5})
			require.Len(t, collect(t, pg, 0, messageID), 8)
			rest := collect(t, c.Messages.List(context.Background(), "c1", &MessageListParams{Cursor: pg.Cursor()}), 0, messageID)
			assert.Empty(t, rest, "a finished list resumes with nothing new")
		})
	}
}

func TestPagerRentalotClampedLimit(t *testing.T) {
	t.Parallel()
	// The plan caps pages at 50: a request for 100 gets 50 and the server
	// reports limit 50. The list must not end after the first page.
	srv := newPagedServer(t, Rentalot, 180, 50)
	c := newTestClient(t, Rentalot, srv.URL)
	got := collect(t, c.Messages.List(context.Background(), "c1", &MessageListParams{PageSize: 100}), 0, messageID)
	assert.Equal(t, wantIDs(0, 180), got)
	assert.EqualValues(t, 4, srv.requests.Load())
	for i, q := range srv.seen() {
		assert.Contains(t, q, "limit=100")
		assert.Contains(t, q, "page="+strconv.Itoa(i+1))
	}
}

func TestPagerCursorRejected(t *testing.T) {
	t.Parallel()
	srv := newPagedServer(t, AgentMessage, 10, 0)
	am := newTestClient(t, AgentMessage, srv.URL)
	pg := am.Messages.List(context.Background(), "c1", &MessageListParams{PageSize: 3})
	collect(t, pg, 4, messageID)
	cursor := pg.Cursor()

	vx := newTestClient(t, VantaxAI, srv.URL)
	before := srv.requests.Load()
	cases := map[string]*Pager[Message]{
		"other provider":     vx.Messages.List(context.Background(), "c1", &MessageListParams{Cursor: cursor}),
		"other conversation": am.Messages.List(context.Background(), "c2", &MessageListParams{Cursor: cursor}),
		"garbage":            am.Messages.List(context.Background(), "c1", &MessageListParams{Cursor: "not a cursor!"}),
		"raw provider token": am.Messages.List(context.Background(), "c1", &MessageListParams{Cursor: "MTA"}),
	}
	for name, pg := range cases {
		t.Run(name, func(t *testing.T) {
			var errs []error
			for _, err := range pg.All() {
				errs = append(errs, err)
			}
			require.Len(t, errs, 1, "the error is yielded once")
			assert.ErrorIs(t, errs[0], ErrInvalidParams)
		})
	}
	conv := am.Conversations.List(context.Background(), &ConversationListParams{Cursor: cursor})
	for _, err := range conv.All() {
		assert.ErrorIs(t, err, ErrInvalidParams, "a messages cursor does not resume conversations")
		assert.Contains(t, err.Error(), "messages")
	}
	assert.Equal(t, before, srv.requests.Load(), "nothing sent")
}

func TestPagerCursorBoundToFilters(t *testing.T) {
	t.Parallel()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Query().Get("starting_after") == "conv_1" {
			fmt.Fprint(w, `{"success":true,"data":[{"id":"conv_2"}],"pagination":{"has_more":false}}`)
			return
		}
		fmt.Fprint(w, `{"success":true,"data":[{"id":"conv_1"},{"id":"conv_2"}],"pagination":{"has_more":false}}`)
	}))
	defer srv.Close()
	c := newTestClient(t, VantaxAI, srv.URL)
	pg := c.Conversations.List(context.Background(), &ConversationListParams{Status: "open"})
	collect(t, pg, 1, conversationID)
	for _, err := range c.Conversations.List(context.Background(), &ConversationListParams{Status: "closed", Cursor: pg.Cursor()}).All() {
		assert.ErrorIs(t, err, ErrInvalidParams)
	}
	got := collect(t, c.Conversations.List(context.Background(), &ConversationListParams{Status: "open", Cursor: pg.Cursor()}), 0, conversationID)
	assert.Equal(t, []string{"conv_2"}, got)
}

func TestPagerStopsAtFirstError(t *testing.T) {
	t.Parallel()
	var calls atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if calls.Add(1) == 2 {
			w.WriteHeader(http.StatusNotFound)
			fmt.Fprint(w, `{"success":false,"error":{"code":"NOT_FOUND","message":"gone"}}`)
			return
		}
		fmt.Fprint(w, `{"success":true,"data":[{"id":"a"},{"id":"b"}],"meta":{"next_cursor":"n1"}}`)
	}))
	defer srv.Close()
	c := newTestClient(t, AgentMessage, srv.URL)
	pg := c.Messages.List(context.Background(), "c1", nil)
	var ids []string
	var errs []error
	for m, err := range pg.All() {
		if err != nil {
			errs = append(errs, err)
			continue
		}
		ids = append(ids, m.ID)
	}
	assert.Equal(t, []string{"a", "b"}, ids)
	require.Len(t, errs, 1)
	assert.ErrorIs(t, errs[0], ErrNotFound)
	assert.EqualValues(t, 2, calls.Load())
	// The cursor still points after the last good item.
	assert.NotEmpty(t, pg.Cursor())
}

func TestPagerTotals(t *testing.T) {
	t.Parallel()
	cases := []struct {
		p     Provider
		body  string
		total int
		known bool
	}{
		{VantaxAI, `{"success":true,"data":[{"id":"c"}],"pagination":{"total":42,"limit":20,"has_more":false}}`, 42, true},
		{Rentalot, `{"data":[{"id":"c"}],"pagination":{"page":1,"limit":20,"total":34,"totalPages":1}}`, 34, true},
		{AgentMessage, `{"success":true,"data":[{"id":"c"}],"meta":{"total":0,"limit":50,"offset":0,"next_cursor":null}}`, 0, false},
		{Vobiz, `{"items":[{"id":"c"}]}`, 0, false},
	}
	for _, tc := range cases {
		t.Run(tc.p.Name(), func(t *testing.T) {
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { fmt.Fprint(w, tc.body) }))
			defer srv.Close()
			c := newTestClient(t, tc.p, srv.URL)
			n := 0
			for page, err := range c.Conversations.List(context.Background(), nil).Pages() {
				require.NoError(t, err)
				n++
				assert.Equal(t, tc.total, page.Total)
				assert.Equal(t, tc.known, page.TotalKnown)
				assert.False(t, page.HasMore)
			}
			assert.Equal(t, 1, n)
		})
	}
}

func TestPagerRentalotTotalPages(t *testing.T) {
	t.Parallel()
	// Conversations report totalPages: a full last page ends the list
	// without asking for an empty one.
	var calls atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		calls.Add(1)
		page := r.URL.Query().Get("page")
		fmt.Fprintf(w, `{"data":[{"id":"p%s-a"},{"id":"p%s-b"}],"pagination":{"page":%s,"limit":2,"total":4,"totalPages":2}}`, page, page, page)
	}))
	defer srv.Close()
	c := newTestClient(t, Rentalot, srv.URL)
	got := collect(t, c.Conversations.List(context.Background(), &ConversationListParams{PageSize: 2}), 0, conversationID)
	assert.Equal(t, []string{"p1-a", "p1-b", "p2-a", "p2-b"}, got)
	assert.EqualValues(t, 2, calls.Load())
}

func TestPagerVobizConversationsFollowCursorIfSent(t *testing.T) {
	t.Parallel()
	var queries []string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		queries = append(queries, r.URL.RawQuery)
		if r.URL.Query().Get("cursor") == "" {
			fmt.Fprint(w, `{"items":[{"id":"a"}],"has_more":true,"next_cursor":"x/y+z"}`)
			return
		}
		fmt.Fprint(w, `{"items":[{"id":"b"}],"has_more":false,"next_cursor":""}`)
	}))
	defer srv.Close()
	c := newTestClient(t, Vobiz, srv.URL)
	got := collect(t, c.Conversations.List(context.Background(), &ConversationListParams{PageSize: 10}), 0, conversationID)
	assert.Equal(t, []string{"a", "b"}, got)
	assert.Equal(t, []string{"", "cursor=x%2Fy%2Bz"}, queries, "no limit sent; the cursor escaped")
}

func TestPagerPrefetchOrderAndErrors(t *testing.T) {
	t.Parallel()
	for _, ahead := range []int{1, 3} {
		t.Run(strconv.Itoa(ahead), func(t *testing.T) {
			srv := newPagedServer(t, AgentMessage, 40, 0)
			c := newTestClient(t, AgentMessage, srv.URL, WithPrefetch(ahead))
			got := collect(t, c.Messages.List(context.Background(), "c1", &MessageListParams{PageSize: 3}), 0, messageID)
			assert.Equal(t, wantIDs(0, 40), got)

			// Resume works the same with prefetch.
			pg := c.Messages.List(context.Background(), "c1", &MessageListParams{PageSize: 3})
			head := collect(t, pg, 10, messageID)
			rest := collect(t, c.Messages.List(context.Background(), "c1", &MessageListParams{Cursor: pg.Cursor()}), 0, messageID)
			assert.Equal(t, wantIDs(0, 40), append(head, rest...))
		})
	}

	var calls atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		n := calls.Add(1)
		if n == 3 {
			w.WriteHeader(http.StatusForbidden)
			fmt.Fprint(w, `{"success":false,"error":{"code":"FORBIDDEN","message":"missing required scope"}}`)
			return
		}
		fmt.Fprintf(w, `{"success":true,"data":[{"id":"i%d"}],"meta":{"next_cursor":"c%d"}}`, n, n)
	}))
	defer srv.Close()
	c := newTestClient(t, AgentMessage, srv.URL, WithPrefetch(2))
	var seq []string
	for m, err := range c.Messages.List(context.Background(), "c1", nil).All() {
		if err != nil {
			assert.ErrorIs(t, err, ErrForbidden)
			seq = append(seq, "error")
			continue
		}
		seq = append(seq, m.ID)
	}
	assert.Equal(t, []string{"i1", "i2", "error"}, seq, "the error arrives in its place")
}

func TestPagerContextCancelled(t *testing.T) {
	t.Parallel()
	srv := newPagedServer(t, VantaxAI, 10, 0)
	c := newTestClient(t, VantaxAI, srv.URL)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	var errs []error
	for _, err := range c.Messages.List(ctx, "c1", nil).All() {
		errs = append(errs, err)
	}
	require.Len(t, errs, 1)
	assert.True(t, errors.Is(errs[0], context.Canceled))
	assert.Zero(t, srv.requests.Load())
}

func TestCursorTokenRoundTrip(t *testing.T) {
	t.Parallel()
	tok := cursorToken{V: 1, P: "rentalot", R: "messages", S: "abc", T: "3", L: 50, K: 7, I: "m7"}
	got, err := decodeCursor(encodeCursor(tok))
	require.NoError(t, err)
	assert.Equal(t, tok, got)
	for _, bad := range []string{"", "!!", base64.RawURLEncoding.EncodeToString([]byte(`{"v":2}`)),
		base64.RawURLEncoding.EncodeToString([]byte(`{"v":1,"k":-1}`))} {
		_, err := decodeCursor(bad)
		assert.Error(t, err, bad)
	}
}

// liveList serves one conversation's messages for a provider, from a list
// of ids the test may change between requests. Cursors are offsets
// ("o<n>"), as a server that encodes an offset in its cursor does; with
// overlap set, every page after the first also repeats the item before its
// start, as a newest-first list does when an item arrives at its head
// between two requests.
type liveList struct {
	p        Provider
	mu       sync.Mutex
	ids      []string
	overlap  bool
	requests atomic.Int64
}

func (l *liveList) set(ids ...string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.ids = append([]string(nil), ids...)
}

func (l *liveList) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	l.requests.Add(1)
	l.mu.Lock()
	ids := append([]string(nil), l.ids...)
	l.mu.Unlock()
	q := r.URL.Query()
	limit := l.p.d.messages.defaultLimit
	if v := q.Get("limit"); v != "" {
		limit, _ = strconv.Atoi(v)
	}
	start, page := 0, 0
	switch l.p {
	case Vobiz, AgentMessage:
		if c := q.Get("cursor"); c != "" {
			start, _ = strconv.Atoi(strings.TrimPrefix(c, "o"))
		}
	case VantaxAI:
		if sa := q.Get("starting_after"); sa != "" {
			start = len(ids)
			for i, id := range ids {
				if id == sa {
					start = i + 1
				}
			}
		}
	case Rentalot:
		page, _ = strconv.Atoi(q.Get("page"))
		start = (page - 1) * limit
	}
	start = min(start, len(ids))
	end := min(start+limit, len(ids))
	from := start
	if l.overlap && start > 0 {
		from = start - 1
	}
	items := []map[string]any{}
	for _, id := range ids[from:end] {
		items = append(items, map[string]any{"id": id, "conversation_id": "c1", "conversationId": "c1", "direction": "inbound", "content": "text of " + id, "body": "text of " + id})
	}
	more := end < len(ids)
	var next any
	if more {
		next = "o" + strconv.Itoa(end)
	}
	var body map[string]any
	switch l.p {
	case Vobiz:
		body = map[string]any{"items": items, "has_more": more, "next_cursor": next}
	case AgentMessage:
		body = map[string]any{"success": true, "data": items, "meta": map[string]any{"limit": limit, "next_cursor": next}}
	case VantaxAI:
		body = map[string]any{"success": true, "data": items, "pagination": map[string]any{"limit": limit, "has_more": more}}
	case Rentalot:
		body = map[string]any{"data": items, "pagination": map[string]any{"page": page, "limit": limit}}
	}
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(body)
}

func newLiveList(t *testing.T, p Provider, ids ...string) (*liveList, *Client) {
	t.Helper()
	l := &liveList{p: p}
	l.set(ids...)
	srv := httptest.NewServer(l)
	t.Cleanup(srv.Close)
	return l, newTestClient(t, p, srv.URL)
}

func letters(s string) []string { return strings.Split(s, " ") }

// TestPagerNoDuplicatesWithinIteration: whatever the paging style, an item
// already yielded by the iteration is not yielded again when the list
// shifts between two pages, by All or by Pages.
func TestPagerNoDuplicatesWithinIteration(t *testing.T) {
	t.Parallel()
	ids := make([]string, 23)
	for i := range ids {
		ids[i] = msgID(i)
	}
	for _, p := range Providers() {
		t.Run(p.Name(), func(t *testing.T) {
			l, c := newLiveList(t, p, ids...)
			l.overlap = true
			got := collect(t, c.Messages.List(context.Background(), "c1", &MessageListParams{PageSize: 5}), 0, messageID)
			assert.Equal(t, ids, got, "every item once, in order")

			var paged []string
			for page, err := range c.Messages.List(context.Background(), "c1", &MessageListParams{PageSize: 5}).Pages() {
				require.NoError(t, err)
				for _, m := range page.Items {
					paged = append(paged, m.ID)
				}
			}
			assert.Equal(t, ids, paged, "Pages leaves them out too")
		})
	}
}

// TestPagerResumeSurvivesAChangedPage: resuming in the middle of a page
// after items of that page were deleted or inserted yields exactly the
// items the caller has not seen.
func TestPagerResumeSurvivesAChangedPage(t *testing.T) {
	t.Parallel()
	type change struct {
		name  string
		after string // the list when resuming
		want  string // what the resumed iteration yields
	}
	const before = "a b c d e f g h i j k l"
	changes := []change{
		{"last yielded deleted", "a c d e f g h i j k l", "c d e f g h i j k l"},
		{"earlier yielded deleted", "b c d e f g h i j k l", "c d e f g h i j k l"},
		{"unseen deleted", "a b d e f g h i j k l", "d e f g h i j k l"},
		{"inserted at the head", "x a b c d e f g h i j k l", "x c d e f g h i j k l"},
		{"inserted after the position", "a b y c d e f g h i j k l", "y c d e f g h i j k l"},
	}
	for _, p := range []Provider{Vobiz, Rentalot, AgentMessage} { // VantaxAI resumes by the id itself
		for _, ch := range changes {
			t.Run(p.Name()+"/"+ch.name, func(t *testing.T) {
				l, c := newLiveList(t, p, letters(before)...)
				pg := c.Messages.List(context.Background(), "c1", &MessageListParams{PageSize: 5})
				require.Equal(t, letters("a b"), collect(t, pg, 2, messageID))
				cursor := pg.Cursor()
				l.set(letters(ch.after)...)
				got := collect(t, c.Messages.List(context.Background(), "c1", &MessageListParams{Cursor: cursor}), 0, messageID)
				assert.Equal(t, letters(ch.want), got)
			})
		}
		t.Run(p.Name()+"/second page, last yielded deleted", func(t *testing.T) {
			l, c := newLiveList(t, p, letters(before)...)
			pg := c.Messages.List(context.Background(), "c1", &MessageListParams{PageSize: 5})
			require.Equal(t, letters("a b c d e f g"), collect(t, pg, 7, messageID))
			cursor := pg.Cursor()
			l.set(letters("a b c d e f h i j k l")...)
			got := collect(t, c.Messages.List(context.Background(), "c1", &MessageListParams{Cursor: cursor}), 0, messageID)
			if p == Rentalot {
				// Page 2 now starts at h: nothing before it was unseen.
				assert.Equal(t, letters("h i j k l"), got)
			} else {
				// The offset cursor of page 2 now starts at g's successor
				// h too.
				assert.Equal(t, letters("h i j k l"), got)
			}
		})
		t.Run(p.Name()+"/page boundary, list shifted", func(t *testing.T) {
			l, c := newLiveList(t, p, letters(before)...)
			pg := c.Messages.List(context.Background(), "c1", &MessageListParams{PageSize: 5})
			require.Equal(t, letters("a b c d e"), collect(t, pg, 5, messageID))
			cursor := pg.Cursor()
			l.set(letters("x a b c d e f g h i j k l")...) // e moves onto page 2
			got := collect(t, c.Messages.List(context.Background(), "c1", &MessageListParams{Cursor: cursor}), 0, messageID)
			assert.Equal(t, letters("f g h i j k l"), got, "e is not repeated")
		})
	}
}

// TestPagerResumeV1Cursor: a cursor of the previous format still resumes.
func TestPagerResumeV1Cursor(t *testing.T) {
	t.Parallel()
	for _, p := range []Provider{Vobiz, Rentalot} {
		t.Run(p.Name(), func(t *testing.T) {
			_, c := newLiveList(t, p, letters("a b c d e f g")...)
			pg := c.Messages.List(context.Background(), "c1", nil)
			v1 := encodeCursor(cursorToken{V: 1, P: p.Name(), R: "messages", S: pg.fingerprint, T: "", L: 5, K: 2, I: "b"})
			got := collect(t, c.Messages.List(context.Background(), "c1", &MessageListParams{Cursor: v1}), 0, messageID)
			assert.Equal(t, letters("c d e f g"), got)
		})
	}
}

// TestPagerCursorWithOtherPageSize: a resume cursor beside a different
// explicit page size is refused before sending; the same one, or none, is
// fine.
func TestPagerCursorWithOtherPageSize(t *testing.T) {
	t.Parallel()
	for _, p := range Providers() {
		t.Run(p.Name(), func(t *testing.T) {
			l, c := newLiveList(t, p, letters("a b c d e f g")...)
			pg := c.Messages.List(context.Background(), "c1", &MessageListParams{PageSize: 3})
			collect(t, pg, 4, messageID)
			cursor := pg.Cursor()
			before := l.requests.Load()
			_, err := firstPage(c.Messages.List(context.Background(), "c1", &MessageListParams{PageSize: 4, Cursor: cursor}))
			assert.ErrorIs(t, err, ErrInvalidParams)
			assert.Contains(t, err.Error(), "page size 3")
			var pe *ParamError
			if assert.ErrorAs(t, err, &pe) {
				assert.Equal(t, "PageSize", pe.Field, "the explicit page size is what to change")
			}
			assert.Equal(t, before, l.requests.Load(), "nothing sent")
			for _, size := range []int{0, 3} {
				got := collect(t, c.Messages.List(context.Background(), "c1", &MessageListParams{PageSize: size, Cursor: cursor}), 0, messageID)
				assert.Equal(t, letters("e f g"), got, "page size %d", size)
			}
		})
	}
	// A cursor made with the default page size, beside that size spelled out.
	_, c := newLiveList(t, Rentalot, letters("a b c")...)
	pg := c.Messages.List(context.Background(), "c1", nil)
	collect(t, pg, 1, messageID)
	got := collect(t, c.Messages.List(context.Background(), "c1", &MessageListParams{PageSize: Rentalot.d.messages.defaultLimit, Cursor: pg.Cursor()}), 0, messageID)
	assert.Equal(t, letters("b c"), got)
}

// TestPagerHasMoreFalseEndsCursorList: has_more false ends a cursor list
// even when a next_cursor is sent beside it.
func TestPagerHasMoreFalseEndsCursorList(t *testing.T) {
	t.Parallel()
	var requests atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		requests.Add(1)
		fmt.Fprint(w, `{"items":[{"id":"m1","content":"{\"body\":\"hi\"}"}],"has_more":false,"next_cursor":"c2"}`)
	}))
	defer srv.Close()
	c := newTestClient(t, Vobiz, srv.URL)
	got := collect(t, c.Messages.List(context.Background(), "c1", nil), 0, messageID)
	assert.Equal(t, []string{"m1"}, got)
	assert.EqualValues(t, 1, requests.Load())
	page, err := firstPage(c.Messages.List(context.Background(), "c1", nil))
	require.NoError(t, err)
	assert.False(t, page.HasMore)
}

// TestPagerLongCursorCycleStalls: a server cycling over more pages than
// the pager remembers exactly is still caught, within a few times the
// cycle's length.
func TestPagerLongCursorCycleStalls(t *testing.T) {
	t.Parallel()
	const cycle = 3 * progressWindow
	var requests atomic.Int64
	// In memory, not on a loopback server: the pages are many, the
	// transport is not what is tested.
	ft := &fakeTransport{script: func(_ int, req *http.Request) (*http.Response, error) {
		requests.Add(1)
		n, _ := strconv.Atoi(strings.TrimPrefix(req.URL.Query().Get("cursor"), "c"))
		body := fmt.Sprintf(`{"success":true,"data":[{"id":"m%d"}],"meta":{"next_cursor":"c%d"}}`, n, (n+1)%cycle)
		return fakeResponse(req, 200, strings.NewReader(body)), nil
	}}
	c, err := NewClient(AgentMessage, WithoutAuth(), WithBaseURL("https://api.example.test/v1"), WithHTTPClient(&http.Client{Transport: ft}))
	require.NoError(t, err)
	for _, e := range c.Messages.List(context.Background(), "c1", nil).All() {
		if e != nil {
			err = e
			break
		}
		require.Less(t, requests.Load(), int64(10*cycle), "the iteration must stop")
	}
	assert.ErrorIs(t, err, ErrPaginationStalled)
	assert.LessOrEqual(t, requests.Load(), int64(4*cycle))
}

// TestPagerBookkeepingBounded: the pager's own memory does not grow with
// the number of pages it has walked: the live heap after thousands of
// pages is about what it was after the first hundreds.
func TestPagerBookkeepingBounded(t *testing.T) {
	if testing.Short() {
		t.Skip("walks 20000 pages")
	}
	// Alone in a process of its own: the heap counted are this test's only.
	if !InOwnProcess(t) {
		return
	}
	ft := &fakeTransport{script: func(n int, req *http.Request) (*http.Response, error) {
		// Each attempt's deadline starts a goroutine in net/http that exits
		// once the attempt is over. On a loaded machine hundreds of them can
		// wait to be scheduled, and the runtime keeps every goroutine's
		// record it ever made (about 400 B each, in the live heap): up to
		// half a megabyte that is not the pager's. Let them finish first.
		for i := 0; i < 100 && runtime.NumGoroutine() > 16; i++ {
			runtime.Gosched()
		}
		body := fmt.Sprintf(`{"success":true,"data":[{"id":"m%07d"}],"meta":{"next_cursor":"cursor-%07d-%s"}}`, n, n+1, strings.Repeat("x", 40))
		return fakeResponse(req, 200, strings.NewReader(body)), nil
	}}
	c, err := NewClient(AgentMessage, WithoutAuth(), WithBaseURL("https://api.example.test/v1"), WithHTTPClient(&http.Client{Transport: ft}))
	require.NoError(t, err)
	heap := func() uint64 {
		var ms runtime.MemStats
		runtime.GC()
		runtime.GC()
		runtime.ReadMemStats(&ms)
		return ms.HeapAlloc
	}
	// A set of every page's token and first item, as kept before, grows by
	// more than 1 MiB over these 18000 pages; the measurement's own noise
	// is below 200 KiB.
	var early, late uint64
	n := 0
	for _, err := range c.Messages.List(context.Background(), "c1", nil).All() {
		require.NoError(t, err)
		switch n++; n {
		case 2000:
			early = heap()
		case 20000:
			late = heap()
		}
		if n == 20000 {
			break
		}
	}
	growth := int64(late) - int64(early)
	t.Logf("live heap after 2000 pages %d B, after 20000 pages %d B", early, late)
	assert.Less(t, growth, int64(400<<10), "18000 more pages grew the live heap by %d bytes", growth)
}
