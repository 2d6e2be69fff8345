package main

import (
	"bytes"
	"errors"
	"fmt"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/spf13/pflag"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/convokit/convo"
)

// sampleFlagValue is a text for the flag of d that the command reads and
// the provider accepts.
func sampleFlagValue(t *testing.T, d convo.Filter) string {
	t.Helper()
	f, ok := reflect.TypeOf(convo.ConversationListParams{}).FieldByName(d.Field)
	require.True(t, ok, d.Field)
	switch reflect.Zero(f.Type).Interface().(type) {
	case string:
		if len(d.Values) > 0 {
			return d.Values[0]
		}
		return "value-1"
	case time.Time:
		return "2026-01-02T03:04:05Z"
	case *bool:
		return "false"
	}
	t.Fatalf("filter %s of type %s: teach this test a value", d.Field, f.Type)
	return ""
}

// TestFilterFlagsFromDeclarations: every filter a provider declares is a
// flag of each command that lists conversations, with the declared name
// and help, and the value given reaches the params field; an error about
// the field names the flag.
func TestFilterFlagsFromDeclarations(t *testing.T) {
	t.Parallel()
	root := newRootCmd(&env{stdout: new(bytes.Buffer), stderr: new(bytes.Buffer), getenv: func(string) string { return "" }})
	for _, p := range convo.Providers() {
		for _, d := range p.Filters() {
			t.Run(p.Name()+"/"+d.Field, func(t *testing.T) {
				for _, name := range []string{"conversations", "export", "sync"} {
					cmd, _, err := root.Find([]string{name})
					require.NoError(t, err)
					fl := cmd.Flags().Lookup(d.Flag)
					if assert.NotNil(t, fl, "%s has --%s", name, d.Flag) {
						assert.True(t, strings.HasPrefix(fl.Usage, d.Help), "%s --%s: %q", name, d.Flag, fl.Usage)
						assert.Contains(t, fl.Usage, p.Title(), "the help names %s", p.Title())
						for _, v := range d.Values {
							assert.Contains(t, fl.Usage, v)
						}
					}
				}

				var f filters
				fs := pflag.NewFlagSet("test", pflag.ContinueOnError)
				f.register(fs)
				text := sampleFlagValue(t, d)
				require.NoError(t, fs.Parse([]string{"--" + d.Flag, text}))
				params, err := f.params(0)
				require.NoError(t, err)
				got, ok := d.Value(&params)
				assert.True(t, ok, "--%s sets %s", d.Flag, d.Field)
				assert.Equal(t, text, got)
				assert.Equal(t, map[string]string{d.Flag: text}, f.given())

				perr := fmt.Errorf("mirror: sync %q: %w", "x", &convo.ParamError{Field: d.Field, Err: convo.ErrUnsupported})
				assert.Equal(t, "--"+d.Flag, flagOf(perr))
			})
		}
	}
	for field, flag := range map[string]string{"PageSize": "--page-size", "Limit": "--limit", "Cursor": "", "": ""} {
		assert.Equal(t, flag, flagOf(&convo.ParamError{Field: field, Err: convo.ErrInvalidParams}), field)
	}
	assert.Equal(t, "--base-url", flagOf(&convo.OptionError{Option: "WithBaseURL"}))
	assert.Equal(t, "", flagOf(errors.New("convo: invalid parameters: no field")))
}

// TestFilterFlagValuesRefused: a time or a boolean flag that does not
// parse is a usage error naming the flag, before any request.
func TestFilterFlagValuesRefused(t *testing.T) {
	t.Parallel()
	var f filters
	fs := pflag.NewFlagSet("test", pflag.ContinueOnError)
	f.register(fs)
	require.NoError(t, fs.Parse([]string{"--since", "yesterday"}))
	_, err := f.params(0)
	var ue *usageError
	require.ErrorAs(t, err, &ue)
	assert.Contains(t, ue.msg, "--since: not an RFC 3339 time")

	f = filters{}
	fs = pflag.NewFlagSet("test", pflag.ContinueOnError)
	f.register(fs)
	require.NoError(t, fs.Parse([]string{"--opted-in", "maybe"}))
	_, err = f.params(0)
	require.ErrorAs(t, err, &ue)
	assert.Contains(t, ue.msg, "--opted-in: want true or false")
}

// TestSearchHelpFromRegistry: the search command names the providers that
// search and their documented limits.
func TestSearchHelpFromRegistry(t *testing.T) {
	t.Parallel()
	root := newRootCmd(&env{stdout: new(bytes.Buffer), stderr: new(bytes.Buffer), getenv: func(string) string { return "" }})
	search, _, err := root.Find([]string{"search"})
	require.NoError(t, err)
	limit := search.Flags().Lookup("limit").Usage
	for _, p := range convo.Providers() {
		lo, hi, def := p.PageSizeRange(convo.OpSearchMessages)
		if !p.Supports(convo.OpSearchMessages) {
			assert.NotContains(t, search.Short, p.Title())
			assert.NotContains(t, limit, p.Title())
			continue
		}
		assert.Contains(t, search.Short, p.Title())
		assert.Contains(t, limit, fmt.Sprintf("%s: %d-%d, default %d", p.Title(), lo, hi, def))
	}
	assert.Equal(t, "Search message content (Rentalot)", search.Short)
}

