// Command agentmessage lists the SMS conversations of an AgentMessage
// organisation that have been active in the last week (or since -since),
// with their messages; bodies removed by the retention window show as
// "[redacted]". When none was active that recently, it says so and shows
// the most recent ones instead.
//
// It reads AGENTMESSAGE_API_KEY, and optionally CONVO_BASE_URL; -demo runs
// it against the built-in fake server instead:
//
//	AGENTMESSAGE_API_KEY=am_live_… go run ./examples/agentmessage
//	go run ./examples/agentmessage -demo
//	go run ./examples/agentmessage -demo -since 2026-03-01
package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"time"

	"github.com/convokit/convo"
	"github.com/convokit/convo/examples/internal/example"
)

var sinceFlag = flag.String("since", "", "show the conversations active since this date (2006-01-02) or time (RFC 3339); default a week ago")

func main() {
	example.Main(convo.AgentMessage, func(ctx context.Context, w io.Writer, client *convo.Client) error {
		since, err := parseSince(*sinceFlag, time.Now())
		if err != nil {
			return err
		}
		return run(ctx, w, client, since)
	})
}

const (
	window = 7 * 24 * time.Hour // "active in the last week"
	recent = 3                  // conversations shown when none is that recent
)

// parseSince reads -since: a date (midnight UTC), a time in RFC 3339, or
// nothing for a week before now.
func parseSince(s string, now time.Time) (time.Time, error) {
	if s == "" {
		return now.Add(-window), nil
	}
	for _, layout := range []string{time.DateOnly, time.RFC3339} {
		if t, err := time.Parse(layout, s); err == nil {
			return t, nil
		}
	}
	return time.Time{}, fmt.Errorf("-since %q: want a date (2006-01-02) or a time (2006-01-02T15:04:05Z)", s)
}

// run shows the conversations active since since; when there are none, the
// most recent few.
func run(ctx context.Context, w io.Writer, client *convo.Client, since time.Time) error {
	n := 0
	for conv, err := range client.Conversations.List(ctx, &convo.ConversationListParams{Since: since}).All() {
		if err != nil {
			return err
		}
		if n == 0 {
			fmt.Fprintf(w, "Conversations active since %s UTC:\n", since.UTC().Format("2006-01-02 15:04"))
		}
		n++
		if err := show(ctx, w, client, conv); err != nil {
			return err
		}
	}
	if n > 0 {
		return nil
	}
	fmt.Fprintf(w, "No conversation active since %s UTC. The %d most recent:\n", since.UTC().Format("2006-01-02 15:04"), recent)
	// The list runs newest first: the first few are the most recent.
	for conv, err := range client.Conversations.List(ctx, &convo.ConversationListParams{PageSize: recent}).All() {
		if err != nil {
			return err
		}
		if err := show(ctx, w, client, conv); err != nil {
			return err
		}
		if n++; n == recent {
			break
		}
	}
	if n == 0 {
		fmt.Fprintln(w, "(no conversations at all)")
	}
	return nil
}

// show prints a conversation and its messages.
func show(ctx context.Context, w io.Writer, client *convo.Client, conv convo.Conversation) error {
	consent := "no consent record"
	if conv.Consent != nil && conv.Consent.OptedIn {
		consent = "opted in " + conv.Consent.OptedInAt.UTC().Format("2006-01-02")
	}
	fmt.Fprintf(w, "%s → %s  %d messages, last %s UTC, %s\n", conv.PhoneNumber, conv.ContactNumber, conv.MessageCount,
		conv.LastMessageAt.UTC().Format("2006-01-02 15:04"), consent)
	for msg, err := range client.Messages.List(ctx, conv.ID, &convo.MessageListParams{PageSize: 200}).All() {
		if err != nil {
			return err
		}
		body := msg.Body
		if !msg.RedactedAt.IsZero() {
			body = "[redacted]"
		}
		fmt.Fprintf(w, "    %s %-8s %s\n", msg.SentAt.UTC().Format("01-02 15:04"), msg.Direction, body)
	}
	return nil
}
