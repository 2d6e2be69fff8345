package convo

import (
	"testing"

	"github.com/stretchr/testify/assert"
)

func TestDecodeAgentMessageConversations(t *testing.T) {
	t.Parallel()
	page := servedConversations(t, AgentMessage, fixture(t, "agentmessage_conversations.json"))
	requirePageSummary(t, page, pageSummary{Items: 2}, "next_cursor null; meta.total is unreliable and not reported")

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
	t.Parallel()
	page := servedMessages(t, AgentMessage, "AQID...base64url", []byte(`{"success":true,"data":[
		{"id":"msg_1","direction":"inbound","phone_number_id":"pn_1","from_number":"+15554443333","to_number":"+15551112222",
		 "body":"Cancel my appointment please","media_urls":["https://media.example/1.jpg"],"channel":"sms","segment_count":2,
		 "created_at":"2026-04-28T12:00:01Z","redacted_at":null},
		{"id":"msg_2","direction":"outbound","phone_number_id":"pn_1","from_number":"+15551112222","to_number":"+15554443333",
		 "body":null,"media_urls":[],"channel":"sms","segment_count":1,
		 "created_at":"2026-01-10T08:00:00Z","redacted_at":"2026-04-10T03:11:42Z"}
	],"meta":{"total":0,"limit":50,"offset":0,"next_cursor":null}}`))
	requirePageSummary(t, page, pageSummary{Items: 2})
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
