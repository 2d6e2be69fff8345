package convotest_test

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/convokit/convo"
	"github.com/convokit/convo/convotest"
)

var rentalotWire = wire{
	provider: convo.Rentalot,
	refusals: []errorCase{
		{"unknown param", "/conversations?foo=1", nil, 422, rentalotErr("validation_error", "foo")},
		{"limit 101", "/conversations?limit=101", nil, 422, rentalotErr("validation_error", "limit")},
		{"page 0", "/conversations/{id}/messages?page=0", nil, 422, rentalotErr("validation_error", "page")},
		{"status", "/conversations?status=open", nil, 422, rentalotErr("validation_error", "status")},
		{"search without query", "/conversations/search", nil, 422, rentalotErr("validation_error", "query")},
		{"search empty query", "/conversations/search?query=", nil, 422, rentalotErr("validation_error", "query")},
		{"search long query", "/conversations/search?query=" + strings.Repeat("é", 501), nil, 422, rentalotErr("validation_error", "query")},
		{"search limit 51", "/conversations/search?query=bed&limit=51", nil, 422, rentalotErr("validation_error", "limit")},
		{"search unknown param", "/conversations/search?query=bed&page=2", nil, 422, rentalotErr("validation_error", "page")},
		{"unknown conversation", "/conversations/00000000-0000-4000-8000-000000000000", nil, 404, func(t *testing.T, _ http.Header, b map[string]any) {
			assert.Equal(t, float64(404), b["status"])
			assert.Equal(t, "Not Found", b["title"])
			assert.NotEmpty(t, b["type"])
			assert.NotEmpty(t, b["detail"])
		}},
	},
	demoKey:      convotest.DemoRentalotKey,
	keyPrefix:    "ra_",
	unauthorized: rentalotErr("unauthorized", ""),
	serverError:  rentalotErr("internal_error", ""),
	rateLimited:  rentalotErr("rate_limit_exceeded", ""),
	code500:      "internal_error",
	// A 404 is problem details (TestRentalotScripted404IsProblemDetails).
	statusCodes: map[int]string{402: "payment_required", 403: "forbidden", 409: "conflict", 422: "validation_error", 503: "internal_error"},
	headers:     []string{"X-RateLimit-Limit"},
	demoDigests: map[int64]string{
		1:  "1937dd2be013cef803b49c08c4f610a1b2d99797143652e3dddadb6c83fc8039",
		2:  "f537c4f2665ec38ffe4e5745800274a72a5e5b7662dbe540ab948dea28f5136b",
		42: "95badbab4fe4734c936e62d45c546fa3069087b177c26e8627c8a492889ec5f2",
	},
	demo: func(t *testing.T, d *convotest.Dataset) {
		assert.Len(t, distinct(d, func(c convo.Conversation) string { return c.Status }), 2)
		assert.Len(t, distinct(d, func(c convo.Conversation) string { return c.Channel }), 4)
	},

	change:  func(c *convo.Conversation) { c.Status = "archived" },
	changed: func(t *testing.T, got convo.Conversation) { assert.Equal(t, "archived", got.Status) },
	added: func(t *testing.T, old, got convo.Conversation, at time.Time) {
		assert.True(t, got.LastMessageAt.Equal(at.Add(time.Second)))
		assert.True(t, got.UpdatedAt.Equal(at.Add(time.Second)))
		assert.Equal(t, old.MessageCount+2, got.MessageCount)
	},

	movesUpdatedAt:      true,
	messagesNewestFirst: true,
}

func rentalotErr(code, field string) check {
	return func(t *testing.T, _ http.Header, b map[string]any) {
		assert.Equal(t, code, at(t, b, "error", "code"))
		assert.NotEmpty(t, at(t, b, "error", "message"))
		if field == "" {
			return
		}
		details, ok := at(t, b, "error", "details").([]any)
		require.True(t, ok, "details array")
		require.Len(t, details, 1)
		assert.Equal(t, field, at(t, details[0], "field"))
	}
}

