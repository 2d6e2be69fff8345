package convo_test

import (
	"context"
	"encoding/base64"
	"fmt"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/convokit/convo"
	"github.com/convokit/convo/convotest"
)

// resumeAfter takes the first k items, then resumes from Pager.Cursor()
// with a new pager and returns both parts.
func resumeAfter[T any](t *testing.T, k int, first *convo.Pager[T], resume func(cursor string) *convo.Pager[T]) (head, tail []T) {
	t.Helper()
	head = upTo(t, first, k)
	require.Len(t, head, k)
	return head, all(t, resume(first.Cursor()).All())
}

func TestCursorTokenRoundTrip(t *testing.T) {
	t.Parallel()
	tok := convo.CursorToken{V: 1, P: "rentalot", R: "messages", S: "abc", T: "3", L: 50, K: 7, I: "m7"}
	got, err := convo.DecodeCursor(convo.EncodeCursor(tok))
	require.NoError(t, err)
	assert.Equal(t, tok, got)
	for _, bad := range []string{"", "!!", base64.RawURLEncoding.EncodeToString([]byte(`{"v":2}`)),
		base64.RawURLEncoding.EncodeToString([]byte(`{"v":1,"k":-1}`))} {
		_, err := convo.DecodeCursor(bad)
		assert.Error(t, err, bad)
	}
}

