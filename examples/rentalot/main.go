// Command rentalot lists the active Rentalot conversations with their
// latest three messages, then searches message content.
//
// It reads RENTALOT_API_KEY, and optionally CONVO_BASE_URL; -demo runs it
// against the built-in fake server instead. The first argument is the
// search term (default "bedroom"):
//
//	RENTALOT_API_KEY=ra_… go run ./examples/rentalot showing
//	go run ./examples/rentalot -demo
package main

import (
	"context"
	"flag"
	"fmt"
	"io"

	"github.com/convokit/convo"
	"github.com/convokit/convo/examples/internal/example"
)

func main() {
	example.Main(convo.Rentalot, func(ctx context.Context, w io.Writer, client *convo.Client) error {
		return run(ctx, w, client, flag.Args())
	})
}

// latest is how many messages are shown per conversation.
const latest = 3

func run(ctx context.Context, w io.Writer, client *convo.Client, args []string) error {
	pager := client.Conversations.List(ctx, &convo.ConversationListParams{Status: "active", PageSize: 50})
	for page, err := range pager.Pages() {
		if err != nil {
			return err
		}
		if rl := page.RateLimit; rl != nil {
			fmt.Fprintf(w, "(%d of %d requests left this minute)\n", rl.Remaining, rl.Limit)
		}
		for _, conv := range page.Items {
			fmt.Fprintf(w, "%s  %-9s %d messages\n", conv.ID, conv.Channel, conv.MessageCount)
			// Rentalot lists messages newest first: the first page of
			// three is the latest three. One request, whatever the
			// length of the conversation.
			for page, err := range client.Messages.List(ctx, conv.ID, &convo.MessageListParams{PageSize: latest}).Pages() {
				if err != nil {
					return err
				}
				for _, msg := range page.Items {
					fmt.Fprintf(w, "    %s %-8s %s\n", msg.SentAt.UTC().Format("01-02 15:04"), msg.Direction, msg.Body)
				}
				break
			}
		}
	}

	term := "bedroom"
	if len(args) > 0 {
		term = args[0]
	}
	fmt.Fprintf(w, "\nsearch %q:\n", term)
	for r, err := range client.Search.Messages(ctx, &convo.SearchParams{Query: term, Limit: 20}).All() {
		if err != nil {
			return err
		}
		fmt.Fprintf(w, "    %s %-12s %s\n", r.SentAt.UTC().Format("01-02 15:04"), r.ContactName, r.Content)
	}
	return nil
}