// A scripted 404 is problem details, as Rentalot's own are, and the SDK
// reads its type.
func TestRentalotScripted404IsProblemDetails(t *testing.T) {
	t.Parallel()
	srv := convotest.New(t, convo.Rentalot, convotest.WithFaults(convotest.Fault{Kind: convotest.FaultStatus, Status: 404, Path: "/conversations"}))
	c := mustClient(t, srv, convo.WithMaxRetries(0))
	var got error
	for _, err := range c.Conversations.List(context.Background(), nil).All() {
		got = err
		break
	}
	var apiErr *convo.APIError
	require.ErrorAs(t, got, &apiErr)
	assert.Equal(t, 404, apiErr.StatusCode)
	assert.Contains(t, apiErr.Type, "not-found")
	assert.Equal(t, "application/problem+json", contentType(t, srv, 404))
}

// contentType is the Content-Type of a fresh server's scripted status.
func contentType(t *testing.T, srv *convotest.Server, status int) string {
	t.Helper()
	s := convotest.New(t, srv.Provider(), convotest.WithFaults(convotest.Fault{Kind: convotest.FaultStatus, Status: status}))
	resp, _ := rawGet(t, s, "/conversations", demoAuth(srv.Provider()))
	require.Equal(t, status, resp.StatusCode)
	return resp.Header.Get("Content-Type")
}

// Rentalot pages by page number: the pagination object counts the pages,
// and a page beyond the last is empty.
func TestRentalotPagingTermination(t *testing.T) {
	t.Parallel()
	srv := convotest.New(t, convo.Rentalot)
	d := srv.Dataset()
	n := len(d.Conversations)
	_, body := rawGet(t, srv, "/conversations?limit=10&page=2", demoAuth(convo.Rentalot))
	b := object(t, body)
	assert.Equal(t, map[string]any{"page": 2.0, "limit": 10.0, "total": float64(n), "totalPages": float64((n + 9) / 10)}, b["pagination"])
	assert.Equal(t, d.Conversations[10].Conversation.ID, at(t, b, "data", 0, "id"))
	_, body = rawGet(t, srv, fmt.Sprintf("/conversations?limit=10&page=%d", (n+9)/10+1), demoAuth(convo.Rentalot))
	assert.Empty(t, object(t, body)["data"], "beyond the last page")

	conv := d.Conversations[0]
	_, body = rawGet(t, srv, "/conversations/"+conv.Conversation.ID+"/messages?limit=100", demoAuth(convo.Rentalot))
	b = object(t, body)
	assert.Equal(t, map[string]any{"page": 1.0, "limit": 100.0}, b["pagination"])
	assert.Len(t, b["data"], len(conv.Messages))
	assert.Equal(t, conv.Messages[len(conv.Messages)-1].ID, at(t, b, "data", 0, "id"), "newest first")
}

// WithPageSize caps both lists, and Rentalot reports the capped limit.
func TestRentalotPageSizeCapReportsLimit(t *testing.T) {
	t.Parallel()
	srv := convotest.New(t, convo.Rentalot, convotest.WithPageSize(4))
	conv := longest(srv.Dataset())
	for _, path := range []string{"/conversations?limit=100", "/conversations/" + conv.Conversation.ID + "/messages?limit=100"} {
		_, body := rawGet(t, srv, path, demoAuth(convo.Rentalot))
		b := object(t, body)
		assert.Len(t, b["data"], 4, path)
		assert.Equal(t, 4.0, at(t, b, "pagination", "limit"), path)
	}
}

func TestRentalotFilters(t *testing.T) {
	t.Parallel()
	checkFilters(t, convo.Rentalot, func(d *convotest.Dataset) []filterCase {
		contact := ""
		counts := map[string]int{}
		for _, cd := range d.Conversations {
			counts[cd.Conversation.ContactID]++
			if counts[cd.Conversation.ContactID] == 2 {
				contact = cd.Conversation.ContactID
			}
		}
		require.NotEmpty(t, contact, "a contact with several conversations")
		return []filterCase{
			{convo.ConversationListParams{ContactID: contact}, func(c convo.Conversation) bool { return c.ContactID == contact }},
			{convo.ConversationListParams{Status: "archived"}, func(c convo.Conversation) bool { return c.Status == "archived" }},
			{convo.ConversationListParams{Status: "active", PageSize: 5}, func(c convo.Conversation) bool { return c.Status == "active" }},
		}
	})
}

