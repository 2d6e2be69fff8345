// Package testproc holds what convo's tests need to run processes of
// their own.
package testproc

import (
	"os"
	"slices"
	"strings"
)

// RaceExitNoSleep is the GORACE setting, as an environment entry, for a
// child process that is a test binary: under the race detector a process
// sleeps before it exits (GORACE's atexit_sleep_ms, a second by default),
// which each child would add to the tests' time. A setting of the
// caller's own is kept.
func RaceExitNoSleep() string {
	v := os.Getenv("GORACE")
	if strings.Contains(v, "atexit_sleep_ms") {
		return "GORACE=" + v
	}
	return "GORACE=" + strings.TrimSpace(v+" atexit_sleep_ms=0")
}

// convoVariables are the prefixes of the variables convo's command and
// examples read: their own, and each provider's credentials.
var convoVariables = []string{"CONVO_", "VOBIZ_", "VANTAXAI_", "RENTALOT_", "AGENTMESSAGE_"}

// WithoutConvoVariables returns env without the variables convo's command
// and examples read, for a child process that should see only what its
// test gives it.
func WithoutConvoVariables(env []string) []string {
	var out []string
	for _, kv := range env {
		k, _, _ := strings.Cut(kv, "=")
		if !slices.ContainsFunc(convoVariables, func(p string) bool { return strings.HasPrefix(k, p) }) {
			out = append(out, kv)
		}
	}
	return out
}
