package convo_test

import (
	"context"
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

func TestE2EListMessages(t *testing.T) {
	t.Parallel()
	for _, p := range convo.Providers() {
		t.Run(p.Name(), func(t *testing.T) {
			t.Parallel()
			srv, client := newServer(t, p)
			d := srv.Dataset()
			ctx := context.Background()
			total := 0
			for _, cd := range d.Conversations {
				msgs := all(t, client.Messages.List(ctx, cd.Conversation.ID, &convo.MessageListParams{PageSize: 7}).All())
				require.Equal(t, listedIDs(t, p, cd), ids(msgs, msgIDOf), "conversation %s", cd.Conversation.ID)
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
			long := longest(d)
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
			srv, client := newServer(t, p)
			listed := all(t, client.Conversations.List(ctx, nil).All())
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
			srv, client := newServer(t, p)
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
	srv, client := newServer(t, convo.Rentalot)
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

	got := all(t, client.Search.Messages(ctx, &convo.SearchParams{Query: "SHOWING", Limit: 50}).All())
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
		_, c := newServer(t, p)
		for _, err := range c.Search.Messages(ctx, &convo.SearchParams{Query: "showing"}).All() {
			assert.ErrorIs(t, err, convo.ErrUnsupported, p.Name())
		}
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
			srv, client := newServer(t, p)
			bad, err := srv.Client(convo.WithAuth(wrong[p.Name()]))
			require.NoError(t, err)
			gotErr := lastErr(bad.Conversations.List(ctx, nil).All())
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
			srv, client := newServer(t, tt.p)
			id := firstID(srv)
			pager := client.Messages.List(context.Background(), id, &convo.MessageListParams{PageSize: 1})
			for range pager.All() {
				break
			}
			other := convotest.NewDataset().AddMessages(id, convo.Message{ID: "unrelated", Direction: convo.Inbound, Body: "x"})
			_, client2 := newServer(t, tt.p, convotest.WithData(other))
			gotErr := lastErr(client2.Messages.List(context.Background(), id, &convo.MessageListParams{PageSize: 1, Cursor: pager.Cursor()}).All())
			var apiErr *convo.APIError
			require.ErrorAs(t, gotErr, &apiErr)
			assert.ErrorIs(t, gotErr, convo.ErrValidation)
			assert.Equal(t, tt.status, apiErr.StatusCode)
			assert.Contains(t, apiErr.Details, tt.field)
		})
	}
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
			srv, client := newServer(t, p, convotest.WithData(data))
			msgs := all(t, client.Messages.List(ctx, odd, nil).All())
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
