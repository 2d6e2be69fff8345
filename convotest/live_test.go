package convotest_test

import (
	"context"
	"fmt"
	"net/url"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/convokit/convo"
	"github.com/convokit/convo/convotest"
)

// listIDs lists every conversation through the SDK.
func listIDs(t *testing.T, c *convo.Client) ([]string, map[string]convo.Conversation) {
	t.Helper()
	var ids []string
	byID := map[string]convo.Conversation{}
	for conv, err := range c.Conversations.List(context.Background(), nil).All() {
		require.NoError(t, err)
		ids = append(ids, conv.ID)
		byID[conv.ID] = conv
	}
	return ids, byID
}

// liveFake is the fake of p, a client of it, and the conversations the
// client lists before the test changes the data: their ids in list order
// and their records by id.
func liveFake(t *testing.T, p convo.Provider) (*convotest.Server, *convo.Client, []string, map[string]convo.Conversation) {
	t.Helper()
	srv := convotest.New(t, p)
	c := mustClient(t, srv)
	before, recs := listIDs(t, c)
	return srv, c, before, recs
}

func messageIDs(t *testing.T, c *convo.Client, id string) []string {
	t.Helper()
	var ids []string
	for m, err := range c.Messages.List(context.Background(), id, nil).All() {
		require.NoError(t, err)
		ids = append(ids, m.ID)
	}
	return ids
}

func TestLiveAddMessagesMovesActivity(t *testing.T) {
	t.Parallel()
	eachProvider(t, func(t *testing.T, p convo.Provider, w wire) {
		srv, c, before, recs := liveFake(t, p)
		last := before[len(before)-1] // the oldest activity
		old := recs[last]
		nMsgs := len(messageIDs(t, c, last))

		at := time.Date(2031, 1, 1, 0, 0, 0, 0, time.UTC) // later than all demo data
		require.NoError(t, srv.AddMessages(last,
			convo.Message{ID: "live-1", Direction: convo.Outbound, Body: "first", SentAt: at},
			convo.Message{ID: "live-2", Direction: convo.Inbound, Body: "second", SentAt: at.Add(time.Second)}))

		after, recs := listIDs(t, c)
		assert.ElementsMatch(t, before, after, "the same conversations")
		if !convotest.ListsByActivity(p) {
			assert.Equal(t, before, after, "no documented order: the list keeps its order")
		} else {
			assert.Equal(t, last, after[0], "new activity moves the conversation first")
			assert.Equal(t, before[:len(before)-1], after[1:], "the others keep their order")
		}
		w.added(t, old, recs[last], at)
		msgs := messageIDs(t, c, last)
		assert.Len(t, msgs, nMsgs+2)
		if w.messagesNewestFirst {
			assert.Equal(t, []string{"live-2", "live-1"}, msgs[:2], "newest first")
		} else {
			assert.Equal(t, []string{"live-1", "live-2"}, msgs[len(msgs)-2:], "oldest first")
		}
	})
}

func TestLiveAddConversation(t *testing.T) {
	t.Parallel()
	eachProvider(t, func(t *testing.T, p convo.Provider, w wire) {
		srv, c, before, _ := liveFake(t, p)
		at := time.Date(2031, 1, 1, 0, 0, 0, 0, time.UTC)
		conv := convo.Conversation{ID: "new-conversation", ContactID: "contact-new", ContactNumber: "+15550001111", Channel: "sms", Status: "open", CreatedAt: at}
		require.NoError(t, srv.AddConversation(conv, convo.Message{ID: "new-1", Direction: convo.Inbound, Body: "hello", SentAt: at}))
		after, recs := listIDs(t, c)
		require.Len(t, after, len(before)+1)
		if !convotest.ListsByActivity(p) {
			assert.Equal(t, "new-conversation", after[len(after)-1], "listed last")
		} else {
			assert.Equal(t, "new-conversation", after[0], "the newest activity is listed first")
			assert.True(t, recs["new-conversation"].LastMessageAt.Equal(at), "activity derived from its messages")
		}
		assert.Equal(t, []string{"new-1"}, messageIDs(t, c, "new-conversation"))
		assert.Len(t, srv.Dataset().Conversations, len(before)+1)

		assert.Error(t, srv.AddConversation(conv), "the id exists")
		assert.Error(t, srv.AddConversation(convo.Conversation{}), "no id")
	})
}

