package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// --reset on an existing mirror forgets the sync's state: the run is a
// full sync again (as many requests as the first), where a plain rerun is
// incremental (fewer).
func TestCLISyncResetOnAnExistingDatabase(t *testing.T) {
	t.Parallel()
	eachMirrorDB(t, func(t *testing.T, mdb mirrorDB) {
		t.Parallel()
		args := []string{"sync", "--demo", "--provider", "vantaxai", "--db", mdb.arg, "-v"}
		attempts := func(extra ...string) int {
			r := convoRun(t, nil, append(args, extra...)...)
			require.Equal(t, 0, r.code, r.stderr)
			return strings.Count(r.stderr, attemptMark)
		}
		full := attempts()
		incremental := attempts()
		require.Less(t, incremental, full, "a rerun is incremental")
		assert.Equal(t, full, attempts("--reset"), "--reset makes the run a full sync")
		assert.Equal(t, incremental, attempts(), "and the next is incremental again")
	})
}

// export refuses to overwrite a JSON file that is not an export, however
// much it looks like one: only a first line that is an export record
// (kind conversation or message, with a conversation id) marks an export.
func TestCLIExportRefusesJSONThatIsNoExport(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	for name, content := range map[string]string{
		"config.json":   "{\"debug\": true, \"port\": 8080}\n",
		"kind.json":     "{\"kind\": \"conversation\"}\n",
		"other.json":    "{\"kind\": \"user\", \"conversation_id\": \"c1\"}\n",
		"array.json":    "[{\"kind\": \"message\", \"conversation_id\": \"c1\"}]\n",
		"one-line.json": "{\"kind\": \"invoice\", \"conversation_id\": \"c1\", \"total\": 3}",
	} {
		path := filepath.Join(dir, name)
		require.NoError(t, os.WriteFile(path, []byte(content), 0o600))
		r := convoRun(t, nil, "export", "--demo", "--provider", "vobiz", "--out", path, "-v")
		assert.Equal(t, exitUsage, r.code, "%s: %s", name, r.stderr)
		assert.Contains(t, r.stderr, "is not a convo export", name)
		assert.NotContains(t, r.stderr, "attempt", "%s: refused before any request", name)
		assert.Equal(t, content, readFile(t, path), name)
	}
}
