package convotest_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"reflect"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/convokit/convo"
	"github.com/convokit/convo/convotest"
)

func TestConvotestURLAndBasePath(t *testing.T) {
	t.Parallel()
	for _, p := range convo.Providers() {
		t.Run(p.Name(), func(t *testing.T) {
			srv := convotest.NewServer(p)
			defer srv.Close()
			u, err := url.Parse(srv.URL())
			require.NoError(t, err)
			base, err := url.Parse(p.DefaultBaseURL())
			require.NoError(t, err)
			assert.Equal(t, base.Path, u.Path)
			assert.Equal(t, "127.0.0.1", u.Hostname())
			assert.Equal(t, p, srv.Provider())

			resp, body := rawGet(t, srv, "/conversations", demoAuth(p))
			assert.Equal(t, http.StatusOK, resp.StatusCode, "body: %s", body)

			// Outside the base path nothing is served.
			req, err := http.NewRequest(http.MethodGet, strings.TrimSuffix(srv.URL(), base.Path)+"/conversations", nil)
			require.NoError(t, err)
			req.Header = demoAuth(p)
			r2, err := rawClient.Do(req)
			require.NoError(t, err)
			r2.Body.Close()
			assert.Equal(t, http.StatusNotFound, r2.StatusCode)
		})
	}
}

// errorCase is a request the fake must refuse, and how.
type errorCase struct {
	name   string
	path   string      // may hold {id}: the first conversation's escaped id
	header http.Header // nil: demo credentials
	status int
	check  func(t *testing.T, body map[string]any)
}

