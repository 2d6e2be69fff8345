package convo

import (
	"context"
	"fmt"
	"net/http"
	"sync/atomic"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// The paging styles' end of a list, against servers that send exactly
// the bytes each case is about.

func TestPagerTotals(t *testing.T) {
	t.Parallel()
	cases := []struct {
		p    Provider
		body string
		want pageSummary // of the one page, the last
	}{
		{VantaxAI, `{"success":true,"data":[{"id":"c"}],"pagination":{"total":42,"limit":20,"has_more":false}}`, pageSummary{Items: 1, TotalKnown: true, Total: 42}},
		{Rentalot, `{"data":[{"id":"c"}],"pagination":{"page":1,"limit":20,"total":34,"totalPages":1}}`, pageSummary{Items: 1, TotalKnown: true, Total: 34}},
		{AgentMessage, `{"success":true,"data":[{"id":"c"}],"meta":{"total":0,"limit":50,"offset":0,"next_cursor":null}}`, pageSummary{Items: 1}},
		{Vobiz, `{"items":[{"id":"c"}]}`, pageSummary{Items: 1}},
	}
	for _, tc := range cases {
		t.Run(tc.p.Name(), func(t *testing.T) {
			c := newTestClient(t, tc.p, func(w http.ResponseWriter, r *http.Request) { fmt.Fprint(w, tc.body) })
			n := 0
			for page, err := range c.Conversations.List(context.Background(), nil).Pages() {
				require.NoError(t, err)
				n++
				requirePageSummary(t, page, tc.want)
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
	c := newTestClient(t, Rentalot, func(w http.ResponseWriter, r *http.Request) {
		calls.Add(1)
		page := r.URL.Query().Get("page")
		fmt.Fprintf(w, `{"data":[{"id":"p%s-a"},{"id":"p%s-b"}],"pagination":{"page":%s,"limit":2,"total":4,"totalPages":2}}`, page, page, page)
	})
	got := collect(t, c.Conversations.List(context.Background(), &ConversationListParams{PageSize: 2}), 10, conversationID) // bounded: a list that does not end fails, not hangs
	assert.Equal(t, []string{"p1-a", "p1-b", "p2-a", "p2-b"}, got)
	assert.EqualValues(t, 2, calls.Load())
}

func TestPagerVobizConversationsFollowCursorIfSent(t *testing.T) {
	t.Parallel()
	var queries []string
	c := newTestClient(t, Vobiz, func(w http.ResponseWriter, r *http.Request) {
		queries = append(queries, r.URL.RawQuery)
		if r.URL.Query().Get("cursor") == "" {
			fmt.Fprint(w, `{"items":[{"id":"a"}],"has_more":true,"next_cursor":"x/y+z"}`)
			return
		}
		fmt.Fprint(w, `{"items":[{"id":"b"}],"has_more":false,"next_cursor":""}`)
	})
	got := collect(t, c.Conversations.List(context.Background(), &ConversationListParams{PageSize: 10}), 0, conversationID)
	assert.Equal(t, []string{"a", "b"}, got)
	assert.Equal(t, []string{"", "cursor=x%2Fy%2Bz"}, queries, "no limit sent; the cursor escaped")
}

// TestPagerHasMoreFalseEndsCursorList: has_more false ends a cursor list
// even when a next_cursor is sent beside it.
func TestPagerHasMoreFalseEndsCursorList(t *testing.T) {
	t.Parallel()
	var requests atomic.Int64
	c := newTestClient(t, Vobiz, func(w http.ResponseWriter, r *http.Request) {
		requests.Add(1)
		fmt.Fprint(w, `{"items":[{"id":"m1","content":"{\"body\":\"hi\"}"}],"has_more":false,"next_cursor":"c2"}`)
	})
	got := collect(t, c.Messages.List(context.Background(), "c1", nil), 0, messageID)
	assert.Equal(t, []string{"m1"}, got)
	assert.EqualValues(t, 1, requests.Load())
	page, err := firstPage(c.Messages.List(context.Background(), "c1", nil))
	require.NoError(t, err)
	assert.False(t, page.HasMore)
}
