package main

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"iter"
	"reflect"
	"strconv"
	"strings"
	"time"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/convokit/convo"
)

// filterFlag is one conversation-list flag: the filter as the providers
// declare it (convo.Provider.Filters) and the value given.
type filterFlag struct {
	decl  convo.Filter
	value string
}

// filters are the conversation-list flags, shared by conversations, export
// and sync: one for each filter a provider declares, in the order of
// ConversationListParams' fields. A filter the provider does not support
// is refused by the SDK, before any request.
type filters struct{ flags []*filterFlag }

// filterDecls returns the declaration of every filter field some provider
// declares, in the order of ConversationListParams' fields, with the help
// of its flag: the declaration's, and which providers support it with which
// values ("(VantaxAI: open, pending, closed; Rentalot: active, archived)").
// The providers that declare one field agree on its flag and help (the
// SDK's tests check it).
func filterDecls() (decls []convo.Filter, help []string) {
	rt := reflect.TypeOf(convo.ConversationListParams{})
	for i := range rt.NumField() {
		var decl *convo.Filter
		var where []string
		for _, p := range convo.Providers() {
			for _, d := range p.Filters() {
				if d.Field != rt.Field(i).Name {
					continue
				}
				if decl == nil {
					decl = &d
				}
				w := p.Title()
				if len(d.Values) > 0 {
					w += ": " + strings.Join(d.Values, ", ")
				}
				where = append(where, w)
			}
		}
		if decl != nil {
			decls = append(decls, *decl)
			help = append(help, decl.Help+" ("+strings.Join(where, "; ")+")")
		}
	}
	return decls, help
}

// filterDecl returns the declaration of the filter field, if any provider
// declares it.
func filterDecl(field string) (convo.Filter, bool) {
	decls, _ := filterDecls()
	for _, d := range decls {
		if d.Field == field {
			return d, true
		}
	}
	return convo.Filter{}, false
}

func (f *filters) register(fs *pflag.FlagSet) {
	decls, help := filterDecls()
	f.flags = nil
	for i, d := range decls {
		ff := &filterFlag{decl: d}
		f.flags = append(f.flags, ff)
		fs.StringVar(&ff.value, d.Flag, "", help[i])
	}
}

// given returns the filter flags that were given, by flag name.
func (f *filters) given() map[string]string {
	m := map[string]string{}
	for _, ff := range f.flags {
		if ff.value != "" {
			m[ff.decl.Flag] = ff.value
		}
	}
	return m
}

// params converts the flags to list params.
func (f *filters) params(pageSize int) (convo.ConversationListParams, error) {
	p := convo.ConversationListParams{PageSize: pageSize}
	rv := reflect.ValueOf(&p).Elem()
	for _, ff := range f.flags {
		if ff.value == "" {
			continue
		}
		if err := setFilter(rv.FieldByName(ff.decl.Field), ff.decl.Flag, ff.value); err != nil {
			return p, err
		}
	}
	return p, nil
}

// setFilter sets a filter field from the text of its flag: a string as
// given, a time in RFC 3339, a boolean as true or false.
func setFilter(v reflect.Value, flag, s string) error {
	switch v.Interface().(type) {
	case string:
		v.SetString(s)
	case time.Time:
		t, err := time.Parse(time.RFC3339, s)
		if err != nil {
			return usagef("--%s: not an RFC 3339 time (like 2026-01-31T00:00:00Z): %q", flag, s)
		}
		v.Set(reflect.ValueOf(t))
	case *bool:
		b, err := strconv.ParseBool(s)
		if err != nil {
			return usagef("--%s: want true or false, got %q", flag, s)
		}
		v.Set(reflect.ValueOf(&b))
	default:
		return fmt.Errorf("--%s: the command cannot read a filter of type %s", flag, v.Type())
	}
	return nil
}

// newConversationsCmd is conversations: the conversations that the filter
// flags select, a page of --page-size at a time.
func newConversationsCmd(e *env) *cobra.Command {
	var c pagedListing
	var f filters
	cmd := &cobra.Command{
		Use:   "conversations",
		Short: "List conversations",
		Long: `List conversations, newest first where the provider orders them.

A filter the provider does not support is a usage error, never ignored.`,
		Args: positional(0, 0, ""),
		RunE: func(cmd *cobra.Command, args []string) error {
			params, err := f.params(c.pageSize)
			if err != nil {
				return err
			}
			cols := []column{idCol("ID"), keepCol("CONTACT", 2), keepCol("CHANNEL", 1), keepCol("STATUS", 3), keepCol("LAST MESSAGE (UTC)", 4), standIn(keepCol("CREATED (UTC)", 4))}
			list := func(client *convo.Client) iter.Seq2[convo.Conversation, error] {
				return client.Conversations.List(cmd.Context(), &params).All()
			}
			return listAll(e, &c.common, cols, list, func(conv convo.Conversation) []string {
				return []string{conv.ID, conv.ContactID, conv.Channel, conv.Status, when(conv.LastMessageAt), when(conv.CreatedAt)}
			})
		},
	}
	c.register(cmd.Flags(), e, "conversations")
	f.register(cmd.Flags())
	return cmd
}

