package convo_test

import (
	"context"
	"encoding/json"
	"errors"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/convokit/convo"
	"github.com/convokit/convo/convotest"
)

func TestPagerAllStyles(t *testing.T) {
	t.Parallel()
	const n = 23 // 5 pages of 5, the last one short
	eachPaged(t, wantIDs(0, n), func(t *testing.T, _ convo.Provider, srv *convotest.Server, c *convo.Client) {
		got := messageIDs(t, c1Messages(c, convo.MessageListParams{PageSize: 5}), 0)
		assert.Equal(t, wantIDs(0, n), got, "every item once, in order")
		assert.Len(t, srv.Requests(), 5, "one request per page, none after the last")

		// A second call of All starts again from the beginning.
		got = messageIDs(t, c1Messages(c, convo.MessageListParams{PageSize: 5}), 0)
		assert.Len(t, got, n)
	})
}

func TestPagerExactPageMultiple(t *testing.T) {
	t.Parallel()
	// 15 items in pages of 5: the page-number style asks for a 4th, empty
	// page (it cannot know); the others stop on the server's signal.
	wantReq := map[convo.Provider]int{convo.Vobiz: 3, convo.AgentMessage: 3, convo.VantaxAI: 3, convo.Rentalot: 4}
	eachPaged(t, wantIDs(0, 15), func(t *testing.T, p convo.Provider, srv *convotest.Server, c *convo.Client) {
		got := messageIDs(t, c1Messages(c, convo.MessageListParams{PageSize: 5}), 0)
		assert.Equal(t, wantIDs(0, 15), got)
		assert.Len(t, srv.Requests(), wantReq[p])
	})
}

func TestPagerPagesAndCursor(t *testing.T) {
	t.Parallel()
	eachPaged(t, wantIDs(0, 12), func(t *testing.T, _ convo.Provider, _ *convotest.Server, c *convo.Client) {
		pg := c1Messages(c, convo.MessageListParams{PageSize: 5})
		var sizes []int
		var more []bool
		for page, err := range pg.Pages() {
			require.NoError(t, err)
			sizes = append(sizes, len(page.Items))
			more = append(more, page.HasMore)
			if len(sizes) == 1 {
				// After the first page, the cursor resumes at item 5.
				rest := messageIDs(t, c1Messages(c, convo.MessageListParams{Cursor: pg.Cursor()}), 0)
				assert.Equal(t, wantIDs(5, 12), rest)
			}
		}
		assert.Equal(t, []int{5, 5, 2}, sizes)
		assert.Equal(t, []bool{true, true, false}, more)
	})
}

func TestPagerRentalotClampedLimit(t *testing.T) {
	t.Parallel()
	// The plan caps pages at 50: a request for 100 gets 50 and the server
	// reports limit 50. The list must not end after the first page.
	srv, c := pagedServer(t, convo.Rentalot, wantIDs(0, 180), convotest.WithPageSize(50))
	got := messageIDs(t, c1Messages(c, convo.MessageListParams{PageSize: 100}), 0)
	assert.Equal(t, wantIDs(0, 180), got)
	require.Len(t, srv.Requests(), 4)
	for i, r := range srv.Requests() {
		assert.Equal(t, "100", r.Query().Get("limit"))
		assert.Equal(t, strconv.Itoa(i+1), r.Query().Get("page"))
	}
}

func TestPagerStopsAtFirstError(t *testing.T) {
	t.Parallel()
	srv, c := pagedServer(t, convo.AgentMessage, letters("a b c d e"),
		convotest.WithFaults(convotest.Fault{Kind: convotest.FaultStatus, Status: 404, Nth: 2}))
	pg := c1Messages(c, convo.MessageListParams{PageSize: 2})
	var got []string
	var errs []error
	for m, err := range pg.All() {
		if err != nil {
			errs = append(errs, err)
			continue
		}
		got = append(got, m.ID)
	}
	assert.Equal(t, []string{"a", "b"}, got)
	require.Len(t, errs, 1)
	assert.ErrorIs(t, errs[0], convo.ErrNotFound)
	assert.Len(t, srv.Requests(), 2)
	// The cursor still points after the last good item.
	assert.NotEmpty(t, pg.Cursor())
}

