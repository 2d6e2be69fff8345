package convo

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// The tests of this file serve the wire fixtures of testdata/ (and the
// documented shapes no fixture shows) from a loopback server and check every
// documented field of the typed models, through the real request path.

func ts(t *testing.T, s string) time.Time {
	t.Helper()
	v, err := time.Parse(time.RFC3339, s)
	require.NoError(t, err)
	return v
}

func TestDecodeFixturesAllServed(t *testing.T) {
	// Every fixture is exercised by a test of this file or errors_test.go;
	// this list fails when a fixture is added without one.
	covered := map[string]bool{
		"agentmessage_conversations.json": true, "agentmessage_error_401.json": true,
		"agentmessage_error_403.json": true, "agentmessage_error_422.json": true,
		"rentalot_conversations.json": true, "rentalot_error_422.json": true,
		"rentalot_messages.json": true, "rentalot_problem_404.json": true,
		"rentalot_search.json": true, "vantaxai_conversations.json": true,
		"vantaxai_error_401.json": true, "vantaxai_error_422.json": true,
		"vobiz_conversations.json": true, "vobiz_error_401.json": true,
		"vobiz_messages.json": true,
	}
	entries, err := os.ReadDir("testdata")
	require.NoError(t, err)
	for _, e := range entries {
		if strings.HasSuffix(e.Name(), ".json") {
			assert.True(t, covered[e.Name()], "fixture %s has no decoding test", e.Name())
		}
	}
}