func TestPagerResumeMidPage(t *testing.T) {
	t.Parallel()
	for _, p := range convo.Providers() {
		for _, stop := range []int{1, 7, 10, 11, 22, 23} {
			t.Run(fmt.Sprintf("%s/after%d", p.Name(), stop), func(t *testing.T) {
				const n = 23
				_, c := pagedServer(t, p, wantIDs(0, n))

				first := c1Messages(c, convo.MessageListParams{PageSize: 5})
				assert.Empty(t, first.Cursor(), "before any item: the params' cursor")
				got := messageIDs(t, first, stop)
				require.Equal(t, wantIDs(0, stop), got)
				cursor := first.Cursor()
				require.NotEmpty(t, cursor)

				resumed := c1Messages(c, convo.MessageListParams{Cursor: cursor})
				assert.Equal(t, cursor, resumed.Cursor(), "before any item: the params' cursor")
				rest := messageIDs(t, resumed, 0)
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
	const n = 17
	eachPaged(t, wantIDs(0, n), func(t *testing.T, _ convo.Provider, _ *convotest.Server, c *convo.Client) {
		var got []string
		cursor := ""
		for round := 0; round < 10 && len(got) < n; round++ {
			pg := c1Messages(c, convo.MessageListParams{PageSize: 4, Cursor: cursor})
			got = append(got, messageIDs(t, pg, 3)...)
			cursor = pg.Cursor()
		}
		assert.Equal(t, wantIDs(0, n), got)
	})
}

func TestPagerResumeAfterEnd(t *testing.T) {
	t.Parallel()
	eachPaged(t, wantIDs(0, 8), func(t *testing.T, _ convo.Provider, _ *convotest.Server, c *convo.Client) {
		pg := c1Messages(c, convo.MessageListParams{PageSize: 5})
		require.Len(t, messageIDs(t, pg, 0), 8)
		rest := messageIDs(t, c1Messages(c, convo.MessageListParams{Cursor: pg.Cursor()}), 0)
		assert.Empty(t, rest, "a finished list resumes with nothing new")
	})
}

func TestPagerCursorRejected(t *testing.T) {
	t.Parallel()
	srv, am := pagedServer(t, convo.AgentMessage, wantIDs(0, 10))
	pg := c1Messages(am, convo.MessageListParams{PageSize: 3})
	messageIDs(t, pg, 4)
	cursor := pg.Cursor()

	vx, err := convo.NewClient(convo.VantaxAI, convo.WithBaseURL(srv.URL()), convo.WithAuth(convo.Bearer("test-token")))
	require.NoError(t, err)
	before := len(srv.Requests())
	cases := map[string]*convo.Pager[convo.Message]{
		"other provider":     c1Messages(vx, convo.MessageListParams{Cursor: cursor}),
		"other conversation": am.Messages.List(context.Background(), "c2", &convo.MessageListParams{Cursor: cursor}),
		"garbage":            c1Messages(am, convo.MessageListParams{Cursor: "not a cursor!"}),
		"raw provider token": c1Messages(am, convo.MessageListParams{Cursor: "MTA"}),
	}
	for name, pg := range cases {
		t.Run(name, func(t *testing.T) {
			var errs []error
			for _, err := range pg.All() {
				errs = append(errs, err)
			}
			require.Len(t, errs, 1, "the error is yielded once")
			assert.ErrorIs(t, errs[0], convo.ErrInvalidParams)
		})
	}
	conv := am.Conversations.List(context.Background(), &convo.ConversationListParams{Cursor: cursor})
	for _, err := range conv.All() {
		assert.ErrorIs(t, err, convo.ErrInvalidParams, "a messages cursor does not resume conversations")
		assert.Contains(t, err.Error(), "messages")
	}
	assert.Len(t, srv.Requests(), before, "nothing sent")
}

func TestPagerCursorBoundToFilters(t *testing.T) {
	t.Parallel()
	d := convotest.NewDataset().
		AddConversation(convo.Conversation{ID: "conv_1", Status: "open"}).
		AddConversation(convo.Conversation{ID: "conv_2", Status: "open"})
	_, c := newServer(t, convo.VantaxAI, convotest.WithData(d))
	pg := c.Conversations.List(context.Background(), &convo.ConversationListParams{Status: "open"})
	upTo(t, pg, 1)
	for _, err := range c.Conversations.List(context.Background(), &convo.ConversationListParams{Status: "closed", Cursor: pg.Cursor()}).All() {
		assert.ErrorIs(t, err, convo.ErrInvalidParams)
	}
	got := all(t, c.Conversations.List(context.Background(), &convo.ConversationListParams{Status: "open", Cursor: pg.Cursor()}).All())
	assert.Equal(t, []string{"conv_2"}, ids(got, convID))
}

// TestPagerResumeSurvivesAChangedPage: resuming in the middle of a page
// after items of that page were deleted or inserted yields exactly the
// items the caller has not seen.
func TestPagerResumeSurvivesAChangedPage(t *testing.T) {
	t.Parallel()
	type change struct {
		name  string
		seen  int    // items yielded before the list changes
		after string // the list when resuming
		want  string // what the resumed iteration yields
	}
	const before = "a b c d e f g h i j k l"
	changes := []change{
		{"last yielded deleted", 2, "a c d e f g h i j k l", "c d e f g h i j k l"},
		{"earlier yielded deleted", 2, "b c d e f g h i j k l", "c d e f g h i j k l"},
		{"unseen deleted", 2, "a b d e f g h i j k l", "d e f g h i j k l"},
		{"inserted at the head", 2, "x a b c d e f g h i j k l", "x c d e f g h i j k l"},
		{"inserted after the position", 2, "a b y c d e f g h i j k l", "y c d e f g h i j k l"},
		// Page 2 now starts at h, g's successor: nothing before it was unseen.
		{"second page, last yielded deleted", 7, "a b c d e f h i j k l", "h i j k l"},
		// e moves onto page 2 where pages are counted: it is not repeated.
		{"page boundary, list shifted", 5, "x a b c d e f g h i j k l", "f g h i j k l"},
	}
	for _, p := range []convo.Provider{convo.Vobiz, convo.Rentalot, convo.AgentMessage} { // VantaxAI resumes by the id itself
		for _, ch := range changes {
			t.Run(p.Name()+"/"+ch.name, func(t *testing.T) {
				srv, c := pagedServer(t, p, letters(before))
				pg := c1Messages(c, convo.MessageListParams{PageSize: 5})
				require.Equal(t, letters(before)[:ch.seen], messageIDs(t, pg, ch.seen))
				cursor := pg.Cursor()
				relist(t, srv, letters(ch.after)...)
				got := messageIDs(t, c1Messages(c, convo.MessageListParams{Cursor: cursor}), 0)
				assert.Equal(t, letters(ch.want), got)
			})
		}
	}
}

// TestPagerResumeV1Cursor: a cursor of the previous format still resumes.
func TestPagerResumeV1Cursor(t *testing.T) {
	t.Parallel()
	for _, p := range []convo.Provider{convo.Vobiz, convo.Rentalot} {
		t.Run(p.Name(), func(t *testing.T) {
			_, c := pagedServer(t, p, letters("a b c d e f g"))
			pg := c.Messages.List(context.Background(), "c1", nil)
			v1 := convo.EncodeCursor(convo.CursorToken{V: 1, P: p.Name(), R: "messages", S: pg.Fingerprint(), T: "", L: 5, K: 2, I: "b"})
			got := messageIDs(t, c1Messages(c, convo.MessageListParams{Cursor: v1}), 0)
			assert.Equal(t, letters("c d e f g"), got)
		})
	}
}

// TestPagerCursorWithOtherPageSize: a resume cursor beside a different
// explicit page size is refused before sending; the same one, or none, is
// fine.
func TestPagerCursorWithOtherPageSize(t *testing.T) {
	t.Parallel()
	eachPaged(t, letters("a b c d e f g"), func(t *testing.T, _ convo.Provider, srv *convotest.Server, c *convo.Client) {
		pg := c1Messages(c, convo.MessageListParams{PageSize: 3})
		messageIDs(t, pg, 4)
		cursor := pg.Cursor()
		before := len(srv.Requests())
		var err error
		for _, e := range c1Messages(c, convo.MessageListParams{PageSize: 4, Cursor: cursor}).All() {
			err = e
			break
		}
		assert.ErrorIs(t, err, convo.ErrInvalidParams)
		assert.Contains(t, err.Error(), "page size 3")
		var pe *convo.ParamError
		if assert.ErrorAs(t, err, &pe) {
			assert.Equal(t, "PageSize", pe.Field, "the explicit page size is what to change")
		}
		assert.Len(t, srv.Requests(), before, "nothing sent")
		for _, size := range []int{0, 3} {
			got := messageIDs(t, c1Messages(c, convo.MessageListParams{PageSize: size, Cursor: cursor}), 0)
			assert.Equal(t, letters("e f g"), got, "page size %d", size)
		}
	})
	// A cursor made with the default page size, beside that size spelled out.
	_, c := pagedServer(t, convo.Rentalot, letters("a b c"))
	pg := c.Messages.List(context.Background(), "c1", nil)
	messageIDs(t, pg, 1)
	_, _, def := convo.Rentalot.PageSizeRange(convo.OpListMessages)
	got := messageIDs(t, c1Messages(c, convo.MessageListParams{PageSize: def, Cursor: pg.Cursor()}), 0)
	assert.Equal(t, letters("b c"), got)
}

func TestE2EResumeFromCursor(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	for _, p := range convo.Providers() {
		t.Run(p.Name(), func(t *testing.T) {
			t.Parallel()
			// Pages of 5: 7 and 12 stop in the middle of a page, 5 and 10 at its end.
			opts, convParams := smallPages(p, 5)
			srv, client := newServer(t, p, opts...)
			d := srv.Dataset()
			allConvs := conversationIDs(d)
			long := longest(d)
			allMsgs := listedIDs(t, p, long)
			for _, k := range []int{1, 5, 7, 12} {
				head, tail := resumeAfter(t, k, client.Conversations.List(ctx, convParams),
					func(cursor string) *convo.Pager[convo.Conversation] {
						q := *convParams
						q.Cursor = cursor
						return client.Conversations.List(ctx, &q)
					})
				assert.Equal(t, allConvs[:k], ids(head, convID), "conversations, first %d", k)
				assert.Equal(t, allConvs[k:], ids(tail, convID), "conversations resumed after %d", k)

				head2, tail2 := resumeAfter(t, k, client.Messages.List(ctx, long.Conversation.ID, &convo.MessageListParams{PageSize: 5}),
					func(cursor string) *convo.Pager[convo.Message] {
						return client.Messages.List(ctx, long.Conversation.ID, &convo.MessageListParams{PageSize: 5, Cursor: cursor})
					})
				assert.Equal(t, allMsgs[:k], ids(head2, msgIDOf), "messages, first %d", k)
				assert.Equal(t, allMsgs[k:], ids(tail2, msgIDOf), "messages resumed after %d", k)
			}

			// A cursor of the messages list does not resume the conversation list.
			pager := client.Messages.List(ctx, long.Conversation.ID, &convo.MessageListParams{PageSize: 5})
			for range pager.All() {
				break
			}
			for _, err := range client.Conversations.List(ctx, &convo.ConversationListParams{Cursor: pager.Cursor()}).All() {
				assert.ErrorIs(t, err, convo.ErrInvalidParams)
			}
		})
	}
}
