package convo_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/convokit/convo"
	"github.com/convokit/convo/convotest"
)

// End-to-end tests: the SDK against the in-process fake of each provider.

// e2eNewestFirst tells which providers list messages newest first.
var e2eNewestFirst = map[string]bool{"vobiz": true, "rentalot": true}

func e2eServer(t *testing.T, p convo.Provider, opts ...convotest.Option) (*convotest.Server, *convo.Client) {
	t.Helper()
	srv := convotest.NewServer(p, opts...)
	t.Cleanup(srv.Close)
	client, err := srv.Client(convo.WithRetryWait(time.Millisecond, 5*time.Millisecond))
	require.NoError(t, err)
	return srv, client
}

func e2eAll[T any](t *testing.T, seq func(yield func(T, error) bool)) []T {
	t.Helper()
	var out []T
	for v, err := range seq {
		require.NoError(t, err)
		out = append(out, v)
	}
	return out
}

func e2eConversationIDs(d *convotest.Dataset) []string {
	out := make([]string, len(d.Conversations))
	for i, c := range d.Conversations {
		out[i] = c.Conversation.ID
	}
	return out
}

// e2eMessageIDs returns the ids of a conversation's messages in the order
// the provider lists them.
func e2eMessageIDs(p convo.Provider, cd convotest.ConversationData) []string {
	out := make([]string, len(cd.Messages))
	for i, m := range cd.Messages {
		out[i] = m.ID
	}
	if e2eNewestFirst[p.Name()] {
		slices.Reverse(out)
	}
	return out
}

func e2eIDs[T any](items []T, id func(T) string) []string {
	out := make([]string, len(items))
	for i, v := range items {
		out[i] = id(v)
	}
	return out
}

func convID(c convo.Conversation) string { return c.ID }
func msgIDOf(m convo.Message) string     { return m.ID }

// e2eSmallPages lists conversations in pages of 10: through the params
// where the provider has a limit, through the server's page size cap for
// Vobiz, whose conversation list has none.
func e2eSmallPages(p convo.Provider) ([]convotest.Option, *convo.ConversationListParams) {
	if p == convo.Vobiz {
		return []convotest.Option{convotest.WithPageSize(10)}, &convo.ConversationListParams{}
	}
	return nil, &convo.ConversationListParams{PageSize: 10}
}

