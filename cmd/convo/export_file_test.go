package main

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/convokit/convo"
)

func TestCLIExportResumeRefusals(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	out := filepath.Join(dir, "export.jsonl")
	cpPath := out + ".checkpoint"
	const partial = `{"kind":"conversation","conversation_id":"c1","conversation":{"id":"c1"}}` + "\n"
	writeCP := func(provider, output string, offset int64, filters map[string]string) {
		require.NoError(t, os.WriteFile(out, []byte(partial), 0o600))
		meta, err := json.Marshal(exportMeta{Output: output, Offset: offset, Filters: filters})
		require.NoError(t, err)
		doc := fmt.Sprintf(`{"version":1,"provider":%q,"conversations":0,"messages":0,"meta":%s}`, provider, meta)
		require.NoError(t, os.WriteFile(cpPath, []byte(doc), 0o600))
	}
	args := []string{"export", "--demo", "--provider", "vantaxai", "--out", out}
	tests := []struct {
		name  string
		setup func()
		args  []string
		says  string
	}{
		{"other provider", func() { writeCP("rentalot", out, 3, nil) }, nil, "made for provider rentalot, not vantaxai"},
		{"other output", func() { writeCP("vantaxai", filepath.Join(dir, "other.jsonl"), 3, nil) }, nil, "belongs to the output"},
		{"other filters", func() { writeCP("vantaxai", out, 3, map[string]string{"status": "open"}) },
			[]string{"--status", "closed"}, `made with --status "open", not "closed"`},
		{"filter dropped", func() { writeCP("vantaxai", out, 3, map[string]string{"channel": "sms"}) },
			nil, `with --channel "sms", which is now not given`},
		{"filter added", func() { writeCP("vantaxai", out, 3, nil) },
			[]string{"--status", "open"}, `without --status, which is now "open"`},
		{"file shorter than covered", func() { writeCP("vantaxai", out, 1000, nil) }, nil, "fewer than the 1000 it covers"},
		{"corrupt", func() {
			require.NoError(t, os.WriteFile(out, []byte(partial), 0o600))
			require.NoError(t, os.WriteFile(cpPath, []byte("{"), 0o600))
		}, nil, "cannot be read"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tt.setup()
			before := readFile(t, cpPath)
			r := convoRun(t, nil, append(append(slices.Clone(args), tt.args...), "-v")...)
			assert.Equal(t, 2, r.code, r.stderr)
			assert.Contains(t, r.stderr, tt.says)
			assert.Contains(t, r.stderr, "pass --restart")
			assert.NotContains(t, r.stderr, "run the same command again")
			assert.NotContains(t, r.stderr, "attempt", "refused before any request")
			assert.Equal(t, 1, strings.Count(r.stderr, "convo: "), r.stderr)
			assert.Equal(t, partial, readFile(t, out), "the output is left alone")
			assert.Equal(t, before, readFile(t, cpPath), "the checkpoint is left alone")

			// --restart starts over: a whole export, with a new checkpoint.
			r = convoRun(t, nil, append(append(slices.Clone(args), tt.args...), "--restart")...)
			require.Equal(t, 0, r.code, r.stderr)
			assertDoneCheckpoint(t, cpPath)
			if len(tt.args) == 0 {
				checkExport(t, convo.VantaxAI, out)
			}
		})
	}
}

