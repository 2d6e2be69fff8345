package convotest_test

import (
	"context"
	"encoding/json"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/convokit/convo"
	"github.com/convokit/convo/convotest"
)

// changeData is two conversations of three messages each, the newest
// activity first, with the fields of every provider.
func changeData() *convotest.Dataset {
	t0 := time.Date(2026, 3, 1, 9, 0, 0, 0, time.UTC)
	d := convotest.NewDataset()
	for i, id := range []string{"conv_b", "conv_a"} {
		base := t0.Add(-time.Duration(i) * time.Hour)
		c := convo.Conversation{
			ID: id, ContactID: "contact_" + id, Channel: "sms", Status: "open", CreatedAt: base,
			Tags: []string{"lead"}, PhoneNumber: "+15550000000", PhoneNumberID: "pn_1", ContactNumber: "+1555000000" + fmt.Sprint(i),
			Consent: &convo.Consent{OptedIn: true, OptedInAt: base},
		}
		var msgs []convo.Message
		for j := range 3 {
			msgs = append(msgs, convo.Message{
				ID: fmt.Sprintf("%s_m%d", id, j), Direction: convo.Inbound, Body: fmt.Sprintf("body %d of %s", j, id),
				SentAt: base.Add(time.Duration(j) * time.Minute), Status: "sent", MediaURLs: []string{"https://media.example/x.jpg"},
			})
		}
		c.LastMessageAt, c.MessageCount, c.UpdatedAt = msgs[2].SentAt, 3, msgs[2].SentAt
		c.LastMessagePreview, c.LastMessageDirection = msgs[2].Body, convo.Inbound
		d.AddConversation(c, msgs...)
	}
	return d
}

func changeServer(t *testing.T, p convo.Provider) (*convotest.Server, *convo.Client) {
	t.Helper()
	srv := convotest.New(t, p, convotest.WithData(changeData()))
	c, err := srv.Client()
	require.NoError(t, err)
	return srv, c
}

func listMessages(t *testing.T, c *convo.Client, id string) map[string]convo.Message {
	t.Helper()
	out := map[string]convo.Message{}
	for m, err := range c.Messages.List(context.Background(), id, nil).All() {
		require.NoError(t, err)
		out[m.ID] = m
	}
	return out
}

// A conversation changed in place is served changed, in its place, with no
// activity field moved except Rentalot's updatedAt.
func TestChangeConversationWireEffects(t *testing.T) {
	t.Parallel()
	eachProvider(t, func(t *testing.T, p convo.Provider, w wire) {
		t.Parallel()
		srv, c := changeServer(t, p)
		if w.prepare != nil {
			require.NoError(t, srv.ChangeConversation("conv_a", w.prepare))
		}
		beforeIDs, before := listIDs(t, c)
		require.NoError(t, srv.ChangeConversation("conv_a", w.change))
		afterIDs, after := listIDs(t, c)
		assert.Equal(t, beforeIDs, afterIDs, "the list keeps its order")
		was, got := before["conv_a"], after["conv_a"]
		w.changed(t, got)
		assert.True(t, was.LastMessageAt.Equal(got.LastMessageAt), "last-message time unmoved")
		assert.Equal(t, was.MessageCount, got.MessageCount, "message count unmoved")
		if w.movesUpdatedAt {
			assert.True(t, got.UpdatedAt.After(was.UpdatedAt), "updatedAt moves (%v, was %v)", got.UpdatedAt, was.UpdatedAt)
		} else {
			assert.True(t, was.UpdatedAt.Equal(got.UpdatedAt), "no updatedAt moves")
		}
		assert.Equal(t, before["conv_b"], after["conv_b"], "the other conversation is untouched")
		assert.Equal(t, 3, len(listMessages(t, c, "conv_a")), "messages untouched")
	})
}