func TestLiveRefusesBadChanges(t *testing.T) {
	t.Parallel()
	srv := convotest.New(t, convo.VantaxAI)
	d := srv.Dataset()
	id := d.Conversations[0].Conversation.ID
	existing := d.Conversations[0].Messages[0].ID

	assert.ErrorIs(t, srv.AddMessages("conv_nope", convo.Message{ID: "x"}), convotest.ErrUnknownConversation)
	assert.ErrorIs(t, srv.UpdateConversation(convo.Conversation{ID: "conv_nope"}), convotest.ErrUnknownConversation)
	assert.ErrorIs(t, srv.RemoveMessages("conv_nope", "x"), convotest.ErrUnknownConversation)
	assert.Error(t, srv.AddMessages(id, convo.Message{ID: existing}), "an id the conversation holds")
	assert.Error(t, srv.AddMessages(id, convo.Message{ID: "a"}, convo.Message{ID: "a"}), "an id given twice")
	assert.Error(t, srv.AddMessages(id, convo.Message{}), "no id")
	assert.Equal(t, d, srv.Dataset(), "a refused change changes nothing")
}

func TestLiveUpdateConversationKeepsPlace(t *testing.T) {
	t.Parallel()
	srv, c, before, recs := liveFake(t, convo.VantaxAI)
	rec := recs[before[3]]
	rec.Tags = []string{"vip"}
	require.NoError(t, srv.UpdateConversation(rec))
	after, recs := listIDs(t, c)
	assert.Equal(t, before, after)
	assert.Equal(t, []string{"vip"}, recs[before[3]].Tags)
}

func TestLiveExpireCursors(t *testing.T) {
	t.Parallel()
	eachProviderWith(t, func(w wire) bool { return w.serverCursors }, func(t *testing.T, p convo.Provider, _ wire) {
		srv := convotest.New(t, p)
		c := mustClient(t, srv, convo.WithMaxRetries(0))
		d := srv.Dataset()
		id := d.Conversations[0].Conversation.ID
		for _, cd := range d.Conversations {
			if len(cd.Messages) > 4 {
				id = cd.Conversation.ID
				break
			}
		}
		pager := c.Messages.List(context.Background(), id, &convo.MessageListParams{PageSize: 2})
		for range pager.Pages() {
			break
		}
		resume := pager.Cursor()
		srv.ExpireCursors()
		var gotErr error
		for _, err := range c.Messages.List(context.Background(), id, &convo.MessageListParams{Cursor: resume}).All() {
			gotErr = err
		}
		assert.ErrorIs(t, gotErr, convo.ErrValidation, "an expired cursor is refused")
		assert.NotEmpty(t, messageIDs(t, c, id), "new iterations work")
	})
}

func TestLiveRemoveMessagesRefusesStartingAfter(t *testing.T) {
	t.Parallel()
	srv := convotest.New(t, convo.VantaxAI)
	c := mustClient(t, srv, convo.WithMaxRetries(0))
	d := srv.Dataset()
	conv := d.Conversations[0]
	require.GreaterOrEqual(t, len(conv.Messages), 3)
	gone := conv.Messages[1].ID
	require.NoError(t, srv.RemoveMessages(conv.Conversation.ID, gone))
	assert.NotContains(t, messageIDs(t, c, conv.Conversation.ID), gone)
	resp, body := rawGet(t, srv, "/conversations/"+url.PathEscape(conv.Conversation.ID)+"/messages?starting_after="+gone, demoAuth(convo.VantaxAI))
	assert.Equal(t, 422, resp.StatusCode, "body: %s", body)
}

