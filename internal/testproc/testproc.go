// Package testproc holds what convo's tests need to run processes of
// their own. It does not import convo, whose own tests import it; what
// needs the provider registry (a child process's environment) is in
// internal/testenv.
package testproc

import (
	"flag"
	"fmt"
	"os"
	"runtime"
	"runtime/debug"
	"strconv"
	"strings"
	"testing"
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

// Setup is what each of convo's test packages does before its tests run:
// TestMain calls it, and then m.Run. It parses the command line.
//
// It makes -parallel default to four times GOMAXPROCS instead of
// GOMAXPROCS; a -parallel on the command line still wins. The parallel
// tests spend most of their time waiting (on loopback servers, timers and
// retry waits, processes of their own, SQLite's file writes), not
// computing: with one test per core, the cores sit idle.
//
// And it sets the collector to run a quarter as often as by default
// (GOGC=400): the tests allocate fast and keep little, and collecting
// less takes a tenth to a third off a package's CPU time. GOGC in the
// environment wins, and benchmarks keep the default (their figures are
// the program's); tests that measure the heap set their own.
func Setup() error {
	if err := flag.Set("test.parallel", strconv.Itoa(4*runtime.GOMAXPROCS(0))); err != nil {
		return err
	}
	flag.Parse()
	if _, set := os.LookupEnv("GOGC"); set {
		return nil
	}
	if b := flag.Lookup("test.bench"); b != nil && b.Value.String() != "" {
		return nil
	}
	debug.SetGCPercent(400)
	return nil
}

// Main is a TestMain that does Setup and then runs the tests, for a test
// package that needs nothing else before them.
func Main(m *testing.M) {
	if err := Setup(); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(2)
	}
	os.Exit(m.Run())
}
