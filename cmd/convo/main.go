package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"github.com/convokit/convo"
	"github.com/convokit/convo/convotest"
)

// Exit statuses.
const (
	exitOK          = 0
	exitFailure     = 1   // the API or the network failed
	exitUsage       = 2   // the command line (or environment) is wrong
	exitInterrupted = 130 // SIGINT or SIGTERM
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	go func() {
		<-ctx.Done()
		stop() // a second signal ends the process at once
	}()
	e := &env{
		stdout:    os.Stdout,
		stderr:    os.Stderr,
		stdoutTTY: isTerminal(os.Stdout),
		stderrTTY: isTerminal(os.Stderr),
		getenv:    os.Getenv,
		args:      os.Args,
	}
	os.Exit(run(ctx, e, os.Args[1:]))
}

// env is the process's surroundings, gathered once.
type env struct {
	stdout, stderr       io.Writer
	stdoutTTY, stderrTTY bool
	getenv               func(string) string
	args                 []string // the whole command line, for the resume hint
}

// isTerminal reports whether f is a character device (a terminal).
func isTerminal(f *os.File) bool {
	st, err := f.Stat()
	return err == nil && st.Mode()&os.ModeCharDevice != 0
}

// commandInfo describes a subcommand for its usage text.
type commandInfo struct {
	name    string
	args    string // positional arguments, for the usage line
	summary string
}

var commandInfos = []commandInfo{
	{"conversations", "", "List conversations."},
	{"messages", "CONVERSATION_ID", "List the messages of a conversation."},
	{"search", "QUERY", "Search message content (Rentalot)."},
	{"export", "--out FILE.jsonl", "Export every conversation and its messages as JSON lines, resumably."},
	{"version", "", "Print the version."},
}

// commands maps each subcommand to its implementation.
var commands = map[string]func(ctx context.Context, e *env, args []string) error{
	"conversations": runConversations,
	"messages":      runMessages,
	"search":        runSearch,
	"export":        runExport,
	"version":       runVersion,
}

const mainUsage = `Usage: convo COMMAND [ARGS] [FLAGS]

convo lists the conversations, messages and search results of a Vobiz,
VantaxAI, Rentalot or AgentMessage account, and exports them as JSON lines.

Commands:
%s
Run "convo COMMAND --help" for the flags of a command. Flags may come before
or after the arguments.

Credentials come from the environment only:
  vobiz          VOBIZ_AUTH_ID and VOBIZ_AUTH_TOKEN, or VOBIZ_TOKEN (a JWT)
  vantaxai       VANTAXAI_API_KEY
  rentalot       RENTALOT_API_KEY
  agentmessage   AGENTMESSAGE_API_KEY
CONVO_PROVIDER is the default of --provider, CONVO_BASE_URL of --base-url.
--demo runs against a built-in fake server with demo data, no credentials.

Exit status: 0 success, 1 API or network failure, 2 usage error,
130 interrupted.
`

func printMainUsage(w io.Writer) {
	var b strings.Builder
	for _, c := range commandInfos {
		fmt.Fprintf(&b, "  %-14s %s\n", c.name, c.summary)
	}
	fmt.Fprintf(w, mainUsage, b.String())
}

// run executes the command line args (without the program name) and
// returns the exit status.
func run(ctx context.Context, e *env, args []string) int {
	if len(args) == 0 {
		printMainUsage(e.stderr)
		return exitUsage
	}
	name := args[0]
	switch name {
	case "help", "-h", "-help", "--help":
		if len(args) > 1 {
			if cmd, ok := commands[args[1]]; ok {
				return finish(e, cmd(ctx, e, []string{"--help"}))
			}
		}
		printMainUsage(e.stdout)
		return exitOK
	}
	if cmd, ok := commands[name]; ok {
		return finish(e, cmd(ctx, e, args[1:]))
	}
	fmt.Fprintf(e.stderr, "convo: unknown command %q\n\n", name)
	printMainUsage(e.stderr)
	return exitUsage
}

// Errors that decide the exit status.
var (
	errHelp        = errors.New("help printed")
	errInterrupted = errors.New("interrupted")
	errReported    = errors.New("failure already reported")
)

// usageError is a mistake on the command line or in the environment.
type usageError struct{ msg string }

func (e *usageError) Error() string { return e.msg }

func usagef(format string, args ...any) error {
	return &usageError{msg: fmt.Sprintf(format, args...)}
}