// TestLiveHookChangesDuringARequest changes the data from the hook of the
// request that then sees the change.
func TestLiveHookChangesDuringARequest(t *testing.T) {
	t.Parallel()
	var srv *convotest.Server
	at := time.Date(2031, 1, 1, 0, 0, 0, 0, time.UTC)
	var once sync.Once
	srv = convotest.NewServer(convo.AgentMessage, convotest.WithRequestHook(func(r convotest.Request) {
		if r.N == 2 {
			once.Do(func() {
				require.NoError(t, srv.AddConversation(convo.Conversation{ID: "hooked", ContactNumber: "+15550002222"},
					convo.Message{ID: "hooked-1", Direction: convo.Inbound, Body: "during", SentAt: at}))
			})
		}
	}))
	defer srv.Close()
	c, err := srv.Client()
	require.NoError(t, err)
	first, _ := listIDs(t, c)
	assert.NotContains(t, first, "hooked")
	second, _ := listIDs(t, c)
	assert.Equal(t, "hooked", second[0], "the request during which it was added sees it")
}

// TestLiveConcurrentChanges changes the data from several goroutines while
// clients read it (run under -race).
func TestLiveConcurrentChanges(t *testing.T) {
	t.Parallel()
	srv := convotest.New(t, convo.Rentalot)
	c := mustClient(t, srv, convo.WithMaxPacingWait(0))
	ids, _ := listIDs(t, c)
	at := time.Date(2031, 1, 1, 0, 0, 0, 0, time.UTC)
	var wg sync.WaitGroup
	const writers, perWriter = 4, 20
	for w := range writers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range perWriter {
				id := ids[(w*perWriter+i)%len(ids)]
				assert.NoError(t, srv.AddMessages(id, convo.Message{ID: fmt.Sprintf("w%d-%d", w, i), Direction: convo.Inbound, Body: "x", SentAt: at.Add(time.Duration(w*perWriter+i) * time.Second)}))
			}
		}()
	}
	for range 2 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range 5 {
				for conv, err := range c.Conversations.List(context.Background(), &convo.ConversationListParams{PageSize: 100}).All() {
					if !assert.NoError(t, err) {
						return
					}
					for _, err := range c.Messages.List(context.Background(), conv.ID, &convo.MessageListParams{PageSize: 100}).All() {
						if !assert.NoError(t, err) {
							return
						}
					}
					break
				}
			}
		}()
	}
	wg.Wait()
	assert.Equal(t, convotest.DemoDataset(convo.Rentalot, convotest.DefaultSeed).MessageCount()+writers*perWriter, srv.Dataset().MessageCount())
}

// New activity equal to the newest in the list moves the conversation
// first, before the others of that activity (the latest change first),
// never after them.
func TestLiveEqualActivityMovesFirst(t *testing.T) {
	t.Parallel()
	eachProviderWith(t, func(w wire) bool { return convotest.ListsByActivity(w.provider) }, func(t *testing.T, p convo.Provider, _ wire) {
		t.Parallel()
		srv, c, before, recs := liveFake(t, p)
		top := recs[before[0]]
		last := before[len(before)-1]
		require.NoError(t, srv.AddMessages(last, convo.Message{ID: "live-eq", Direction: convo.Outbound, Body: "same time", SentAt: top.LastMessageAt}))
		after, recs := listIDs(t, c)
		require.True(t, recs[last].LastMessageAt.Equal(top.LastMessageAt))
		assert.Equal(t, last, after[0], "the changed conversation comes before the others of its activity")
		assert.Equal(t, before[:len(before)-1], after[1:])
	})
}

// A back-dated message (older than the conversation's activity) never
// moves that activity backwards, nor the conversation's place.
func TestLiveBackDatedMessageKeepsActivity(t *testing.T) {
	t.Parallel()
	eachProvider(t, func(t *testing.T, p convo.Provider, w wire) {
		t.Parallel()
		srv, c, before, recs := liveFake(t, p)
		id := before[0]
		old := recs[id]
		back := old.LastMessageAt.Add(-24 * time.Hour)
		require.NoError(t, srv.AddMessages(id, convo.Message{ID: "live-back", Direction: convo.Inbound, Body: "late delivery", SentAt: back}))
		after, recs := listIDs(t, c)
		assert.Equal(t, before, after, "the list keeps its order")
		got := recs[id]
		assert.True(t, got.LastMessageAt.Equal(old.LastMessageAt), "LastMessageAt %s, was %s", got.LastMessageAt, old.LastMessageAt)
		if !old.UpdatedAt.IsZero() {
			assert.False(t, got.UpdatedAt.Before(old.UpdatedAt), "UpdatedAt never goes back")
		}
	})
}
