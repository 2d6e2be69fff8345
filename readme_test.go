package convo_test

import (
	"go/parser"
	"go/token"
	"os"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/convokit/convo"
)

// The README shows examples/testing/inbox_test.go verbatim, so the snippet
// it shows is a file that compiles and passes.
func TestReadmeShowsCompilingConvotestSnippet(t *testing.T) {
	t.Parallel()
	readme, err := os.ReadFile("README.md")
	require.NoError(t, err)
	snippet, err := os.ReadFile("examples/testing/inbox_test.go")
	require.NoError(t, err)
	assert.Contains(t, string(readme), "```go\n"+string(snippet)+"```")
}

// The README's "Keeping a copy up to date" shows examples/uptodate/uptodate.go
// verbatim, whose test runs it against convotest with live data.
func TestReadmeShowsCompilingUpdater(t *testing.T) {
	t.Parallel()
	readme, err := os.ReadFile("README.md")
	require.NoError(t, err)
	snippet, err := os.ReadFile("examples/uptodate/uptodate.go")
	require.NoError(t, err)
	assert.Contains(t, string(readme), "## Keeping a copy up to date")
	assert.Contains(t, string(readme), "```go\n"+string(snippet)+"```")
}

// testCommand is the README's test command: every module's tests, from the
// repository root.
const testCommand = "go test ./... ./mirror/... ./cmd/convo/..."

// The README's first two commands are the quickstart and the tests, and CI
// runs that same test command (with the race detector).
func TestReadmeCommands(t *testing.T) {
	t.Parallel()
	readme, err := os.ReadFile("README.md")
	require.NoError(t, err)
	var cmds []string
	for _, line := range strings.Split(string(readme), "\n") {
		if strings.HasPrefix(line, "go run ") || strings.HasPrefix(line, "go test ") {
			cmd, _, _ := strings.Cut(line, "#")
			cmds = append(cmds, strings.Join(strings.Fields(cmd), " "))
		}
	}
	require.GreaterOrEqual(t, len(cmds), 2)
	assert.Equal(t, []string{"go run ./examples/quickstart", testCommand}, cmds[:2])
	ci, err := os.ReadFile(".ci/run")
	require.NoError(t, err)
	assert.Contains(t, string(ci), "go test -race -count=1 "+strings.TrimPrefix(testCommand, "go test "), "CI runs the README's test command")
}

// The README states the oldest supported Go, which is go.mod's go line, and
// CI tests with that release.
func TestReadmeGoVersion(t *testing.T) {
	t.Parallel()
	mod, err := os.ReadFile("go.mod")
	require.NoError(t, err)
	var goLine string
	for _, line := range strings.Split(string(mod), "\n") {
		if v, ok := strings.CutPrefix(line, "go "); ok {
			goLine = strings.TrimSpace(v)
		}
	}
	require.NotEmpty(t, goLine)
	minor := goLine
	if i := strings.LastIndex(goLine, "."); strings.Count(goLine, ".") == 2 {
		minor = goLine[:i]
	}
	readme, err := os.ReadFile("README.md")
	require.NoError(t, err)
	assert.Contains(t, string(readme), "Go "+minor+" or newer")
	ci, err := os.ReadFile(".ci/run")
	require.NoError(t, err)
	assert.Contains(t, string(ci), "OLDEST_GO=go"+minor+".", "CI tests with the oldest supported Go")
	assert.Contains(t, string(ci), "GOTOOLCHAIN=$OLDEST_GO go test")
}

// The release basics: an MIT LICENSE, and a CHANGELOG with a section for
// the Version the SDK and the command report.
func TestReleaseFiles(t *testing.T) {
	t.Parallel()
	license, err := os.ReadFile("LICENSE")
	require.NoError(t, err)
	assert.True(t, strings.HasPrefix(string(license), "MIT License\n"))
	assert.Contains(t, string(license), "Copyright (c) 2026 The convo authors")
	changelog, err := os.ReadFile("CHANGELOG.md")
	require.NoError(t, err)
	assert.Contains(t, string(changelog), "\n## ["+convo.Version+"]\n", "the CHANGELOG has the current version")
	assert.Contains(t, string(changelog), "\n## [Unreleased]\n")
}

// The package documentation points to the fake (convotest) and to the
// database copy (mirror), which users would not find from the SDK alone.
func TestPackageDocPointsToMirrorAndConvotest(t *testing.T) {
	t.Parallel()
	f, err := parser.ParseFile(token.NewFileSet(), "doc.go", nil, parser.ParseComments|parser.PackageClauseOnly)
	require.NoError(t, err)
	require.NotNil(t, f.Doc)
	doc := f.Doc.Text()
	assert.Contains(t, doc, "[github.com/convokit/convo/convotest]")
	assert.Contains(t, doc, "[github.com/convokit/convo/mirror]")
}
