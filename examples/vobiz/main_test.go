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

// TestVobizExample runs the example against the fake: every conversation,
// each with its latest five messages, newest first, one request each.
func TestVobizExample(t *testing.T) {
	srv := convotest.New(t, convo.Vobiz)
	client, err := srv.Client()
	require.NoError(t, err)
	var out bytes.Buffer
	require.NoError(t, run(context.Background(), &out, client))
	text := out.String()
	data := srv.Dataset()
	require.NotEmpty(t, data.Conversations)
	for _, c := range data.Conversations {
		assert.Contains(t, text, c.Conversation.ID+"  "+c.Conversation.Status)
		msgs := slices.Clone(c.Messages)
		slices.SortStableFunc(msgs, func(a, b convo.Message) int { return b.SentAt.Compare(a.SentAt) })
		var want []string
		for _, m := range msgs[:min(len(msgs), latest)] {
			want = append(want, fmt.Sprintf("    %s %-8s %-8s %s", m.SentAt.UTC().Format("01-02 15:04"), m.Direction, m.Type, m.Body))
		}
		block := text[strings.Index(text, c.Conversation.ID):]
		lines := strings.Split(block, "\n")[1:]
		assert.Equal(t, want, lines[:len(want)], "the latest %d of %s, newest first", latest, c.Conversation.ID)
		if len(lines) > len(want) && lines[len(want)] != "" {
			assert.False(t, strings.HasPrefix(lines[len(want)], "    "), "no sixth message for %s", c.Conversation.ID)
		}
	}
	messageRequests := 0
	for _, r := range srv.Requests() {
		if strings.HasSuffix(r.Path, "/messages") {
			messageRequests++
		}
	}
	assert.Equal(t, len(data.Conversations), messageRequests, "one message page per conversation")
}