// finish prints err and maps it to an exit status.
func finish(e *env, err error) int {
	var ue *usageError
	switch {
	case err == nil, errors.Is(err, errHelp):
		return exitOK
	case errors.Is(err, errInterrupted):
		return exitInterrupted
	case errors.Is(err, errReported):
		return exitFailure
	case errors.As(err, &ue):
		fmt.Fprintf(e.stderr, "convo: %s\n", ue.msg)
		return exitUsage
	case errors.Is(err, convo.ErrInvalidParams), errors.Is(err, convo.ErrUnsupported), errors.Is(err, convo.ErrInvalidOption):
		fmt.Fprintf(e.stderr, "convo: %s\n", trimPrefix(err.Error()))
		return exitUsage
	case errors.Is(err, context.Canceled):
		fmt.Fprintln(e.stderr, "convo: interrupted")
		return exitInterrupted
	}
	fmt.Fprintf(e.stderr, "convo: %s\n", trimPrefix(err.Error()))
	return exitFailure
}

// trimPrefix drops the SDK's own "convo: " so that messages do not stutter.
func trimPrefix(s string) string { return strings.TrimPrefix(s, "convo: ") }

// flagSet is a command's flags and the usage text built from them.
type flagSet struct {
	*flag.FlagSet
	cmd commandInfo
}

func newFlagSet(name string) *flagSet {
	for _, c := range commandInfos {
		if c.name == name {
			fs := &flagSet{FlagSet: flag.NewFlagSet("convo "+name, flag.ContinueOnError), cmd: c}
			fs.SetOutput(io.Discard)
			return fs
		}
	}
	panic("convo: no command " + name)
}

func (fs *flagSet) usage(w io.Writer) {
	fmt.Fprintf(w, "Usage: convo %s", fs.cmd.name)
	if fs.cmd.args != "" {
		fmt.Fprintf(w, " %s", fs.cmd.args)
	}
	fmt.Fprintf(w, " [FLAGS]\n\n%s\n\nFlags:\n", fs.cmd.summary)
	fs.VisitAll(func(f *flag.Flag) {
		dash := "--"
		if len(f.Name) == 1 {
			dash = "-"
		}
		typ, usage := flag.UnquoteUsage(f)
		if typ != "" {
			typ = " " + typ
		}
		if d := f.DefValue; d != "" && d != "0" && d != "false" && !strings.Contains(usage, "(default") {
			usage += fmt.Sprintf(" (default %s)", d)
		}
		fmt.Fprintf(w, "  %s%s%s\n      %s\n", dash, f.Name, typ, usage)
	})
}

// parse parses flags interspersed with positional arguments (everything
// after "--" is positional) and checks the number of positionals. --help
// prints the usage on stdout and returns errHelp.
func (fs *flagSet) parse(e *env, args []string, minArgs, maxArgs int) ([]string, error) {
	var pos []string
	for {
		err := fs.Parse(args)
		if errors.Is(err, flag.ErrHelp) {
			fs.usage(e.stdout)
			return nil, errHelp
		}
		if err != nil {
			return nil, usagef("%v (see convo %s --help)", err, fs.cmd.name)
		}
		rest := fs.Args()
		if len(rest) == 0 {
			break
		}
		if n := len(args) - len(rest); n > 0 && args[n-1] == "--" {
			pos = append(pos, rest...)
			break
		}
		pos = append(pos, rest[0])
		args = rest[1:]
	}
	switch {
	case len(pos) < minArgs:
		return nil, usagef("convo %s needs %s (see convo %s --help)", fs.cmd.name, fs.cmd.args, fs.cmd.name)
	case len(pos) > maxArgs:
		return nil, usagef("unexpected argument %q (see convo %s --help)", pos[maxArgs], fs.cmd.name)
	}
	return pos, nil
}

// common are the flags every API command takes.
type common struct {
	provider   string
	baseURL    string
	demo       bool
	json       bool
	table      bool
	verbose    bool
	maxRetries int
}

func (c *common) register(fs *flagSet, e *env) {
	fs.StringVar(&c.provider, "provider", e.getenv("CONVO_PROVIDER"), "`name` of the provider: vobiz, vantaxai, rentalot or agentmessage (default $CONVO_PROVIDER)")
	fs.StringVar(&c.baseURL, "base-url", e.getenv("CONVO_BASE_URL"), "base `URL` of the API instead of the provider's (default $CONVO_BASE_URL)")
	fs.BoolVar(&c.demo, "demo", false, "run against a built-in fake server with demo data; no credentials needed")
	fs.BoolVar(&c.verbose, "v", false, "log every request attempt to stderr (never a credential)")
	fs.IntVar(&c.maxRetries, "max-retries", convo.DefaultMaxRetries, "retries of a failed request after the first attempt")
}

