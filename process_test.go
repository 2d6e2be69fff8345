package convo

import (
	"context"
	"flag"
	"os"
	"os/exec"
	"regexp"
	"runtime"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"go.uber.org/goleak"

	"github.com/convokit/convo/internal/testproc"
)

func TestMain(m *testing.M) { testproc.Main(m) }

// ownProcessEnv names, in the environment of a process InOwnProcess starts,
// the test that process is to run.
const ownProcessEnv = "CONVO_TEST_OWN_PROCESS"

// InOwnProcess runs the calling test again, alone, in a process of its own
// (this test binary, -test.run naming only that test or subtest), and
// reports whether the caller is that process and should go on with the
// test. In the process that called it, it marks the test parallel, waits
// for the other process and fails the test with its output unless it
// passed, and returns false. A subtest that calls it runs in parallel with
// its siblings, each in its own process.
//
// A test that measures the process's heap or counts its goroutines thus
// measures only itself, whatever runs beside it, and no longer holds up
// every other test by running alone.
func InOwnProcess(t *testing.T) bool {
	t.Helper()
	if os.Getenv(ownProcessEnv) == t.Name() {
		return true
	}
	t.Parallel()
	var run []string
	for _, part := range strings.Split(t.Name(), "/") {
		run = append(run, "^"+regexp.QuoteMeta(part)+"$")
	}
	args := []string{"-test.run=" + strings.Join(run, "/"), "-test.count=1", "-test.v"}
	if testing.Short() {
		args = append(args, "-test.short")
	}
	deadline, ok := t.Deadline()
	if !ok {
		deadline = time.Now().Add(10 * time.Minute)
	}
	ctx, cancel := context.WithDeadline(context.Background(), deadline.Add(-5*time.Second))
	defer cancel()
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.CommandContext(ctx, exe, args...)
	cmd.Env = append(os.Environ(), ownProcessEnv+"="+t.Name(), testproc.RaceExitNoSleep())
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("%s in its own process: %v\n%s", t.Name(), err, out)
	}
	switch {
	case strings.Contains(string(out), "--- PASS: "+t.Name()+" "):
		if testing.Verbose() {
			t.Logf("in its own process:\n%s", out)
		}
	case strings.Contains(string(out), "--- SKIP: "+t.Name()+" "):
		t.Skipf("skipped in its own process:\n%s", out)
	default:
		t.Fatalf("%s did not run in its own process:\n%s", t.Name(), out)
	}
	return false
}

// VerifyNoGoroutineLeft fails t if goroutines other than those opts ignore
// are still running 10 s from now. goleak.VerifyNone waits well under a
// second for goroutines on their way out, which a loaded machine can
// exceed; this looks again, every 50 ms, for up to 10 s.
func VerifyNoGoroutineLeft(t testing.TB, opts ...goleak.Option) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		err := goleak.Find(opts...)
		if err == nil {
			return
		}
		if time.Now().After(deadline) {
			t.Errorf("goroutines left after 10 s: %v", err)
			return
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// The tests' setup (testproc.Setup, from TestMain) makes -parallel four
// times GOMAXPROCS unless the command line sets it.
func TestSetupRaisesParallel(t *testing.T) {
	for _, a := range os.Args[1:] {
		if strings.HasPrefix(strings.TrimLeft(a, "-"), "test.parallel") {
			t.Skipf("-parallel is set on the command line (%s)", a)
		}
	}
	assert.Equal(t, strconv.Itoa(4*runtime.GOMAXPROCS(0)), flag.Lookup("test.parallel").Value.String())
}

// RaceEnabled reports whether the tests run with the race detector.
const RaceEnabled = raceEnabled

// Thorough reports whether the tests run at their full size: neither under
// -short (the quick loop) nor under the race detector, which makes each
// request and decode several times slower and is there for interleavings,
// not volume. The tests whose strength is volume (long lists, many rounds,
// every mutation of every fixture) run a fraction of it otherwise; CI runs
// them in full in its step with the oldest supported Go, which has no
// -race.
func Thorough() bool { return !testing.Short() && !raceEnabled }
