// Command vantaxai lists the open conversations of a VantaxAI sub-account,
// with their unread counts and messages.
//
// It reads VANTAXAI_API_KEY, and optionally VANTAXAI_SUB_ACCOUNT_ID and
// CONVO_BASE_URL:
//
//	VANTAXAI_API_KEY=vx_live_… go run ./examples/vantaxai
package main

import (
	"context"
	"fmt"
	"os"
	"os/signal"

	"github.com/convokit/convo"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	if err := run(ctx); err != nil {
		fmt.Fprintln(os.Stderr, "vantaxai:", err)
		os.Exit(1)
	}
}

func run(ctx context.Context) error {
	key := os.Getenv("VANTAXAI_API_KEY")
	if key == "" {
		return fmt.Errorf("set VANTAXAI_API_KEY")
	}
	opts := []convo.Option{convo.WithAuth(convo.Bearer(key))}
	if u := os.Getenv("CONVO_BASE_URL"); u != "" {
		opts = append(opts, convo.WithBaseURL(u))
	}
	client, err := convo.NewClient(convo.VantaxAI, opts...)
	if err != nil {
		return err
	}

	params := &convo.ConversationListParams{
		Status:       "open",
		SubAccountID: os.Getenv("VANTAXAI_SUB_ACCOUNT_ID"),
		PageSize:     50,
	}
	for conv, err := range client.Conversations.List(ctx, params).All() {
		if err != nil {
			return err
		}
		fmt.Printf("%s  %-9s unread %-3d last %s\n", conv.ID, conv.Channel, conv.UnreadCount, conv.LastMessageAt.Format("2006-01-02 15:04"))
		// VantaxAI lists messages oldest first.
		for msg, err := range client.Messages.List(ctx, conv.ID, &convo.MessageListParams{PageSize: 100}).All() {
			if err != nil {
				return err
			}
			fmt.Printf("    %s %-8s %-7s %s\n", msg.SentAt.Format("01-02 15:04"), msg.Direction, msg.SenderType, msg.Body)
		}
	}
	return nil
}
