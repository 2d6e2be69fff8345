package uptodate

import (
	"context"
	"errors"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/convokit/convo"
	"github.com/convokit/convo/convotest"
)

// memStore is a Store in memory that counts what it was given.
type memStore struct {
	convs    map[string]convo.Conversation
	msgs     map[string]convo.Message
	upserts  int
	failNext bool
}

func newMemStore() *memStore {
	return &memStore{convs: map[string]convo.Conversation{}, msgs: map[string]convo.Message{}}
}

func (s *memStore) UpsertConversation(c *convo.Conversation) error {
	s.convs[c.ID] = *c
	return nil
}

func (s *memStore) UpsertMessages(_ string, msgs []convo.Message) error {
	if s.failNext && len(msgs) > 0 {
		s.failNext = false
		return errors.New("disk full")
	}
	for _, m := range msgs {
		s.msgs[m.ID] = m
		s.upserts++
	}
	return nil
}

// holds asserts that the store is a copy of the server's data.
func holds(t *testing.T, s *memStore, d *convotest.Dataset) {
	t.Helper()
	assert.Len(t, s.convs, len(d.Conversations))
	assert.Len(t, s.msgs, d.MessageCount())
	for _, c := range d.Conversations {
		got, ok := s.convs[c.Conversation.ID]
		assert.True(t, ok, "conversation %s", c.Conversation.ID)
		if !got.LastMessageAt.IsZero() { // Vobiz shows no activity time
			assert.True(t, got.LastMessageAt.Equal(c.Conversation.LastMessageAt), "conversation %s: the latest record", c.Conversation.ID)
		}
		for _, m := range c.Messages {
			assert.Contains(t, s.msgs, m.ID)
		}
	}
}

func TestUpdate(t *testing.T) {
	for _, p := range convo.Providers() {
		t.Run(p.Name(), func(t *testing.T) {
			srv := convotest.NewServer(p)
			defer srv.Close()
			client, err := srv.Client()
			require.NoError(t, err)
			ctx := context.Background()
			path := filepath.Join(t.TempDir(), "copy.checkpoint")
			store := newMemStore()

			require.NoError(t, Update(ctx, client, store, path))
			holds(t, store, srv.Dataset())
			full := store.upserts

			// New messages arrive; the next run copies only them.
			id := srv.Dataset().Conversations[5].Conversation.ID
			at := time.Date(2031, 1, 1, 0, 0, 0, 0, time.UTC)
			require.NoError(t, srv.AddMessages(id,
				convo.Message{ID: "new-1", Direction: convo.Inbound, Body: "Is it still available?", SentAt: at},
				convo.Message{ID: "new-2", Direction: convo.Inbound, Body: "Hello?", SentAt: at.Add(time.Minute)}))
			srv.ResetRequests()
			require.NoError(t, Update(ctx, client, store, path))
			holds(t, store, srv.Dataset())
			assert.Equal(t, full+2, store.upserts, "only the new messages")
			if p != convo.Vobiz {
				assert.LessOrEqual(t, len(srv.Requests()), 3, "the list and the changed conversation")
			}

			// The store fails on a batch: the run stops, the next run
			// delivers that batch again.
			require.NoError(t, srv.AddMessages(id, convo.Message{ID: "new-3", Direction: convo.Inbound, Body: "Anyone?", SentAt: at.Add(2 * time.Minute)}))
			store.failNext = true
			assert.ErrorContains(t, Update(ctx, client, store, path), "disk full")
			require.NoError(t, Update(ctx, client, store, path))
			holds(t, store, srv.Dataset())
			assert.Equal(t, full+3, store.upserts)

			// Nothing new: one list request (Vobiz: and one page per
			// conversation), nothing stored.
			srv.ResetRequests()
			require.NoError(t, Update(ctx, client, store, path))
			assert.Equal(t, full+3, store.upserts)
			want := 1
			if p == convo.Vobiz {
				want += len(srv.Dataset().Conversations)
			}
			assert.Len(t, srv.Requests(), want)
		})
	}
}