// A message's status changes in place on the wire, nothing else moves.
func TestChangeMessageStatus(t *testing.T) {
	t.Parallel()
	eachProviderWith(t, func(w wire) bool { return w.messageStatus }, func(t *testing.T, p convo.Provider, _ wire) {
		t.Parallel()
		srv, c := changeServer(t, p)
		_, before := listIDs(t, c)
		require.NoError(t, srv.ChangeMessage("conv_a", "conv_a_m1", func(m *convo.Message) { m.Status = "read" }))
		msgs := listMessages(t, c, "conv_a")
		assert.Equal(t, "read", msgs["conv_a_m1"].Status)
		assert.Equal(t, "sent", msgs["conv_a_m0"].Status)
		assert.Equal(t, "body 1 of conv_a", msgs["conv_a_m1"].Body)
		_, after := listIDs(t, c)
		assert.Equal(t, before, after, "no conversation field moves")
	})
}

// An AgentMessage redaction nulls the body, sets redacted_at and empties
// media_urls; the newest message's also turns the preview into
// "[redacted]".
func TestRedactMessageAgentMessage(t *testing.T) {
	t.Parallel()
	srv, c := changeServer(t, convo.AgentMessage)
	at := time.Date(2026, 4, 1, 0, 0, 0, 0, time.UTC)
	_, before := listIDs(t, c)

	require.NoError(t, srv.RedactMessage("conv_a", "conv_a_m1", at)) // not the newest
	_, mid := listIDs(t, c)
	assert.Equal(t, before["conv_a"], mid["conv_a"], "an older message's redaction leaves the conversation as it was")

	require.NoError(t, srv.RedactMessage("conv_a", "conv_a_m2", at)) // the newest
	_, after := listIDs(t, c)
	got := after["conv_a"]
	assert.Equal(t, "[redacted]", got.LastMessagePreview)
	assert.True(t, got.LastMessageBodyRedactedAt.Equal(at))
	assert.True(t, got.LastMessageAt.Equal(before["conv_a"].LastMessageAt), "last_message_at unmoved")
	assert.Equal(t, before["conv_a"].MessageCount, got.MessageCount)

	// The wire form itself: body null, redacted_at set, media_urls [].
	_, body := rawGet(t, srv, "/conversations/conv_a/messages", demoAuth(convo.AgentMessage))
	var env struct {
		Data []map[string]json.RawMessage `json:"data"`
	}
	require.NoError(t, json.Unmarshal(body, &env))
	require.Len(t, env.Data, 3)
	for i, m := range env.Data {
		if i == 0 {
			assert.JSONEq(t, `"body 0 of conv_a"`, string(m["body"]))
			assert.JSONEq(t, `null`, string(m["redacted_at"]))
			assert.JSONEq(t, `["https://media.example/x.jpg"]`, string(m["media_urls"]))
			continue
		}
		assert.JSONEq(t, `null`, string(m["body"]), "message %d", i)
		assert.JSONEq(t, `"2026-04-01T00:00:00Z"`, string(m["redacted_at"]), "message %d", i)
		assert.JSONEq(t, `[]`, string(m["media_urls"]), "message %d", i)
	}
}