func vobizCode(code, field string) func(*testing.T, map[string]any) {
	return func(t *testing.T, b map[string]any) {
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

func vantaxErr(field string) func(*testing.T, map[string]any) {
	return func(t *testing.T, b map[string]any) {
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

func rentalotErr(code, field string) func(*testing.T, map[string]any) {
	return func(t *testing.T, b map[string]any) {
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

func agentErr(code, field string) func(*testing.T, map[string]any) {
	return func(t *testing.T, b map[string]any) {
		assert.Equal(t, false, b["success"])
		assert.Equal(t, code, at(t, b, "error", "code"))
		assert.NotEmpty(t, at(t, b, "error", "request_id"))
		if field == "" {
			assert.NotContains(t, at(t, b, "error"), "details")
			return
		}
		assert.Contains(t, at(t, b, "error", "details"), field)
	}
}

func TestConvotestStrictness(t *testing.T) {
	t.Parallel()
	bad := http.Header{"Authorization": {"Bearer am_live_wrong"}}
	none := http.Header{}
	tests := map[convo.Provider][]errorCase{
		convo.Vobiz: {
			{"unknown param", "/conversations/{id}/messages?foo=1", nil, 400, vobizCode("VALIDATION_ERROR", "foo")},
			{"undocumented limit on conversations", "/conversations?limit=10", nil, 400, vobizCode("VALIDATION_ERROR", "limit")},
			{"limit 0", "/conversations/{id}/messages?limit=0", nil, 400, vobizCode("VALIDATION_ERROR", "limit")},
			{"limit 101", "/conversations/{id}/messages?limit=101", nil, 400, vobizCode("VALIDATION_ERROR", "limit")},
			{"limit not a number", "/conversations/{id}/messages?limit=ten", nil, 400, vobizCode("VALIDATION_ERROR", "limit")},
			{"repeated limit", "/conversations/{id}/messages?limit=5&limit=6", nil, 400, vobizCode("VALIDATION_ERROR", "limit")},
			{"bad cursor", "/conversations/{id}/messages?cursor=eyJpZCI6Im1zZzAwMSJ9", nil, 400, vobizCode("VALIDATION_ERROR", "cursor")},
			{"unknown conversation", "/conversations/nope/messages", nil, 404, vobizCode("NOT_FOUND", "")},
			{"no such route", "/conversations/{id}", nil, 404, vobizCode("NOT_FOUND", "")},
			{"no credentials", "/conversations", none, 401, vobizCode("INVALID_CREDENTIALS", "")},
			{"wrong token", "/conversations", http.Header{"X-Auth-Id": {convotest.DemoVobizAuthID}, "X-Auth-Token": {"nope"}}, 401, vobizCode("INVALID_CREDENTIALS", "")},
			{"id without token", "/conversations", http.Header{"X-Auth-Id": {convotest.DemoVobizAuthID}}, 401, vobizCode("INVALID_CREDENTIALS", "")},
			{"wrong JWT", "/conversations", http.Header{"Authorization": {"Bearer eyJ.wrong"}}, 401, vobizCode("INVALID_CREDENTIALS", "")},
		},
		convo.VantaxAI: {
			{"unknown param", "/conversations?foo=1", nil, 422, vantaxErr("foo")},
			{"limit 0", "/conversations?limit=0", nil, 422, vantaxErr("limit")},
			{"limit 101", "/conversations/{id}/messages?limit=101", nil, 422, vantaxErr("limit")},
			{"channel", "/conversations?channel=fax", nil, 422, vantaxErr("channel")},
			{"status", "/conversations?status=archived", nil, 422, vantaxErr("status")},
			{"bad starting_after", "/conversations?starting_after=conv_nope", nil, 422, vantaxErr("starting_after")},
			{"param on get", "/conversations/{id}?expand=messages", nil, 422, vantaxErr("expand")},
			{"unknown conversation", "/conversations/conv_nope", nil, 404, vantaxErr("")},
			{"unknown conversation messages", "/conversations/conv_nope/messages", nil, 404, vantaxErr("")},
			{"no credentials", "/conversations", none, 401, vantaxErr("")},
			{"wrong key", "/conversations", http.Header{"Authorization": {"Bearer vx_live_wrong"}}, 401, vantaxErr("")},
			{"wrong x-api-key", "/conversations", http.Header{"X-Api-Key": {"vx_live_wrong"}}, 401, vantaxErr("")},
		},
		convo.Rentalot: {
			{"unknown param", "/conversations?foo=1", nil, 422, rentalotErr("validation_error", "foo")},
			{"limit 101", "/conversations?limit=101", nil, 422, rentalotErr("validation_error", "limit")},
			{"page 0", "/conversations/{id}/messages?page=0", nil, 422, rentalotErr("validation_error", "page")},
			{"status", "/conversations?status=open", nil, 422, rentalotErr("validation_error", "status")},
			{"search without query", "/conversations/search", nil, 422, rentalotErr("validation_error", "query")},
			{"search empty query", "/conversations/search?query=", nil, 422, rentalotErr("validation_error", "query")},
			{"search long query", "/conversations/search?query=" + strings.Repeat("é", 501), nil, 422, rentalotErr("validation_error", "query")},
			{"search limit 51", "/conversations/search?query=bed&limit=51", nil, 422, rentalotErr("validation_error", "limit")},
			{"search unknown param", "/conversations/search?query=bed&page=2", nil, 422, rentalotErr("validation_error", "page")},
			{"no credentials", "/conversations", none, 401, rentalotErr("unauthorized", "")},
			{"wrong key", "/conversations", http.Header{"Authorization": {"Bearer ra_wrong"}}, 401, rentalotErr("unauthorized", "")},
			{"unknown conversation", "/conversations/00000000-0000-4000-8000-000000000000", nil, 404, func(t *testing.T, b map[string]any) {
				assert.Equal(t, float64(404), b["status"])
				assert.Equal(t, "Not Found", b["title"])
				assert.NotEmpty(t, b["type"])
				assert.NotEmpty(t, b["detail"])
			}},
		},
		convo.AgentMessage: {
			{"unknown param", "/conversations?foo=1", nil, 400, agentErr("INVALID_INPUT", "foo")},
			{"limit not a number", "/conversations?limit=x", nil, 400, agentErr("INVALID_INPUT", "limit")},
			{"limit 201", "/conversations?limit=201", nil, 422, agentErr("VALIDATION_FAILED", "limit")},
			{"limit 0", "/conversations/{id}/messages?limit=0", nil, 422, agentErr("VALIDATION_FAILED", "limit")},
			{"since", "/conversations?since=yesterday", nil, 400, agentErr("INVALID_INPUT", "since")},
			{"opted_in", "/conversations?opted_in=maybe", nil, 400, agentErr("INVALID_INPUT", "opted_in")},
			{"bad cursor", "/conversations?cursor=AQID", nil, 400, agentErr("INVALID_INPUT", "cursor")},
			{"unknown conversation", "/conversations/AAAAAAAAAAAAAAAA/messages", nil, 404, agentErr("NOT_FOUND", "")},
			{"get is undocumented", "/conversations/{id}", nil, 404, agentErr("NOT_FOUND", "")},
			{"no credentials", "/conversations", none, 401, agentErr("UNAUTHORIZED", "")},
			{"wrong key", "/conversations", bad, 401, agentErr("UNAUTHORIZED", "")},
		},
	}
	for _, p := range convo.Providers() {
		t.Run(p.Name(), func(t *testing.T) {
			srv := convotest.NewServer(p)
			defer srv.Close()
			id := url.PathEscape(firstConversation(t, srv))
			for _, tt := range tests[p] {
				t.Run(tt.name, func(t *testing.T) {
					h := tt.header
					if h == nil {
						h = demoAuth(p)
					}
					resp, body := rawGet(t, srv, strings.ReplaceAll(tt.path, "{id}", id), h)
					require.Equal(t, tt.status, resp.StatusCode, "body: %s", body)
					assert.Contains(t, resp.Header.Get("Content-Type"), "json")
					tt.check(t, object(t, body))
					if p == convo.AgentMessage {
						assert.Equal(t, at(t, object(t, body), "error", "request_id"), resp.Header.Get("X-Request-Id"))
					}
				})
			}
		})
	}
}

func TestConvotestAcceptedCredentials(t *testing.T) {
	t.Parallel()
	tests := []struct {
		p convo.Provider
		h http.Header
	}{
		{convo.Vobiz, http.Header{"Authorization": {"Bearer " + convotest.DemoVobizJWT}}},
		{convo.Vobiz, demoAuth(convo.Vobiz)},
		{convo.VantaxAI, http.Header{"X-Api-Key": {convotest.DemoVantaxAIKey}}},
		{convo.VantaxAI, http.Header{"Authorization": {"bearer " + convotest.DemoVantaxAIKey}}},
		{convo.Rentalot, demoAuth(convo.Rentalot)},
		{convo.AgentMessage, demoAuth(convo.AgentMessage)},
	}
	for _, tt := range tests {
		t.Run(tt.p.Name(), func(t *testing.T) {
			srv := convotest.NewServer(tt.p)
			defer srv.Close()
			resp, body := rawGet(t, srv, "/conversations", tt.h)
			assert.Equal(t, http.StatusOK, resp.StatusCode, "body: %s", body)
		})
	}
	// The key prefixes of the documents.
	assert.True(t, strings.HasPrefix(convotest.DemoVobizAuthID, "MA_"))
	assert.True(t, strings.HasPrefix(convotest.DemoVantaxAIKey, "vx_live_"))
	assert.True(t, strings.HasPrefix(convotest.DemoRentalotKey, "ra_"))
	assert.True(t, strings.HasPrefix(convotest.DemoAgentMessageKey, "am_live_"))
}

func TestConvotestMethodNotAllowed(t *testing.T) {
	t.Parallel()
	srv := convotest.NewServer(convo.AgentMessage)
	defer srv.Close()
	req, err := http.NewRequest(http.MethodPost, srv.URL()+"/conversations", strings.NewReader("{}"))
	require.NoError(t, err)
	req.Header = demoAuth(convo.AgentMessage)
	resp, err := rawClient.Do(req)
	require.NoError(t, err)
	resp.Body.Close()
	assert.Equal(t, http.StatusMethodNotAllowed, resp.StatusCode)
	assert.Equal(t, "GET", resp.Header.Get("Allow"))
}

func TestConvotestRentalotRateLimitHeaders(t *testing.T) {
	t.Parallel()
	srv := convotest.NewServer(convo.Rentalot, convotest.WithFaults(convotest.Fault{Kind: convotest.FaultRateLimit, Nth: 5, RetryAfter: 12 * time.Second}))
	defer srv.Close()
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
	other := convotest.NewServer(convo.VantaxAI)
	defer other.Close()
	resp, _ := rawGet(t, other, "/conversations", demoAuth(convo.VantaxAI))
	assert.Empty(t, resp.Header.Get("X-RateLimit-Limit"))
}

// TestConvotestPagingTermination checks each provider's paging envelope on
// a middle and the last page.
func TestConvotestPagingTermination(t *testing.T) {
	t.Parallel()
	t.Run("vobiz messages", func(t *testing.T) {
		srv := convotest.NewServer(convo.Vobiz)
		defer srv.Close()
		conv := longest(srv.Dataset())
		base := "/conversations/" + url.PathEscape(conv.Conversation.ID) + "/messages?limit=100"
		_, body := rawGet(t, srv, base, demoAuth(convo.Vobiz))
		b := object(t, body)
		assert.Equal(t, false, b["has_more"])
		assert.Equal(t, "", b["next_cursor"])
		assert.Len(t, b["items"], len(conv.Messages))

		var ids []string
		q := "/conversations/" + url.PathEscape(conv.Conversation.ID) + "/messages?limit=7"
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
			q = "/conversations/" + url.PathEscape(conv.Conversation.ID) + "/messages?limit=7&cursor=" + url.QueryEscape(b["next_cursor"].(string))
		}
		assert.Equal(t, reversedIDs(conv.Messages), ids, "newest first, each once")
	})
	t.Run("vantaxai conversations", func(t *testing.T) {
		srv := convotest.NewServer(convo.VantaxAI)
		defer srv.Close()
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
	})
	t.Run("rentalot", func(t *testing.T) {
		srv := convotest.NewServer(convo.Rentalot)
		defer srv.Close()
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
	})
	t.Run("agentmessage", func(t *testing.T) {
		srv := convotest.NewServer(convo.AgentMessage)
		defer srv.Close()
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
	})
}

func longest(d *convotest.Dataset) convotest.ConversationData {
	best := d.Conversations[0]
	for _, c := range d.Conversations {
		if len(c.Messages) > len(best.Messages) {
			best = c
		}
	}
	return best
}

func reversedIDs(msgs []convo.Message) []string {
	out := make([]string, len(msgs))
	for i, m := range msgs {
		out[len(msgs)-1-i] = m.ID
	}
	return out
}

func TestConvotestPageSizeCap(t *testing.T) {
	t.Parallel()
	t.Run("rentalot reports the capped limit", func(t *testing.T) {
		srv := convotest.NewServer(convo.Rentalot, convotest.WithPageSize(4))
		defer srv.Close()
		_, body := rawGet(t, srv, "/conversations?limit=100", demoAuth(convo.Rentalot))
		b := object(t, body)
		assert.Len(t, b["data"], 4)
		assert.Equal(t, 4.0, at(t, b, "pagination", "limit"))
		conv := longest(srv.Dataset())
		_, body = rawGet(t, srv, "/conversations/"+conv.Conversation.ID+"/messages?limit=100", demoAuth(convo.Rentalot))
		b = object(t, body)
		assert.Len(t, b["data"], 4)
		assert.Equal(t, 4.0, at(t, b, "pagination", "limit"))
	})
	t.Run("vobiz conversations become paged", func(t *testing.T) {
		srv := convotest.NewServer(convo.Vobiz, convotest.WithPageSize(10))
		defer srv.Close()
		_, body := rawGet(t, srv, "/conversations", demoAuth(convo.Vobiz))
		b := object(t, body)
		assert.Len(t, b["items"], 10)
		assert.Equal(t, true, b["has_more"])
		assert.NotEmpty(t, b["next_cursor"])
	})
	t.Run("a smaller request is kept", func(t *testing.T) {
		srv := convotest.NewServer(convo.AgentMessage, convotest.WithPageSize(10))
		defer srv.Close()
		_, body := rawGet(t, srv, "/conversations?limit=3", demoAuth(convo.AgentMessage))
		b := object(t, body)
		assert.Len(t, b["data"], 3)
		assert.Equal(t, 3.0, at(t, b, "meta", "limit"))
	})
}

func mustClient(t *testing.T, srv *convotest.Server, opts ...convo.Option) *convo.Client {
	t.Helper()
	c, err := srv.Client(opts...)
	require.NoError(t, err)
	return c
}

func collect[T any](t *testing.T, seq func(yield func(T, error) bool)) []T {
	t.Helper()
	var out []T
	for v, err := range seq {
		require.NoError(t, err)
		out = append(out, v)
	}
	return out
}

func TestConvotestFilters(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	t.Run("vantaxai", func(t *testing.T) {
		srv := convotest.NewServer(convo.VantaxAI)
		defer srv.Close()
		c := mustClient(t, srv)
		d := srv.Dataset()
		params := []convo.ConversationListParams{
			{Channel: "email"}, {Status: "pending"}, {SubAccountID: "sub_5d03b7a9"},
			{Channel: "sms", Status: "open", PageSize: 2},
		}
		for _, p := range params {
			var want []string
			for _, cd := range d.Conversations {
				cv := cd.Conversation
				if (p.Channel == "" || cv.Channel == p.Channel) && (p.Status == "" || cv.Status == p.Status) &&
					(p.SubAccountID == "" || cv.SubAccountID == p.SubAccountID) {
					want = append(want, cv.ID)
				}
			}
			require.NotEmpty(t, want, "%+v selects nothing in the demo data", p)
			assert.Less(t, len(want), len(d.Conversations))
			got := collect(t, c.Conversations.List(ctx, &p).All())
			assert.Equal(t, want, ids(got), "%+v", p)
		}
	})
	t.Run("rentalot", func(t *testing.T) {
		srv := convotest.NewServer(convo.Rentalot)
		defer srv.Close()
		c := mustClient(t, srv)
		d := srv.Dataset()
		contact := ""
		counts := map[string]int{}
		for _, cd := range d.Conversations {
			counts[cd.Conversation.ContactID]++
			if counts[cd.Conversation.ContactID] == 2 {
				contact = cd.Conversation.ContactID
			}
		}
		require.NotEmpty(t, contact, "a contact with several conversations")
		for _, p := range []convo.ConversationListParams{{ContactID: contact}, {Status: "archived"}, {Status: "active", PageSize: 5}} {
			var want []string
			for _, cd := range d.Conversations {
				if (p.ContactID == "" || cd.Conversation.ContactID == p.ContactID) && (p.Status == "" || cd.Conversation.Status == p.Status) {
					want = append(want, cd.Conversation.ID)
				}
			}
			require.NotEmpty(t, want)
			assert.Equal(t, want, ids(collect(t, c.Conversations.List(ctx, &p).All())), "%+v", p)
		}
	})
	t.Run("agentmessage", func(t *testing.T) {
		srv := convotest.NewServer(convo.AgentMessage)
		defer srv.Close()
		c := mustClient(t, srv)
		d := srv.Dataset()
		yes, no := true, false
		since := d.Conversations[len(d.Conversations)/2].Conversation.LastMessageAt
		tests := []struct {
			p    convo.ConversationListParams
			keep func(cv convo.Conversation) bool
		}{
			{convo.ConversationListParams{PhoneNumberID: "3b9e2c71-4d5a-4f1e-8b6c-9a0d1e2f3a4b"}, func(cv convo.Conversation) bool {
				return cv.PhoneNumberID == "3b9e2c71-4d5a-4f1e-8b6c-9a0d1e2f3a4b"
			}},
			{convo.ConversationListParams{ContactNumber: d.Conversations[3].Conversation.ContactNumber}, func(cv convo.Conversation) bool {
				return cv.ContactNumber == d.Conversations[3].Conversation.ContactNumber
			}},
			{convo.ConversationListParams{Since: since}, func(cv convo.Conversation) bool { return !cv.LastMessageAt.Before(since) }},
			{convo.ConversationListParams{OptedIn: &yes, PageSize: 4}, func(cv convo.Conversation) bool { return cv.Consent != nil && cv.Consent.OptedIn }},
			{convo.ConversationListParams{OptedIn: &no}, func(cv convo.Conversation) bool { return cv.Consent == nil || !cv.Consent.OptedIn }},
		}
		for _, tt := range tests {
			var want []string
			for _, cd := range d.Conversations {
				if tt.keep(cd.Conversation) {
					want = append(want, cd.Conversation.ID)
				}
			}
			require.NotEmpty(t, want)
			assert.Less(t, len(want), len(d.Conversations))
			assert.Equal(t, want, ids(collect(t, c.Conversations.List(ctx, &tt.p).All())), "%+v", tt.p)
		}
	})
}

func ids(convs []convo.Conversation) []string {
	out := make([]string, len(convs))
	for i, c := range convs {
		out[i] = c.ID
	}
	return out
}

func TestConvotestSearch(t *testing.T) {
	t.Parallel()
	srv := convotest.NewServer(convo.Rentalot)
	defer srv.Close()
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

func TestConvotestRequestLog(t *testing.T) {
	t.Parallel()
	srv := convotest.NewServer(convo.Vobiz)
	defer srv.Close()
	c := mustClient(t, srv)
	id := firstConversation(t, srv)
	collect(t, c.Messages.List(context.Background(), id, &convo.MessageListParams{PageSize: 2}).Pages())
	rawGet(t, srv, "/conversations", http.Header{"X-Auth-Id": {convotest.DemoVobizAuthID}, "X-Auth-Token": {"leaked-secret"}})

	reqs := srv.Requests()
	require.GreaterOrEqual(t, len(reqs), 2)
	first := reqs[0]
	assert.Equal(t, 1, first.N)
	assert.Equal(t, http.MethodGet, first.Method)
	assert.Equal(t, "/api/v1/messaging/conversations/"+id+"/messages", first.Path)
	assert.Equal(t, "2", first.Query().Get("limit"))
	assert.True(t, first.Authorized)
	assert.Equal(t, http.StatusOK, first.Status)
	assert.Equal(t, convotest.FaultKind(0), first.Fault)

	last := reqs[len(reqs)-1]
	assert.False(t, last.Authorized)
	assert.Equal(t, http.StatusUnauthorized, last.Status)
	for _, r := range reqs {
		assert.Equal(t, "REDACTED", r.Header.Get("X-Auth-Token"))
		for k, vs := range r.Header {
			for _, v := range vs {
				assert.NotContains(t, v, convotest.DemoVobizAuthToken, k)
				assert.NotContains(t, v, "leaked-secret", k)
			}
		}
		assert.NotContains(t, fmt.Sprintf("%+v", r), convotest.DemoVobizAuthToken)
	}

	// The log is a copy.
	reqs[0].Header.Set("X-Auth-Token", "changed")
	assert.Equal(t, "REDACTED", srv.Requests()[0].Header.Get("X-Auth-Token"))
	srv.ResetRequests()
	assert.Empty(t, srv.Requests())
}

func TestConvotestConcurrentUse(t *testing.T) {
	t.Parallel()
	srv := convotest.NewServer(convo.AgentMessage, convotest.WithFaultRate(0.2, 7, convotest.FaultServerError))
	defer srv.Close()
	c := mustClient(t, srv, convo.WithRetryWait(time.Millisecond, 2*time.Millisecond), convo.WithMaxRetries(10))
	d := srv.Dataset()
	var wg sync.WaitGroup
	errs := make(chan error, 8)
	for g := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			cd := d.Conversations[g]
			n := 0
			for _, err := range c.Messages.List(context.Background(), cd.Conversation.ID, &convo.MessageListParams{PageSize: 3}).All() {
				if err != nil {
					errs <- err
					return
				}
				n++
			}
			if n != len(cd.Messages) {
				errs <- fmt.Errorf("%s: %d messages, want %d", cd.Conversation.ID, n, len(cd.Messages))
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	reqs := srv.Requests()
	seen := map[int]bool{}
	for _, r := range reqs {
		assert.False(t, seen[r.N], "arrival numbers are unique")
		seen[r.N] = true
	}
	assert.Len(t, seen, len(reqs))
}

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

	for _, p := range convo.Providers() {
		t.Run(p.Name(), func(t *testing.T) {
			srv := convotest.NewServer(p, convotest.WithData(data), convotest.WithSeed(99))
			defer srv.Close()
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
	}

	// The server keeps a copy.
	srv := convotest.NewServer(convo.Rentalot, convotest.WithData(data))
	defer srv.Close()
	data.Conversations[0].Messages[0].Body = "changed"
	got := srv.Dataset()
	assert.Equal(t, `He said "hi" & <left>`, got.Conversations[0].Messages[0].Body)
	got.Conversations[0].Messages[0].Body = "changed too"
	assert.Equal(t, `He said "hi" & <left>`, srv.Dataset().Conversations[0].Messages[0].Body)
}

// The default seed's data is made once and copied: each call returns a
// dataset of its own, equal to a fresh one, that a test may change.
func TestConvotestDemoDatasetDefaultSeedIsACopy(t *testing.T) {
	t.Parallel()
	for _, p := range convo.Providers() {
		first := convotest.DemoDataset(p, convotest.DefaultSeed)
		want := convotest.DemoDataset(p, convotest.DefaultSeed)
		require.True(t, reflect.DeepEqual(first, want), "%s: deterministic", p.Name())
		first.Conversations[0].Conversation.ID = "changed"
		first.Conversations[0].Messages[0].Body = "changed"
		first.Conversations = first.Conversations[1:]
		again := convotest.DemoDataset(p, convotest.DefaultSeed)
		assert.True(t, reflect.DeepEqual(want, again), "%s: a change to one copy is not in the next", p.Name())
		assert.Equal(t, want.MessageCount(), convotest.New(t, p).Dataset().MessageCount(), "%s: a server's data", p.Name())
	}
}

func TestConvotestDemoDataset(t *testing.T) {
	t.Parallel()
	for _, p := range convo.Providers() {
		t.Run(p.Name(), func(t *testing.T) {
			d := convotest.DemoDataset(p, 1)
			assert.True(t, reflect.DeepEqual(d, convotest.DemoDataset(p, 1)), "deterministic")
			assert.False(t, reflect.DeepEqual(d, convotest.DemoDataset(p, 2)), "seeded")
			assert.GreaterOrEqual(t, len(d.Conversations), 30)
			assert.GreaterOrEqual(t, d.MessageCount(), 250)

			dirs := map[convo.Direction]int{}
			channels, statuses, seen := map[string]bool{}, map[string]bool{}, map[string]bool{}
			longest := 0
			for i, cd := range d.Conversations {
				cv := cd.Conversation
				assert.False(t, seen[cv.ID], "unique id %s", cv.ID)
				seen[cv.ID] = true
				channels[cv.Channel] = true
				statuses[cv.Status] = true
				longest = max(longest, len(cd.Messages))
				require.NotEmpty(t, cd.Messages)
				for j, m := range cd.Messages {
					dirs[m.Direction]++
					assert.False(t, seen[m.ID], "unique id %s", m.ID)
					seen[m.ID] = true
					if j > 0 {
						assert.False(t, m.SentAt.Before(cd.Messages[j-1].SentAt), "chronological")
					}
				}
				if i > 0 && p != convo.Vobiz {
					assert.False(t, cv.LastMessageAt.After(d.Conversations[i-1].Conversation.LastMessageAt), "newest activity first")
				}
			}
			assert.Greater(t, dirs[convo.Inbound], 50)
			assert.Greater(t, dirs[convo.Outbound], 50)
			assert.Greater(t, longest, 50, "one conversation needs several default pages")
			switch p {
			case convo.Vobiz:
				assert.Len(t, statuses, 2)
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
			case convo.VantaxAI:
				assert.Len(t, channels, 5)
				assert.Len(t, statuses, 3)
			case convo.Rentalot:
				assert.Len(t, statuses, 2)
				assert.Len(t, channels, 4)
			case convo.AgentMessage:
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
			}
		})
	}
	assert.Empty(t, convotest.DemoDataset(convo.Provider{}, 1).Conversations)
}

func keys(m map[string]bool) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	return out
}

func TestConvotestWithSeed(t *testing.T) {
	t.Parallel()
	a := convotest.NewServer(convo.VantaxAI, convotest.WithSeed(5))
	defer a.Close()
	b := convotest.NewServer(convo.VantaxAI)
	defer b.Close()
	assert.Equal(t, convotest.DemoDataset(convo.VantaxAI, 5), a.Dataset())
	assert.Equal(t, convotest.DemoDataset(convo.VantaxAI, convotest.DefaultSeed), b.Dataset())
}

func TestConvotestNewServerPanicsOnZeroProvider(t *testing.T) {
	t.Parallel()
	assert.Panics(t, func() { convotest.NewServer(convo.Provider{}) })
}

// TestConvotestWithRateLimit checks that WithRateLimit changes the limit
// Rentalot's headers report, or turns them off, and that a client pacing to
// the headers follows it.
func TestConvotestWithRateLimit(t *testing.T) {
	t.Parallel()
	headers := func(t *testing.T, p convo.Provider, opts ...convotest.Option) []http.Header {
		t.Helper()
		srv := convotest.NewServer(p, opts...)
		defer srv.Close()
		var out []http.Header
		for range 3 {
			resp, body := rawGet(t, srv, "/conversations", demoAuth(p))
			require.Equal(t, 200, resp.StatusCode, "%s", body)
			out = append(out, resp.Header)
		}
		return out
	}
	for i, h := range headers(t, convo.Rentalot, convotest.WithRateLimit(100_000)) {
		assert.Equal(t, "100000", h.Get("X-RateLimit-Limit"))
		assert.Equal(t, strconv.Itoa(100_000-1-i), h.Get("X-RateLimit-Remaining"))
		assert.NotEmpty(t, h.Get("X-RateLimit-Reset"))
	}
	for _, h := range headers(t, convo.Rentalot, convotest.WithRateLimit(0)) {
		assert.Equal(t, "120", h.Get("X-RateLimit-Limit"), "0 keeps the provider's limit")
	}
	for _, h := range headers(t, convo.Rentalot, convotest.WithRateLimit(-1)) {
		for _, k := range []string{"X-RateLimit-Limit", "X-RateLimit-Remaining", "X-RateLimit-Reset", "X-RateLimit-Resource"} {
			assert.Empty(t, h.Get(k), k)
		}
	}
	for _, h := range headers(t, convo.VantaxAI, convotest.WithRateLimit(50)) {
		assert.Empty(t, h.Get("X-RateLimit-Limit"), "a provider without rate-limit headers gets none")
	}

	// A client that waits at most a millisecond for a used-up window: with
	// a limit of 2 the third request is refused before it is sent; without
	// headers it is not.
	get := func(opts ...convotest.Option) []error {
		srv := convotest.NewServer(convo.Rentalot, opts...)
		defer srv.Close()
		c, err := srv.Client(convo.WithMaxPacingWait(time.Millisecond))
		require.NoError(t, err)
		var errs []error
		for range 3 {
			var err error
			for _, err = range c.Conversations.List(context.Background(), &convo.ConversationListParams{PageSize: 1}).Pages() {
				break // the first page: one request
			}
			errs = append(errs, err)
		}
		return errs
	}
	errs := get(convotest.WithRateLimit(2))
	require.NoError(t, errs[0])
	require.NoError(t, errs[1])
	var pe *convo.PacingError
	assert.ErrorAs(t, errs[2], &pe)
	for _, err := range get(convotest.WithRateLimit(-1)) {
		assert.NoError(t, err)
	}
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
