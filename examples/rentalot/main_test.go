package main

import (
	"bytes"
	"context"
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/convokit/convo"
	"github.com/convokit/convo/convotest"
)

// TestRentalotExample runs the example against the fake: each active
// conversation with exactly its latest three messages, fetched with one
// request each, and the search results.
func TestRentalotExample(t *testing.T) {
	srv := convotest.New(t, convo.Rentalot)
	client, err := srv.Client()
	require.NoError(t, err)
	var out bytes.Buffer
	require.NoError(t, run(context.Background(), &out, client, []string{"bedroom"}))
	text := out.String()

	active := 0
	for _, c := range srv.Dataset().Conversations {
		if c.Conversation.Status != "active" {
			assert.NotContains(t, text, c.Conversation.ID, "only active conversations")
			continue
		}
		active++
		assert.Contains(t, text, fmt.Sprintf("%s  %-9s %d messages\n", c.Conversation.ID, c.Conversation.Channel, c.Conversation.MessageCount))
		msgs := slices.Clone(c.Messages)
		slices.SortStableFunc(msgs, func(a, b convo.Message) int { return b.SentAt.Compare(a.SentAt) })
		for i, m := range msgs {
			line := fmt.Sprintf("    %s %-8s %s\n", m.SentAt.UTC().Format("01-02 15:04"), m.Direction, m.Body)
			if i < 3 {
				assert.Contains(t, text, line, "one of the latest three of %s", c.Conversation.ID)
			} else if m.Body != "" {
				assert.NotContains(t, text, line, "older than the latest three of %s", c.Conversation.ID)
			}
		}
	}
	require.Positive(t, active, "the demo data has active conversations")

	messageRequests := 0
	for _, r := range srv.Requests() {
		if strings.HasSuffix(r.Path, "/messages") {
			messageRequests++
			assert.Equal(t, "3", r.Query().Get("limit"))
		}
	}
	assert.Equal(t, active, messageRequests, "one message request per conversation, not the whole history")

	assert.Contains(t, text, "\nsearch \"bedroom\":\n")
	search := text[strings.Index(text, "\nsearch"):]
	assert.Greater(t, strings.Count(search, "\n"), 2, "search results are printed:\n%s", search)
}
