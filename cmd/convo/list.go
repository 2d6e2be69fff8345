package main

import (
	"bufio"
	"encoding/json"
	"io"
	"iter"
	"strconv"
	"strings"
	"time"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/convokit/convo"
)

// filters are the conversation-list flags, shared by conversations and
// export.
type filters struct {
	status, channel, contactID, subAccountID string
	phoneNumberID, contactNumber             string
	since, optedIn                           string
}

func (f *filters) register(fs *pflag.FlagSet) {
	fs.StringVar(&f.status, "status", "", "only conversations with this `status` (VantaxAI: open, pending, closed; Rentalot: active, archived)")
	fs.StringVar(&f.channel, "channel", "", "only this `channel` (VantaxAI: sms, whatsapp, facebook, instagram, email)")
	fs.StringVar(&f.contactID, "contact-id", "", "only this contact's conversations (Rentalot)")
	fs.StringVar(&f.subAccountID, "sub-account-id", "", "only this sub-account's conversations (VantaxAI)")
	fs.StringVar(&f.phoneNumberID, "phone-number-id", "", "only conversations of this number (AgentMessage)")
	fs.StringVar(&f.contactNumber, "contact-number", "", "only conversations with this contact number (AgentMessage)")
	fs.StringVar(&f.since, "since", "", "only conversations active since this RFC 3339 `time` (AgentMessage)")
	fs.StringVar(&f.optedIn, "opted-in", "", "only conversations whose contact opted in (true) or not (false) (AgentMessage)")
}

// given returns the filter flags that were given, by flag name.
func (f *filters) given() map[string]string {
	m := map[string]string{}
	for name, v := range map[string]string{
		"status": f.status, "channel": f.channel, "contact-id": f.contactID, "sub-account-id": f.subAccountID,
		"phone-number-id": f.phoneNumberID, "contact-number": f.contactNumber, "since": f.since, "opted-in": f.optedIn,
	} {
		if v != "" {
			m[name] = v
		}
	}
	return m
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

func newConversationsCmd(e *env) *cobra.Command {
	var c common
	var f filters
	var pageSize int
	cmd := &cobra.Command{
		Use:   "conversations",
		Short: "List conversations",
		Long: `List conversations, newest first where the provider orders them.

A filter the provider does not support is a usage error, never ignored.`,
		Args: positional(0, 0, ""),
		RunE: func(cmd *cobra.Command, args []string) error {
			params, err := f.params(pageSize)
			if err != nil {
				return err
			}
			out, client, release, err := c.listing(e,
				idCol("ID"), keepCol("CONTACT", 2), keepCol("CHANNEL", 1), keepCol("STATUS", 3), keepCol("LAST MESSAGE (UTC)", 4), standIn(keepCol("CREATED (UTC)", 4)))
			if err != nil {
				return err
			}
			defer release()
			return printAll(out, client.Conversations.List(cmd.Context(), &params).All(), func(conv convo.Conversation) []string {
				return []string{conv.ID, conv.ContactID, conv.Channel, conv.Status, when(conv.LastMessageAt), when(conv.CreatedAt)}
			})
		},
	}
	c.register(cmd.Flags(), e)
	c.registerOutput(cmd.Flags())
	f.register(cmd.Flags())
	cmd.Flags().IntVar(&pageSize, "page-size", 0, "conversations per request (0: the provider's default)")
	return cmd
}

func newMessagesCmd(e *env) *cobra.Command {
	var c common
	var pageSize int
	cmd := &cobra.Command{
		Use:   "messages CONVERSATION_ID",
		Short: "List the messages of a conversation",
		Args:  positional(1, 1, "CONVERSATION_ID"),
		RunE: func(cmd *cobra.Command, args []string) error {
			out, client, release, err := c.listing(e, idCol("ID"), keepCol("SENT (UTC)", 2), keepCol("DIRECTION", 1), textCol("BODY"))
			if err != nil {
				return err
			}
			defer release()
			return printAll(out, client.Messages.List(cmd.Context(), args[0], &convo.MessageListParams{PageSize: pageSize}).All(), func(msg convo.Message) []string {
				return []string{msg.ID, when(msg.SentAt), string(msg.Direction), msg.Body}
			})
		},
	}
	c.register(cmd.Flags(), e)
	c.registerOutput(cmd.Flags())
	cmd.Flags().IntVar(&pageSize, "page-size", 0, "messages per request (0: the provider's default)")
	return cmd
}

func newSearchCmd(e *env) *cobra.Command {
	var c common
	var limit int
	cmd := &cobra.Command{
		Use:   "search QUERY",
		Short: "Search message content (Rentalot)",
		Args:  positional(1, 1, "QUERY"),
		RunE: func(cmd *cobra.Command, args []string) error {
			out, client, release, err := c.listing(e,
				idCol("CONVERSATION"), keepCol("SENT (UTC)", 3), keepCol("DIRECTION", 1), minorTextCol("CONTACT", 2), textCol("CONTENT"))
			if err != nil {
				return err
			}
			defer release()
			return printAll(out, client.Search.Messages(cmd.Context(), &convo.SearchParams{Query: args[0], Limit: limit}).All(), func(r convo.SearchResult) []string {
				return []string{r.ConversationID, when(r.SentAt), string(r.Direction), r.ContactName, r.Content}
			})
		},
	}
	c.register(cmd.Flags(), e)
	c.registerOutput(cmd.Flags())
	cmd.Flags().IntVar(&limit, "limit", 0, "maximum number of results (0: the provider's default; Rentalot: 1-50, default 10)")
	return cmd
}

// listing resolves the output format and the client of a listing command
// and prepares its output, a table with header or JSON lines.
func (c *common) listing(e *env, cols ...column) (*output, *convo.Client, func(), error) {
	asJSON, err := c.asJSON(e)
	if err != nil {
		return nil, nil, nil, err
	}
	client, release, err := c.client(e)
	if err != nil {
		return nil, nil, nil, err
	}
	return newOutput(e.stdout, asJSON, c.wide, tableWidth(e), cols...), client, release, nil
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

// output prints items as JSON lines or as a table that fits the terminal.
type output struct {
	json  bool
	buf   *bufio.Writer
	enc   *json.Encoder
	table *table
}

func newOutput(w io.Writer, asJSON, wide bool, width int, cols ...column) *output {
	o := &output{json: asJSON, buf: bufio.NewWriter(w)}
	if asJSON {
		o.enc = json.NewEncoder(o.buf)
		o.enc.SetEscapeHTML(false)
		return o
	}
	o.table = newTable(width, wide, cols...)
	return o
}

// item prints v as a JSON line, or adds the cells as a table row.
func (o *output) item(v any, cells ...string) error {
	if o.json {
		return o.enc.Encode(v)
	}
	o.table.add(cells...)
	return nil
}

// run runs list and prints what it produced, also when list fails.
func (o *output) run(list func() error) error {
	err := list()
	if o.table != nil {
		if werr := o.table.render(o.buf); err == nil {
			err = werr
		}
	}
	if ferr := o.buf.Flush(); err == nil {
		err = ferr
	}
	return err
}

// tableWidth is the width of a table: COLUMNS when it is set to a positive
// number, else the terminal's width, else defaultWidth.
func tableWidth(e *env) int {
	if n, err := strconv.Atoi(strings.TrimSpace(e.getenv("COLUMNS"))); err == nil && n > 0 {
		return n
	}
	if e.width > 0 {
		return e.width
	}
	return defaultWidth
}

// when formats a timestamp for a table, in UTC (which the column's header
// says); "" for the zero time.
func when(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.UTC().Format("2006-01-02 15:04")
}