func TestDecodeVobizConversations(t *testing.T) {
	c, mux, _ := setup(t, Vobiz)
	serveJSON(mux, "GET /conversations", fixture(t, "vobiz_conversations.json"))

	page, err := firstPage(c.Conversations.List(testContext(t), nil))
	require.NoError(t, err)
	require.Len(t, page.Items, 1)
	assert.False(t, page.HasMore)
	assert.False(t, page.TotalKnown)
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
	c, mux, _ := setup(t, Vobiz)
	const conv = "c7a1b2d3-4e5f-4a6b-8c9d-0e1f2a3b4c5d"
	serveJSON(mux, "GET /conversations/{id}/messages", fixture(t, "vobiz_messages.json"))

	page, err := firstPage(c.Messages.List(testContext(t), conv, nil))
	require.NoError(t, err)
	require.Len(t, page.Items, 2)
	assert.True(t, page.HasMore, "has_more with a next_cursor")
	assert.False(t, page.TotalKnown)

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

func TestDecodeVantaxAIConversations(t *testing.T) {
	c, mux, _ := setup(t, VantaxAI)
	serveJSON(mux, "GET /conversations", fixture(t, "vantaxai_conversations.json"))

	page, err := firstPage(c.Conversations.List(testContext(t), nil))
	require.NoError(t, err)
	require.Len(t, page.Items, 2)
	assert.False(t, page.HasMore)
	assert.True(t, page.TotalKnown)
	assert.Equal(t, 2, page.Total)

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
	require.Len(t, page.Items, 2)
	assert.True(t, page.TotalKnown)
	assert.Equal(t, 2, page.Total)
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

func TestDecodeRentalotConversations(t *testing.T) {
	c, mux, _ := setup(t, Rentalot)
	serveJSON(mux, "GET /conversations", fixture(t, "rentalot_conversations.json"))

	page, err := firstPage(c.Conversations.List(testContext(t), nil))
	require.NoError(t, err)
	require.Len(t, page.Items, 1)
	assert.True(t, page.HasMore, "page 1 of totalPages 2")
	assert.True(t, page.TotalKnown)
	assert.Equal(t, 34, page.Total)
	assert.Equal(t, Conversation{
		ID:            "550e8400-e29b-41d4-a716-446655440000",
		ContactID:     "770e8400-e29b-41d4-a716-446655440000",
		Status:        "active",
		LastMessageAt: ts(t, "2026-02-11T09:15:00Z"),
		CreatedAt:     ts(t, "2026-02-10T14:30:00Z"),
		StartedAt:     ts(t, "2026-02-10T14:30:00Z"),
		PropertyID:    "660e8400-e29b-41d4-a716-446655440000",
		UpdatedAt:     ts(t, "2026-02-11T09:15:00Z"),
	}, page.Items[0])
}

func TestDecodeRentalotGet(t *testing.T) {
	c, mux, _ := setup(t, Rentalot)
	serveJSON(mux, "GET /conversations/{id}", []byte(`{"data":{
		"id":"550e8400","contactId":"770e8400","propertyId":null,"channel":"telegram","status":"archived",
		"startedAt":"2026-02-10T14:30:00Z","lastMessageAt":null,"messageCount":12,
		"createdAt":"2026-02-10T14:30:00Z","updatedAt":"2026-02-12T10:00:00+01:00"}}`))

	conv, err := c.Conversations.Get(testContext(t), "550e8400")
	require.NoError(t, err)
	assert.Equal(t, "550e8400", conv.ID)
	assert.Equal(t, "770e8400", conv.ContactID)
	assert.Equal(t, "", conv.PropertyID, "null propertyId")
	assert.Equal(t, "telegram", conv.Channel)
	assert.Equal(t, "archived", conv.Status)
	assert.Equal(t, 12, conv.MessageCount)
	assert.True(t, conv.LastMessageAt.IsZero(), "null lastMessageAt")
	assert.Equal(t, ts(t, "2026-02-10T14:30:00Z"), conv.StartedAt)
	assert.Equal(t, ts(t, "2026-02-10T14:30:00Z"), conv.CreatedAt)
	assert.True(t, conv.UpdatedAt.Equal(ts(t, "2026-02-12T09:00:00Z")), "offset timestamp")
}

func TestDecodeRentalotMessages(t *testing.T) {
	c, mux, _ := setup(t, Rentalot)
	serveJSON(mux, "GET /conversations/{id}/messages", fixture(t, "rentalot_messages.json"))

	page, err := firstPage(c.Messages.List(testContext(t), "550e8400-e29b-41d4-a716-446655440000", nil))
	require.NoError(t, err)
	require.Len(t, page.Items, 2)
	assert.False(t, page.HasMore, "2 items, fewer than the reported limit of 20")
	assert.False(t, page.TotalKnown, "message pages carry no total")
	assert.Equal(t, Message{
		ID:             "880e8400-e29b-41d4-a716-446655440000",
		ConversationID: "550e8400-e29b-41d4-a716-446655440000",
		Direction:      Inbound,
		Body:           "Hi, I'm interested in the 2BR on Main St. Is it still available?",
		SentAt:         ts(t, "2026-02-11T09:15:00Z"),
		Channel:        "whatsapp",
		Content:        "Hi, I'm interested in the 2BR on Main St. Is it still available?",
		CreatedAt:      ts(t, "2026-02-11T09:15:00Z"),
	}, page.Items[0])
	assert.Nil(t, page.Items[0].Metadata, "null metadata")
	assert.Equal(t, Outbound, page.Items[1].Direction)
	assert.Equal(t, ts(t, "2026-02-11T09:15:05Z"), page.Items[1].SentAt)
}

func TestDecodeRentalotMessageVariants(t *testing.T) {
	c, mux, _ := setup(t, Rentalot)
	serveJSON(mux, "GET /conversations/{id}/messages", []byte(`{"data":[
		{"id":"no-sent-at","conversationId":"conv-1","direction":"inbound","content":"hello","createdAt":"2026-02-11T09:00:00Z"},
		{"id":"null-sent-at","direction":"outbound","content":"hi","sentAt":null,"createdAt":"2026-02-11T09:01:00Z","metadata":{"source":"ai","confidence":0.9}},
		{"id":"both","sentAt":"2026-02-11T08:59:00Z","createdAt":"2026-02-11T09:02:00Z"}
	],"pagination":{"page":1,"limit":20}}`))

	items, err := drain(c.Messages.List(testContext(t), "listed", nil), 100)
	require.NoError(t, err)
	require.Len(t, items, 3)
	assert.Equal(t, ts(t, "2026-02-11T09:00:00Z"), items[0].SentAt, "sentAt absent: createdAt")
	assert.Equal(t, "conv-1", items[0].ConversationID)
	assert.Equal(t, ts(t, "2026-02-11T09:01:00Z"), items[1].SentAt, "sentAt null: createdAt")
	assert.Equal(t, "listed", items[1].ConversationID, "conversationId absent: the listed id")
	assert.JSONEq(t, `{"source":"ai","confidence":0.9}`, string(items[1].Metadata))
	assert.Equal(t, ts(t, "2026-02-11T08:59:00Z"), items[2].SentAt, "sentAt wins over createdAt")
	assert.Equal(t, ts(t, "2026-02-11T09:02:00Z"), items[2].CreatedAt)
	assert.Nil(t, items[2].Metadata, "absent metadata")
}

func TestDecodeRentalotSearch(t *testing.T) {
	c, mux, _ := setup(t, Rentalot)
	serveJSON(mux, "GET /conversations/search", fixture(t, "rentalot_search.json"))

	page, err := firstPage(c.Search.Messages(testContext(t), &SearchParams{Query: "2-bedroom"}))
	require.NoError(t, err)
	require.Len(t, page.Items, 1)
	assert.False(t, page.HasMore, "search is one page")
	assert.True(t, page.TotalKnown)
	assert.Equal(t, 1, page.Total)
	assert.Equal(t, SearchResult{
		MessageID:      "880e8400-e29b-41d4-a716-446655440000",
		ConversationID: "550e8400-e29b-41d4-a716-446655440000",
		Content:        "I'm looking for a 2-bedroom apartment",
		Direction:      Inbound,
		Channel:        "whatsapp",
		SentAt:         ts(t, "2026-02-11T09:15:00Z"),
		ContactName:    "Jane Smith",
	}, page.Items[0])
}

func TestDecodeRentalotSearchNulls(t *testing.T) {
	c, mux, srv := setup(t, Rentalot)
	serveJSON(mux, "GET /conversations/search", []byte(`{"data":[
		{"messageId":"m1","content":"pets?","direction":"outbound","channel":"sms","sentAt":null,"conversationId":"c1","contactName":null},
		{"messageId":"m2"}
	],"total":2}`))

	items, err := drain(c.Search.Messages(testContext(t), &SearchParams{Query: "pets"}), 100)
	require.NoError(t, err)
	require.Len(t, items, 2)
	assert.Equal(t, SearchResult{MessageID: "m1", ConversationID: "c1", Content: "pets?", Direction: Outbound, Channel: "sms"}, items[0])
	assert.Equal(t, SearchResult{MessageID: "m2"}, items[1])
	assert.Equal(t, 1, srv.Requests(), "one page")
}

func TestDecodeAgentMessageConversations(t *testing.T) {
	c, mux, _ := setup(t, AgentMessage)
	serveJSON(mux, "GET /conversations", fixture(t, "agentmessage_conversations.json"))

	page, err := firstPage(c.Conversations.List(testContext(t), nil))
	require.NoError(t, err)
	require.Len(t, page.Items, 2)
	assert.False(t, page.HasMore, "next_cursor null")
	assert.False(t, page.TotalKnown, "meta.total is unreliable and not reported")
	assert.Zero(t, page.Total)

	assert.Equal(t, Conversation{
		ID:                   "AQID...base64url",
		ContactID:            "+15554443333",
		LastMessageAt:        ts(t, "2026-04-28T12:00:01Z"),
		MessageCount:         14,
		PhoneNumberID:        "7c1f0a2d-9e8b-4c3a-9d2e-1f0a2b3c4d5e",
		PhoneNumber:          "+15551112222",
		ContactNumber:        "+15554443333",
		LastMessageDirection: Inbound,
		LastMessagePreview:   "Cancel my appointment please",
		Consent:              &Consent{OptedIn: true, OptedInAt: ts(t, "2026-04-01T09:00:00Z")},
	}, page.Items[0])
	assert.True(t, page.Items[0].LastMessageBodyRedactedAt.IsZero(), "null redacted_at")

	redacted := page.Items[1]
	assert.Equal(t, "BQYH...base64url", redacted.ID)
	assert.Equal(t, "+15558889999", redacted.ContactID, "ContactID is contact_number")
	assert.Equal(t, "[redacted]", redacted.LastMessagePreview)
	assert.Equal(t, ts(t, "2026-04-10T03:11:42Z"), redacted.LastMessageBodyRedactedAt)
	assert.Equal(t, Outbound, redacted.LastMessageDirection)
	assert.Equal(t, 6, redacted.MessageCount)
	assert.Nil(t, redacted.Consent, "null consent")
	for _, conv := range page.Items {
		assert.Empty(t, conv.Channel, "AgentMessage has no channel")
		assert.Empty(t, conv.Status, "AgentMessage has no status")
		assert.True(t, conv.CreatedAt.IsZero(), "AgentMessage has no creation time")
	}
}

func TestDecodeAgentMessageMessages(t *testing.T) {
	c, mux, _ := setup(t, AgentMessage)
	serveJSON(mux, "GET /conversations/{id}/messages", []byte(`{"success":true,"data":[
		{"id":"msg_1","direction":"inbound","phone_number_id":"pn_1","from_number":"+15554443333","to_number":"+15551112222",
		 "body":"Cancel my appointment please","media_urls":["https://media.example/1.jpg"],"channel":"sms","segment_count":2,
		 "created_at":"2026-04-28T12:00:01Z","redacted_at":null},
		{"id":"msg_2","direction":"outbound","phone_number_id":"pn_1","from_number":"+15551112222","to_number":"+15554443333",
		 "body":null,"media_urls":[],"channel":"sms","segment_count":1,
		 "created_at":"2026-01-10T08:00:00Z","redacted_at":"2026-04-10T03:11:42Z"}
	],"meta":{"total":0,"limit":50,"offset":0,"next_cursor":null}}`))

	page, err := firstPage(c.Messages.List(testContext(t), "AQID...base64url", nil))
	require.NoError(t, err)
	require.Len(t, page.Items, 2)
	assert.False(t, page.HasMore)
	assert.False(t, page.TotalKnown)
	assert.Equal(t, Message{
		ID:             "msg_1",
		ConversationID: "AQID...base64url",
		Direction:      Inbound,
		Body:           "Cancel my appointment please",
		SentAt:         ts(t, "2026-04-28T12:00:01Z"),
		Channel:        "sms",
		CreatedAt:      ts(t, "2026-04-28T12:00:01Z"),
		MediaURLs:      []string{"https://media.example/1.jpg"},
		PhoneNumberID:  "pn_1",
		FromNumber:     "+15554443333",
		ToNumber:       "+15551112222",
		SegmentCount:   2,
	}, page.Items[0])
	gone := page.Items[1]
	assert.Equal(t, "", gone.Body, "body null once redacted")
	assert.Empty(t, gone.MediaURLs)
	assert.Equal(t, ts(t, "2026-04-10T03:11:42Z"), gone.RedactedAt)
	assert.Equal(t, "AQID...base64url", gone.ConversationID, "the listed id")
	assert.Equal(t, ts(t, "2026-01-10T08:00:00Z"), gone.SentAt)
}

// TestDecodeMinimalItems checks that items with only an id (every optional
// field absent or null) decode to zero values without error.
func TestDecodeMinimalItems(t *testing.T) {
	tests := []struct {
		provider Provider
		convs    string
		msgs     string
	}{
		{Vobiz, `{"items":[{"id":"x","started_at":null,"expires_at":null,"status":null}]}`,
			`{"items":[{"id":"x","content":null,"created_at":null}],"has_more":false,"next_cursor":null}`},
		{VantaxAI, `{"success":true,"data":[{"id":"x","tags":null,"metadata":null,"last_message_at":null}],"pagination":{"has_more":false}}`,
			`{"success":true,"data":[{"id":"x","content":null,"media_url":null,"created_at":""}],"pagination":{}}`},
		{Rentalot, `{"data":[{"id":"x","contactId":null,"lastMessageAt":null}],"pagination":{"page":1,"limit":20}}`,
			`{"data":[{"id":"x","content":null,"metadata":null,"sentAt":null}],"pagination":{}}`},
		{AgentMessage, `{"success":true,"data":[{"id":"x","consent":null,"last_message_preview":null}],"meta":{"next_cursor":null}}`,
			`{"success":true,"data":[{"id":"x","body":null,"media_urls":null,"redacted_at":null}],"meta":{}}`},
	}
	for _, tt := range tests {
		t.Run(tt.provider.Name(), func(t *testing.T) {
			c, mux, _ := setup(t, tt.provider)
			serveJSON(mux, "GET /conversations", []byte(tt.convs))
			serveJSON(mux, "GET /conversations/{id}/messages", []byte(tt.msgs))
			ctx := testContext(t)

			convs, err := drain(c.Conversations.List(ctx, nil), 10)
			require.NoError(t, err)
			require.Len(t, convs, 1)
			conv := convs[0]
			assert.Equal(t, "x", conv.ID)
			assert.Empty(t, conv.ContactID)
			assert.Empty(t, conv.Status)
			assert.True(t, conv.LastMessageAt.IsZero())
			assert.True(t, conv.CreatedAt.IsZero())
			assert.Nil(t, conv.Consent)
			assert.Nil(t, conv.Metadata)
			assert.Nil(t, conv.Tags)

			msgs, err := drain(c.Messages.List(ctx, "conv", nil), 10)
			require.NoError(t, err)
			require.Len(t, msgs, 1)
			m := msgs[0]
			assert.Equal(t, "x", m.ID)
			assert.Equal(t, "conv", m.ConversationID)
			assert.Empty(t, m.Body)
			assert.Empty(t, m.Direction)
			assert.True(t, m.SentAt.IsZero())
			assert.Nil(t, m.Payload)
			assert.Nil(t, m.Metadata)
			assert.Nil(t, m.MediaURLs)
		})
	}
}

// TestDecodeUnexpectedBodies checks that a 200 whose body is not the
// documented JSON is a *DecodeError naming the provider, the status and the
// start of the body.
func TestDecodeUnexpectedBodies(t *testing.T) {
	html := "<!DOCTYPE html><html><body>Welcome to the captive portal</body></html>"
	tests := []struct {
		name     string
		provider Provider
		body     string
		run      func(context.Context, *Client) error
		snippet  string
	}{
		{"vobiz html", Vobiz, html, runConvs(nil), "<!DOCTYPE html>"},
		{"vobiz legacy data envelope", Vobiz, `{"data":[{"id":"c1"}],"meta":{}}`, runConvs(nil), `{"data":[`},
		{"vantaxai no data", VantaxAI, `{"success":true}`, runConvs(nil), `{"success":true}`},
		{"vantaxai success false", VantaxAI, `{"success":false,"data":[]}`, runConvs(nil), `{"success":false`},
		{"vantaxai get without data", VantaxAI, `{"success":true}`, runGet("conv_1"), `{"success":true}`},
		{"vantaxai get html", VantaxAI, html, runGet("conv_1"), "<!DOCTYPE"},
		{"rentalot no data", Rentalot, `{"pagination":{"page":1}}`, runConvs(nil), `{"pagination"`},
		{"rentalot data not an array", Rentalot, `{"data":{"id":"x"}}`, runConvs(nil), `{"data":{`},
		{"rentalot get without data", Rentalot, `{}`, runGet("conv_1"), `{}`},
		{"rentalot search without data", Rentalot, `{"total":3}`, runSearch(&SearchParams{Query: "x"}), `{"total":3}`},
		{"agentmessage empty body", AgentMessage, ``, runConvs(nil), ``},
		{"agentmessage truncated JSON", AgentMessage, `{"success":true,"data":[{"id":"x"`, runConvs(nil), `{"success":true`},
		{"agentmessage timestamp of the wrong type", AgentMessage, `{"success":true,"data":[{"id":"x","last_message_at":1712718702}],"meta":{}}`, runConvs(nil), `{"success"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, mux, _ := setup(t, tt.provider)
			mux.HandleFunc("GET /", func(w http.ResponseWriter, r *http.Request) {
				w.Header().Set("Content-Type", "text/html")
				_, _ = w.Write([]byte(tt.body))
			})
			err := tt.run(testContext(t), c)
			require.Error(t, err)
			assert.ErrorIs(t, err, ErrUnexpectedResponse)
			var de *DecodeError
			require.True(t, errors.As(err, &de), "a *DecodeError: %v", err)
			assert.Equal(t, tt.provider.Name(), de.Provider)
			assert.Equal(t, http.StatusOK, de.StatusCode)
			assert.True(t, strings.HasPrefix(de.Snippet, tt.snippet), "snippet %q", de.Snippet)
			assert.Contains(t, err.Error(), tt.provider.Name())
			assert.Contains(t, err.Error(), "200")
			var apiErr *APIError
			assert.False(t, errors.As(err, &apiErr), "a 200 is not an API error")
		})
	}
}

// TestDecodeErrorSnippetBounded checks a huge unexpected body is not copied
// whole into the error.
func TestDecodeErrorSnippetBounded(t *testing.T) {
	c, mux, _ := setup(t, Vobiz)
	mux.HandleFunc("GET /conversations", func(w http.ResponseWriter, r *http.Request) {
		_, _ = w.Write([]byte(strings.Repeat("é", 100_000)))
	})
	err := runConvs(nil)(testContext(t), c)
	var de *DecodeError
	require.True(t, errors.As(err, &de), "%v", err)
	assert.LessOrEqual(t, len(de.Snippet), 204, "at most 200 bytes and an ellipsis")
	assert.True(t, strings.HasPrefix(de.Snippet, "éé"))
	assert.Less(t, len(err.Error()), 600)
}

// TestDecodeUnreadableTimestampKeepsThePage checks, for every provider, that
// a timestamp in no known form leaves its field zero, is listed in the
// item's Unreadable, and costs neither the rest of the item nor the page.
func TestDecodeUnreadableTimestampKeepsThePage(t *testing.T) {
	const odd = "next tuesday"
	tests := []struct {
		provider   Provider
		convs      string
		convField  string
		msgs       string
		msgField   string
		convRead   func(*Conversation) time.Time // a timestamp of the item that stays readable
		messageLen int
	}{
		{Vobiz,
			`{"items":[{"id":"a","started_at":"next tuesday","expires_at":"2026-03-18 14:00:00Z"},{"id":"b","started_at":"2026-03-17T14:00:00Z"}]}`, "started_at",
			`{"items":[{"id":"m1","created_at":"next tuesday","content":"{\"body\":\"hi\"}"},{"id":"m2","created_at":"2026-03-17t14:20:00z"}],"has_more":false}`, "created_at",
			func(c *Conversation) time.Time { return c.ExpiresAt }, 2},
		{VantaxAI,
			`{"success":true,"data":[{"id":"a","created_at":"next tuesday","last_message_at":"2026-03-18T14:00:00+0000"},{"id":"b","created_at":"2026-03-17T14:00:00Z"}],"pagination":{"has_more":false}}`, "created_at",
			`{"success":true,"data":[{"id":"m1","created_at":"next tuesday","content":"hi"},{"id":"m2","created_at":"2026-03-17T14:20:00Z"}],"pagination":{"has_more":false}}`, "created_at",
			func(c *Conversation) time.Time { return c.LastMessageAt }, 2},
		{Rentalot,
			`{"data":[{"id":"a","createdAt":"next tuesday","lastMessageAt":"20260318T140000Z"},{"id":"b","createdAt":"2026-03-17T14:00:00Z"}],"pagination":{"page":1,"limit":20}}`, "createdAt",
			`{"data":[{"id":"m1","sentAt":"next tuesday","createdAt":"2026-03-18T14:00:00Z","content":"hi"},{"id":"m2","sentAt":"2026-03-17T14:20:00Z"}],"pagination":{"page":1,"limit":20}}`, "sentAt",
			func(c *Conversation) time.Time { return c.LastMessageAt }, 2},
		{AgentMessage,
			`{"success":true,"data":[{"id":"a","last_message_body_redacted_at":"next tuesday","last_message_at":"2026-03-18T14:00"},{"id":"b","last_message_at":"2026-03-17T14:00:00Z"}],"meta":{"next_cursor":null}}`, "last_message_body_redacted_at",
			`{"success":true,"data":[{"id":"m1","created_at":"next tuesday","body":"hi"},{"id":"m2","created_at":"2026-03-17T14:20:00Z"}],"meta":{"next_cursor":null}}`, "created_at",
			func(c *Conversation) time.Time { return c.LastMessageAt }, 2},
	}
	for _, tt := range tests {
		t.Run(tt.provider.Name(), func(t *testing.T) {
			c, mux, _ := setup(t, tt.provider)
			serveJSON(mux, "GET /conversations", []byte(tt.convs))
			serveJSON(mux, "GET /conversations/{id}/messages", []byte(tt.msgs))
			ctx := testContext(t)

			convs, err := drain(c.Conversations.List(ctx, nil), 10)
			require.NoError(t, err, "one odd timestamp does not make the page unreadable")
			require.Len(t, convs, 2)
			assert.Equal(t, []UnreadableField{{Field: tt.convField, Value: odd}}, convs[0].Unreadable)
			assert.Equal(t, time.Date(2026, 3, 18, 14, 0, 0, 0, time.UTC), tt.convRead(&convs[0]).UTC(), "the item's other timestamps are read")
			assert.Nil(t, convs[1].Unreadable)
			assert.Equal(t, "b", convs[1].ID)

			msgs, err := drain(c.Messages.List(ctx, "conv", nil), 10)
			require.NoError(t, err)
			require.Len(t, msgs, tt.messageLen)
			assert.Equal(t, []UnreadableField{{Field: tt.msgField, Value: odd}}, msgs[0].Unreadable)
			assert.Equal(t, "m1", msgs[0].ID)
			if tt.provider == Rentalot {
				assert.Equal(t, time.Date(2026, 3, 18, 14, 0, 0, 0, time.UTC), msgs[0].SentAt.UTC(), "an unreadable sentAt falls back to createdAt")
			} else {
				assert.True(t, msgs[0].SentAt.IsZero())
			}
			assert.Equal(t, time.Date(2026, 3, 17, 14, 20, 0, 0, time.UTC), msgs[1].SentAt.UTC())
			assert.Nil(t, msgs[1].Unreadable)
		})
	}
}

// TestDecodeVobizLiteralNullText checks that a message whose text is the
// word "null" keeps it, while a JSON null body is no text.
func TestDecodeVobizLiteralNullText(t *testing.T) {
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
