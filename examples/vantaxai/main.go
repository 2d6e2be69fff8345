// Command vantaxai lists the open conversations of a VantaxAI sub-account,
// with their unread counts and messages.
//
// It reads VANTAXAI_API_KEY, and optionally VANTAXAI_SUB_ACCOUNT_ID and
// CONVO_BASE_URL; -demo runs it against the built-in fake server instead:
//
//	VANTAXAI_API_KEY=vx_live_… go run ./examples/vantaxai
//	go run ./examples/vantaxai -demo
package main

import (
	"context"
	"fmt"
	"io"
	"os"

	"github.com/convokit/convo"
	"github.com/convokit/convo/examples/internal/example"
)

func main() {
	example.Main(convo.VantaxAI, func(ctx context.Context, w io.Writer, client *convo.Client) error {
		return run(ctx, w, client, os.Getenv("VANTAXAI_SUB_ACCOUNT_ID"))
	})
}

func run(ctx context.Context, w io.Writer, client *convo.Client, subAccountID string) error {
	params := &convo.ConversationListParams{Status: "open", SubAccountID: subAccountID, PageSize: 50}
	for conv, err := range client.Conversations.List(ctx, params).All() {
		if err != nil {
			return err
		}
		fmt.Fprintf(w, "%s  %-9s unread %-3d last %s UTC\n", conv.ID, conv.Channel, conv.UnreadCount, conv.LastMessageAt.UTC().Format("2006-01-02 15:04"))
		// VantaxAI lists messages oldest first.
		for msg, err := range client.Messages.List(ctx, conv.ID, &convo.MessageListParams{PageSize: 100}).All() {
			if err != nil {
				return err
			}
			fmt.Fprintf(w, "    %s %-8s %-7s %s\n", msg.SentAt.UTC().Format("01-02 15:04"), msg.Direction, msg.SenderType, msg.Body)
		}
	}
	return nil
}