func TestRentalotRateLimitHeaders(t *testing.T) {
	t.Parallel()
	srv := convotest.New(t, convo.Rentalot, convotest.WithFaults(convotest.Fault{Kind: convotest.FaultRateLimit, Nth: 5, RetryAfter: 12 * time.Second}))
	id := url.PathEscape(firstConversation(t, srv))
	paths := []struct {
		path   string
		header http.Header
		status int
	}{
		{"/conversations", nil, 200},
		{"/conversations/" + id + "/messages", nil, 200},
		{"/conversations/search?query=showing", nil, 200},
		{"/conversations", http.Header{}, 401},
		{"/conversations", nil, 429}, // the scripted fault
		{"/conversations/00000000-0000-4000-8000-000000000000", nil, 404},
		{"/conversations?limit=500", nil, 422},
	}
	prevRemaining := -1
	for _, tt := range paths {
		h := tt.header
		if h == nil {
			h = demoAuth(convo.Rentalot)
		}
		resp, body := rawGet(t, srv, tt.path, h)
		require.Equal(t, tt.status, resp.StatusCode, "%s: %s", tt.path, body)
		assert.Equal(t, "120", resp.Header.Get("X-RateLimit-Limit"), tt.path)
		assert.Equal(t, "conversations", resp.Header.Get("X-RateLimit-Resource"), tt.path)
		reset, err := strconv.ParseInt(resp.Header.Get("X-RateLimit-Reset"), 10, 64)
		require.NoError(t, err, tt.path)
		assert.Greater(t, reset, time.Now().Add(-time.Second).Unix(), tt.path)
		assert.LessOrEqual(t, reset, time.Now().Add(61*time.Second).Unix(), tt.path)
		remaining, err := strconv.Atoi(resp.Header.Get("X-RateLimit-Remaining"))
		require.NoError(t, err, tt.path)
		if tt.status == 429 {
			assert.Equal(t, 0, remaining)
			assert.Equal(t, "12", resp.Header.Get("Retry-After"))
			assert.Equal(t, "rate_limit_exceeded", at(t, object(t, body), "error", "code"))
			continue
		}
		if prevRemaining >= 0 { // requests count down within a window
			assert.Less(t, remaining, prevRemaining, tt.path)
		}
		prevRemaining = remaining
	}

	// The other providers send no rate-limit headers.
	other := convotest.New(t, convo.VantaxAI)
	resp, _ := rawGet(t, other, "/conversations", demoAuth(convo.VantaxAI))
	assert.Empty(t, resp.Header.Get("X-RateLimit-Limit"))
}

func TestRentalotSearch(t *testing.T) {
	t.Parallel()
	srv := convotest.New(t, convo.Rentalot)
	ctx := context.Background()
	c := mustClient(t, srv)
	d := srv.Dataset()

	for _, q := range []string{"bedroom", "showing"} {
		type hit struct {
			id string
			at time.Time
		}
		var matches []hit
		for _, cd := range d.Conversations {
			for _, m := range cd.Messages {
				if strings.Contains(strings.ToLower(m.Body), q) {
					matches = append(matches, hit{m.ID, m.SentAt})
				}
			}
		}
		require.Greater(t, len(matches), 10, "the demo data must give %q more than a default page", q)

		lower := collect(t, c.Search.Messages(ctx, &convo.SearchParams{Query: q}).All())
		upper := collect(t, c.Search.Messages(ctx, &convo.SearchParams{Query: strings.ToUpper(q)}).All())
		assert.Len(t, lower, 10, "default limit")
		assert.Equal(t, lower, upper, "case-insensitive")
		all := collect(t, c.Search.Messages(ctx, &convo.SearchParams{Query: q, Limit: 50}).All())
		assert.Len(t, all, min(len(matches), 50))
		for i, r := range all {
			assert.Contains(t, strings.ToLower(r.Content), q)
			assert.NotEmpty(t, r.ConversationID)
			assert.NotEmpty(t, r.MessageID)
			if i > 0 {
				assert.False(t, r.SentAt.After(all[i-1].SentAt), "most recent first")
			}
		}
	}

	// total counts the results returned.
	_, body := rawGet(t, srv, "/conversations/search?query=bedroom&limit=3", demoAuth(convo.Rentalot))
	b := object(t, body)
	assert.Equal(t, 3.0, b["total"])
	assert.Len(t, b["data"], 3)

	none := collect(t, c.Search.Messages(ctx, &convo.SearchParams{Query: "zebra crossing"}).All())
	assert.Empty(t, none)
}
