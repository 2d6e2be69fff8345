package main

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"reflect"
	"regexp"
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

// TestHelpFromRegistry: the help texts and the package documentation name
// every provider of the SDK's registry, its credential variables, and every
// filter flag.
func TestHelpFromRegistry(t *testing.T) {
	t.Parallel()
	root := newRootCmd(&env{stdout: new(bytes.Buffer), stderr: new(bytes.Buffer), getenv: func(string) string { return "" }})
	doc, err := os.ReadFile("doc.go")
	require.NoError(t, err)
	conversations, _, err := root.Find([]string{"conversations"})
	require.NoError(t, err)
	for _, p := range convo.Providers() {
		assert.Contains(t, root.Short, p.Title())
		assert.Regexp(t, `\n  `+p.Name()+` +`+regexp.QuoteMeta(p.CredentialHelp())+`\n`, root.Long, "the credentials of %s", p)
		assert.Regexp(t, `\n//\t`+p.Name()+` +`+regexp.QuoteMeta(p.CredentialHelp()), string(doc), "doc.go names the credentials of %s", p)
		assert.Contains(t, conversations.Flags().Lookup("provider").Usage, p.Name())
		for _, d := range p.Filters() {
			assert.Contains(t, string(doc), "--"+d.Flag, "doc.go names the filter flag")
		}
		for _, v := range p.CredentialEnv() {
			assert.Contains(t, root.Long, v)
		}
	}
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
