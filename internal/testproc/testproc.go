// Package testproc holds what convo's tests need to run processes of
// their own.
package testproc

import (
	"os"
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