func TestPagerPrefetchOrderAndErrors(t *testing.T) {
	t.Parallel()
	for _, ahead := range []int{1, 3} {
		t.Run(strconv.Itoa(ahead), func(t *testing.T) {
			srv, _ := pagedServer(t, convo.AgentMessage, wantIDs(0, 40))
			c, err := srv.Client(convo.WithPrefetch(ahead))
			require.NoError(t, err)
			got := messageIDs(t, c1Messages(c, convo.MessageListParams{PageSize: 3}), 0)
			assert.Equal(t, wantIDs(0, 40), got)

			// Resume works the same with prefetch.
			pg := c1Messages(c, convo.MessageListParams{PageSize: 3})
			head := messageIDs(t, pg, 10)
			rest := messageIDs(t, c1Messages(c, convo.MessageListParams{Cursor: pg.Cursor()}), 0)
			assert.Equal(t, wantIDs(0, 40), append(head, rest...))
		})
	}

	srv, _ := pagedServer(t, convo.AgentMessage, letters("i1 i2 i3 i4 i5"),
		convotest.WithFaults(convotest.Fault{Kind: convotest.FaultStatus, Status: 403, Nth: 3}))
	c, err := srv.Client(convo.WithPrefetch(2))
	require.NoError(t, err)
	var seq []string
	for m, err := range c1Messages(c, convo.MessageListParams{PageSize: 1}).All() {
		if err != nil {
			assert.ErrorIs(t, err, convo.ErrForbidden)
			seq = append(seq, "error")
			continue
		}
		seq = append(seq, m.ID)
	}
	assert.Equal(t, []string{"i1", "i2", "error"}, seq, "the error arrives in its place")
}

func TestPagerContextCancelled(t *testing.T) {
	t.Parallel()
	srv, c := pagedServer(t, convo.VantaxAI, wantIDs(0, 10))
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	var errs []error
	for _, err := range c.Messages.List(ctx, "c1", nil).All() {
		errs = append(errs, err)
	}
	require.Len(t, errs, 1)
	assert.True(t, errors.Is(errs[0], context.Canceled))
	assert.Empty(t, srv.Requests())
}

// TestPagerNoDuplicatesWithinIteration: whatever the paging style, an item
// already yielded by the iteration is not yielded again when the list
// shifts between two pages, by All or by Pages. Before every page after
// the first an item arrives at the head of the list, as on a newest-first
// list that is in use: where the next page is found by its offset (a page
// number), it starts with the last item of the page before.
func TestPagerNoDuplicatesWithinIteration(t *testing.T) {
	t.Parallel()
	want := wantIDs(0, 23)
	for _, p := range convo.Providers() {
		t.Run(p.Name(), func(t *testing.T) {
			var srv *convotest.Server
			var requests, arrived atomic.Int64
			arrive := func(convotest.Request) {
				if requests.Add(1) == 1 {
					return
				}
				head := []string{"new" + strconv.FormatInt(arrived.Add(1), 10)}
				cd, _ := srv.Dataset().Conversation("c1")
				relist(t, srv, append(head, listedIDs(t, p, cd)...)...)
			}
			srv, _ = pagedServer(t, p, want, convotest.WithRequestHook(arrive))
			c, err := srv.Client()
			require.NoError(t, err)
			got := messageIDs(t, c1Messages(c, convo.MessageListParams{PageSize: 5}), 0)
			assert.Equal(t, want, got, "every item once, in order")

			relist(t, srv, want...)
			requests.Store(0)
			var paged []string
			for page, err := range c1Messages(c, convo.MessageListParams{PageSize: 5}).Pages() {
				require.NoError(t, err)
				paged = append(paged, ids(page.Items, msgIDOf)...)
			}
			assert.Equal(t, want, paged, "Pages leaves them out too")
		})
	}
}

