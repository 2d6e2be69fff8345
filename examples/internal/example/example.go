// Package example is what the example programs share: a client of a
// provider's real API or of its built-in fake, and the main of a provider's
// program. Everything a provider needs for it comes from the provider's
// registration: the variables that hold its credentials
// ([convo.Provider.AuthFromEnv]) and its fake ([convotest.NewServer]).
package example

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

// Client returns a client of p's built-in fake server when demo is set,
// and of its real API otherwise: with the credentials of p's environment
// variables and, when CONVO_BASE_URL is set, that base URL, both read
// through getenv. opts follow. closeFn stops the fake; call it when done.
func Client(p convo.Provider, demo bool, getenv func(string) string, opts ...convo.Option) (client *convo.Client, closeFn func(), err error) {
	if demo {
		srv := convotest.NewServer(p)
		client, err := srv.Client(opts...)
		if err != nil {
			srv.Close()
			return nil, nil, err
		}
		return client, srv.Close, nil
	}
	auth, err := p.AuthFromEnv(getenv)
	if err != nil {
		return nil, nil, errors.New("set " + p.CredentialHelp() + " (or pass -demo)")
	}
	opts = append([]convo.Option{convo.WithAuth(auth)}, opts...)
	if u := getenv("CONVO_BASE_URL"); u != "" {
		opts = append(opts, convo.WithBaseURL(u))
	}
	client, err = convo.NewClient(p, opts...)
	return client, func() {}, err
}

// Main is the main of the example program of provider p, named after it.
// It parses the command line, with -demo beside the flags the program
// defined, makes the client (Client, from os.Getenv), and runs body with
// a context that Ctrl-C ends and the standard output. An error is printed
// on the standard error after the program's name, and the program exits 1.
func Main(p convo.Provider, body func(ctx context.Context, w io.Writer, client *convo.Client) error) {
	demo := flag.Bool("demo", false, "run against the built-in fake server (no credentials needed)")
	flag.Parse()
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	client, closeFn, err := Client(p, *demo, os.Getenv)
	if err == nil {
		err = body(ctx, os.Stdout, client)
		closeFn()
	}
	stop()
	if err != nil {
		fmt.Fprintf(os.Stderr, "%s: %v\n", p.Name(), err)
		os.Exit(1)
	}
}
