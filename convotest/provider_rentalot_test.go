package convotest_test

import (
	"context"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/convokit/convo"
	"github.com/convokit/convo/convotest"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

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
