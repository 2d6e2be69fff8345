package convo_test

import (
	"fmt"
	"go/parser"
	"go/token"
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
	assert.Contains(t, readFile(t, "README.md"), "```go\n"+readFile(t, "examples/testing/inbox_test.go")+"```")
}

// The README's "Keeping a copy up to date" shows examples/uptodate/uptodate.go
// verbatim, whose test runs it against convotest with live data.
func TestReadmeShowsCompilingUpdater(t *testing.T) {
	t.Parallel()
	readme := readFile(t, "README.md")
	assert.Contains(t, readme, "## Keeping a copy up to date")
	assert.Contains(t, readme, "```go\n"+readFile(t, "examples/uptodate/uptodate.go")+"```")
}

// testCommand is the README's test command: every module's tests, from the
// repository root.
const testCommand = "go test ./... ./mirror/... ./cmd/convo/..."

// The README's first two commands are the quickstart and the tests, and CI
// runs that same test command (with the race detector).
func TestReadmeCommands(t *testing.T) {
	t.Parallel()
	var cmds []string
	for _, line := range strings.Split(readFile(t, "README.md"), "\n") {
		if strings.HasPrefix(line, "go run ") || strings.HasPrefix(line, "go test ") {
			cmd, _, _ := strings.Cut(line, "#")
			cmds = append(cmds, strings.Join(strings.Fields(cmd), " "))
		}
	}
	require.GreaterOrEqual(t, len(cmds), 2)
	assert.Equal(t, []string{"go run ./examples/quickstart", testCommand}, cmds[:2])
	assert.Contains(t, readFile(t, ".ci/run"), "go test -race -count=1 "+strings.TrimPrefix(testCommand, "go test "), "CI runs the README's test command")
}

// The README states the oldest supported Go, which is go.mod's go line, and
// CI tests with that release.
func TestReadmeGoVersion(t *testing.T) {
	t.Parallel()
	var goLine string
	for _, line := range strings.Split(readFile(t, "go.mod"), "\n") {
		if v, ok := strings.CutPrefix(line, "go "); ok {
			goLine = strings.TrimSpace(v)
		}
	}
	require.NotEmpty(t, goLine)
	minor := goLine
	if i := strings.LastIndex(goLine, "."); strings.Count(goLine, ".") == 2 {
		minor = goLine[:i]
	}
	assert.Contains(t, readFile(t, "README.md"), "Go "+minor+" or newer")
	ci := readFile(t, ".ci/run")
	assert.Contains(t, ci, "OLDEST_GO=go"+minor+".", "CI tests with the oldest supported Go")
	assert.Contains(t, ci, "GOTOOLCHAIN=$OLDEST_GO go test")
}

