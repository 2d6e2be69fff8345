package convo_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/convokit/convo"
	"github.com/convokit/convo/convotest"
)

// An incremental walk of a list ordered by activity goes on through a
// conversation whose activity is exactly its window's edge (the
// watermark minus the lookback): only older activity ends it. With
// whole-second timestamps the equality is a real case. Here a
// conversation appears after the first run with its activity on the
// edge; the incremental run must deliver it.
func TestIncrementalSyncWalksThroughTheLookbackEdge(t *testing.T) {
	t.Parallel()
	const lookback = 10 * time.Minute
	newest := incBase.Add(time.Hour)
	edge := newest.Add(-lookback)
	for _, p := range []convo.Provider{convo.VantaxAI, convo.Rentalot} { // by activity, no since parameter
		t.Run(p.Name(), func(t *testing.T) {
			t.Parallel()
			d := convotest.NewDataset()
			conv := func(id string, last time.Time) convotest.ConversationData {
				c := incConversation(p, id, 2)
				msgs := []convo.Message{
					{ID: id + "-m1", Direction: convo.Inbound, Body: "hello", SentAt: last.Add(-time.Minute)},
					{ID: id + "-m2", Direction: convo.Outbound, Body: "hi", SentAt: last},
				}
				c.LastMessageAt, c.UpdatedAt, c.MessageCount = last, last, len(msgs)
				return convotest.ConversationData{Conversation: c, Messages: msgs}
			}
			// Newest activity first, as the provider lists them.
			d.Conversations = []convotest.ConversationData{conv("a", newest), conv("c", edge.Add(-time.Minute))}
			srv := convotest.NewServer(p, convotest.WithData(d))
			defer srv.Close()
			client, err := srv.Client()
			require.NoError(t, err)

			ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
			defer cancel()
			cp := new(convo.Checkpoint)
			params := &convo.SyncParams{Checkpoint: cp, Lookback: lookback, Concurrency: 1}
			store := newIncStore()
			for b, err := range client.Sync(ctx, params) {
				require.NoError(t, err)
				store.apply(t, b)
			}
			require.True(t, cp.Done())

			onEdge := conv("b", edge)
			require.NoError(t, srv.AddConversation(onEdge.Conversation, onEdge.Messages...))
			var got []string
			for b, err := range client.Sync(ctx, params) {
				require.NoError(t, err)
				for _, m := range b.Messages {
					got = append(got, m.ID)
				}
			}
			require.True(t, cp.Done())
			assert.ElementsMatch(t, []string{"b-m1", "b-m2"}, got, fmt.Sprintf("the conversation at the edge (%s) is delivered", edge.Format(time.RFC3339)))
		})
	}
}