func TestCLIExportNeverOverwritesOtherFiles(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	notes := filepath.Join(dir, "notes.txt")
	require.NoError(t, os.WriteFile(notes, []byte("my notes\n"), 0o600))
	r := convoRun(t, nil, "export", "--demo", "--provider", "vobiz", "--out", notes, "-v")
	assert.Equal(t, 2, r.code, r.stderr)
	assert.Contains(t, r.stderr, "is not a convo export")
	assert.Contains(t, r.stderr, "--force")
	assert.NotContains(t, r.stderr, "attempt", "refused before any request")
	assert.Equal(t, "my notes\n", readFile(t, notes))
	assert.NoFileExists(t, notes+".checkpoint")

	r = convoRun(t, nil, "export", "--demo", "--provider", "vobiz", "--out", notes, "--force")
	require.Equal(t, 0, r.code, r.stderr)
	checkExport(t, convo.Vobiz, notes)

	// An export's own file (here, the one just written) is rewritten
	// without --force, and an empty file too.
	r = convoRun(t, nil, "export", "--demo", "--provider", "vobiz", "--out", notes)
	require.Equal(t, 0, r.code, r.stderr)
	checkExport(t, convo.Vobiz, notes)
	empty := filepath.Join(dir, "empty.jsonl")
	require.NoError(t, os.WriteFile(empty, nil, 0o600))
	r = convoRun(t, nil, "export", "--demo", "--provider", "rentalot", "--out", empty)
	require.Equal(t, 0, r.code, r.stderr)
	checkExport(t, convo.Rentalot, empty)

	// A directory is no file to write.
	r = convoRun(t, nil, "export", "--demo", "--provider", "vobiz", "--out", dir)
	assert.Equal(t, 2, r.code, r.stderr)
	assert.Contains(t, r.stderr, "not a regular file")

	// A refused filter leaves an existing export as it was.
	before := readFile(t, notes)
	r = convoRun(t, nil, "export", "--demo", "--provider", "vobiz", "--out", notes, "--status", "open")
	assert.Equal(t, 2, r.code, r.stderr)
	assert.Equal(t, before, readFile(t, notes))
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

func TestCLIExportCheckpointNotWritable(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	blocker := filepath.Join(dir, "file")
	require.NoError(t, os.WriteFile(blocker, []byte("x"), 0o600))
	out := filepath.Join(dir, "export.jsonl")
	for name, cp := range map[string]string{
		"parent is a file":  filepath.Join(blocker, "export.checkpoint"),
		"missing directory": filepath.Join(dir, "no", "such", "dir", "export.checkpoint"),
		"a directory":       dir,
	} {
		t.Run(name, func(t *testing.T) {
			r := convoRun(t, nil, "export", "--demo", "--provider", "vobiz", "--out", out, "--checkpoint", cp, "-v")
			assert.Equal(t, 2, r.code, r.stderr)
			assert.Contains(t, r.stderr, "--checkpoint "+cp+" cannot be written")
			assert.NotContains(t, r.stderr, "attempt", "found before any request")
			assert.NoFileExists(t, out)
		})
	}
}

func TestCLIExportCrashAndResume(t *testing.T) {
	if testing.Short() {
		t.Skip("crashes and resumes exports of the built command; runs without -short")
	}
	t.Parallel()
	// SIGKILL gives the export no chance to save: the file may hold lines
	// after the last checkpoint, which the resumed export must drop.
	p := convo.Rentalot
	dir := t.TempDir()
	out := filepath.Join(dir, "export.jsonl")
	args := []string{"export", "--demo", "--provider", p.Name(), "--out", out, "-v", "--page-size", "10", "--save-every", "20ms"}
	cmd, wait := startExport(t, args, 30)
	require.NoError(t, cmd.Process.Kill())
	r := wait()
	require.NotEqual(t, 0, r.code)
	require.FileExists(t, out+".checkpoint", "saved during the export")
	cp, err := convo.LoadCheckpoint(out + ".checkpoint")
	require.NoError(t, err)
	var meta exportMeta
	require.NoError(t, json.Unmarshal(cp.Meta(), &meta))
	st, err := os.Stat(out)
	require.NoError(t, err)
	assert.GreaterOrEqual(t, st.Size(), meta.Offset, "the checkpoint never runs ahead of the file")

	r = convoRun(t, nil, args...)
	require.Equal(t, 0, r.code, r.stderr)
	checkExport(t, p, out)
}

// An --out that cannot be written is blamed on --out, also when the
// checkpoint would go beside it; --out - is refused without a file "-".
func TestCLIExportOutNotWritable(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	blocker := filepath.Join(dir, "file")
	require.NoError(t, os.WriteFile(blocker, []byte("x"), 0o600))
	for _, out := range []string{filepath.Join(blocker, "export.jsonl"), filepath.Join(dir, "no", "such", "export.jsonl")} {
		r := convoRun(t, nil, "export", "--demo", "--provider", "rentalot", "--out", out, "-v")
		assert.Equal(t, 2, r.code, r.stderr)
		assert.Contains(t, r.stderr, "--out "+out+" cannot be written")
		assert.NotContains(t, r.stderr, "--checkpoint")
		assert.NotContains(t, r.stderr, "attempt", "found before any request")
	}
	r := convoRun(t, nil, "export", "--demo", "--provider", "rentalot", "--out", "-")
	assert.Equal(t, 2, r.code, r.stderr)
	assert.Contains(t, r.stderr, "--out -: an export cannot go to standard output")
	assert.Empty(t, r.stdout)
	assert.NoFileExists(t, "-")
	assert.NoFileExists(t, "-.checkpoint")
}
