package convotest_test

import (
	"encoding/json"
	"net/http"
	"net/url"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/convokit/convo"
	"github.com/convokit/convo/convotest"
)

var vobizWire = wire{
	provider: convo.Vobiz,
	refusals: []errorCase{
		{"unknown param", "/conversations/{id}/messages?foo=1", nil, 400, vobizCode("VALIDATION_ERROR", "foo")},
		{"undocumented limit on conversations", "/conversations?limit=10", nil, 400, vobizCode("VALIDATION_ERROR", "limit")},
		{"limit 0", "/conversations/{id}/messages?limit=0", nil, 400, vobizCode("VALIDATION_ERROR", "limit")},
		{"limit 101", "/conversations/{id}/messages?limit=101", nil, 400, vobizCode("VALIDATION_ERROR", "limit")},
		{"limit not a number", "/conversations/{id}/messages?limit=ten", nil, 400, vobizCode("VALIDATION_ERROR", "limit")},
		{"repeated limit", "/conversations/{id}/messages?limit=5&limit=6", nil, 400, vobizCode("VALIDATION_ERROR", "limit")},
		{"bad cursor", "/conversations/{id}/messages?cursor=eyJpZCI6Im1zZzAwMSJ9", nil, 400, vobizCode("VALIDATION_ERROR", "cursor")},
		{"unknown conversation", "/conversations/nope/messages", nil, 404, vobizCode("NOT_FOUND", "")},
		{"no such route", "/conversations/{id}", nil, 404, vobizCode("NOT_FOUND", "")},
		{"wrong token", "/conversations", http.Header{"X-Auth-Id": {convotest.DemoVobizAuthID}, "X-Auth-Token": {"nope"}}, 401, vobizCode("INVALID_CREDENTIALS", "")},
		{"id without token", "/conversations", http.Header{"X-Auth-Id": {convotest.DemoVobizAuthID}}, 401, vobizCode("INVALID_CREDENTIALS", "")},
		{"wrong JWT", "/conversations", http.Header{"Authorization": {"Bearer eyJ.wrong"}}, 401, vobizCode("INVALID_CREDENTIALS", "")},
	},
	accepted:     []http.Header{{"Authorization": {"Bearer " + convotest.DemoVobizJWT}}},
	demoKey:      convotest.DemoVobizAuthID,
	keyPrefix:    "MA_",
	unauthorized: vobizCode("INVALID_CREDENTIALS", ""),
	serverError:  vobizCode("INTERNAL_ERROR", ""),
	rateLimited:  vobizCode("RATE_LIMITED", ""),
	code500:      "INTERNAL_ERROR",
	statusCodes:  map[int]string{402: "INSUFFICIENT_BALANCE", 403: "FORBIDDEN", 404: "NOT_FOUND", 409: "CONFLICT", 422: "VALIDATION_ERROR", 503: "INTERNAL_ERROR"},
	demoDigests: map[int64]string{
		1:  "1dd1d1235769d1476a9d0b6ba68ce3754a9873b8fb9a781f696611bb61de21bb",
		2:  "4a3f3b362ec97ae728c235f25b0ac2a1a68202d8c3dfb21249dd5ad672f6543a",
		42: "943bd6ad13746145dec3195ab0f63bc69b65a7db860165e1582f790ac6ff6107",
	},
	demo: func(t *testing.T, d *convotest.Dataset) {
		assert.Len(t, distinct(d, func(c convo.Conversation) string { return c.Status }), 2)
		types := map[string]bool{}
		noConv := 0
		for _, cd := range d.Conversations {
			for _, m := range cd.Messages {
				types[m.Type] = true
				var content map[string]any
				require.NoError(t, json.Unmarshal([]byte(m.Content), &content), m.Content)
				assert.Equal(t, m.Body, content["body"])
				if m.ConversationID == "" {
					noConv++
				}
			}
		}
		assert.Subset(t, keys(types), []string{"text", "image", "document", "template"})
		assert.Greater(t, noConv, 0, "some messages lack conversation_id")
	},

	change:  func(c *convo.Conversation) { c.Status = "closed" },
	changed: func(t *testing.T, got convo.Conversation) { assert.Equal(t, "closed", got.Status) },
	added:   func(*testing.T, convo.Conversation, convo.Conversation, time.Time) {}, // Vobiz shows no activity field

	messageStatus:       true,
	messagesNewestFirst: true,
	serverCursors:       true,
}

func vobizCode(code, field string) check {
	return func(t *testing.T, _ http.Header, b map[string]any) {
		assert.Equal(t, "error", b["status"])
		assert.Equal(t, code, at(t, b, "error", "code"))
		assert.NotEmpty(t, at(t, b, "error", "message"))
		assert.NotEmpty(t, b["requestId"])
		assert.NotEmpty(t, b["timestamp"])
		if field != "" {
			assert.Contains(t, at(t, b, "error", "details"), field)
		}
	}
}

// Vobiz pages messages newest first by cursor: has_more false and an
// empty next_cursor on the last page.
func TestVobizPagingTermination(t *testing.T) {
	t.Parallel()
	srv := convotest.New(t, convo.Vobiz)
	conv := longest(srv.Dataset())
	messages := "/conversations/" + url.PathEscape(conv.Conversation.ID) + "/messages"
	_, body := rawGet(t, srv, messages+"?limit=100", demoAuth(convo.Vobiz))
	b := object(t, body)
	assert.Equal(t, false, b["has_more"])
	assert.Equal(t, "", b["next_cursor"])
	assert.Len(t, b["items"], len(conv.Messages))

	var ids []string
	q := messages + "?limit=7"
	for pages := 0; pages < 50; pages++ {
		_, body := rawGet(t, srv, q, demoAuth(convo.Vobiz))
		b := object(t, body)
		for _, it := range b["items"].([]any) {
			ids = append(ids, it.(map[string]any)["id"].(string))
		}
		if b["has_more"] == false {
			assert.Equal(t, "", b["next_cursor"])
			break
		}
		q = messages + "?limit=7&cursor=" + url.QueryEscape(b["next_cursor"].(string))
	}
	assert.Equal(t, reversedIDs(conv.Messages), ids, "newest first, each once")
}

// Vobiz's conversation list is one page, unless WithPageSize caps it.
func TestVobizPageSizeCapPagesConversations(t *testing.T) {
	t.Parallel()
	srv := convotest.New(t, convo.Vobiz, convotest.WithPageSize(10))
	_, body := rawGet(t, srv, "/conversations", demoAuth(convo.Vobiz))
	b := object(t, body)
	assert.Len(t, b["items"], 10)
	assert.Equal(t, true, b["has_more"])
	assert.NotEmpty(t, b["next_cursor"])
}
