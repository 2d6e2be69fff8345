package main

import (
	"fmt"
	"log/slog"
	"net/url"
	"strings"
	"time"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/convokit/convo"
	"github.com/convokit/convo/convotest"
)

// subcommands builds each subcommand of convo. A new subcommand is one
// more constructor here.
var subcommands = []func(e *env) *cobra.Command{
	newConversationsCmd,
	newMessagesCmd,
	newSearchCmd,
	newExportCmd,
	newSyncCmd,
	newVersionCmd,
}

// rootLong is the root command's help. The providers, their credential
// variables and the words that list them come from the SDK's registry.
func rootLong() string {
	var creds strings.Builder
	for _, p := range convo.Providers() {
		fmt.Fprintf(&creds, "  %-14s %s\n", p.Name(), p.CredentialHelp())
	}
	return `convo lists the conversations, messages and search results of a
` + providerList(convo.Provider.Title, "or") + ` account, exports them as JSON
lines, and mirrors them into a SQLite or PostgreSQL database.

Credentials come from the environment only, never from flags:
` + creds.String() + `CONVO_PROVIDER is the default of --provider, CONVO_BASE_URL of --base-url,
CONVO_DEMO_LATENCY of --demo-latency.
--demo runs against a built-in fake server with demo data, no credentials.

Exit status: 0 success, 1 API or network failure, 2 usage error,
130 interrupted (SIGINT or SIGTERM).`
}

// providerList names every provider, as name gives it, in a sentence:
// "a, b, c or d" (conj "or").
func providerList(name func(convo.Provider) string, conj string) string {
	all := convo.Providers()
	names := make([]string, len(all))
	for i, p := range all {
		names[i] = name(p)
	}
	if len(names) < 2 {
		return strings.Join(names, "")
	}
	return strings.Join(names[:len(names)-1], ", ") + " " + conj + " " + names[len(names)-1]
}

// newRootCmd builds the command tree. Its commands print to e's writers.
func newRootCmd(e *env) *cobra.Command {
	root := &cobra.Command{
		Use:     "convo",
		Short:   "Read and export " + providerList(convo.Provider.Title, "and") + " conversations",
		Long:    rootLong(),
		Version: convo.Version,
		// Bare "convo": the help on stderr, a usage error.
		RunE: func(cmd *cobra.Command, args []string) error {
			cmd.SetOut(e.stderr)
			_ = cmd.Help()
			return usagef("no command given (see 'convo --help')")
		},
		SilenceErrors: true,
		SilenceUsage:  true,
	}
	root.SetOut(e.stdout)
	root.SetErr(e.stderr)
	root.SetVersionTemplate("convo {{.Version}}\n")
	root.Flags().Bool("version", false, "print the version")
	root.SetFlagErrorFunc(func(cmd *cobra.Command, err error) error {
		return usagef("%v (see '%s --help')", err, cmd.CommandPath())
	})
	for _, sub := range subcommands {
		root.AddCommand(sub(e))
	}
	// cobra's completion command, made now so that a shell it does not
	// know is a usage error rather than its help.
	root.InitDefaultCompletionCmd()
	// cobra's help command, made now so that a topic it does not know is a
	// usage error (cobra's own prints a line and exits 0).
	root.InitDefaultHelpCmd()
	for _, c := range root.Commands() {
		if c.Name() == "help" {
			c.RunE = func(cmd *cobra.Command, args []string) error {
				target, rest, err := root.Find(args)
				if err != nil || target == nil || len(rest) > 0 || (len(args) > 0 && target == root) {
					return usagef("unknown help topic %q (see 'convo --help')", strings.Join(args, " "))
				}
				target.InitDefaultHelpFlag()
				return target.Help()
			}
		}
		if c.Name() == "completion" {
			c.Args = cobra.ArbitraryArgs
			c.RunE = func(cmd *cobra.Command, args []string) error {
				if len(args) == 0 {
					cmd.SetOut(e.stderr)
					_ = cmd.Help()
					return usagef("completion needs a shell: bash, zsh, fish or powershell")
				}
				return usagef("unknown shell %q for 'convo completion' (bash, zsh, fish or powershell)", args[0])
			}
		}
	}
	return root
}

// markRun makes every command of the tree set *ran when its own code
// starts, so that an error can be told from one of cobra's refusals.
func markRun(c *cobra.Command, ran *bool) {
	if f := c.RunE; f != nil {
		c.RunE = func(cmd *cobra.Command, args []string) error {
			*ran = true
			return f(cmd, args)
		}
	}
	for _, sub := range c.Commands() {
		markRun(sub, ran)
	}
}

// positional checks the number of positional arguments, naming what is
// missing as the usage line does.
func positional(min, max int, what string) cobra.PositionalArgs {
	return func(cmd *cobra.Command, args []string) error {
		switch {
		case len(args) < min:
			return usagef("%s needs %s (see '%s --help')", cmd.CommandPath(), what, cmd.CommandPath())
		case len(args) > max:
			return usagef("unexpected argument %q (see '%s --help')", args[max], cmd.CommandPath())
		}
		return nil
	}
}

// newVersionCmd is version: the version of the SDK the command is built
// with (convo.Version).
func newVersionCmd(e *env) *cobra.Command {
	return &cobra.Command{
		Use:   "version",
		Short: "Print the version",
		Args:  positional(0, 0, ""),
		RunE: func(cmd *cobra.Command, args []string) error {
			fmt.Fprintf(e.stdout, "convo %s\n", convo.Version)
			return nil
		},
	}
}

// common are the flags every API command takes.
type common struct {
	provider          string
	baseURL           string
	demo              bool
	demoLatency       string
	json              bool
	table             bool
	wide              bool
	verbose           bool
	maxRetries        int
	insecureCleartext bool
}