// A redaction is AgentMessage's alone; bad ids and id changes are refused
// and change nothing.
func TestChangeRefusals(t *testing.T) {
	t.Parallel()
	for _, p := range convo.Providers() {
		if wireOf(t, p).redacts {
			continue
		}
		srv, _ := changeServer(t, p)
		assert.ErrorIs(t, srv.RedactMessage("conv_a", "conv_a_m1", time.Now()), convotest.ErrUndocumentedChange, p.Name())
		m, _ := srv.Dataset().Conversation("conv_a")
		assert.Equal(t, "body 1 of conv_a", m.Messages[1].Body, "%s: nothing changed", p.Name())
	}
	srv, _ := changeServer(t, convo.AgentMessage)
	assert.ErrorIs(t, srv.ChangeConversation("nope", func(*convo.Conversation) {}), convotest.ErrUnknownConversation)
	assert.ErrorIs(t, srv.ChangeMessage("nope", "x", func(*convo.Message) {}), convotest.ErrUnknownConversation)
	assert.ErrorIs(t, srv.ChangeMessage("conv_a", "nope", func(*convo.Message) {}), convotest.ErrUnknownMessage)
	assert.Error(t, srv.ChangeConversation("conv_a", func(c *convo.Conversation) { c.ID, c.Status = "other", "x" }))
	assert.Error(t, srv.ChangeMessage("conv_a", "conv_a_m0", func(m *convo.Message) { m.ID, m.Body = "other", "x" }))
	assert.Error(t, srv.RedactMessage("conv_a", "conv_a_m0", time.Time{}))
	c, _ := srv.Dataset().Conversation("conv_a")
	assert.Equal(t, "body 0 of conv_a", c.Messages[0].Body)
	assert.True(t, c.Conversation.Consent.OptedIn)
}

// Changes made while the server serves are atomic: every answer shows a
// record before or after a change, never half of one (run under -race).
func TestChangeWhileServing(t *testing.T) {
	t.Parallel()
	srv, c := changeServer(t, convo.AgentMessage)
	ctx := context.Background()
	var wg sync.WaitGroup
	wg.Add(2)
	go func() {
		defer wg.Done()
		for i := range 50 {
			opted := i%2 == 0
			assert.NoError(t, srv.ChangeConversation("conv_a", func(c *convo.Conversation) {
				c.Consent = &convo.Consent{OptedIn: opted}
				c.Tags = []string{fmt.Sprint(i)}
			}))
			assert.NoError(t, srv.ChangeMessage("conv_a", "conv_a_m0", func(m *convo.Message) { m.SegmentCount = i + 1 }))
		}
	}()
	go func() {
		defer wg.Done()
		for range 30 {
			for conv, err := range c.Conversations.List(ctx, nil).All() {
				if !assert.NoError(t, err) {
					return
				}
				assert.NotNil(t, conv.Consent)
			}
			for m, err := range c.Messages.List(ctx, "conv_a", nil).All() {
				if !assert.NoError(t, err) {
					return
				}
				assert.NotEmpty(t, m.ID)
			}
		}
	}()
	wg.Wait()
	got, _ := srv.Dataset().Conversation("conv_a")
	assert.False(t, got.Conversation.Consent.OptedIn, "the last change holds")
	assert.Equal(t, 50, got.Messages[0].SegmentCount)
}

// UpdateConversation and UpdateMessage replace a record with the same
// effects as the Change functions; a Rentalot updatedAt set by the change
// is kept.
func TestUpdateRecords(t *testing.T) {
	t.Parallel()
	srv, c := changeServer(t, convo.Rentalot)
	_, before := listIDs(t, c)
	rec := before["conv_a"]
	rec.Status = "archived"
	require.NoError(t, srv.UpdateConversation(rec))
	_, after := listIDs(t, c)
	assert.Equal(t, "archived", after["conv_a"].Status)
	assert.True(t, after["conv_a"].UpdatedAt.After(rec.UpdatedAt), "updatedAt moves")

	set := time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC)
	rec = after["conv_a"]
	rec.UpdatedAt = set
	require.NoError(t, srv.UpdateConversation(rec))
	_, after = listIDs(t, c)
	assert.True(t, after["conv_a"].UpdatedAt.Equal(set), "an updatedAt the change sets is kept")

	vobiz, vc := changeServer(t, convo.Vobiz)
	m := listMessages(t, vc, "conv_b")["conv_b_m2"]
	m.Status = "failed"
	require.NoError(t, vobiz.UpdateMessage("conv_b", m))
	assert.Equal(t, "failed", listMessages(t, vc, "conv_b")["conv_b_m2"].Status)
	assert.ErrorIs(t, vobiz.UpdateMessage("conv_b", convo.Message{ID: "nope"}), convotest.ErrUnknownMessage)
}
