package convo

import (
	"encoding/json"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestDecodeVobizConversations(t *testing.T) {
	t.Parallel()
	page := servedConversations(t, Vobiz, fixture(t, "vobiz_conversations.json"))
	requirePageSummary(t, page, pageSummary{Items: 1})
	assert.Equal(t, Conversation{
		ID:         "c7a1b2d3-4e5f-4a6b-8c9d-0e1f2a3b4c5d",
		ContactID:  "9b8a7c6d-5e4f-4a3b-2c1d-0e9f8a7b6c5d",
		Channel:    "whatsapp",
		Status:     "open",
		CreatedAt:  ts(t, "2026-03-17T14:00:00Z"),
		AccountID:  "MA_XXXXXXXX",
		ChannelID:  "2f8892e1-59b7-40a2-b518-e7a7c31a754d",
		Category:   "service",
		IsBillable: true,
		StartedAt:  ts(t, "2026-03-17T14:00:00Z"),
		ExpiresAt:  ts(t, "2026-03-18T14:00:00Z"),
	}, page.Items[0])
	assert.True(t, page.Items[0].LastMessageAt.IsZero(), "Vobiz sends no last message time")
}

func TestDecodeVobizMessages(t *testing.T) {
	t.Parallel()
	const conv = "c7a1b2d3-4e5f-4a6b-8c9d-0e1f2a3b4c5d"
	page := servedMessages(t, Vobiz, conv, fixture(t, "vobiz_messages.json"))
	requirePageSummary(t, page, pageSummary{Items: 2, HasMore: true}, "has_more with a next_cursor")

	m := page.Items[0]
	assert.Equal(t, "e1d2c3b4-a5f6-4789-90ab-cdef01234567", m.ID)
	assert.Equal(t, conv, m.ConversationID)
	assert.Equal(t, Outbound, m.Direction)
	assert.Equal(t, "How can I help?", m.Body, "the body inside the JSON-encoded content")
	assert.Equal(t, `{"body":"How can I help?"}`, m.Content, "content as sent")
	assert.JSONEq(t, `{"body":"How can I help?"}`, string(m.Payload))
	assert.Equal(t, ts(t, "2026-03-17T14:20:00Z"), m.SentAt)
	assert.Equal(t, ts(t, "2026-03-17T14:20:00Z"), m.CreatedAt)
	assert.Equal(t, "whatsapp", m.Channel)
	assert.Equal(t, "read", m.Status)
	assert.Equal(t, "MA_XXXXXXXX", m.AccountID)
	assert.Equal(t, "2f8892e1-59b7-40a2-b518-e7a7c31a754d", m.ChannelID)
	assert.Equal(t, "9b8a7c6d-5e4f-4a3b-2c1d-0e9f8a7b6c5d", m.ContactID)
	assert.Equal(t, "text", m.Type)
	assert.Equal(t, "wamid.HBgL...", m.MetaMessageID)

	m = page.Items[1]
	assert.Equal(t, "f2e3d4c5-b6a7-4890-91bc-def012345678", m.ID)
	assert.Equal(t, Inbound, m.Direction)
	assert.Equal(t, "Yes, I'd like to proceed.", m.Body)
	assert.Equal(t, "delivered", m.Status)
	assert.Equal(t, "wamid.HBgM...", m.MetaMessageID)
	assert.Equal(t, ts(t, "2026-03-17T14:22:00Z"), m.SentAt)
}

func TestDecodeVobizContentForms(t *testing.T) {
	t.Parallel()
	c, mux, _ := setup(t, Vobiz)
	body := `{"items":[
		{"id":"plain","direction":"inbound","content":"just text, not JSON","created_at":"2026-03-17T14:20:00Z"},
		{"id":"media","direction":"inbound","type":"image","content":"{\"type\":\"image\",\"image\":{\"link\":\"https://cdn.example/a.jpg\"},\"caption\":\"look\"}"},
		{"id":"nullbody","direction":"outbound","content":"{\"body\":null}"},
		{"id":"array","direction":"outbound","content":"[1,2]"},
		{"id":"broken","direction":"outbound","content":"{\"body\":"},
		{"id":"nullcontent","direction":"outbound","content":null},
		{"id":"absent"}
	],"has_more":false}`
	serveJSON(mux, "GET /conversations/{id}/messages", []byte(body))

	items, err := drain(c.Messages.List(testContext(t), "listed-conv", nil), 100)
	require.NoError(t, err)
	require.Len(t, items, 7)
	byID := map[string]Message{}
	for _, m := range items {
		byID[m.ID] = m
		assert.Equal(t, "listed-conv", m.ConversationID, "conversation_id absent: the listed id")
	}

	assert.Equal(t, "just text, not JSON", byID["plain"].Body, "plain text taken as is")
	assert.Nil(t, byID["plain"].Payload)
	assert.Equal(t, ts(t, "2026-03-17T14:20:00Z"), byID["plain"].SentAt)

	assert.Equal(t, "", byID["media"].Body, "no body in a media payload")
	assert.Equal(t, "image", byID["media"].Type)
	var payload struct {
		Image struct {
			Link string `json:"link"`
		} `json:"image"`
		Caption string `json:"caption"`
	}
	require.NoError(t, json.Unmarshal(byID["media"].Payload, &payload), "the whole payload stays reachable")
	assert.Equal(t, "https://cdn.example/a.jpg", payload.Image.Link)
	assert.Equal(t, "look", payload.Caption)

	assert.Equal(t, "", byID["nullbody"].Body)
	assert.Equal(t, "[1,2]", byID["array"].Body, "content that is not a JSON object is plain text")
	assert.Equal(t, `{"body":`, byID["broken"].Body, "invalid JSON is plain text")
	assert.Equal(t, "", byID["nullcontent"].Body)
	assert.Equal(t, Message{ID: "absent", ConversationID: "listed-conv", Channel: "whatsapp"}, byID["absent"],
		"absent fields decode to zero values")
}

// TestDecodeVobizLiteralNullText checks that a message whose text is the
// word "null" keeps it, while a JSON null body is no text.
func TestDecodeVobizLiteralNullText(t *testing.T) {
	t.Parallel()
	c, mux, _ := setup(t, Vobiz)
	serveJSON(mux, "GET /conversations/{id}/messages", []byte(`{"items":[
		{"id":"quoted","content":"{\"body\":\"null\"}"},
		{"id":"plain","content":"null"},
		{"id":"jsonnull","content":"{\"body\":null}"},
		{"id":"number","content":"{\"body\":42}"}
	],"has_more":false}`))
	items, err := drain(c.Messages.List(testContext(t), "conv", nil), 10)
	require.NoError(t, err)
	require.Len(t, items, 4)
	assert.Equal(t, "null", items[0].Body, `content {"body":"null"}`)
	assert.JSONEq(t, `{"body":"null"}`, string(items[0].Payload))
	assert.Equal(t, "null", items[1].Body, `content "null" (plain text)`)
	assert.Nil(t, items[1].Payload)
	assert.Equal(t, "", items[2].Body, `content {"body":null}`)
	assert.Equal(t, "42", items[3].Body, "a body that is not a string keeps its JSON text")
}