func TestCLIConversations(t *testing.T) {
	t.Parallel()
	for _, p := range convo.Providers() {
		t.Run(p.Name(), func(t *testing.T) {
			r := convoRun(t, nil, "conversations", "--demo", "--provider", p.Name())
			require.Equal(t, 0, r.code, r.stderr)
			assert.Empty(t, r.stderr)
			got := jsonLines[convo.Conversation](t, r.stdout) // JSON lines: stdout is not a terminal
			var ids, want []string
			for _, c := range got {
				ids = append(ids, c.ID)
			}
			for _, c := range demoData(p).Conversations {
				want = append(want, c.Conversation.ID)
			}
			assert.Equal(t, want, ids)
		})
	}
	t.Run("CONVO_PROVIDER and a filter", func(t *testing.T) {
		r := convoRun(t, []string{"CONVO_PROVIDER=vantaxai"}, "conversations", "--status", "open", "--demo", "--page-size", "5")
		require.Equal(t, 0, r.code, r.stderr)
		got := jsonLines[convo.Conversation](t, r.stdout)
		want := 0
		for _, c := range demoData(convo.VantaxAI).Conversations {
			if c.Conversation.Status == "open" {
				want++
			}
		}
		require.Positive(t, want)
		assert.Len(t, got, want)
		for _, c := range got {
			assert.Equal(t, "open", c.Status)
		}
	})
	t.Run("table", func(t *testing.T) {
		r := convoRun(t, nil, "conversations", "--demo", "--provider", "vantaxai", "--table")
		require.Equal(t, 0, r.code, r.stderr)
		lines := strings.Split(strings.TrimRight(r.stdout, "\n"), "\n")
		require.Len(t, lines, len(demoData(convo.VantaxAI).Conversations)+1)
		assert.Regexp(t, `^ID\s+CONTACT\s+CHANNEL\s+STATUS\s+LAST MESSAGE \(UTC\)$`, lines[0], "one timestamp")
		r = convoRun(t, nil, "conversations", "--demo", "--provider", "vantaxai", "--wide")
		require.Equal(t, 0, r.code, r.stderr)
		assert.Regexp(t, `^ID\s+CONTACT\s+CHANNEL\s+STATUS\s+LAST MESSAGE \(UTC\)\s+CREATED \(UTC\)\n`, r.stdout, lines[0])
		first := demoData(convo.VantaxAI).Conversations[0].Conversation
		assert.True(t, strings.HasPrefix(lines[1], first.ID+" "), lines[1])
		// Aligned: every row's second column starts where the header's does.
		col := strings.Index(lines[0], "CONTACT")
		for _, l := range lines[1:] {
			assert.Equal(t, " ", l[col-1:col], l)
			assert.NotEqual(t, " ", l[col:col+1], l)
		}
	})
}

func TestCLIMessages(t *testing.T) {
	t.Parallel()
	for _, p := range convo.Providers() {
		t.Run(p.Name(), func(t *testing.T) {
			c := demoData(p).Conversations[1]
			// Flags after the positional argument.
			r := convoRun(t, nil, "messages", c.Conversation.ID, "--demo", "--provider", p.Name())
			require.Equal(t, 0, r.code, r.stderr)
			var ids []string
			for _, m := range jsonLines[convo.Message](t, r.stdout) {
				ids = append(ids, m.ID)
				assert.Equal(t, c.Conversation.ID, m.ConversationID)
			}
			assert.Equal(t, wantMessages(p, c), ids)
		})
	}
}

func TestCLISearch(t *testing.T) {
	t.Parallel()
	r := convoRun(t, nil, "search", "--provider=rentalot", "bedroom", "--demo", "--limit", "50")
	require.Equal(t, 0, r.code, r.stderr)
	got := jsonLines[convo.SearchResult](t, r.stdout)
	require.NotEmpty(t, got)
	for _, res := range got {
		assert.Contains(t, strings.ToLower(res.Content), "bedroom")
		assert.NotEmpty(t, res.ConversationID)
	}
	for _, p := range []string{"vobiz", "vantaxai", "agentmessage"} {
		r := convoRun(t, nil, "search", "bedroom", "--demo", "--provider", p)
		assert.Equal(t, 2, r.code, "%s has no search: a usage error", p)
		assert.Contains(t, r.stderr, "search")
		assert.Empty(t, r.stdout)
	}
}

func TestListingFormatFollowsTerminal(t *testing.T) {
	t.Parallel()
	r := runInProcess(t, true, true, "conversations", "--demo", "--provider", "rentalot")
	require.Equal(t, 0, r.code, r.stderr)
	assert.True(t, strings.HasPrefix(r.stdout, "ID "), "a table on a terminal")
	r = runInProcess(t, true, true, "conversations", "--demo", "--provider", "rentalot", "--json")
	require.Equal(t, 0, r.code, r.stderr)
	assert.Len(t, jsonLines[convo.Conversation](t, r.stdout), len(demoData(convo.Rentalot).Conversations))
	r = runInProcess(t, false, false, "messages", demoData(convo.Rentalot).Conversations[0].Conversation.ID, "--demo", "--provider", "rentalot", "--table")
	require.Equal(t, 0, r.code, r.stderr)
	assert.Regexp(t, `^ID\s+SENT \(UTC\)\s+BODY\n`, r.stdout)
}
