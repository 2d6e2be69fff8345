// Command vobiz lists the WhatsApp conversations of a Vobiz account and the
// latest messages of each.
//
// It reads VOBIZ_AUTH_ID and VOBIZ_AUTH_TOKEN (X-Auth-ID / X-Auth-Token), or
// VOBIZ_TOKEN for a bearer JWT, and optionally CONVO_BASE_URL:
//
//	VOBIZ_AUTH_ID=MA_XXXXXXXX VOBIZ_AUTH_TOKEN=… go run ./examples/vobiz
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
		fmt.Fprintln(os.Stderr, "vobiz:", err)
		os.Exit(1)
	}
}

func run(ctx context.Context) error {
	var auth convo.Authenticator
	switch id, token, jwt := os.Getenv("VOBIZ_AUTH_ID"), os.Getenv("VOBIZ_AUTH_TOKEN"), os.Getenv("VOBIZ_TOKEN"); {
	case id != "" && token != "":
		auth = convo.XAuth(id, token)
	case jwt != "":
		auth = convo.Bearer(jwt)
	default:
		return fmt.Errorf("set VOBIZ_AUTH_ID and VOBIZ_AUTH_TOKEN (or VOBIZ_TOKEN)")
	}
	opts := []convo.Option{convo.WithAuth(auth)}
	if u := os.Getenv("CONVO_BASE_URL"); u != "" {
		opts = append(opts, convo.WithBaseURL(u))
	}
	client, err := convo.NewClient(convo.Vobiz, opts...)
	if err != nil {
		return err
	}

	for conv, err := range client.Conversations.List(ctx, nil).All() {
		if err != nil {
			return err
		}
		fmt.Printf("%s  %-6s %-14s started %s\n", conv.ID, conv.Status, conv.Category, conv.StartedAt.Format("2006-01-02 15:04"))
		// Vobiz pages run newest first: the first five are the latest.
		n := 0
		for msg, err := range client.Messages.List(ctx, conv.ID, &convo.MessageListParams{PageSize: 5}).All() {
			if err != nil {
				return err
			}
			fmt.Printf("    %s %-8s %-8s %s\n", msg.SentAt.Format("15:04"), msg.Direction, msg.Type, msg.Body)
			if n++; n == 5 {
				break
			}
		}
	}
	return nil
}