func (c *common) registerOutput(fs *flagSet) {
	fs.BoolVar(&c.json, "json", false, "print JSON lines (the default when stdout is not a terminal)")
	fs.BoolVar(&c.table, "table", false, "print an aligned table (the default on a terminal)")
}

// asJSON decides the output format.
func (c *common) asJSON(e *env) (bool, error) {
	if c.json && c.table {
		return false, usagef("--json and --table exclude each other")
	}
	return c.json || (!c.table && !e.stdoutTTY), nil
}

// client returns a client configured by the flags and the environment, and
// a function that releases it (the demo server).
func (c *common) client(e *env) (*convo.Client, func(), error) {
	if c.provider == "" {
		return nil, nil, usagef("no provider: use --provider NAME or set CONVO_PROVIDER (vobiz, vantaxai, rentalot, agentmessage)")
	}
	p, ok := convo.ProviderByName(c.provider)
	if !ok {
		return nil, nil, usagef("unknown provider %q (vobiz, vantaxai, rentalot, agentmessage)", c.provider)
	}
	if c.maxRetries < 0 {
		return nil, nil, usagef("--max-retries must not be negative")
	}
	opts := []convo.Option{convo.WithUserAgent("convo-cli"), convo.WithMaxRetries(c.maxRetries)}
	if c.verbose {
		h := slog.NewTextHandler(e.stderr, &slog.HandlerOptions{Level: slog.LevelDebug})
		opts = append(opts, convo.WithLogger(slog.New(h)))
	}
	if c.demo {
		var sopts []convotest.Option
		// CONVO_DEMO_LATENCY delays every answer of the demo server (for
		// trying progress and interruption on a small dataset).
		if v := e.getenv("CONVO_DEMO_LATENCY"); v != "" {
			d, err := time.ParseDuration(v)
			if err != nil || d < 0 {
				return nil, nil, usagef("CONVO_DEMO_LATENCY: not a duration: %q", v)
			}
			sopts = append(sopts, convotest.WithLatency(d))
		}
		srv := convotest.NewServer(p, sopts...)
		client, err := srv.Client(opts...)
		if err != nil {
			srv.Close()
			return nil, nil, err
		}
		return client, srv.Close, nil
	}
	auth, err := authFromEnv(p, e.getenv)
	if err != nil {
		return nil, nil, err
	}
	opts = append(opts, convo.WithAuth(auth))
	if c.baseURL != "" {
		opts = append(opts, convo.WithBaseURL(c.baseURL))
	}
	client, err := convo.NewClient(p, opts...)
	if err != nil {
		return nil, nil, err
	}
	return client, func() {}, nil
}

// authFromEnv reads the provider's credentials from the environment.
func authFromEnv(p convo.Provider, getenv func(string) string) (convo.Authenticator, error) {
	key := func(name string) (convo.Authenticator, error) {
		v := getenv(name)
		if v == "" {
			return nil, usagef("%s: set %s (or use --demo)", p.Name(), name)
		}
		return convo.Bearer(v), nil
	}
	switch p {
	case convo.Vobiz:
		id, token, jwt := getenv("VOBIZ_AUTH_ID"), getenv("VOBIZ_AUTH_TOKEN"), getenv("VOBIZ_TOKEN")
		switch {
		case id != "" && token != "":
			return convo.XAuth(id, token), nil
		case jwt != "":
			return convo.Bearer(jwt), nil
		}
		return nil, usagef("vobiz: set VOBIZ_AUTH_ID and VOBIZ_AUTH_TOKEN, or VOBIZ_TOKEN (or use --demo)")
	case convo.VantaxAI:
		return key("VANTAXAI_API_KEY")
	case convo.Rentalot:
		return key("RENTALOT_API_KEY")
	case convo.AgentMessage:
		return key("AGENTMESSAGE_API_KEY")
	}
	return nil, usagef("unknown provider %q", p.Name())
}

func runVersion(_ context.Context, e *env, args []string) error {
	fs := newFlagSet("version")
	if _, err := fs.parse(e, args, 0, 0); err != nil {
		return err
	}
	fmt.Fprintf(e.stdout, "convo %s\n", convo.Version)
	return nil
}
