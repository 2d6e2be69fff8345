// Command agentmessage lists the SMS conversations of an AgentMessage
// organisation that have been active in the last week, with their messages;
// bodies removed by the retention window show as "[redacted]".
//
// It reads AGENTMESSAGE_API_KEY, and optionally CONVO_BASE_URL:
//
//	AGENTMESSAGE_API_KEY=am_live_… go run ./examples/agentmessage
package main

import (
	"context"
	"fmt"
	"os"
	"os/signal"
	"time"

	"github.com/convokit/convo"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	if err := run(ctx); err != nil {
		fmt.Fprintln(os.Stderr, "agentmessage:", err)
		os.Exit(1)
	}
}

func run(ctx context.Context) error {
	key := os.Getenv("AGENTMESSAGE_API_KEY")
	if key == "" {
		return fmt.Errorf("set AGENTMESSAGE_API_KEY")
	}
	opts := []convo.Option{convo.WithAuth(convo.Bearer(key))}
	if u := os.Getenv("CONVO_BASE_URL"); u != "" {
		opts = append(opts, convo.WithBaseURL(u))
	}
	client, err := convo.NewClient(convo.AgentMessage, opts...)
	if err != nil {
		return err
	}

	since := time.Now().Add(-7 * 24 * time.Hour)
	for conv, err := range client.Conversations.List(ctx, &convo.ConversationListParams{Since: since}).All() {
		if err != nil {
			return err
		}
		consent := "no consent record"
		if conv.Consent != nil && conv.Consent.OptedIn {
			consent = "opted in " + conv.Consent.OptedInAt.Format("2006-01-02")
		}
		fmt.Printf("%s → %s  %d messages, %s\n", conv.PhoneNumber, conv.ContactNumber, conv.MessageCount, consent)
		for msg, err := range client.Messages.List(ctx, conv.ID, &convo.MessageListParams{PageSize: 200}).All() {
			if err != nil {
				return err
			}
			body := msg.Body
			if !msg.RedactedAt.IsZero() {
				body = "[redacted]"
			}
			fmt.Printf("    %s %-8s %s\n", msg.SentAt.Format("01-02 15:04"), msg.Direction, body)
		}
	}
	return nil
}
