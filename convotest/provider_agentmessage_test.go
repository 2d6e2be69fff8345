package convotest_test

import (
	"net/http"
	"net/url"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/convokit/convo"
	"github.com/convokit/convo/convotest"
)

var agentMessageWire = wire{
	provider: convo.AgentMessage,
	refusals: []errorCase{
		{"unknown param", "/conversations?foo=1", nil, 400, agentErr("INVALID_INPUT", "foo")},
		{"limit not a number", "/conversations?limit=x", nil, 400, agentErr("INVALID_INPUT", "limit")},
		{"limit 201", "/conversations?limit=201", nil, 422, agentErr("VALIDATION_FAILED", "limit")},
		{"limit 0", "/conversations/{id}/messages?limit=0", nil, 422, agentErr("VALIDATION_FAILED", "limit")},
		{"since", "/conversations?since=yesterday", nil, 400, agentErr("INVALID_INPUT", "since")},
		{"opted_in", "/conversations?opted_in=maybe", nil, 400, agentErr("INVALID_INPUT", "opted_in")},
		{"bad cursor", "/conversations?cursor=AQID", nil, 400, agentErr("INVALID_INPUT", "cursor")},
		{"unknown conversation", "/conversations/AAAAAAAAAAAAAAAA/messages", nil, 404, agentErr("NOT_FOUND", "")},
		{"get is undocumented", "/conversations/{id}", nil, 404, agentErr("NOT_FOUND", "")},
	},
	demoKey:      convotest.DemoAgentMessageKey,
	keyPrefix:    "am_live_",
	unauthorized: agentErr("UNAUTHORIZED", ""),
	serverError:  agentErr("INTERNAL_ERROR", ""),
	rateLimited:  agentErr("RATE_LIMITED", ""),
	code500:      "INTERNAL_ERROR",
	statusCodes:  map[int]string{402: "PAYMENT_REQUIRED", 403: "FORBIDDEN", 404: "NOT_FOUND", 409: "CONFLICT", 422: "VALIDATION_FAILED", 503: "INTERNAL_ERROR"},
	headers:      []string{"X-Request-Id"},
	demoDigests: map[int64]string{
		1:  "ec35ab9bc4c709fb3b77b2616405f0546d208426d783092fe1ccbd64c9423667",
		2:  "7df3fb75045f8712ddc3e055febe0e8d0f428200e74e1d8778bd88f6044d3b06",
		42: "0987a5c7bb43ca84c092c70d88a8d91761dc525014a983b67d8b4e2360489e47",
	},
	demo: func(t *testing.T, d *convotest.Dataset) {
		redacted, nullConsent, optedOut := 0, 0, 0
		for _, cd := range d.Conversations {
			cv := cd.Conversation
			assert.Regexp(t, `^[A-Za-z0-9_-]{16}$`, cv.ID, "base64url")
			if cv.LastMessagePreview == "[redacted]" {
				redacted++
				assert.False(t, cv.LastMessageBodyRedactedAt.IsZero())
				for _, m := range cd.Messages {
					assert.Empty(t, m.Body)
					assert.False(t, m.RedactedAt.IsZero())
				}
			}
			switch {
			case cv.Consent == nil:
				nullConsent++
			case !cv.Consent.OptedIn:
				optedOut++
			}
		}
		assert.Greater(t, redacted, 3)
		assert.Less(t, redacted, len(d.Conversations)/2)
		assert.Greater(t, nullConsent, 0)
		assert.Greater(t, optedOut, 0)
	},

	change: func(c *convo.Conversation) { c.Consent = &convo.Consent{OptedIn: false} },
	changed: func(t *testing.T, got convo.Conversation) {
		require.NotNil(t, got.Consent)
		assert.False(t, got.Consent.OptedIn)
	},
	added: func(t *testing.T, old, got convo.Conversation, at time.Time) {
		assert.True(t, got.LastMessageAt.Equal(at.Add(time.Second)))
		assert.Equal(t, old.MessageCount+2, got.MessageCount)
		assert.Equal(t, convo.Inbound, got.LastMessageDirection)
		assert.Equal(t, "second", got.LastMessagePreview)
	},

	redacts:       true,
	serverCursors: true,
}

