package examples_test

import (
	"context"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/convokit/convo/internal/testenv"
	"github.com/convokit/convo/internal/testproc"
)

// inChild marks the test process TestNothingLeftBehind starts.
const inChild = "CONVO_EXAMPLES_TEST_CHILD"

// A run of these tests leaves nothing behind: the example programs are
// built into a temporary directory removed at the end, never into the
// user's cache directory. The test runs this test binary again (one test
// that builds and runs every example) with a cache directory and a
// temporary directory of its own, and finds both empty once it exits.
// (The go command's own build cache, GOCACHE, is the go command's.) The
// user's cache directory is XDG_CACHE_HOME's, as on Linux.
func TestNothingLeftBehind(t *testing.T) {
	if os.Getenv(inChild) != "" {
		return
	}
	t.Parallel()
	// The go command's own caches and settings stay where they are.
	goenv, err := exec.Command("go", "env", "GOCACHE", "GOMODCACHE", "GOPATH").Output()
	require.NoError(t, err)
	paths := strings.Split(strings.TrimSpace(string(goenv)), "\n")
	require.Len(t, paths, 3)
	cache, tmp := t.TempDir(), t.TempDir()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, os.Args[0], "-test.run=^TestQuickstartFake$", "-test.count=1")
	cmd.Env = append(testenv.WithoutConvoVariables(os.Environ()),
		inChild+"=1", testproc.RaceExitNoSleep(),
		"XDG_CACHE_HOME="+cache, "TMPDIR="+tmp, "GOTMPDIR=",
		"GOCACHE="+paths[0], "GOMODCACHE="+paths[1], "GOPATH="+paths[2])
	out, err := cmd.CombinedOutput()
	require.NoError(t, err, "%s", out)
	for _, dir := range []string{cache, tmp} {
		entries, err := os.ReadDir(dir)
		require.NoError(t, err)
		var names []string
		for _, e := range entries {
			names = append(names, e.Name())
		}
		assert.Empty(t, names, "left in %s", dir)
	}
}
