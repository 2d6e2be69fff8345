package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strings"
	"syscall"

	"golang.org/x/term"

	"github.com/convokit/convo"
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
		width:     terminalWidth(os.Stdout),
		getenv:    os.Getenv,
		args:      os.Args,
	}
	os.Exit(run(ctx, e, os.Args[1:]))
}

// env is the process's surroundings, gathered once.
type env struct {
	stdout, stderr       io.Writer
	stdoutTTY, stderrTTY bool
	width                int // the terminal's columns; 0: not a terminal (tables use 80)
	getenv               func(string) string
	args                 []string // the whole command line, for the resume hint
}

// isTerminal reports whether f is a terminal. A character device that is
// not a terminal (/dev/null) is not one.
func isTerminal(f *os.File) bool { return term.IsTerminal(int(f.Fd())) }

// terminalWidth returns the number of columns of the terminal f, or 0.
func terminalWidth(f *os.File) int {
	if !isTerminal(f) {
		return 0
	}
	w, _, err := term.GetSize(int(f.Fd()))
	if err != nil || w <= 0 {
		return 0
	}
	return w
}

// run executes the command line args (without the program name) and
// returns the exit status.
func run(ctx context.Context, e *env, args []string) int {
	root := newRootCmd(e)
	if args == nil {
		args = []string{} // cobra reads os.Args when given nil
	}
	root.SetArgs(args)
	ran := false // whether a command's own code ran (else cobra refused the line)
	markRun(root, &ran)
	err := root.ExecuteContext(ctx)
	if err != nil && !ran {
		var ue *usageError
		if !errors.As(err, &ue) && !errors.Is(err, errReported) {
			err = &usageError{msg: err.Error() + " (see 'convo --help')"}
		}
	}
	return finish(e, err)
}

// Errors that decide the exit status.
var (
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
	case err == nil:
		return exitOK
	case errors.Is(err, errInterrupted):
		return exitInterrupted
	case errors.Is(err, errReported):
		return exitFailure
	case errors.As(err, &ue):
		printErr(e, ue.msg)
		return exitUsage
	case errors.Is(err, convo.ErrInvalidParams), errors.Is(err, convo.ErrUnsupported), errors.Is(err, convo.ErrInvalidOption):
		printErr(e, flagNames(err))
		return exitUsage
	case errors.Is(err, context.Canceled):
		printErr(e, "interrupted")
		return exitInterrupted
	}
	printErr(e, failureText(err))
	return exitFailure
}

// optionFlags maps the SDK's client options to the flags that set them.
var optionFlags = map[string]string{"WithBaseURL": "--base-url", "WithMaxRetries": "--max-retries"}

// flagNames adds to an SDK error about a params field or a client option
// the flag that set it, as --help spells it: "… Status "active" is not one
// of open, pending, closed (--status)". It reads the error's type
// (ParamError.Field, OptionError.Option), never its text.
func flagNames(err error) string {
	msg := err.Error()
	flag := flagOf(err)
	if flag != "" && !strings.Contains(msg, "("+flag+")") {
		msg += " (" + flag + ")"
	}
	return msg
}

// flagOf names the flag that sets what err is about: a filter's flag as
// the SDK's providers declare it (convo.Provider.Filters), --page-size,
// --limit, or an option's flag; "" when no flag sets it.
func flagOf(err error) string {
	var pe *convo.ParamError
	var oe *convo.OptionError
	switch {
	case errors.As(err, &pe):
		switch pe.Field {
		case "PageSize":
			return "--page-size"
		case "Limit":
			return "--limit"
		}
		if d, ok := filterDecl(pe.Field); ok {
			return "--" + d.Flag
		}
	case errors.As(err, &oe):
		return optionFlags[oe.Option]
	}
	return ""
}

// printErr prints one message on stderr, on one line. The SDK's errors
// say "convo: " once, at their start; the command's own messages get it
// here.
func printErr(e *env, msg string) {
	msg = oneLine(msg)
	if !strings.HasPrefix(msg, "convo: ") {
		msg = "convo: " + msg
	}
	fmt.Fprintln(e.stderr, strings.TrimSpace(msg))
}