func TestE2EListConversationsAcrossPages(t *testing.T) {
	t.Parallel()
	for _, p := range convo.Providers() {
		t.Run(p.Name(), func(t *testing.T) {
			opts, params := e2eSmallPages(p)
			srv, client := e2eServer(t, p, opts...)
			want := e2eConversationIDs(srv.Dataset())
			var got []string
			pages := 0
			for page, err := range client.Conversations.List(context.Background(), params).Pages() {
				require.NoError(t, err)
				pages++
				assert.LessOrEqual(t, len(page.Items), 10)
				got = append(got, e2eIDs(page.Items, convID)...)
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
			convs := e2eAll(t, client.Conversations.List(context.Background(), params).All())
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

func TestE2EListMessages(t *testing.T) {
	t.Parallel()
	for _, p := range convo.Providers() {
		t.Run(p.Name(), func(t *testing.T) {
			t.Parallel()
			srv, client := e2eServer(t, p)
			d := srv.Dataset()
			ctx := context.Background()
			total := 0
			for _, cd := range d.Conversations {
				msgs := e2eAll(t, client.Messages.List(ctx, cd.Conversation.ID, &convo.MessageListParams{PageSize: 7}).All())
				require.Equal(t, e2eMessageIDs(p, cd), e2eIDs(msgs, msgIDOf), "conversation %s", cd.Conversation.ID)
				byID := map[string]convo.Message{}
				for _, m := range cd.Messages {
					byID[m.ID] = m
				}
				for _, m := range msgs {
					w := byID[m.ID]
					assert.Equal(t, cd.Conversation.ID, m.ConversationID)
					assert.Equal(t, w.Direction, m.Direction)
					assert.Equal(t, w.Body, m.Body)
					assert.True(t, w.SentAt.Equal(m.SentAt), "%s SentAt", m.ID)
					switch p {
					case convo.Vobiz:
						assert.JSONEq(t, string(w.Payload), string(m.Payload))
						assert.Equal(t, w.Type, m.Type)
					case convo.VantaxAI:
						assert.Equal(t, w.Subject, m.Subject)
						assert.Equal(t, w.SenderType, m.SenderType)
					case convo.Rentalot:
						if w.Metadata == nil {
							assert.Nil(t, m.Metadata)
						} else {
							assert.JSONEq(t, string(w.Metadata), string(m.Metadata))
						}
					case convo.AgentMessage:
						assert.True(t, w.RedactedAt.Equal(m.RedactedAt))
						assert.Equal(t, w.FromNumber, m.FromNumber)
					}
				}
				total += len(msgs)
			}
			assert.Equal(t, d.MessageCount(), total)

			// The longest conversation at the provider's default page size.
			long := d.Conversations[0]
			for _, cd := range d.Conversations {
				if len(cd.Messages) > len(long.Messages) {
					long = cd
				}
			}
			pages := 0
			for _, err := range client.Messages.List(ctx, long.Conversation.ID, nil).Pages() {
				require.NoError(t, err)
				pages++
			}
			assert.GreaterOrEqual(t, pages, 2, "more than one default page")
		})
	}
}

func TestE2EGetConversation(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	for _, p := range []convo.Provider{convo.VantaxAI, convo.Rentalot} {
		t.Run(p.Name(), func(t *testing.T) {
			srv, client := e2eServer(t, p)
			listed := e2eAll(t, client.Conversations.List(ctx, nil).All())
			for _, c := range listed[:5] {
				got, err := client.Conversations.Get(ctx, c.ID)
				require.NoError(t, err)
				assert.True(t, reflect.DeepEqual(c, *got), "Get %s equals the listed conversation", c.ID)
			}
			_, err := client.Conversations.Get(ctx, "no-such-conversation")
			var apiErr *convo.APIError
			require.ErrorAs(t, err, &apiErr)
			assert.ErrorIs(t, err, convo.ErrNotFound)
			assert.Equal(t, http.StatusNotFound, apiErr.StatusCode)
			last := srv.Requests()[len(srv.Requests())-1]
			assert.True(t, strings.HasSuffix(last.Path, "/conversations/no-such-conversation"), last.Path)
		})
	}
	for _, p := range []convo.Provider{convo.Vobiz, convo.AgentMessage} {
		t.Run(p.Name(), func(t *testing.T) {
			srv, client := e2eServer(t, p)
			_, err := client.Conversations.Get(ctx, firstID(srv))
			assert.ErrorIs(t, err, convo.ErrUnsupported)
			assert.Empty(t, srv.Requests(), "refused before any request")
		})
	}
}

func firstID(srv *convotest.Server) string { return srv.Dataset().Conversations[0].Conversation.ID }

func TestE2ESearch(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	srv, client := e2eServer(t, convo.Rentalot)
	d := srv.Dataset()
	type hit struct {
		id, conv, contact string
		at                time.Time
	}
	var want []hit
	for _, cd := range d.Conversations {
		for _, m := range cd.Messages {
			if strings.Contains(strings.ToLower(m.Body), "showing") {
				want = append(want, hit{m.ID, cd.Conversation.ID, cd.ContactName, m.SentAt})
			}
		}
	}
	slices.SortStableFunc(want, func(a, b hit) int { return b.at.Compare(a.at) })
	want = want[:min(len(want), 50)]
	require.NotEmpty(t, want)

	got := e2eAll(t, client.Search.Messages(ctx, &convo.SearchParams{Query: "SHOWING", Limit: 50}).All())
	require.Len(t, got, len(want))
	for i, r := range got {
		assert.Equal(t, want[i].id, r.MessageID)
		assert.Equal(t, want[i].conv, r.ConversationID)
		assert.Equal(t, want[i].contact, r.ContactName)
		assert.True(t, want[i].at.Equal(r.SentAt))
		assert.Contains(t, strings.ToLower(r.Content), "showing")
	}

	n := len(srv.Requests())
	for _, err := range client.Search.Messages(ctx, &convo.SearchParams{Query: strings.Repeat("a", 501)}).All() {
		assert.ErrorIs(t, err, convo.ErrInvalidParams)
	}
	assert.Len(t, srv.Requests(), n, "refused before any request")

	for _, p := range []convo.Provider{convo.Vobiz, convo.VantaxAI, convo.AgentMessage} {
		_, c := e2eServer(t, p)
		for _, err := range c.Search.Messages(ctx, &convo.SearchParams{Query: "showing"}).All() {
			assert.ErrorIs(t, err, convo.ErrUnsupported, p.Name())
		}
	}
}

// e2eResume takes the first k items, then resumes from Pager.Cursor() with
// a new pager and returns both parts.
func e2eResume[T any](t *testing.T, k int, first *convo.Pager[T], resume func(cursor string) *convo.Pager[T]) (head, tail []T) {
	t.Helper()
	for v, err := range first.All() {
		require.NoError(t, err)
		head = append(head, v)
		if len(head) == k {
			break
		}
	}
	require.Len(t, head, k)
	tail = e2eAll(t, resume(first.Cursor()).All())
	return head, tail
}

func TestE2EResumeFromCursor(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	for _, p := range convo.Providers() {
		t.Run(p.Name(), func(t *testing.T) {
			t.Parallel()
			// Pages of 5: 7 and 12 stop in the middle of a page, 5 and 10 at its end.
			var opts []convotest.Option
			convParams := convo.ConversationListParams{PageSize: 5}
			if p == convo.Vobiz {
				opts, convParams = []convotest.Option{convotest.WithPageSize(5)}, convo.ConversationListParams{}
			}
			srv, client := e2eServer(t, p, opts...)
			d := srv.Dataset()
			allConvs := e2eConversationIDs(d)
			long := d.Conversations[0]
			for _, cd := range d.Conversations {
				if len(cd.Messages) > len(long.Messages) {
					long = cd
				}
			}
			allMsgs := e2eMessageIDs(p, long)
			for _, k := range []int{1, 5, 7, 12} {
				head, tail := e2eResume(t, k, client.Conversations.List(ctx, &convParams),
					func(cursor string) *convo.Pager[convo.Conversation] {
						q := convParams
						q.Cursor = cursor
						return client.Conversations.List(ctx, &q)
					})
				assert.Equal(t, allConvs[:k], e2eIDs(head, convID), "conversations, first %d", k)
				assert.Equal(t, allConvs[k:], e2eIDs(tail, convID), "conversations resumed after %d", k)

				head2, tail2 := e2eResume(t, k, client.Messages.List(ctx, long.Conversation.ID, &convo.MessageListParams{PageSize: 5}),
					func(cursor string) *convo.Pager[convo.Message] {
						return client.Messages.List(ctx, long.Conversation.ID, &convo.MessageListParams{PageSize: 5, Cursor: cursor})
					})
				assert.Equal(t, allMsgs[:k], e2eIDs(head2, msgIDOf), "messages, first %d", k)
				assert.Equal(t, allMsgs[k:], e2eIDs(tail2, msgIDOf), "messages resumed after %d", k)
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

func TestE2EErrors(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	wrong := map[string]convo.Authenticator{
		"vobiz":        convo.XAuth(convotest.DemoVobizAuthID, "wrong-token-e2e"),
		"vantaxai":     convo.Bearer("vx_live_wrong-token-e2e"),
		"rentalot":     convo.Bearer("ra_wrong-token-e2e"),
		"agentmessage": convo.Bearer("am_live_wrong-token-e2e"),
	}
	codes := map[string]string{"vobiz": "INVALID_CREDENTIALS", "vantaxai": "", "rentalot": "unauthorized", "agentmessage": "UNAUTHORIZED"}
	for _, p := range convo.Providers() {
		t.Run(p.Name(), func(t *testing.T) {
			srv, client := e2eServer(t, p)
			bad, err := srv.Client(convo.WithAuth(wrong[p.Name()]))
			require.NoError(t, err)
			var gotErr error
			for _, err := range bad.Conversations.List(ctx, nil).All() {
				gotErr = err
			}
			var apiErr *convo.APIError
			require.ErrorAs(t, gotErr, &apiErr)
			assert.ErrorIs(t, gotErr, convo.ErrUnauthorized)
			assert.Equal(t, http.StatusUnauthorized, apiErr.StatusCode)
			assert.Equal(t, codes[p.Name()], apiErr.Code)
			assert.NotEmpty(t, apiErr.Message)
			for _, s := range []string{gotErr.Error(), fmt.Sprintf("%+v", gotErr), fmt.Sprintf("%#v", apiErr)} {
				assert.NotContains(t, s, "wrong-token-e2e")
			}
			if p == convo.AgentMessage || p == convo.Vobiz {
				assert.NotEmpty(t, apiErr.RequestID)
			}
			if p == convo.Rentalot {
				require.NotNil(t, apiErr.RateLimit)
			}
			assert.Len(t, srv.Requests(), 1, "a 401 is not retried")

			// No credentials at all, on purpose.
			none, err := convo.NewClient(p, convo.WithBaseURL(srv.URL()), convo.WithoutAuth())
			require.NoError(t, err)
			for _, err := range none.Conversations.List(ctx, nil).All() {
				assert.ErrorIs(t, err, convo.ErrUnauthorized)
			}

			// An unknown conversation.
			for _, err := range client.Messages.List(ctx, "AAAA-no-such-conversation", nil).All() {
				require.ErrorAs(t, err, &apiErr)
				assert.ErrorIs(t, err, convo.ErrNotFound)
				assert.Equal(t, http.StatusNotFound, apiErr.StatusCode)
			}

			// A page size the provider does not document is refused before sending.
			n := len(srv.Requests())
			for _, err := range client.Messages.List(ctx, firstID(srv), &convo.MessageListParams{PageSize: 500}).All() {
				assert.ErrorIs(t, err, convo.ErrInvalidParams)
			}
			assert.Len(t, srv.Requests(), n)
		})
	}
}

func TestE2EValidationErrorsDecode(t *testing.T) {
	t.Parallel()
	// The SDK refuses bad parameters before sending, so what reaches a
	// server's validation is a page token it does not know: a resume cursor
	// taken against one server and used against another whose data lacks
	// that position. The fake's validation envelopes decode to
	// ErrValidation with the field in Details.
	tests := []struct {
		p      convo.Provider
		status int
		field  string
	}{
		{convo.VantaxAI, 422, "starting_after"},
		{convo.AgentMessage, 400, "cursor"},
		{convo.Vobiz, 400, "cursor"},
	}
	for _, tt := range tests {
		t.Run(tt.p.Name(), func(t *testing.T) {
			srv, client := e2eServer(t, tt.p)
			id := firstID(srv)
			pager := client.Messages.List(context.Background(), id, &convo.MessageListParams{PageSize: 1})
			for range pager.All() {
				break
			}
			other := convotest.NewDataset().AddMessages(id, convo.Message{ID: "unrelated", Direction: convo.Inbound, Body: "x"})
			_, client2 := e2eServer(t, tt.p, convotest.WithData(other))
			var gotErr error
			for _, err := range client2.Messages.List(context.Background(), id, &convo.MessageListParams{PageSize: 1, Cursor: pager.Cursor()}).All() {
				gotErr = err
			}
			var apiErr *convo.APIError
			require.ErrorAs(t, gotErr, &apiErr)
			assert.ErrorIs(t, gotErr, convo.ErrValidation)
			assert.Equal(t, tt.status, apiErr.StatusCode)
			assert.Contains(t, apiErr.Details, tt.field)
		})
	}
}

// e2eFaults is every kind of fault early on, then random faults.
func e2eFaults(seed int64) []convotest.Option {
	return []convotest.Option{
		convotest.WithFaults(
			convotest.Fault{Kind: convotest.FaultServerError, Nth: 1, Status: 503},
			convotest.Fault{Kind: convotest.FaultRateLimit, Nth: 3, RetryAfter: 0},
			convotest.Fault{Kind: convotest.FaultDrop, Nth: 5},
			convotest.Fault{Kind: convotest.FaultTruncate, Nth: 7},
			convotest.Fault{Kind: convotest.FaultServerError, Path: "/conversations/*/messages", Nth: 2, Times: 3, Status: 502},
		),
		convotest.WithFaultRate(0.25, seed),
	}
}

func TestE2ERetriesThroughFaults(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	for _, p := range convo.Providers() {
		for _, prefetch := range []int{0, 2} {
			t.Run(fmt.Sprintf("%s/prefetch=%d", p.Name(), prefetch), func(t *testing.T) {
				t.Parallel()
				opts, params := e2eSmallPages(p)
				srv := convotest.NewServer(p, append(opts, e2eFaults(int64(len(p.Name())+prefetch))...)...)
				defer srv.Close()
				client, err := srv.Client(convo.WithRetryWait(time.Millisecond, 5*time.Millisecond),
					convo.WithMaxRetries(10), convo.WithPrefetch(prefetch))
				require.NoError(t, err)
				d := srv.Dataset()

				convs := e2eAll(t, client.Conversations.List(ctx, params).All())
				assert.Equal(t, e2eConversationIDs(d), e2eIDs(convs, convID), "every conversation exactly once")
				for _, cd := range d.Conversations[:12] {
					msgs := e2eAll(t, client.Messages.List(ctx, cd.Conversation.ID, &convo.MessageListParams{PageSize: 4}).All())
					assert.Equal(t, e2eMessageIDs(p, cd), e2eIDs(msgs, msgIDOf), "every message of %s exactly once", cd.Conversation.ID)
				}

				kinds := map[convotest.FaultKind]int{}
				for _, r := range srv.Requests() {
					kinds[r.Fault]++
				}
				for _, k := range []convotest.FaultKind{convotest.FaultServerError, convotest.FaultRateLimit, convotest.FaultDrop, convotest.FaultTruncate} {
					assert.Positive(t, kinds[k], "%v faults were injected", k)
				}
			})
		}
	}
}

func TestE2ERetryAfterBeyondMaxWait(t *testing.T) {
	t.Parallel()
	srv, _ := e2eServer(t, convo.AgentMessage, convotest.WithFaults(convotest.Fault{Kind: convotest.FaultRateLimit, RetryAfter: 30 * time.Second}))
	client, err := srv.Client(convo.WithRetryWait(time.Millisecond, 5*time.Millisecond))
	require.NoError(t, err)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	var gotErr error
	for _, err := range client.Conversations.List(ctx, nil).All() {
		gotErr = err
	}
	var apiErr *convo.APIError
	require.ErrorAs(t, gotErr, &apiErr)
	assert.ErrorIs(t, gotErr, convo.ErrRateLimited)
	assert.Equal(t, 30*time.Second, apiErr.RetryAfter)
	assert.Equal(t, "RATE_LIMITED", apiErr.Code)
	assert.False(t, errors.Is(ctx.Err(), context.DeadlineExceeded), "not slept through")
	assert.Len(t, srv.Requests(), 1)
}

func TestE2EIDsAreOneEscapedSegment(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	const odd = "conv/with space?&#%2F..é"
	data := convotest.NewDataset().
		AddMessages(odd, convo.Message{ID: "m1", Direction: convo.Inbound, Body: "one", SentAt: time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)}).
		AddMessages("plain", convo.Message{ID: "m2", Direction: convo.Outbound, Body: "two"})
	for _, p := range convo.Providers() {
		t.Run(p.Name(), func(t *testing.T) {
			srv, client := e2eServer(t, p, convotest.WithData(data))
			msgs := e2eAll(t, client.Messages.List(ctx, odd, nil).All())
			require.Len(t, msgs, 1)
			assert.Equal(t, "m1", msgs[0].ID)
			assert.Equal(t, odd, msgs[0].ConversationID)
			if p.Supports("conversations.get") {
				c, err := client.Conversations.Get(ctx, odd)
				require.NoError(t, err)
				assert.Equal(t, odd, c.ID)
			}
			for _, r := range srv.Requests() {
				assert.NotContains(t, r.Path, "/with space", "escaped")
				assert.Contains(t, r.Path, "conv%2Fwith%20space%3F&%23%252F..%C3%A9")
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
			srv, client := e2eServer(t, p, convotest.WithPageSize(7))
			d := srv.Dataset()
			convs := e2eAll(t, client.Conversations.List(ctx, nil).All())
			assert.Equal(t, e2eConversationIDs(d), e2eIDs(convs, convID))
			long := d.Conversations[0]
			for _, cd := range d.Conversations {
				if len(cd.Messages) > len(long.Messages) {
					long = cd
				}
			}
			msgs := e2eAll(t, client.Messages.List(ctx, long.Conversation.ID, &convo.MessageListParams{PageSize: 100}).All())
			assert.Equal(t, e2eMessageIDs(p, long), e2eIDs(msgs, msgIDOf))

			// Resume in the middle of a capped page.
			head, tail := e2eResume(t, 10, client.Messages.List(ctx, long.Conversation.ID, &convo.MessageListParams{PageSize: 100}),
				func(cursor string) *convo.Pager[convo.Message] {
					return client.Messages.List(ctx, long.Conversation.ID, &convo.MessageListParams{PageSize: 100, Cursor: cursor})
				})
			assert.Equal(t, e2eMessageIDs(p, long), append(e2eIDs(head, msgIDOf), e2eIDs(tail, msgIDOf)...))
		})
	}
}
