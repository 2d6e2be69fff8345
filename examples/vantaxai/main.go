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
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"

	"github.com/convokit/convo"
	"github.com/convokit/convo/convotest"
)

func main() {
	demo := flag.Bool("demo", false, "run against the built-in fake server (no credentials needed)")
	flag.Parse()
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	client, done, err := connect(*demo)
	if err == nil {
		defer done()
		err = run(ctx, os.Stdout, client, os.Getenv("VANTAXAI_SUB_ACCOUNT_ID"))
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "vantaxai:", err)
		os.Exit(1)
	}
}

// connect returns a client of the real API, or of the fake with -demo.
func connect(demo bool) (*convo.Client, func(), error) {
	if demo {
		srv := convotest.NewServer(convo.VantaxAI)
		client, err := srv.Client()
		return client, srv.Close, err
	}
	key := os.Getenv("VANTAXAI_API_KEY")
	if key == "" {
		return nil, nil, errors.New("set VANTAXAI_API_KEY (or pass -demo)")
	}
	opts := []convo.Option{convo.WithAuth(convo.Bearer(key))}
	if u := os.Getenv("CONVO_BASE_URL"); u != "" {
		opts = append(opts, convo.WithBaseURL(u))
	}
	client, err := convo.NewClient(convo.VantaxAI, opts...)
	return client, func() {}, err
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
