package convo_test

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/convokit/convo"
	"github.com/convokit/convo/convotest"
)

// Costs of a full sync, an incremental sync and a refresh, against the
// bounds API.md and the Client.Sync documentation state.

// fullSyncMinimum is the fewest requests the documented page-size maxima
// allow for a full sync of convs conversations of perConv messages: the
// conversation list at its largest page, and each message list at its
// largest page (a page-number list with no total ends with a page that is
// not full, one more when the last one is).
func fullSyncMinimum(p convo.Provider, convs, perConv int) int {
	list := 1
	if n := p.MaxPageSize(convo.OpListConversations); n > 0 {
		list = pagesFor(convs, n)
	}
	size := p.MaxPageSize(convo.OpListMessages)
	per := pagesFor(perConv, size)
	if p == convo.Rentalot {
		per = perConv/size + 1
	}
	return list + convs*per
}

// windowCount returns, for each conversation of d, how many of its
// messages were sent since from.
func windowCount(d *convotest.Dataset, from time.Time) map[string]int {
	out := map[string]int{}
	for _, c := range d.Conversations {
		for _, m := range c.Messages {
			if !m.SentAt.Before(from) {
				out[c.Conversation.ID]++
			}
		}
	}
	return out
}

// TestSyncCostsFollowTheBounds runs, per provider, a full sync of
// conversations with hundreds of messages each (most older than the
// recheck window), then a refresh: the full sync makes exactly the fewest
// requests the documented maxima allow; the refresh reads the list and,
// per conversation, the pages that hold its window's messages plus at most
// one — a small part of a re-read; an incremental sync with nothing new
// makes one list request (Vobiz: and one page per conversation).
func TestSyncCostsFollowTheBounds(t *testing.T) {
	t.Parallel()
	const convs, perConv = 8, 1000
	for _, p := range convo.Providers() {
		t.Run(p.Name(), func(t *testing.T) {
			t.Parallel()
			d := refreshData(p, convs, perConv, 100*24*time.Hour) // a message every 2.4 hours: about 10 in a day
			srv, client := newServer(t, p, convotest.WithData(d), convotest.WithRateLimit(-1))
			cp := new(convo.Checkpoint)
			r := newReplica(t)
			r.sync(client, &convo.SyncParams{Checkpoint: cp}, nil)
			full := costOf(t, srv)
			minimum := fullSyncMinimum(p, convs, perConv)
			assert.Equal(t, minimum, full.list+full.messages(), "full sync: %v, the documented maxima allow %d", full, minimum)
			assert.Len(t, r.msgs, convs*perConv)

			// Nothing new, not a refresh.
			srv.ResetRequests()
			r.sync(client, &convo.SyncParams{Checkpoint: cp, Refresh: -1}, nil)
			quiet := costOf(t, srv)
			assert.Equal(t, 1, quiet.list, "one list request")
			if p == convo.Vobiz {
				assert.Equal(t, convs, quiet.messages(), "Vobiz: the newest page of each conversation")
			} else {
				assert.Zero(t, quiet.messages())
			}

			// A refresh with a change inside the window of two
			// conversations.
			c1, _ := d.Conversation("r001")
			c3, _ := d.Conversation("r003")
			changeMessage(t, srv, "r001", c1.Messages[len(c1.Messages)-2].ID, 1)
			changeMessage(t, srv, "r003", c3.Messages[len(c3.Messages)-1].ID, 1)
			srv.ResetRequests()
			r.updated = nil
			window := time.Now().Add(-convo.DefaultRecheck)
			r.sync(client, &convo.SyncParams{Checkpoint: cp, Refresh: refreshNow}, nil)
			refresh := costOf(t, srv)
			assert.Len(t, r.updated, 2, "both changes")
			size := max(p.MaxPageSize(convo.OpListMessages), 1)
			bound := 1 // the list: one page
			for id, n := range windowCount(d, window.Add(-time.Minute)) {
				bound += pagesFor(n, size) + 1
				assert.LessOrEqual(t, refresh.msgs[id], pagesFor(n, size)+1, "conversation %s: the pages of its %d window messages, plus at most one", id, n)
			}
			assert.LessOrEqual(t, refresh.list+refresh.messages(), bound, "refresh: %v", refresh)
			assert.Less(t, 3*(refresh.list+refresh.messages()), minimum, "refresh (%v) far below a re-read (%d)", refresh, minimum)
			t.Logf("%s: full sync %v (minimum %d); refresh %v", p.Name(), full, minimum, refresh)
		})
	}
}

