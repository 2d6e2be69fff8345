package convo_test

import (
	"context"
	"fmt"
	"iter"
	"os"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/convokit/convo"
	"github.com/convokit/convo/convotest"
	"github.com/convokit/convo/internal/testkit"
)

// The kit of the tests that run on convotest, the fake of every provider.
// They are in package convo_test: convotest imports convo, so a test inside
// the package cannot import it.

// readFile returns the text of a file of the repository, by its path from
// the root.
func readFile(t testing.TB, name string) string {
	t.Helper()
	b, err := os.ReadFile(name)
	require.NoError(t, err)
	return string(b)
}

// lastErr runs an iteration to its end and returns the error it yielded
// last (nil when it yielded none or its last item came without one).
func lastErr[T any](seq iter.Seq2[T, error]) error {
	var last error
	for _, err := range seq {
		last = err
	}
	return last
}

// newServer starts a fake of p, closed when the test ends, and a client of
// it that retries after 1–5ms.
func newServer(t testing.TB, p convo.Provider, opts ...convotest.Option) (*convotest.Server, *convo.Client) {
	t.Helper()
	srv := convotest.New(t, p, opts...)
	client, err := srv.Client(convo.WithRetryWait(time.Millisecond, 5*time.Millisecond))
	require.NoError(t, err)
	return srv, client
}

// all collects what an iteration yields; every error fails the test.
func all[T any](t testing.TB, seq func(yield func(T, error) bool)) []T {
	t.Helper()
	return testkit.Collect(t, seq)
}

// upTo collects the first max items of an iteration (all when max is 0);
// every error fails the test.
func upTo[T any](t testing.TB, pg *convo.Pager[T], max int) []T {
	t.Helper()
	var out []T
	for v, err := range pg.All() {
		require.NoError(t, err)
		out = append(out, v)
		if len(out) == max {
			break
		}
	}
	return out
}

func ids[T any](items []T, id func(T) string) []string {
	out := make([]string, len(items))
	for i, v := range items {
		out[i] = id(v)
	}
	return out
}

func convID(c convo.Conversation) string { return c.ID }
func msgIDOf(m convo.Message) string     { return m.ID }

// messageIDs returns the message ids of an iteration's first max items
// (all when max is 0); nil when there are none.
func messageIDs(t testing.TB, pg *convo.Pager[convo.Message], max int) []string {
	t.Helper()
	var out []string
	for _, m := range upTo(t, pg, max) {
		out = append(out, m.ID)
	}
	return out
}

func conversationIDs(d *convotest.Dataset) []string {
	out := make([]string, len(d.Conversations))
	for i, c := range d.Conversations {
		out[i] = c.Conversation.ID
	}
	return out
}

// listedIDs returns the ids of a conversation's messages in the order the
// provider lists them.
func listedIDs(t testing.TB, p convo.Provider, cd convotest.ConversationData) []string {
	out := make([]string, len(cd.Messages))
	for i, m := range cd.Messages {
		out[i] = m.ID
	}
	if newestFirst(t, p) {
		slices.Reverse(out)
	}
	return out
}

var newestFirstOf sync.Map // convo.Provider → bool

// newestFirst tells whether p lists a conversation's messages newest first,
// as the fake of p shows (the fake follows each provider's documents).
func newestFirst(t testing.TB, p convo.Provider) bool {
	t.Helper()
	if v, ok := newestFirstOf.Load(p); ok {
		return v.(bool)
	}
	at := time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC)
	d := convotest.NewDataset().AddMessages("c1",
		convo.Message{ID: "older", Direction: convo.Inbound, Body: "older", SentAt: at},
		convo.Message{ID: "newer", Direction: convo.Inbound, Body: "newer", SentAt: at.Add(time.Second)})
	_, client := newServer(t, p, convotest.WithData(d))
	got := messageIDs(t, client.Messages.List(context.Background(), "c1", nil), 1)
	v := len(got) == 1 && got[0] == "newer"
	newestFirstOf.Store(p, v)
	return v
}