// agentErr checks AgentMessage's envelope, whose request id is also the
// answer's X-Request-Id.
func agentErr(code, field string) check {
	return func(t *testing.T, h http.Header, b map[string]any) {
		assert.Equal(t, false, b["success"])
		assert.Equal(t, code, at(t, b, "error", "code"))
		assert.NotEmpty(t, at(t, b, "error", "request_id"))
		assert.Equal(t, at(t, b, "error", "request_id"), h.Get("X-Request-Id"))
		if field == "" {
			assert.NotContains(t, at(t, b, "error"), "details")
			return
		}
		assert.Contains(t, at(t, b, "error", "details"), field)
	}
}

// AgentMessage pages by an opaque cursor: next_cursor null on the last
// page, offset counting the items before a page.
func TestAgentMessagePagingTermination(t *testing.T) {
	t.Parallel()
	srv := convotest.New(t, convo.AgentMessage)
	n := len(srv.Dataset().Conversations)
	_, body := rawGet(t, srv, "/conversations?limit=200", demoAuth(convo.AgentMessage))
	b := object(t, body)
	assert.Nil(t, at(t, b, "meta", "next_cursor"))
	assert.Len(t, b["data"], n)
	_, body = rawGet(t, srv, "/conversations?limit=5", demoAuth(convo.AgentMessage))
	b = object(t, body)
	cursor, ok := at(t, b, "meta", "next_cursor").(string)
	require.True(t, ok)
	_, body = rawGet(t, srv, "/conversations?limit=5&cursor="+url.QueryEscape(cursor), demoAuth(convo.AgentMessage))
	b = object(t, body)
	assert.Equal(t, 5.0, at(t, b, "meta", "offset"))
	assert.Equal(t, srv.Dataset().Conversations[5].Conversation.ID, at(t, b, "data", 0, "id"))
}

// WithPageSize keeps a request for fewer items than the cap.
func TestAgentMessagePageSizeCapKeepsSmallerLimit(t *testing.T) {
	t.Parallel()
	srv := convotest.New(t, convo.AgentMessage, convotest.WithPageSize(10))
	_, body := rawGet(t, srv, "/conversations?limit=3", demoAuth(convo.AgentMessage))
	b := object(t, body)
	assert.Len(t, b["data"], 3)
	assert.Equal(t, 3.0, at(t, b, "meta", "limit"))
}

func TestAgentMessageFilters(t *testing.T) {
	t.Parallel()
	checkFilters(t, convo.AgentMessage, func(d *convotest.Dataset) []filterCase {
		const phone = "3b9e2c71-4d5a-4f1e-8b6c-9a0d1e2f3a4b"
		contact := d.Conversations[3].Conversation.ContactNumber
		since := d.Conversations[len(d.Conversations)/2].Conversation.LastMessageAt
		yes, no := true, false
		return []filterCase{
			{convo.ConversationListParams{PhoneNumberID: phone}, func(c convo.Conversation) bool { return c.PhoneNumberID == phone }},
			{convo.ConversationListParams{ContactNumber: contact}, func(c convo.Conversation) bool { return c.ContactNumber == contact }},
			{convo.ConversationListParams{Since: since}, func(c convo.Conversation) bool { return !c.LastMessageAt.Before(since) }},
			{convo.ConversationListParams{OptedIn: &yes, PageSize: 4}, func(c convo.Conversation) bool { return c.Consent != nil && c.Consent.OptedIn }},
			{convo.ConversationListParams{OptedIn: &no}, func(c convo.Conversation) bool { return c.Consent == nil || !c.Consent.OptedIn }},
		}
	})
}
