package convotest_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/convokit/convo"
	"github.com/convokit/convo/convotest"
)

// A scripted 500, as FaultServerError or as FaultStatus, is answered with
// the provider's own code for a server error, as the SDK reads it.
func TestConvotestScripted500Code(t *testing.T) {
	t.Parallel()
	want := map[convo.Provider]string{
		convo.Vobiz:        "INTERNAL_ERROR",
		convo.VantaxAI:     "", // VantaxAI documents no code field
		convo.Rentalot:     "internal_error",
		convo.AgentMessage: "INTERNAL_ERROR",
	}
	for _, p := range convo.Providers() {
		for _, kind := range []convotest.FaultKind{convotest.FaultServerError, convotest.FaultStatus} {
			t.Run(p.Name()+"/"+kind.String(), func(t *testing.T) {
				t.Parallel()
				srv := convotest.NewServer(p, convotest.WithFaults(convotest.Fault{Kind: kind, Status: 500, Times: 1}))
				defer srv.Close()
				c, err := srv.Client(convo.WithMaxRetries(0))
				require.NoError(t, err)
				for _, err = range c.Conversations.List(context.Background(), nil).Pages() {
					break
				}
				var ae *convo.APIError
				require.True(t, errors.As(err, &ae), "%v", err)
				assert.Equal(t, 500, ae.StatusCode)
				assert.Equal(t, want[p], ae.Code)
			})
		}
	}
}

// New activity equal to the newest in the list moves the conversation
// first, before the others of that activity (the latest change first),
// never after them.
func TestLiveEqualActivityMovesFirst(t *testing.T) {
	t.Parallel()
	for _, p := range []convo.Provider{convo.VantaxAI, convo.Rentalot, convo.AgentMessage} {
		t.Run(p.Name(), func(t *testing.T) {
			t.Parallel()
			srv := convotest.NewServer(p)
			defer srv.Close()
			c, err := srv.Client()
			require.NoError(t, err)
			before, recs := listIDs(t, c)
			top := recs[before[0]]
			last := before[len(before)-1]
			require.NoError(t, srv.AddMessages(last, convo.Message{ID: "live-eq", Direction: convo.Outbound, Body: "same time", SentAt: top.LastMessageAt}))
			after, recs := listIDs(t, c)
			require.True(t, recs[last].LastMessageAt.Equal(top.LastMessageAt))
			assert.Equal(t, last, after[0], "the changed conversation comes before the others of its activity")
			assert.Equal(t, before[:len(before)-1], after[1:])
		})
	}
}

// A back-dated message (older than the conversation's activity) never
// moves that activity backwards, nor the conversation's place.
func TestLiveBackDatedMessageKeepsActivity(t *testing.T) {
	t.Parallel()
	for _, p := range convo.Providers() {
		t.Run(p.Name(), func(t *testing.T) {
			t.Parallel()
			srv := convotest.NewServer(p)
			defer srv.Close()
			c, err := srv.Client()
			require.NoError(t, err)
			before, recs := listIDs(t, c)
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
}
