// Command rentalot lists the active Rentalot conversations with their
// latest messages, then searches message content.
//
// It reads RENTALOT_API_KEY, and optionally CONVO_BASE_URL; the first
// argument is the search term (default "bedroom"):
//
//	RENTALOT_API_KEY=ra_… go run ./examples/rentalot showing
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
	if err := run(ctx, os.Args[1:]); err != nil {
		fmt.Fprintln(os.Stderr, "rentalot:", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, args []string) error {
	key := os.Getenv("RENTALOT_API_KEY")
	if key == "" {
		return fmt.Errorf("set RENTALOT_API_KEY")
	}
	opts := []convo.Option{convo.WithAuth(convo.Bearer(key))}
	if u := os.Getenv("CONVO_BASE_URL"); u != "" {
		opts = append(opts, convo.WithBaseURL(u))
	}
	client, err := convo.NewClient(convo.Rentalot, opts...)
	if err != nil {
		return err
	}

	pager := client.Conversations.List(ctx, &convo.ConversationListParams{Status: "active", PageSize: 50})
	for page, err := range pager.Pages() {
		if err != nil {
			return err
		}
		if rl := page.RateLimit; rl != nil {
			fmt.Printf("(%d of %d requests left this minute)\n", rl.Remaining, rl.Limit)
		}
		for _, conv := range page.Items {
			fmt.Printf("%s  %-9s %d messages\n", conv.ID, conv.Channel, conv.MessageCount)
			// Rentalot lists messages newest first: one page of three is the latest three.
			for msg, err := range client.Messages.List(ctx, conv.ID, &convo.MessageListParams{PageSize: 3}).All() {
				if err != nil {
					return err
				}
				fmt.Printf("    %s %-8s %s\n", msg.SentAt.Format("01-02 15:04"), msg.Direction, msg.Body)
			}
		}
	}

	term := "bedroom"
	if len(args) > 0 {
		term = args[0]
	}
	fmt.Printf("\nsearch %q:\n", term)
	for r, err := range client.Search.Messages(ctx, &convo.SearchParams{Query: term, Limit: 20}).All() {
		if err != nil {
			return err
		}
		fmt.Printf("    %s %-12s %s\n", r.SentAt.Format("01-02 15:04"), r.ContactName, r.Content)
	}
	return nil
}
