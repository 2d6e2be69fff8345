package main

import (
	"bytes"
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/convokit/convo"
	"github.com/convokit/convo/convotest"
)

// TestVantaxAIExample runs the example against the fake: the open
// conversations only, each with all its messages, oldest first.
func TestVantaxAIExample(t *testing.T) {
	srv := convotest.New(t, convo.VantaxAI)
	client, err := srv.Client()
	require.NoError(t, err)
	var out bytes.Buffer
	require.NoError(t, run(context.Background(), &out, client, ""))
	text := out.String()
	open := 0
	for _, c := range srv.Dataset().Conversations {
		head := fmt.Sprintf("%s  %-9s unread %-3d last %s UTC\n", c.Conversation.ID, c.Conversation.Channel,
			c.Conversation.UnreadCount, c.Conversation.LastMessageAt.UTC().Format("2006-01-02 15:04"))
		if c.Conversation.Status != "open" {
			assert.NotContains(t, text, c.Conversation.ID, "only open conversations")
			continue
		}
		open++
		require.Contains(t, text, head)
		var want strings.Builder
		want.WriteString(head)
		for _, m := range c.Messages {
			fmt.Fprintf(&want, "    %s %-8s %-7s %s\n", m.SentAt.UTC().Format("01-02 15:04"), m.Direction, m.SenderType, m.Body)
		}
		assert.Contains(t, text, want.String(), "every message of %s, oldest first", c.Conversation.ID)
	}
	assert.Positive(t, open, "the demo data has open conversations")
}
