package main

import (
	"os"
	"strings"
	"testing"

	"github.com/mattn/go-runewidth"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/convokit/convo"
)

func renderTable(t *testing.T, tb *table) []string {
	t.Helper()
	var b strings.Builder
	require.NoError(t, tb.render(&b))
	return strings.Split(strings.TrimSuffix(b.String(), "\n"), "\n")
}

func TestTableFitsWidth(t *testing.T) {
	t.Parallel()
	long := strings.Repeat("a long message body that goes on ", 10)
	wide := strings.Repeat("日本語のメッセージ", 10) // two columns a character
	tb := newTable(0, keyCol("ID"), keyCol("SENT (UTC)"), labelCol("DIRECTION"), textCol("BODY"))
	tb.add("179323a5-2179-4a45-a0ed-18ff4ff486ea", "2026-02-20 17:53", "outbound", long)
	tb.add("msg_2", "2026-02-20 17:54", "inbound", wide)
	tb.add("msg_3", "2026-02-20 17:55", "inbound", "line one\nline two\x1b[31m")
	tb.add("msg_4", "", "inbound", "short")
	lines := renderTable(t, tb)
	require.Len(t, lines, 5)
	for _, l := range lines {
		assert.LessOrEqual(t, runewidth.StringWidth(l), 80, "%q", l)
		assert.NotContains(t, l, "\x1b", "no control characters")
		assert.Equal(t, l, strings.TrimRight(l, " "), "no trailing spaces")
	}
	assert.Contains(t, lines[1], "179323a5-2179-4a45-a0ed-18ff4ff486ea", "ids stay whole; free text gives way")
	assert.Contains(t, lines[1], "2026-02-20 17:53")
	assert.True(t, strings.HasSuffix(lines[1], "…"), "a cut cell ends with an ellipsis: %q", lines[1])
	assert.True(t, strings.HasSuffix(lines[2], "…"), lines[2])
	assert.Equal(t, 80, runewidth.StringWidth(lines[1]), "the text uses the width there is")
	assert.GreaterOrEqual(t, runewidth.StringWidth(lines[2]), 79, "wide characters are measured as two columns")
	assert.Contains(t, lines[3], "line one lin", "line breaks become spaces")
	assert.Regexp(t, `^msg_4\s+-\s+inbound\s+short$`, lines[4], "an empty cell is a dash")

	// Columns line up, in terminal cells.
	col := strings.Index(lines[0], "BODY")
	for _, l := range lines[1:] {
		w, i := 0, 0
		r := []rune(l)
		for ; i < len(r) && w < col; i++ {
			w += runewidth.RuneWidth(r[i])
		}
		require.Equal(t, col, w, "a cell boundary at the header's column: %q", l)
		assert.Equal(t, ' ', r[i-1], l)
		assert.NotEqual(t, ' ', r[i], l)
	}
}

func TestTableWiderTerminal(t *testing.T) {
	t.Parallel()
	long := strings.Repeat("x", 200)
	tb := newTable(120, keyCol("ID"), textCol("BODY"))
	tb.add("m1", long)
	lines := renderTable(t, tb)
	assert.Equal(t, 120, runewidth.StringWidth(lines[1]))
	tb = newTable(120, keyCol("ID"), textCol("BODY"))
	tb.add("m1", "short")
	assert.Equal(t, "m1  short", renderTable(t, tb)[1], "nothing is cut or padded that fits")
}

func TestTableDropsEmptyColumns(t *testing.T) {
	t.Parallel()
	tb := newTable(80, keyCol("ID"), labelCol("CHANNEL"), labelCol("STATUS"))
	tb.add("c1", "", "open")
	tb.add("c2", "", "")
	lines := renderTable(t, tb)
	assert.Equal(t, []string{"ID  STATUS", "c1  open", "c2  -"}, lines)
	tb = newTable(80, keyCol("ID"), labelCol("CHANNEL"))
	assert.Equal(t, []string{"ID  CHANNEL"}, renderTable(t, tb), "no rows: the whole header")
}

// TestCLITableFits checks each listing's table on the demo data of each
// provider fits 80 columns, with its times labelled UTC.
func TestCLITableFits(t *testing.T) {
	t.Parallel()
	for _, p := range convo.Providers() {
		d := demoData(p)
		runs := [][]string{
			{"conversations", "--demo", "--provider", p.Name(), "--table"},
			{"messages", d.Conversations[0].Conversation.ID, "--demo", "--provider", p.Name(), "--table"},
		}
		if p == convo.Rentalot {
			runs = append(runs, []string{"search", "the", "--demo", "--provider", p.Name(), "--table", "--limit", "50"})
		}
		for _, args := range runs {
			r := runInProcess(t, false, false, args...)
			require.Equal(t, 0, r.code, "%v: %s", args, r.stderr)
			lines := strings.Split(strings.TrimSuffix(r.stdout, "\n"), "\n")
			require.Greater(t, len(lines), 1, args)
			assert.Contains(t, lines[0], "(UTC)", args)
			for _, l := range lines {
				assert.LessOrEqual(t, runewidth.StringWidth(l), 80, "%v: %q", args, l)
			}
		}
	}
}

func TestIsTerminal(t *testing.T) {
	t.Parallel()
	f, err := os.OpenFile(os.DevNull, os.O_WRONLY, 0)
	require.NoError(t, err)
	defer f.Close()
	st, err := f.Stat()
	require.NoError(t, err)
	require.NotZero(t, st.Mode()&os.ModeCharDevice, "the null device is a character device")
	assert.False(t, isTerminal(f), "but not a terminal")
	assert.Zero(t, terminalWidth(f))
}
