package convotest_test

import (
	"fmt"
	"net/url"
	"testing"

	"github.com/convokit/convo"
	"github.com/convokit/convo/convotest"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

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