func TestE2EListConversationsAcrossPages(t *testing.T) {
	t.Parallel()
	for _, p := range convo.Providers() {
		t.Run(p.Name(), func(t *testing.T) {
			opts, params := smallPages(p, 10)
			srv, client := newServer(t, p, opts...)
			want := conversationIDs(srv.Dataset())
			var got []string
			pages := 0
			for page, err := range client.Conversations.List(context.Background(), params).Pages() {
				require.NoError(t, err)
				pages++
				assert.LessOrEqual(t, len(page.Items), 10)
				got = append(got, ids(page.Items, convID)...)
				assert.Equal(t, len(got) < len(want), page.HasMore, "HasMore on page %d", pages)
				if p == convo.VantaxAI || p == convo.Rentalot {
					assert.True(t, page.TotalKnown)
					assert.Equal(t, len(want), page.Total)
				}
				if p == convo.Rentalot {
					require.NotNil(t, page.RateLimit)
					assert.Equal(t, 120, page.RateLimit.Limit)
				}
				if p == convo.AgentMessage {
					assert.NotEmpty(t, page.RequestID)
				}
			}
			assert.GreaterOrEqual(t, pages, 3)
			assert.Equal(t, want, got, "every conversation once, in order")

			// The conversations decode to the data served.
			d := srv.Dataset()
			convs := all(t, client.Conversations.List(context.Background(), params).All())
			require.Len(t, convs, len(d.Conversations))
			for i, c := range convs {
				w := d.Conversations[i].Conversation
				assert.Equal(t, w.ID, c.ID)
				assert.Equal(t, w.ContactID, c.ContactID)
				assert.Equal(t, w.Status, c.Status)
				assert.True(t, w.LastMessageAt.Equal(c.LastMessageAt), "%s LastMessageAt", c.ID)
				if p != convo.AgentMessage {
					assert.Equal(t, w.Channel, c.Channel)
				}
			}
		})
	}
}

// TestE2EServerPageSizeCap: a server that caps pages below the requested
// size (a plan limit) must not end a list early.
func TestE2EServerPageSizeCap(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	for _, p := range convo.Providers() {
		t.Run(p.Name(), func(t *testing.T) {
			srv, client := newServer(t, p, convotest.WithPageSize(7))
			d := srv.Dataset()
			convs := all(t, client.Conversations.List(ctx, nil).All())
			assert.Equal(t, conversationIDs(d), ids(convs, convID))
			long := longest(d)
			params := &convo.MessageListParams{PageSize: 100}
			msgs := all(t, client.Messages.List(ctx, long.Conversation.ID, params).All())
			assert.Equal(t, listedIDs(t, p, long), ids(msgs, msgIDOf))

			// Resume in the middle of a capped page.
			head, tail := resumeAfter(t, 10, client.Messages.List(ctx, long.Conversation.ID, params),
				func(cursor string) *convo.Pager[convo.Message] {
					return client.Messages.List(ctx, long.Conversation.ID, &convo.MessageListParams{PageSize: 100, Cursor: cursor})
				})
			assert.Equal(t, listedIDs(t, p, long), append(ids(head, msgIDOf), ids(tail, msgIDOf)...))
		})
	}
}

// TestLoggingNamesPages: a log line names the page it asked for: by its
// number where pages are numbered, by a short hash of an opaque token,
// never by the token itself.
func TestLoggingNamesPages(t *testing.T) {
	t.Parallel()
	logged := func(t *testing.T, p convo.Provider) (*convotest.Server, string) {
		logger, logs := convo.NewTestLogger()
		srv, _ := pagedServer(t, p, wantIDs(0, 7))
		c, err := srv.Client(convo.WithLogger(logger))
		require.NoError(t, err)
		messageIDs(t, c1Messages(c, convo.MessageListParams{PageSize: 3}), 0)
		return srv, logs.String()
	}

	_, out := logged(t, convo.Rentalot)
	var pages []string
	for _, line := range strings.Split(strings.TrimSpace(out), "\n") {
		var r struct{ Page string }
		require.NoError(t, json.Unmarshal([]byte(line), &r))
		pages = append(pages, r.Page)
	}
	assert.Equal(t, []string{"1", "2", "3"}, pages)

	srv, out := logged(t, convo.AgentMessage)
	assert.Contains(t, out, `"page":"first"`)
	assert.Regexp(t, `"page":"cursor#[0-9a-f]{8}"`, out, "an opaque token is named by a short hash")
	sent := 0
	for _, r := range srv.Requests() {
		if cur := r.Query().Get("cursor"); cur != "" {
			sent++
			assert.NotContains(t, out, cur, "the token itself is not logged")
		}
	}
	assert.Equal(t, 2, sent)
}
