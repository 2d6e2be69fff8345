package convo

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestDecodeRentalotConversations(t *testing.T) {
	t.Parallel()
	page := servedConversations(t, Rentalot, fixture(t, "rentalot_conversations.json"))
	requirePageSummary(t, page, pageSummary{Items: 1, HasMore: true, TotalKnown: true, Total: 34}, "page 1 of totalPages 2")
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
	t.Parallel()
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
	t.Parallel()
	page := servedMessages(t, Rentalot, "550e8400-e29b-41d4-a716-446655440000", fixture(t, "rentalot_messages.json"))
	requirePageSummary(t, page, pageSummary{Items: 2}, "2 items, fewer than the reported limit of 20; message pages carry no total")
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
	t.Parallel()
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
	t.Parallel()
	c, mux, _ := setup(t, Rentalot)
	serveJSON(mux, "GET /conversations/search", fixture(t, "rentalot_search.json"))

	page, err := firstPage(c.Search.Messages(testContext(t), &SearchParams{Query: "2-bedroom"}))
	require.NoError(t, err)
	requirePageSummary(t, page, pageSummary{Items: 1, TotalKnown: true, Total: 1}, "search is one page")
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
	t.Parallel()
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