// newMessagesCmd is messages: the messages of one conversation, a page of
// --page-size at a time.
func newMessagesCmd(e *env) *cobra.Command {
	var c pagedListing
	cmd := &cobra.Command{
		Use:   "messages CONVERSATION_ID",
		Short: "List the messages of a conversation",
		Args:  positional(1, 1, "CONVERSATION_ID"),
		RunE: func(cmd *cobra.Command, args []string) error {
			cols := []column{idCol("ID"), keepCol("SENT (UTC)", 2), keepCol("DIRECTION", 1), textCol("BODY")}
			list := func(client *convo.Client) iter.Seq2[convo.Message, error] {
				return client.Messages.List(cmd.Context(), args[0], &convo.MessageListParams{PageSize: c.pageSize}).All()
			}
			return listAll(e, &c.common, cols, list, func(msg convo.Message) []string {
				return []string{msg.ID, when(msg.SentAt), string(msg.Direction), msg.Body}
			})
		},
	}
	c.register(cmd.Flags(), e, "messages")
	return cmd
}

// newSearchCmd is search: the messages whose content matches a query, at
// most --limit, where the provider documents a search.
func newSearchCmd(e *env) *cobra.Command {
	var c common
	var limit int
	cmd := &cobra.Command{
		Use:   "search QUERY",
		Short: "Search message content (" + searchProviders() + ")",
		Args:  positional(1, 1, "QUERY"),
		RunE: func(cmd *cobra.Command, args []string) error {
			cols := []column{idCol("CONVERSATION"), keepCol("SENT (UTC)", 3), keepCol("DIRECTION", 1), minorTextCol("CONTACT", 2), textCol("CONTENT")}
			list := func(client *convo.Client) iter.Seq2[convo.SearchResult, error] {
				return client.Search.Messages(cmd.Context(), &convo.SearchParams{Query: args[0], Limit: limit}).All()
			}
			return listAll(e, &c, cols, list, func(r convo.SearchResult) []string {
				return []string{r.ConversationID, when(r.SentAt), string(r.Direction), r.ContactName, r.Content}
			})
		},
	}
	c.registerListing(cmd.Flags(), e)
	cmd.Flags().IntVar(&limit, "limit", 0, "maximum number of results (0: the provider's default; "+searchLimits()+")")
	return cmd
}

// searchProviders names the providers that document a message search:
// "Rentalot".
func searchProviders() string {
	var names []string
	for _, p := range convo.Providers() {
		if p.Supports(convo.OpSearchMessages) {
			names = append(names, p.Title())
		}
	}
	return strings.Join(names, ", ")
}

// searchLimits says the search limits each provider documents: "Rentalot:
// 1-50, default 10".
func searchLimits() string {
	var parts []string
	for _, p := range convo.Providers() {
		if lo, hi, def := p.PageSizeRange(convo.OpSearchMessages); hi > 0 {
			parts = append(parts, fmt.Sprintf("%s: %d-%d, default %d", p.Title(), lo, hi, def))
		}
	}
	return strings.Join(parts, "; ")
}

// pagedListing are the flags of a listing command that reads pages of a
// list: every listing command's and --page-size.
type pagedListing struct {
	common
	pageSize int
}

// register registers the flags; items names what a page holds.
func (l *pagedListing) register(fs *pflag.FlagSet, e *env, items string) {
	l.registerListing(fs, e)
	fs.IntVar(&l.pageSize, "page-size", 0, items+" per request (0: the provider's default)")
}

// listAll runs a listing command: it resolves the output format and the
// client, then prints every item list gives, one row of cols (or JSON
// line) each, and returns the list's first error.
func listAll[T any](e *env, c *common, cols []column, list func(*convo.Client) iter.Seq2[T, error], row func(T) []string) error {
	asJSON, err := c.asJSON(e)
	if err != nil {
		return err
	}
	client, release, err := c.client(e)
	if err != nil {
		return err
	}
	defer release()
	out := newOutput(e.stdout, asJSON, c.wide, tableWidth(e), cols...)
	return out.run(func() error {
		for item, err := range list(client) {
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