func (c *common) register(fs *pflag.FlagSet, e *env) {
	fs.StringVar(&c.provider, "provider", e.getenv("CONVO_PROVIDER"), "`name` of the provider: "+providerList(convo.Provider.Name, "or")+" (default $CONVO_PROVIDER)")
	fs.StringVar(&c.baseURL, "base-url", e.getenv("CONVO_BASE_URL"), "base `URL` of the API instead of the provider's (default $CONVO_BASE_URL)")
	fs.BoolVar(&c.insecureCleartext, "insecure-cleartext", false, "allow sending credentials over plain http:// to a host that is not loopback")
	fs.BoolVar(&c.demo, "demo", false, "run against a built-in fake server with demo data; no credentials needed")
	fs.StringVar(&c.demoLatency, "demo-latency", e.getenv("CONVO_DEMO_LATENCY"), "delay every answer of the --demo server by this `duration` (like 20ms), to watch progress or try an interruption (default $CONVO_DEMO_LATENCY)")
	fs.BoolVarP(&c.verbose, "verbose", "v", false, "log every request attempt to stderr (never a credential)")
	fs.IntVar(&c.maxRetries, "max-retries", convo.DefaultMaxRetries, "retries of a failed request after the first attempt")
	// The defaults above come from the environment: show where, not the
	// value (which may differ between two runs of --help).
	for _, name := range []string{"provider", "base-url", "demo-latency"} {
		fs.Lookup(name).DefValue = ""
	}
}

// registerListing registers the flags of a listing command: every API
// command's and the output format's.
func (c *common) registerListing(fs *pflag.FlagSet, e *env) {
	c.register(fs, e)
	fs.BoolVar(&c.json, "json", false, "print JSON lines (the default when stdout is not a terminal)")
	fs.BoolVar(&c.table, "table", false, "print an aligned table (the default on a terminal)")
	fs.BoolVar(&c.wide, "wide", false, "print a table of every column with nothing cut, however wide")
}

// asJSON decides the output format.
func (c *common) asJSON(e *env) (bool, error) {
	switch {
	case c.json && c.table:
		return false, usagef("--json and --table exclude each other")
	case c.json && c.wide:
		return false, usagef("--json and --wide exclude each other")
	}
	return c.json || (!c.table && !c.wide && !e.stdoutTTY), nil
}

// client returns a client configured by the flags and the environment, and
// a function that releases it (the demo server).
func (c *common) client(e *env) (*convo.Client, func(), error) {
	if c.provider == "" {
		return nil, nil, usagef("no provider: use --provider NAME or set CONVO_PROVIDER (%s)", providerNames())
	}
	p, ok := convo.ProviderByName(c.provider)
	if !ok {
		return nil, nil, usagef("unknown provider %q for --provider (%s)", c.provider, providerNames())
	}
	if c.maxRetries < 0 {
		return nil, nil, usagef("--max-retries must not be negative")
	}
	var latency time.Duration
	if c.demoLatency != "" {
		d, err := time.ParseDuration(c.demoLatency)
		if err != nil || d < 0 {
			return nil, nil, usagef("--demo-latency (or CONVO_DEMO_LATENCY): not a duration like 20ms: %q", c.demoLatency)
		}
		latency = d
	}
	opts := []convo.Option{convo.WithUserAgent("convo-cli"), convo.WithMaxRetries(c.maxRetries)}
	if c.verbose {
		h := slog.NewTextHandler(logPrefix{e.stderr}, &slog.HandlerOptions{Level: slog.LevelDebug, ReplaceAttr: logAttr})
		opts = append(opts, convo.WithLogger(slog.New(h)))
	}
	if c.demo {
		var sopts []convotest.Option
		if latency > 0 {
			sopts = append(sopts, convotest.WithLatency(latency))
		}
		srv := convotest.NewServer(p, sopts...)
		client, err := srv.Client(opts...)
		if err != nil {
			srv.Close()
			return nil, nil, err
		}
		return client, srv.Close, nil
	}
	auth, err := p.AuthFromEnv(e.getenv)
	if err != nil {
		return nil, nil, usagef("%s: set %s (or use --demo)", p.Name(), p.CredentialHelp())
	}
	opts = append(opts, convo.WithAuth(auth))
	if c.baseURL != "" {
		if u, err := url.Parse(c.baseURL); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			return nil, nil, usagef("--base-url: not an absolute http:// or https:// URL: %q", c.baseURL)
		}
		if err := c.checkCleartext(); err != nil {
			return nil, nil, err
		}
		opts = append(opts, convo.WithBaseURL(c.baseURL))
		if c.insecureCleartext {
			opts = append(opts, convo.WithInsecureCleartextCredentials())
		}
	}
	client, err := convo.NewClient(p, opts...)
	if err != nil {
		return nil, nil, err
	}
	return client, func() {}, nil
}

// checkCleartext refuses an http:// base URL of a host that is not
// loopback unless --insecure-cleartext is given, naming the flag (the
// SDK's own refusal names its option, which a CLI user cannot pass). The
// rule is the SDK's (convo.CleartextCredentials).
func (c *common) checkCleartext() error {
	host, cleartext := convo.CleartextCredentials(c.baseURL)
	if !cleartext || c.insecureCleartext {
		return nil
	}
	return usagef("--base-url: refusing to send credentials in clear text to %s; use https, or pass --insecure-cleartext to allow it", host)
}

// providerNames lists the providers' names for a message: "vobiz,
// vantaxai, rentalot, agentmessage".
func providerNames() string {
	var names []string
	for _, p := range convo.Providers() {
		names = append(names, p.Name())
	}
	return strings.Join(names, ", ")
}
