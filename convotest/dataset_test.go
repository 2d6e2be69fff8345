package convotest_test

import (
	"context"
	"encoding/json"
	"reflect"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/convokit/convo"
	"github.com/convokit/convo/convotest"
)

func TestConvotestCustomDataset(t *testing.T) {
	t.Parallel()
	at0 := time.Date(2026, 5, 1, 9, 0, 0, 0, time.UTC)
	data := convotest.NewDataset().
		AddConversation(convo.Conversation{ID: "conv_a", Channel: "sms", Status: "open", ContactID: "ct_1",
			PhoneNumber: "+15550000001", ContactNumber: "+15559999999", LastMessageAt: at0.Add(time.Minute)},
			convo.Message{ID: "m1", Direction: convo.Inbound, Body: `He said "hi" & <left>`, SentAt: at0},
			convo.Message{ID: "m2", Direction: convo.Outbound, Body: "Bye", SentAt: at0.Add(time.Minute)}).
		AddMessages("conv_a", convo.Message{ID: "m3", Direction: convo.Inbound, Body: "one more", SentAt: at0.Add(2 * time.Minute)}).
		AddMessages("conv_b", convo.Message{ID: "m4", Direction: convo.Outbound, Body: "hello b", SentAt: at0})
	require.Len(t, data.Conversations, 2)
	assert.Equal(t, 4, data.MessageCount())
	cb, ok := data.Conversation("conv_b")
	require.True(t, ok)
	assert.Len(t, cb.Messages, 1)
	_, ok = data.Conversation("conv_c")
	assert.False(t, ok)

	eachProvider(t, func(t *testing.T, p convo.Provider, w wire) {
		srv := convotest.New(t, p, convotest.WithData(data), convotest.WithSeed(99))
		c := mustClient(t, srv)
		ctx := context.Background()
		assert.Equal(t, []string{"conv_a", "conv_b"}, ids(collect(t, c.Conversations.List(ctx, nil).All())))
		msgs := collect(t, c.Messages.List(ctx, "conv_a", nil).All())
		require.Len(t, msgs, 3)
		byID := map[string]convo.Message{}
		for _, m := range msgs {
			byID[m.ID] = m
			assert.Equal(t, "conv_a", m.ConversationID)
		}
		assert.Equal(t, `He said "hi" & <left>`, byID["m1"].Body)
		assert.Equal(t, convo.Inbound, byID["m1"].Direction)
		assert.True(t, at0.Equal(byID["m1"].SentAt))
		if p == convo.AgentMessage {
			assert.Equal(t, "+15559999999", byID["m1"].FromNumber)
			assert.Equal(t, "+15550000001", byID["m1"].ToNumber)
		}
		if p == convo.Vobiz {
			assert.JSONEq(t, `{"body":"He said \"hi\" & <left>"}`, byID["m1"].Content)
		}
	})

	// The server keeps a copy.
	srv := convotest.New(t, convo.Rentalot, convotest.WithData(data))
	data.Conversations[0].Messages[0].Body = "changed"
	got := srv.Dataset()
	assert.Equal(t, `He said "hi" & <left>`, got.Conversations[0].Messages[0].Body)
	got.Conversations[0].Messages[0].Body = "changed too"
	assert.Equal(t, `He said "hi" & <left>`, srv.Dataset().Conversations[0].Messages[0].Body)
}

// Dataset.Clone copies everything a record refers to: changing any slice,
// map or pointer of the copy leaves the original as it was.
func TestConvotestDatasetCloneIsDeep(t *testing.T) {
	t.Parallel()
	opted := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	build := func() *convotest.Dataset {
		return &convotest.Dataset{Conversations: []convotest.ConversationData{{
			Conversation: convo.Conversation{
				ID: "c1", Tags: []string{"vip"}, Metadata: map[string]string{"k": "v"},
				Consent:    &convo.Consent{OptedInAt: opted},
				Unreadable: []convo.UnreadableField{{Field: "created_at", Value: "x"}},
			},
			Messages: []convo.Message{{
				ID: "m1", Body: "hi", MediaURLs: []string{"https://example.test/a.png"},
				Payload: json.RawMessage(`{"a":1}`), Metadata: json.RawMessage(`{"b":2}`),
				Unreadable: []convo.UnreadableField{{Field: "sent_at", Value: "y"}},
			}, {ID: "m2", Body: "no references"}},
		}}}
	}
	d, want := build(), build()
	c := d.Clone()
	require.True(t, reflect.DeepEqual(want, c))

	cv, m := &c.Conversations[0].Conversation, &c.Conversations[0].Messages[0]
	cv.Tags[0], cv.Metadata["k"], cv.Consent.OptedInAt, cv.Unreadable[0].Value = "changed", "changed", time.Time{}, "changed"
	m.Body, m.MediaURLs[0], m.Payload[1], m.Metadata[1], m.Unreadable[0].Value = "changed", "changed", 'X', 'X', "changed"
	assert.True(t, reflect.DeepEqual(want, d), "the original is unchanged")
	assert.Nil(t, c.Conversations[0].Messages[1].MediaURLs, "nil stays nil")
	assert.Nil(t, c.Conversations[0].Messages[1].Payload, "nil stays nil")
}
