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
		err = run(ctx, os.Stdout, client)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "vobiz:", err)
		os.Exit(1)
	}
}

// connect returns a client of the real API, or of the fake with -demo.
func connect(demo bool) (*convo.Client, func(), error) {
	if demo {
		srv := convotest.NewServer(convo.Vobiz)
		client, err := srv.Client()
		return client, srv.Close, err
	}
	var auth convo.Authenticator
	switch id, token, jwt := os.Getenv("VOBIZ_AUTH_ID"), os.Getenv("VOBIZ_AUTH_TOKEN"), os.Getenv("VOBIZ_TOKEN"); {
	case id != "" && token != "":
		auth = convo.XAuth(id, token)
	case jwt != "":
		auth = convo.Bearer(jwt)
	default:
		return nil, nil, errors.New("set VOBIZ_AUTH_ID and VOBIZ_AUTH_TOKEN (or VOBIZ_TOKEN), or pass -demo")
	}
	opts := []convo.Option{convo.WithAuth(auth)}
	if u := os.Getenv("CONVO_BASE_URL"); u != "" {
		opts = append(opts, convo.WithBaseURL(u))
	}
	client, err := convo.NewClient(convo.Vobiz, opts...)
	return client, func() {}, err
}

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