// longest returns the conversation with the most messages.
func longest(d *convotest.Dataset) convotest.ConversationData { return testkit.Longest(d) }

// smallPages lists conversations in pages of n: through the params where
// the provider has a limit, through the server's page size cap where its
// conversation list has none.
func smallPages(p convo.Provider, n int) ([]convotest.Option, *convo.ConversationListParams) {
	if _, max, _ := p.PageSizeRange(convo.OpListConversations); max == 0 {
		return []convotest.Option{convotest.WithPageSize(n)}, &convo.ConversationListParams{}
	}
	return nil, &convo.ConversationListParams{PageSize: n}
}

func msgID(i int) string { return fmt.Sprintf("m%04d", i) }

// wantIDs returns msgID(from) to msgID(to-1).
func wantIDs(from, to int) []string {
	var out []string
	for i := from; i < to; i++ {
		out = append(out, msgID(i))
	}
	return out
}

func letters(s string) []string { return strings.Split(s, " ") }

// pagedAt is the time of the first message of pagedServer's conversation.
var pagedAt = time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC)

// listOf returns messages that p lists in the order of ids, a second apart
// from the oldest at from.
func listOf(t testing.TB, p convo.Provider, from time.Time, ids ...string) []convo.Message {
	order := slices.Clone(ids)
	if newestFirst(t, p) {
		slices.Reverse(order)
	}
	msgs := make([]convo.Message, len(order))
	for i, id := range order {
		msgs[i] = convo.Message{ID: id, Direction: convo.Inbound, Body: "text of " + id, SentAt: from.Add(time.Duration(i) * time.Second)}
	}
	return msgs
}

// pagedServer serves one conversation, c1, whose messages p lists in the
// order of ids.
func pagedServer(t testing.TB, p convo.Provider, ids []string, opts ...convotest.Option) (*convotest.Server, *convo.Client) {
	t.Helper()
	d := convotest.NewDataset().AddMessages("c1", listOf(t, p, pagedAt, ids...)...)
	return newServer(t, p, append([]convotest.Option{convotest.WithData(d)}, opts...)...)
}

// relist makes srv list the messages of c1 in the order of ids from now
// on, as a list that changed between two requests does: the messages it
// held are removed and ids added as newer ones.
func relist(t testing.TB, srv *convotest.Server, ids ...string) {
	t.Helper()
	cd, ok := srv.Dataset().Conversation("c1")
	require.True(t, ok)
	from := pagedAt
	held := make([]string, len(cd.Messages))
	for i, m := range cd.Messages {
		held[i] = m.ID
		from = m.SentAt.Add(time.Second)
	}
	require.NoError(t, srv.RemoveMessages("c1", held...))
	require.NoError(t, srv.AddMessages("c1", listOf(t, srv.Provider(), from, ids...)...))
}

// withActivity returns c with the activity fields its messages give it
// on p, msgs' last being the newest: the time and count, Rentalot's
// updatedAt, AgentMessage's last direction and preview.
func withActivity(p convo.Provider, c convo.Conversation, msgs []convo.Message) convo.Conversation {
	last := msgs[len(msgs)-1]
	c.LastMessageAt, c.MessageCount, c.UpdatedAt = last.SentAt, len(msgs), last.SentAt
	if p == convo.AgentMessage {
		c.LastMessageDirection, c.LastMessagePreview = last.Direction, last.Body
	}
	return c
}

// c1Messages lists the messages of pagedServer's conversation c1.
func c1Messages(c *convo.Client, params convo.MessageListParams) *convo.Pager[convo.Message] {
	return c.Messages.List(context.Background(), "c1", &params)
}

// eachPaged runs f as a subtest per provider, with a client of a
// pagedServer whose conversation c1 holds ids.
func eachPaged(t *testing.T, ids []string, f func(t *testing.T, p convo.Provider, srv *convotest.Server, c *convo.Client)) {
	t.Helper()
	for _, p := range convo.Providers() {
		t.Run(p.Name(), func(t *testing.T) {
			srv, c := pagedServer(t, p, ids)
			f(t, p, srv, c)
		})
	}
}