// TestSyncAsksForTheLargestPage checks the page size Sync sends when none
// is set, and that a page size set is kept.
func TestSyncAsksForTheLargestPage(t *testing.T) {
	t.Parallel()
	for _, p := range convo.Providers() {
		t.Run(p.Name(), func(t *testing.T) {
			t.Parallel()
			srv, client := newServer(t, p, convotest.WithData(refreshData(p, 2, 5, time.Hour)))
			for _, err := range client.Sync(context.Background(), nil) {
				require.NoError(t, err)
			}
			for _, r := range srv.Requests() {
				want := p.MaxPageSize(convo.OpListMessages)
				if !assert.NotEmpty(t, r.Path) {
					continue
				}
				if r.Path[len(r.Path)-len("/conversations"):] == "/conversations" {
					want = p.MaxPageSize(convo.OpListConversations)
				}
				got := r.Query().Get("limit")
				if want == 0 {
					assert.Empty(t, got, "%s: no limit", r.Path)
				} else {
					assert.Equal(t, want, atoi(t, got), "%s", r.Path)
				}
			}
			if p == convo.Vobiz {
				return
			}
			srv.ResetRequests()
			for _, err := range client.Sync(context.Background(), &convo.SyncParams{MessagePageSize: 3, Conversations: convo.ConversationListParams{PageSize: 1}}) {
				require.NoError(t, err)
			}
			for _, r := range srv.Requests() {
				assert.Contains(t, []string{"1", "3"}, r.Query().Get("limit"), "the caller's sizes are kept")
			}
		})
	}
}

func atoi(t *testing.T, s string) int {
	t.Helper()
	var n int
	for _, c := range s {
		require.True(t, c >= '0' && c <= '9', "a number: %q", s)
		n = 10*n + int(c-'0')
	}
	return n
}

func TestProviderMaxPageSize(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		p                      convo.Provider
		convs, msgs, searching int
	}{
		{convo.Vobiz, 0, 100, 0},
		{convo.VantaxAI, 100, 100, 0},
		{convo.Rentalot, 100, 100, 50},
		{convo.AgentMessage, 200, 200, 0},
	} {
		assert.Equal(t, tt.convs, tt.p.MaxPageSize(convo.OpListConversations), tt.p.Name())
		assert.Equal(t, tt.msgs, tt.p.MaxPageSize(convo.OpListMessages), tt.p.Name())
		assert.Equal(t, tt.searching, tt.p.MaxPageSize(convo.OpSearchMessages), tt.p.Name())
		assert.Zero(t, tt.p.MaxPageSize(convo.OpGetConversation), tt.p.Name())
	}
	assert.Zero(t, convo.Provider{}.MaxPageSize(convo.OpListMessages))
}

// TestSyncRefusesBadListParamsFirst: a conversation list cursor of another
// provider, or a page size outside the documented range, is refused before
// any request and before the checkpoint is bound.
func TestSyncRefusesBadListParamsFirst(t *testing.T) {
	t.Parallel()
	rentalot := convotest.New(t, convo.Rentalot, convotest.WithRateLimit(-1))
	rc, err := rentalot.Client()
	require.NoError(t, err)
	pager := rc.Conversations.List(context.Background(), &convo.ConversationListParams{PageSize: 1})
	for _, err := range pager.All() {
		require.NoError(t, err)
		break
	}
	foreign := pager.Cursor()
	require.NotEmpty(t, foreign)

	srv, client := newServer(t, convo.VantaxAI)
	for name, lp := range map[string]convo.ConversationListParams{
		"a cursor of another provider": {Cursor: foreign},
		"a malformed cursor":           {Cursor: "not a cursor"},
		"a page size too large":        {PageSize: 101},
	} {
		cp := new(convo.Checkpoint)
		n := 0
		for b, err := range client.Sync(context.Background(), &convo.SyncParams{Checkpoint: cp, Conversations: lp}) {
			n++
			assert.Nil(t, b, name)
			assert.ErrorIs(t, err, convo.ErrInvalidParams, name)
		}
		assert.Equal(t, 1, n, name)
		assert.Empty(t, cp.Provider(), "%s: the checkpoint is not bound", name)
	}
	assert.Empty(t, srv.Requests(), "nothing was sent")
}
