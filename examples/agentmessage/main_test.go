package main

import (
	"bytes"
	"context"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/convokit/convo"
	"github.com/convokit/convo/convotest"
)

func runAgentMessage(t *testing.T, srv *convotest.Server, now time.Time) string {
	t.Helper()
	client, err := srv.Client()
	require.NoError(t, err)
	var out bytes.Buffer
	require.NoError(t, run(context.Background(), &out, client, now))
	return out.String()
}

// TestAgentMessageExampleWeek runs the example a day after the demo data's
// latest activity: the conversations of that week, with their messages,
// redacted bodies marked.
func TestAgentMessageExampleWeek(t *testing.T) {
	srv := convotest.New(t, convo.AgentMessage)
	data := srv.Dataset()
	var newest time.Time
	for _, c := range data.Conversations {
		if c.Conversation.LastMessageAt.After(newest) {
			newest = c.Conversation.LastMessageAt
		}
	}
	now := newest.Add(24 * time.Hour)
	text := runAgentMessage(t, srv, now)
	require.True(t, strings.HasPrefix(text, "Conversations active since "), text)
	in, out := 0, 0
	for _, c := range data.Conversations {
		head := c.Conversation.PhoneNumber + " → " + c.Conversation.ContactNumber
		if c.Conversation.LastMessageAt.Before(now.Add(-window)) {
			out++
			continue
		}
		in++
		assert.Contains(t, text, head)
	}
	assert.Positive(t, in)
	assert.Positive(t, out, "the week leaves some out")
	assert.Equal(t, in, strings.Count(text, " messages, last "), "one header per conversation of the week")
}

// TestAgentMessageExampleNothingRecent runs the example long after the
// demo data: it says nothing was active and shows the most recent ones,
// with their messages, instead of printing nothing.
func TestAgentMessageExampleNothingRecent(t *testing.T) {
	srv := convotest.New(t, convo.AgentMessage)
	text := runAgentMessage(t, srv, time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC))
	require.True(t, strings.HasPrefix(text, "No conversation active since 2029-12-25 00:00 UTC. The 3 most recent:\n"), text)
	assert.Equal(t, recent, strings.Count(text, " messages, last "))
	first := srv.Dataset().Conversations[0]
	assert.Contains(t, text, first.Conversation.PhoneNumber+" → "+first.Conversation.ContactNumber, "the newest first")
	assert.Greater(t, strings.Count(text, "\n    "), recent, "their messages too")
}
