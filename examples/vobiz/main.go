// Command vobiz lists the WhatsApp conversations of a Vobiz account and the
// latest messages of each.
//
// It reads VOBIZ_AUTH_ID and VOBIZ_AUTH_TOKEN (X-Auth-ID / X-Auth-Token), or
// VOBIZ_TOKEN for a bearer JWT, and optionally CONVO_BASE_URL; -demo runs
// it against the built-in fake server instead:
//
//	VOBIZ_AUTH_ID=MA_XXXXXXXX VOBIZ_AUTH_TOKEN=… go run ./examples/vobiz
//	go run ./examples/vobiz -demo
package main

import (
	"context"
	"fmt"
	"io"

	"github.com/convokit/convo"
	"github.com/convokit/convo/examples/internal/example"
)

func main() { example.Main(convo.Vobiz, run) }

// latest is how many messages are shown per conversation.
const latest = 5

func run(ctx context.Context, w io.Writer, client *convo.Client) error {
	for conv, err := range client.Conversations.List(ctx, nil).All() {
		if err != nil {
			return err
		}
		fmt.Fprintf(w, "%s  %-6s %-14s started %s UTC\n", conv.ID, conv.Status, conv.Category, conv.StartedAt.UTC().Format("2006-01-02 15:04"))
		// Vobiz pages run newest first: the first five are the latest,
		// and a page of five is one request.
		n := 0
		for msg, err := range client.Messages.List(ctx, conv.ID, &convo.MessageListParams{PageSize: latest}).All() {
			if err != nil {
				return err
			}
			fmt.Fprintf(w, "    %s %-8s %-8s %s\n", msg.SentAt.UTC().Format("01-02 15:04"), msg.Direction, msg.Type, msg.Body)
			if n++; n == latest {
				break
			}
		}
	}
	return nil
}
