package convo

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestDecodeVantaxAIConversations(t *testing.T) {
	t.Parallel()
	page := servedConversations(t, VantaxAI, fixture(t, "vantaxai_conversations.json"))
	requirePageSummary(t, page, pageSummary{Items: 2, TotalKnown: true, Total: 2})

	assert.Equal(t, Conversation{
		ID:            "conv_7b2e9a",
		ContactID:     "ct_19f3a0",
		Channel:       "whatsapp",
		Status:        "open",
		LastMessageAt: ts(t, "2026-06-10T11:42:00Z"),
		CreatedAt:     ts(t, "2026-06-08T09:15:00Z"),
		SubAccountID:  "sub_8a1f4c2e",
		Tags:          []string{"vip", "billing"},
		Metadata:      map[string]string{"source": "campaign_spring_2026"},
		UnreadCount:   2,
	}, page.Items[0])

	second := page.Items[1]
	assert.Equal(t, "conv_3c8d11", second.ID)
	assert.Equal(t, "sms", second.Channel)
	assert.Equal(t, "pending", second.Status)
	assert.Equal(t, "ct_44ba72", second.ContactID)
	assert.Empty(t, second.Tags)
	assert.Empty(t, second.Metadata)
	assert.Zero(t, second.UnreadCount)
	assert.Equal(t, ts(t, "2026-06-09T17:03:00Z"), second.LastMessageAt)
	assert.Equal(t, ts(t, "2026-06-09T16:58:00Z"), second.CreatedAt)
}

func TestDecodeVantaxAIGetAndMessages(t *testing.T) {
	t.Parallel()
	c, mux, _ := setup(t, VantaxAI)
	serveJSON(mux, "GET /conversations/conv_7b2e9a", []byte(`{"success":true,"data":{
		"id":"conv_7b2e9a","sub_account_id":"sub_8a1f4c2e","channel":"email","contact_id":"ct_19f3a0",
		"status":"closed","tags":["vip"],"metadata":{"source":"web","score":7},"unread_count":5,
		"last_message_at":"2026-06-10T11:42:00Z","created_at":"2026-06-08T09:15:00Z"}}`))
	serveJSON(mux, "GET /conversations/conv_7b2e9a/messages", []byte(`{"success":true,"data":[
		{"id":"msg_1","conversation_id":"conv_7b2e9a","channel":"email","direction":"inbound","content":"Where is my invoice?",
		 "subject":"Invoice","sender_type":"contact","media_url":["https://cdn.example/1.pdf","https://cdn.example/2.pdf"],
		 "status":"delivered","created_at":"2026-06-08T09:15:00Z"},
		{"id":"msg_2","conversation_id":"conv_7b2e9a","channel":"email","direction":"outbound","content":"Attached.",
		 "subject":null,"sender_type":"ai","media_url":null,"status":"sent","created_at":"2026-06-08T09:16:30.5Z"}
	],"pagination":{"total":2,"limit":50,"has_more":false}}`))

	ctx := testContext(t)
	conv, err := c.Conversations.Get(ctx, "conv_7b2e9a")
	require.NoError(t, err)
	assert.Equal(t, &Conversation{
		ID:            "conv_7b2e9a",
		ContactID:     "ct_19f3a0",
		Channel:       "email",
		Status:        "closed",
		LastMessageAt: ts(t, "2026-06-10T11:42:00Z"),
		CreatedAt:     ts(t, "2026-06-08T09:15:00Z"),
		SubAccountID:  "sub_8a1f4c2e",
		Tags:          []string{"vip"},
		Metadata:      map[string]string{"source": "web", "score": "7"},
		UnreadCount:   5,
	}, conv)

	page, err := firstPage(c.Messages.List(ctx, "conv_7b2e9a", nil))
	require.NoError(t, err)
	requirePageSummary(t, page, pageSummary{Items: 2, TotalKnown: true, Total: 2})
	assert.Equal(t, Message{
		ID:             "msg_1",
		ConversationID: "conv_7b2e9a",
		Direction:      Inbound,
		Body:           "Where is my invoice?",
		SentAt:         ts(t, "2026-06-08T09:15:00Z"),
		Channel:        "email",
		Status:         "delivered",
		Content:        "Where is my invoice?",
		CreatedAt:      ts(t, "2026-06-08T09:15:00Z"),
		Subject:        "Invoice",
		SenderType:     "contact",
		MediaURLs:      []string{"https://cdn.example/1.pdf", "https://cdn.example/2.pdf"},
	}, page.Items[0])
	m := page.Items[1]
	assert.Equal(t, Outbound, m.Direction)
	assert.Equal(t, "Attached.", m.Body)
	assert.Equal(t, "", m.Subject, "null subject")
	assert.Nil(t, m.MediaURLs, "null media_url")
	assert.Equal(t, "ai", m.SenderType)
	assert.Equal(t, time.Date(2026, 6, 8, 9, 16, 30, 500_000_000, time.UTC), m.SentAt.UTC(), "fractional seconds")
}

// TestDecodeVantaxAIMetadataForms: metadata is an object of strings; a
// value of another type keeps its JSON text, and metadata that is not an
// object is recorded as unreadable without costing the page.
func TestDecodeVantaxAIMetadataForms(t *testing.T) {
	c, mux, _ := setup(t, VantaxAI)
	serveJSON(mux, "GET /conversations", []byte(`{"success":true,"data":[
		{"id":"strings","metadata":{"source":"web","note":"caf\u00e9 \"x\""}},
		{"id":"mixed","metadata":{"source":"web","score":7,"flags":[1,2],"none":null}},
		{"id":"array","metadata":[1,2]},
		{"id":"string","metadata":"not an object"}
	],"pagination":{"has_more":false}}`))
	items, err := drain(c.Conversations.List(testContext(t), nil), 10)
	require.NoError(t, err)
	require.Len(t, items, 4)
	assert.Equal(t, map[string]string{"source": "web", "note": `café "x"`}, items[0].Metadata)
	assert.Nil(t, items[0].Unreadable)
	assert.Equal(t, map[string]string{"source": "web", "score": "7", "flags": "[1,2]", "none": ""}, items[1].Metadata, "null is no text, as before")
	assert.Nil(t, items[2].Metadata)
	assert.Equal(t, []UnreadableField{{Field: "metadata", Value: "[1,2]"}}, items[2].Unreadable)
	assert.Equal(t, []UnreadableField{{Field: "metadata", Value: `"not an object"`}}, items[3].Unreadable)
}
