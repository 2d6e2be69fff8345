// Command quickstart lists conversations, the latest messages of the first
// few, and (where the provider has one) a message search.
//
// With no environment set it runs against the built-in fake server of
// package convotest, so it works offline and without credentials:
//
//	go run ./examples/quickstart                    # Vobiz
//	go run ./examples/quickstart -provider rentalot # any provider -h lists
//
// To run it against a real API, set CONVO_PROVIDER, the provider's
// credentials and optionally CONVO_BASE_URL. The provider is then
// CONVO_PROVIDER's unless -provider names another (the flag wins), and
// -demo uses the fake all the same. -h lists each provider's credential
// variables, as the provider declares them ([convo.Provider.CredentialHelp]):
//
//	CONVO_PROVIDER=rentalot RENTALOT_API_KEY=ra_… go run ./examples/quickstart
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"slices"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/convokit/convo"
	"github.com/convokit/convo/examples/internal/example"
)

const (
	maxConversations = 10 // conversations listed
	maxThreads       = 3  // conversations whose messages are shown
	maxMessages      = 5  // latest messages shown per conversation
	maxResults       = 5  // search results shown
	textWidth        = 72 // characters of text shown per line
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	code := run(ctx, os.Args[1:], os.Getenv, os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}

// run is the whole program; it returns the exit status.
func run(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("quickstart", flag.ContinueOnError)
	fs.SetOutput(stderr)
	provider := fs.String("provider", "vobiz", "provider: "+providerNames()+" (default $CONVO_PROVIDER, else vobiz)")
	demo := fs.Bool("demo", false, "use the built-in fake server even when CONVO_PROVIDER is set")
	query := fs.String("query", "bedroom", "search query, for providers with a message search")
	fs.Usage = func() {
		fmt.Fprintln(stderr, "Usage of quickstart:")
		fs.PrintDefaults()
		fmt.Fprintln(stderr, "\nCredentials, for CONVO_PROVIDER:")
		for _, p := range convo.Providers() {
			fmt.Fprintf(stderr, "  %-14s %s\n", p.Name(), p.CredentialHelp())
		}
	}
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0
		}
		return 1
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(stderr, "quickstart: unexpected arguments: %s\n", strings.Join(fs.Args(), " "))
		return 1
	}

	explicit := false
	fs.Visit(func(f *flag.Flag) { explicit = explicit || f.Name == "provider" })
	real := getenv("CONVO_PROVIDER") != "" && !*demo
	name, flagName := *provider, "-provider"
	if !explicit && getenv("CONVO_PROVIDER") != "" {
		name, flagName = getenv("CONVO_PROVIDER"), "CONVO_PROVIDER"
	}
	client, banner, closeFn, err := connect(name, flagName, real, getenv)
	if err != nil {
		fmt.Fprintf(stderr, "quickstart: %v\n", err)
		return 1
	}
	defer closeFn()
	fmt.Fprintln(stdout, banner)

	ctx, cancel := context.WithTimeout(ctx, time.Minute)
	defer cancel()
	if err := show(ctx, client, *query, stdout); err != nil {
		fmt.Fprintf(stderr, "quickstart: %v\n", err)
		return 1
	}
	return 0
}

// connect returns a client of the named provider's real API when real is
// set, and of its fake server otherwise. from says where the name came
// from, for the error messages.
func connect(name, from string, real bool, getenv func(string) string) (client *convo.Client, banner string, closeFn func(), err error) {
	p, ok := convo.ProviderByName(name)
	if !ok {
		return nil, "", nil, fmt.Errorf("unknown %s %q (want one of %s)", from, name, providerNames())
	}
	client, closeFn, err = example.Client(p, !real, getenv, convo.WithUserAgent("convo-quickstart"))
	if err != nil {
		return nil, "", nil, fmt.Errorf("%s: %w", p.Name(), err)
	}
	if real {
		return client, fmt.Sprintf("Using the real %s API at %s", p.Name(), client.BaseURL()), closeFn, nil
	}
	return client, fmt.Sprintf("Using the built-in fake %s server (no credentials needed)", p.Name()), closeFn, nil
}

