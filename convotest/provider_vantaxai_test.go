package convotest_test

import (
	"net/http"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/convokit/convo"
	"github.com/convokit/convo/convotest"
)

var vantaxWire = wire{
	provider: convo.VantaxAI,
	refusals: []errorCase{
		{"unknown param", "/conversations?foo=1", nil, 422, vantaxErr("foo")},
		{"limit 0", "/conversations?limit=0", nil, 422, vantaxErr("limit")},
		{"limit 101", "/conversations/{id}/messages?limit=101", nil, 422, vantaxErr("limit")},
		{"channel", "/conversations?channel=fax", nil, 422, vantaxErr("channel")},
		{"status", "/conversations?status=archived", nil, 422, vantaxErr("status")},
		{"bad starting_after", "/conversations?starting_after=conv_nope", nil, 422, vantaxErr("starting_after")},
		{"param on get", "/conversations/{id}?expand=messages", nil, 422, vantaxErr("expand")},
		{"unknown conversation", "/conversations/conv_nope", nil, 404, vantaxErr("")},
		{"unknown conversation messages", "/conversations/conv_nope/messages", nil, 404, vantaxErr("")},
		{"wrong x-api-key", "/conversations", http.Header{"X-Api-Key": {"vx_live_wrong"}}, 401, vantaxErr("")},
	},
	accepted: []http.Header{
		{"X-Api-Key": {convotest.DemoVantaxAIKey}},
		{"Authorization": {"bearer " + convotest.DemoVantaxAIKey}},
	},
	demoKey:      convotest.DemoVantaxAIKey,
	keyPrefix:    "vx_live_",
	unauthorized: vantaxErr(""),
	serverError:  vantaxErr(""),
	rateLimited:  vantaxErr(""),
	code500:      "", // VantaxAI documents no code field
	// VantaxAI documents its codes but no field for them: its message is
	// the code.
	statusCodes:   map[int]string{402: "subscription_required", 403: "forbidden_scope", 404: "not_found", 409: "conflict", 422: "validation_failed", 503: "internal_error"},
	codeInMessage: true,
	demoDigests: map[int64]string{
		1:  "38710f88a6166207697922922aa3f46333038df5716ce43ca375e041ef0cfd0a",
		2:  "1f5a1bbba2bf8fc35f63ae1dddd196086a5a4f220b86147e9278c82b3de51913",
		42: "8ee4197594c90bc7e38a58b442abadab9619f414bd7f93e66ac0bcd4a90706a1",
	},
	demo: func(t *testing.T, d *convotest.Dataset) {
		assert.Len(t, distinct(d, func(c convo.Conversation) string { return c.Channel }), 5)
		assert.Len(t, distinct(d, func(c convo.Conversation) string { return c.Status }), 3)
	},

	prepare: func(c *convo.Conversation) { c.UnreadCount = 3 },
	change:  func(c *convo.Conversation) { c.Tags, c.UnreadCount, c.Status = []string{"lead", "vip"}, 0, "closed" },
	changed: func(t *testing.T, got convo.Conversation) {
		assert.Equal(t, "closed", got.Status)
		assert.Equal(t, []string{"lead", "vip"}, got.Tags)
		assert.Zero(t, got.UnreadCount)
	},
	added: func(t *testing.T, old, got convo.Conversation, at time.Time) {
		assert.True(t, got.LastMessageAt.Equal(at.Add(time.Second)))
		assert.Equal(t, old.UnreadCount+1, got.UnreadCount, "one inbound message")
	},

	messageStatus: true,
}

func vantaxErr(field string) check {
	return func(t *testing.T, _ http.Header, b map[string]any) {
		assert.Equal(t, false, b["success"])
		assert.NotEmpty(t, b["message"])
		if field == "" {
			assert.NotContains(t, b, "errors")
			return
		}
		errs, ok := b["errors"].([]any)
		require.True(t, ok, "errors array")
		require.Len(t, errs, 1)
		assert.Equal(t, field, at(t, errs[0], "field"))
		assert.NotEmpty(t, at(t, errs[0], "message"))
	}
}

// VantaxAI pages with starting_after: has_more false on the last page,
// total the size of the whole list.
func TestVantaxAIPagingTermination(t *testing.T) {
	t.Parallel()
	srv := convotest.New(t, convo.VantaxAI)
	d := srv.Dataset()
	n := len(d.Conversations)
	last := d.Conversations[n-4].Conversation.ID
	_, body := rawGet(t, srv, "/conversations?limit=3&starting_after="+last, demoAuth(convo.VantaxAI))
	b := object(t, body)
	assert.Equal(t, false, at(t, b, "pagination", "has_more"))
	assert.Equal(t, float64(n), at(t, b, "pagination", "total"))
	assert.Equal(t, float64(3), at(t, b, "pagination", "limit"))
	assert.Equal(t, d.Conversations[n-1].Conversation.ID, at(t, b, "data", 2, "id"))
	_, body = rawGet(t, srv, "/conversations?limit=3", demoAuth(convo.VantaxAI))
	assert.Equal(t, true, at(t, object(t, body), "pagination", "has_more"))
}

func TestVantaxAIFilters(t *testing.T) {
	t.Parallel()
	checkFilters(t, convo.VantaxAI, func(*convotest.Dataset) []filterCase {
		return []filterCase{
			{convo.ConversationListParams{Channel: "email"}, func(c convo.Conversation) bool { return c.Channel == "email" }},
			{convo.ConversationListParams{Status: "pending"}, func(c convo.Conversation) bool { return c.Status == "pending" }},
			{convo.ConversationListParams{SubAccountID: "sub_5d03b7a9"}, func(c convo.Conversation) bool { return c.SubAccountID == "sub_5d03b7a9" }},
			{convo.ConversationListParams{Channel: "sms", Status: "open", PageSize: 2}, func(c convo.Conversation) bool {
				return c.Channel == "sms" && c.Status == "open"
			}},
		}
	})
}
