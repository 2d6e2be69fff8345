package main

import (
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"path/filepath"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/convokit/convo"
)

// failureText is the one line the command prints for err: its message, on
// one line, and for a refused credential (401, 403) the environment
// variables that hold it.
func failureText(err error) string {
	msg := oneLine(err.Error())
	var ae *convo.APIError
	if errors.As(err, &ae) && (ae.StatusCode == http.StatusUnauthorized || ae.StatusCode == http.StatusForbidden) {
		if vars := credentialHint(ae.Provider); vars != "" {
			what := "the credentials were refused"
			if ae.StatusCode == http.StatusForbidden {
				what = "the credentials lack access"
			}
			msg += " (" + what + ": check " + vars + ")"
		}
	}
	return msg
}

// credentialHint names the environment variables that hold provider's
// credentials, as the help says them: "RENTALOT_API_KEY", "VOBIZ_AUTH_ID
// and VOBIZ_AUTH_TOKEN, or VOBIZ_TOKEN"; "" for a name that is no
// provider's.
func credentialHint(provider string) string {
	p, ok := convo.ProviderByName(provider)
	if !ok {
		return ""
	}
	return p.CredentialHelp()
}

// apiFailure returns the SDK's own error within err when err is the API's
// or the network's (not the database's), so that the command says it as
// the SDK does, and failureText can add what to check.
func apiFailure(err error) (error, bool) {
	var ae *convo.APIError
	if errors.As(err, &ae) {
		return ae, true
	}
	var re *convo.RequestError
	if errors.As(err, &re) {
		return re, true
	}
	return nil, false
}

// checkSyncName refuses a --name that is empty, only spaces, not UTF-8 or
// holds a control character (a newline would make the sync's state name
// a two-line surprise in every listing of it).
func checkSyncName(name string) error {
	switch {
	case strings.TrimSpace(name) == "":
		return usagef("--name must not be empty (leave it out for the default name)")
	case !utf8.ValidString(name):
		return usagef("--name %q is not valid UTF-8", name)
	case strings.IndexFunc(name, unicode.IsControl) >= 0:
		return usagef("--name %q holds a control character; use printable characters only", name)
	}
	return nil
}

// logPrefix makes every line written through it start with "convo: ", as
// every other message on stderr does: the -v log lines are
// `convo: time=… level=DEBUG msg=attempt provider=… …`, logfmt after the
// prefix. The log handler writes each record, one line, in one call.
type logPrefix struct{ w io.Writer }

// logAttr drops the "convo: " the SDK's log messages start with, which the
// line already does (logPrefix).
func logAttr(groups []string, a slog.Attr) slog.Attr {
	if len(groups) == 0 && a.Key == slog.MessageKey {
		a.Value = slog.StringValue(strings.TrimPrefix(a.Value.String(), "convo: "))
	}
	return a
}

func (l logPrefix) Write(p []byte) (int, error) {
	if _, err := fmt.Fprintf(l.w, "convo: %s", p); err != nil {
		return 0, err
	}
	return len(p), nil
}

// sayResume tells, on stderr, how to resume an interrupted run: run its
// command line, args, again.
func sayResume(e *env, args []string) {
	fmt.Fprintf(e.stderr, "convo: to resume, run the same command again:\n  %s\n", shellQuote(args))
}

// shellQuote renders args as a command line to paste into a POSIX shell.
func shellQuote(args []string) string {
	q := make([]string, len(args))
	for i, a := range args {
		if i == 0 {
			a = filepath.Base(a)
		}
		if a != "" && strings.Trim(a, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-./:=@%+,") == "" {
			q[i] = a
			continue
		}
		q[i] = "'" + strings.ReplaceAll(a, "'", `'\''`) + "'"
	}
	return strings.Join(q, " ")
}
