package main

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"iter"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/convokit/convo"
)

// filters are the conversation-list flags, shared by conversations and
// export.
type filters struct {
	status, channel, contactID, subAccountID string
	phoneNumberID, contactNumber             string
	since, optedIn                           string
}

func (f *filters) register(fs *flagSet) {
	fs.StringVar(&f.status, "status", "", "only conversations with this `status` (VantaxAI: open, pending, closed; Rentalot: active, archived)")
	fs.StringVar(&f.channel, "channel", "", "only this `channel` (VantaxAI: sms, whatsapp, facebook, instagram, email)")
	fs.StringVar(&f.contactID, "contact-id", "", "only this contact's conversations (Rentalot)")
	fs.StringVar(&f.subAccountID, "sub-account-id", "", "only this sub-account's conversations (VantaxAI)")
	fs.StringVar(&f.phoneNumberID, "phone-number-id", "", "only conversations of this number (AgentMessage)")
	fs.StringVar(&f.contactNumber, "contact-number", "", "only conversations with this contact number (AgentMessage)")
	fs.StringVar(&f.since, "since", "", "only conversations active since this RFC 3339 `time` (AgentMessage)")
	fs.StringVar(&f.optedIn, "opted-in", "", "only conversations whose contact opted in (true) or not (false) (AgentMessage)")
}

// params converts the flags to list params. Filters the provider does not
// support are refused by the SDK, before any request.
func (f *filters) params(pageSize int) (convo.ConversationListParams, error) {
	p := convo.ConversationListParams{
		PageSize: pageSize, Status: f.status, Channel: f.channel, ContactID: f.contactID,
		SubAccountID: f.subAccountID, PhoneNumberID: f.phoneNumberID, ContactNumber: f.contactNumber,
	}
	if f.since != "" {
		t, err := time.Parse(time.RFC3339, f.since)
		if err != nil {
			return p, usagef("--since: not an RFC 3339 time (like 2026-01-31T00:00:00Z): %q", f.since)
		}
		p.Since = t
	}
	if f.optedIn != "" {
		b, err := strconv.ParseBool(f.optedIn)
		if err != nil {
			return p, usagef("--opted-in: want true or false, got %q", f.optedIn)
		}
		p.OptedIn = &b
	}
	return p, nil
}

func runConversations(ctx context.Context, e *env, args []string) error {
	fs := newFlagSet("conversations")
	var c common
	var f filters
	var pageSize int
	c.register(fs, e)
	c.registerOutput(fs)
	f.register(fs)
	fs.IntVar(&pageSize, "page-size", 0, "conversations per request (0: the provider's default)")
	if _, err := fs.parse(e, args, 0, 0); err != nil {
		return err
	}
	params, err := f.params(pageSize)
	if err != nil {
		return err
	}
	out, client, release, err := c.listing(e, "ID", "CONTACT", "CHANNEL", "STATUS", "LAST MESSAGE", "CREATED")
	if err != nil {
		return err
	}
	defer release()
	return printAll(out, client.Conversations.List(ctx, &params).All(), func(conv convo.Conversation) []string {
		return []string{conv.ID, conv.ContactID, conv.Channel, conv.Status, when(conv.LastMessageAt), when(conv.CreatedAt)}
	})
}

func runMessages(ctx context.Context, e *env, args []string) error {
	fs := newFlagSet("messages")
	var c common
	var pageSize int
	c.register(fs, e)
	c.registerOutput(fs)
	fs.IntVar(&pageSize, "page-size", 0, "messages per request (0: the provider's default)")
	pos, err := fs.parse(e, args, 1, 1)
	if err != nil {
		return err
	}
	out, client, release, err := c.listing(e, "ID", "SENT", "DIRECTION", "BODY")
	if err != nil {
		return err
	}
	defer release()
	return printAll(out, client.Messages.List(ctx, pos[0], &convo.MessageListParams{PageSize: pageSize}).All(), func(msg convo.Message) []string {
		return []string{msg.ID, when(msg.SentAt), string(msg.Direction), cell(msg.Body, 72)}
	})
}

func runSearch(ctx context.Context, e *env, args []string) error {
	fs := newFlagSet("search")
	var c common
	var limit int
	c.register(fs, e)
	c.registerOutput(fs)
	fs.IntVar(&limit, "limit", 0, "maximum number of results (0: the provider's default; Rentalot: 1-50, default 10)")
	pos, err := fs.parse(e, args, 1, 1)
	if err != nil {
		return err
	}
	out, client, release, err := c.listing(e, "MESSAGE", "CONVERSATION", "SENT", "DIRECTION", "CONTACT", "CONTENT")
	if err != nil {
		return err
	}
	defer release()
	return printAll(out, client.Search.Messages(ctx, &convo.SearchParams{Query: pos[0], Limit: limit}).All(), func(r convo.SearchResult) []string {
		return []string{r.MessageID, r.ConversationID, when(r.SentAt), string(r.Direction), cell(r.ContactName, 24), cell(r.Content, 60)}
	})
}

// listing resolves the output format and the client of a listing command
// and prepares its output, a table with header or JSON lines.
func (c *common) listing(e *env, header ...string) (*output, *convo.Client, func(), error) {
	asJSON, err := c.asJSON(e)
	if err != nil {
		return nil, nil, nil, err
	}
	client, release, err := c.client(e)
	if err != nil {
		return nil, nil, nil, err
	}
	return newOutput(e.stdout, asJSON, header...), client, release, nil
}

// printAll prints every item of a list, one row (or JSON line) each, and
// returns the list's first error.
func printAll[T any](out *output, items iter.Seq2[T, error], row func(T) []string) error {
	return out.run(func() error {
		for item, err := range items {
			if err != nil {
				return err
			}
			if err := out.item(item, row(item)...); err != nil {
				return err
			}
		}
		return nil
	})
}

// output prints items as JSON lines or as an aligned table.
type output struct {
	json bool
	buf  *bufio.Writer
	enc  *json.Encoder
	tw   *tabwriter.Writer
}

func newOutput(w io.Writer, asJSON bool, header ...string) *output {
	o := &output{json: asJSON, buf: bufio.NewWriter(w)}
	if asJSON {
		o.enc = json.NewEncoder(o.buf)
		o.enc.SetEscapeHTML(false)
		return o
	}
	o.tw = tabwriter.NewWriter(o.buf, 0, 0, 2, ' ', 0)
	fmt.Fprintln(o.tw, strings.Join(header, "\t"))
	return o
}

// item prints v as a JSON line, or the cells as a table row.
func (o *output) item(v any, cells ...string) error {
	if o.json {
		return o.enc.Encode(v)
	}
	for i, c := range cells {
		if c == "" {
			cells[i] = "-"
		}
	}
	_, err := fmt.Fprintln(o.tw, strings.Join(cells, "\t"))
	return err
}

// run runs list and flushes what was printed, also when list fails.
func (o *output) run(list func() error) error {
	err := list()
	if o.tw != nil {
		if ferr := o.tw.Flush(); err == nil {
			err = ferr
		}
	}
	if ferr := o.buf.Flush(); err == nil {
		err = ferr
	}
	return err
}

// when formats a timestamp for a table; "" for the zero time.
func when(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.UTC().Format("2006-01-02 15:04:05")
}

// cell makes s fit one table cell: control characters become spaces and
// it is cut at max characters.
func cell(s string, max int) string {
	s = strings.Map(func(r rune) rune {
		if unicode.IsControl(r) {
			return ' '
		}
		return r
	}, s)
	if utf8.RuneCountInString(s) <= max {
		return s
	}
	r := []rune(s)
	return string(r[:max-1]) + "…"
}