// show prints the conversations, the latest messages of the first few and
// a search.
func show(ctx context.Context, client *convo.Client, query string, w io.Writer) error {
	var convs []convo.Conversation
	for conv, err := range client.Conversations.List(ctx, nil).All() {
		if err != nil {
			return fmt.Errorf("list conversations: %w", err)
		}
		convs = append(convs, conv)
		if len(convs) == maxConversations {
			break
		}
	}
	fmt.Fprintf(w, "\nConversations (first %d):\n", len(convs))
	// AgentMessage has neither channels nor statuses: leave out empty columns.
	hasChannel := slices.ContainsFunc(convs, func(c convo.Conversation) bool { return c.Channel != "" })
	hasStatus := slices.ContainsFunc(convs, func(c convo.Conversation) bool { return c.Status != "" })
	// Vobiz reports when a conversation started, not its last message.
	hasLast := slices.ContainsFunc(convs, func(c convo.Conversation) bool { return !c.LastMessageAt.IsZero() })
	timeColumn := "STARTED"
	if hasLast {
		timeColumn = "LAST MESSAGE"
	}
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, row("ID", column(hasChannel, "CHANNEL"), column(hasStatus, "STATUS"), "CONTACT", timeColumn))
	for _, c := range convs {
		at := firstNonZero(c.StartedAt, c.CreatedAt)
		if hasLast {
			at = c.LastMessageAt
		}
		fmt.Fprintln(tw, row(c.ID, column(hasChannel, orDash(c.Channel)), column(hasStatus, orDash(c.Status)),
			orDash(c.ContactID), when(at)))
	}
	tw.Flush()

	for _, c := range convs[:min(len(convs), maxThreads)] {
		msgs, err := latest(ctx, client, c.ID, maxMessages)
		if err != nil {
			return fmt.Errorf("list messages of %s: %w", c.ID, err)
		}
		fmt.Fprintf(w, "\nLatest %d messages of %s:\n", len(msgs), c.ID)
		tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
		fmt.Fprintln(tw, "  TIME\tDIRECTION\tTEXT")
		for _, m := range msgs {
			fmt.Fprintf(tw, "  %s\t%s\t%s\n", when(m.SentAt), m.Direction, text(m))
		}
		tw.Flush()
	}

	if !client.Provider().Supports(convo.OpSearchMessages) {
		return nil
	}
	fmt.Fprintf(w, "\nSearch %q:\n", query)
	tw = tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "  TIME\tDIRECTION\tCONTACT\tTEXT")
	n := 0
	for r, err := range client.Search.Messages(ctx, &convo.SearchParams{Query: query, Limit: maxResults}).All() {
		if err != nil {
			return fmt.Errorf("search: %w", err)
		}
		fmt.Fprintf(tw, "  %s\t%s\t%s\t%s\n", when(r.SentAt), r.Direction, orDash(r.ContactName), clip(r.Content))
		n++
	}
	tw.Flush()
	fmt.Fprintf(w, "  (%d results)\n", n)
	return nil
}

// latest returns the n most recent messages of a conversation, oldest
// first. Providers list messages in different orders (newest or oldest
// first), so it reads them all and keeps the latest by timestamp.
func latest(ctx context.Context, client *convo.Client, conversationID string, n int) ([]convo.Message, error) {
	var keep []convo.Message
	for m, err := range client.Messages.List(ctx, conversationID, &convo.MessageListParams{PageSize: 100}).All() {
		if err != nil {
			return nil, err
		}
		keep = append(keep, m)
		if len(keep) > 4*n { // trim now and then to bound memory
			keep = newest(keep, n)
		}
	}
	return newest(keep, n), nil
}

func newest(msgs []convo.Message, n int) []convo.Message {
	slices.SortStableFunc(msgs, func(a, b convo.Message) int { return a.SentAt.Compare(b.SentAt) })
	return msgs[max(len(msgs)-n, 0):]
}

// text is a message's text on one line, or a note of what it is.
func text(m convo.Message) string {
	switch {
	case m.Body != "":
		return clip(m.Body)
	case !m.RedactedAt.IsZero():
		return "[redacted]"
	case m.Type != "" && m.Type != "text":
		return "[" + m.Type + "]"
	case len(m.MediaURLs) > 0:
		return "[media]"
	}
	return "(no text)"
}

func clip(s string) string {
	s = strings.Join(strings.Fields(s), " ")
	if r := []rune(s); len(r) > textWidth {
		return string(r[:textWidth-1]) + "…"
	}
	return s
}

// noColumn marks a column left out of a row.
const noColumn = "\x00"

func column(show bool, v string) string {
	if !show {
		return noColumn
	}
	return v
}

// row is an indented tabwriter row of the cells that are not noColumn.
func row(cells ...string) string {
	cells = slices.DeleteFunc(cells, func(c string) bool { return c == noColumn })
	return "  " + strings.Join(cells, "\t")
}

func when(t time.Time) string {
	if t.IsZero() {
		return "-"
	}
	return t.UTC().Format("2006-01-02 15:04")
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

func firstNonZero(ts ...time.Time) time.Time {
	for _, t := range ts {
		if !t.IsZero() {
			return t
		}
	}
	return time.Time{}
}

// providerNames lists the providers convo speaks: "vobiz, vantaxai, …".
func providerNames() string {
	var names []string
	for _, p := range convo.Providers() {
		names = append(names, p.Name())
	}
	return strings.Join(names, ", ")
}