// The release basics: an MIT LICENSE, and a CHANGELOG with a section for
// the Version the SDK and the command report.
func TestReleaseFiles(t *testing.T) {
	t.Parallel()
	license := readFile(t, "LICENSE")
	assert.True(t, strings.HasPrefix(license, "MIT License\n"))
	assert.Contains(t, license, "Copyright (c) 2026 The convo authors")
	changelog := readFile(t, "CHANGELOG.md")
	assert.Contains(t, changelog, "\n## ["+convo.Version+"]\n", "the CHANGELOG has the current version")
	assert.Contains(t, changelog, "\n## [Unreleased]\n")
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

// readmeSources are the files whose code the README shows: regions of the
// snippet files (compiled by their packages' tests) and whole example
// files.
var readmeSources = struct{ regions, whole []string }{
	regions: []string{"readme_snippets_test.go", "mirror/readme_snippets_test.go"},
	whole:   []string{"examples/testing/inbox_test.go", "examples/uptodate/uptodate.go"},
}

// readmeRegions returns the regions of a snippet file, by name: the lines
// between "// readme:NAME" and "// readme:end", less one tab of indent.
func readmeRegions(t *testing.T, file string) map[string]string {
	t.Helper()
	regions := map[string]string{}
	name := ""
	var b strings.Builder
	for _, line := range strings.Split(readFile(t, file), "\n") {
		trimmed := strings.TrimSpace(line)
		switch {
		case trimmed == "// readme:end":
			require.NotEmpty(t, name, "%s: an end without a start", file)
			regions[name] = b.String()
			name = ""
			b.Reset()
		case strings.HasPrefix(trimmed, "// readme:"):
			require.Empty(t, name, "%s: region %s not ended", file, name)
			name = strings.TrimPrefix(trimmed, "// readme:")
		case name != "":
			b.WriteString(strings.TrimPrefix(line, "\t") + "\n")
		}
	}
	require.Empty(t, name, "%s: region %s not ended", file, name)
	return regions
}

// goBlocks returns the ```go blocks of markdown, without their fences.
func goBlocks(markdown string) []string {
	var blocks []string
	for rest := markdown; ; {
		_, after, ok := strings.Cut(rest, "\n```go\n")
		if !ok {
			return blocks
		}
		block, next, ok := strings.Cut(after, "\n```\n")
		if !ok {
			return append(blocks, after)
		}
		blocks = append(blocks, block+"\n")
		rest = "\n" + next
	}
}

// Every Go block of the README is code that compiles: a region of a
// snippet file or a whole example file, each of which the tests compile
// (the examples' tests run them too); and every region is shown.
func TestReadmeGoBlocks(t *testing.T) {
	t.Parallel()
	readme := readFile(t, "README.md")
	known := map[string]string{} // code -> where it comes from
	for _, file := range readmeSources.regions {
		for name, code := range readmeRegions(t, file) {
			known[code] = file + ":" + name
			assert.Contains(t, readme, "```go\n"+code+"```", "the README shows %s's region %s", file, name)
		}
	}
	for _, file := range readmeSources.whole {
		known[readFile(t, file)] = file
	}
	blocks := goBlocks(readme)
	require.NotEmpty(t, blocks)
	for _, block := range blocks {
		_, ok := known[block]
		assert.True(t, ok, "a Go block of the README that no test compiles:\n%s", block)
	}
}

// TestReadmeProviderTable holds the README's table "Per provider" to the
// registry: its columns are convo.Providers() in order, and each row that
// states a registry fact (credential variables, operations, filters, page
// sizes) says what the provider declares, so a provider added, or a
// declaration changed, without the table fails here.
func TestReadmeProviderTable(t *testing.T) {
	rows := readmeTable(t, readFile(t, "README.md"), "### Per provider")
	var titles []string
	for _, p := range convo.Providers() {
		titles = append(titles, p.Title())
	}
	require.Equal(t, titles, rows[""], "the table's columns")

	mark := func(ok bool) string {
		if ok {
			return "✓"
		}
		return "—"
	}
	for i, p := range convo.Providers() {
		t.Run(p.Name(), func(t *testing.T) {
			for _, v := range p.CredentialEnv() {
				assert.Contains(t, rows["environment (examples, command)"][i], "`"+v+"`")
			}
			assert.Equal(t, mark(p.Supports(convo.OpListConversations))+" / "+mark(p.Supports(convo.OpGetConversation)),
				rows["`Conversations.List` / `Get`"][i])
			assert.Equal(t, mark(p.Supports(convo.OpListMessages))+" / "+mark(p.Supports(convo.OpSearchMessages)),
				rows["`Messages.List` / `Search.Messages`"][i])
			filters := "none"
			if fs := p.Filters(); len(fs) > 0 {
				var names []string
				for _, f := range fs {
					names = append(names, "`"+f.Field+"`")
				}
				filters = strings.Join(names, ", ")
			}
			assert.Equal(t, filters, rows["conversation filters"][i])
			assert.Equal(t, pageSizeCell(p), rows["`PageSize`"][i])
		})
	}
}

// pageSizeCell is what the README's `PageSize` row says of p's lists.
func pageSizeCell(p convo.Provider) string {
	span := func(op convo.Operation) string {
		if min, max, _ := p.PageSizeRange(op); max > 0 {
			return fmt.Sprintf("%d–%d", min, max)
		}
		return ""
	}
	convs, msgs := span(convo.OpListConversations), span(convo.OpListMessages)
	var cell string
	switch {
	case convs == msgs:
		cell = convs
	case convs == "":
		cell = "messages " + msgs
	default:
		cell = "conversations " + convs + ", messages " + msgs
	}
	if search := span(convo.OpSearchMessages); search != "" {
		cell += " (search `Limit` " + search + ")"
	}
	return cell
}

// readmeTable returns the cells of the Markdown table that follows heading
// in doc, by the text of each row's first cell.
func readmeTable(t *testing.T, doc, heading string) map[string][]string {
	t.Helper()
	_, after, ok := strings.Cut(doc, "\n"+heading+"\n")
	require.True(t, ok, "README has no %q", heading)
	rows := map[string][]string{}
	started := false
	for line := range strings.Lines(after) {
		line = strings.TrimSpace(line)
		if !strings.HasPrefix(line, "|") {
			if started {
				break
			}
			continue
		}
		started = true
		cells := strings.Split(strings.Trim(line, "|"), "|")
		for i := range cells {
			cells[i] = strings.TrimSpace(cells[i])
		}
		if strings.HasPrefix(cells[0], "---") || cells[0] == "" && len(cells) > 1 && strings.HasPrefix(cells[1], "---") {
			continue
		}
		rows[cells[0]] = cells[1:]
	}
	return rows
}
