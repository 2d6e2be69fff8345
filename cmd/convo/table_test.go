package main

import (
	"strconv"
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
	tb := newTable(0, false, idCol("ID"), keepCol("SENT (UTC)", 2), keepCol("DIRECTION", 1), textCol("BODY"))
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
	assert.NotContains(t, lines[0], "DIRECTION", "the direction goes before the body is cut below its minimum")
	assert.True(t, strings.HasSuffix(lines[1], "…"), "a cut cell ends with an ellipsis: %q", lines[1])
	assert.True(t, strings.HasSuffix(lines[2], "…"), lines[2])
	assert.Equal(t, 80, runewidth.StringWidth(lines[1]), "the text uses the width there is")
	assert.GreaterOrEqual(t, runewidth.StringWidth(lines[2]), 79, "wide characters are measured as two columns")
	assert.Contains(t, lines[3], "line one lin", "line breaks become spaces")
	assert.Regexp(t, `^msg_4\s+-\s+short$`, lines[4], "an empty cell is a dash")

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
	tb := newTable(120, false, idCol("ID"), textCol("BODY"))
	tb.add("m1", long)
	lines := renderTable(t, tb)
	assert.Equal(t, 120, runewidth.StringWidth(lines[1]))
	tb = newTable(120, false, idCol("ID"), textCol("BODY"))
	tb.add("m1", "short")
	assert.Equal(t, "m1  short", renderTable(t, tb)[1], "nothing is cut or padded that fits")
}

func TestTableDropsEmptyColumns(t *testing.T) {
	t.Parallel()
	tb := newTable(80, false, idCol("ID"), keepCol("CHANNEL", 1), keepCol("STATUS", 2))
	tb.add("c1", "", "open")
	tb.add("c2", "", "")
	lines := renderTable(t, tb)
	assert.Equal(t, []string{"ID  STATUS", "c1  open", "c2  -"}, lines)
	tb = newTable(80, false, idCol("ID"), keepCol("CHANNEL", 1))
	assert.Equal(t, []string{"ID  CHANNEL"}, renderTable(t, tb), "no rows: the whole header")
}

// conversationsTable is the conversations listing's table of width w with
// one row whose cells are given.
func conversationsTable(w int, wideOut bool, cells ...string) []string {
	tb := newTable(w, wideOut, idCol("ID"), keepCol("CONTACT", 2), keepCol("CHANNEL", 1), keepCol("STATUS", 3),
		keepCol("LAST MESSAGE (UTC)", 4), standIn(keepCol("CREATED (UTC)", 4)))
	tb.add(cells...)
	var b strings.Builder
	_ = tb.render(&b)
	return strings.Split(strings.TrimSuffix(b.String(), "\n"), "\n")
}

// At 60, 80 and 120 columns: ids are never cut, labels and times are
// whole or gone, lowest value first (and come back when they fit after
// all), one timestamp column unless wide.
func TestTableColumnsGoByValue(t *testing.T) {
	t.Parallel()
	id, contact := "97456c38-164c-4c6f-8850-4a1c0fde6e7c", "75501582-682a-4d0b-bffc-9f9e3445bbb3"
	row := []string{id, contact, "whatsapp", "archived", "2026-02-20 17:53", "2026-02-18 17:24"}
	for w, header := range map[int]string{
		60:  "ID                                    LAST MESSAGE (UTC)",
		80:  "ID                                    CHANNEL   STATUS    LAST MESSAGE (UTC)",
		120: "ID                                    CONTACT                               CHANNEL   STATUS    LAST MESSAGE (UTC)",
	} {
		lines := conversationsTable(w, false, row...)
		assert.Equal(t, header, lines[0], "width %d", w)
		assert.True(t, strings.HasPrefix(lines[1], id+"  "), "width %d: %q", w, lines[1])
		assert.NotContains(t, lines[1], "…", "width %d: nothing cut", w)
		assert.LessOrEqual(t, runewidth.StringWidth(lines[1]), w)
		assert.NotContains(t, lines[0], "CREATED", "one timestamp")
	}
	// 40 columns: the id alone, whole, wider than the screen is narrow.
	assert.Equal(t, []string{"ID", id}, conversationsTable(30, false, row...))
	// No last-message time (Vobiz): the creation time stands in.
	lines := conversationsTable(80, false, id, contact, "whatsapp", "open", "", "2026-02-18 17:24")
	assert.Equal(t, "ID                                    CHANNEL   STATUS  CREATED (UTC)", lines[0])
	// Wide: everything, uncut, however narrow the width.
	lines = conversationsTable(60, true, row...)
	assert.Equal(t, "ID                                    CONTACT                               CHANNEL   STATUS    LAST MESSAGE (UTC)  CREATED (UTC)", lines[0])
	assert.Equal(t, strings.Join([]string{id, contact, "whatsapp", "archived", "2026-02-20 17:53  ", "2026-02-18 17:24"}, "  "), lines[1])
}

// The body gets the width left; a minor text (a contact's name) is cut
// before it; wide characters count two cells and are never split.
func TestTableTextGetsTheRest(t *testing.T) {
	t.Parallel()
	name := "株式会社サンプル不動産の田中太郎"               // 32 cells
	body := strings.Repeat("空き部屋はありますか？", 8) // 176 cells
	for _, w := range []int{60, 80, 120} {
		tb := newTable(w, false, idCol("CONVERSATION"), keepCol("SENT (UTC)", 3), keepCol("DIRECTION", 1), minorTextCol("CONTACT", 2), textCol("CONTENT"))
		tb.add("c_0001", "2026-02-20 17:53", "inbound", name, body)
		lines := renderTable(t, tb)
		require.Len(t, lines, 2)
		got := runewidth.StringWidth(lines[1])
		assert.True(t, got == w || got == w-1, "width %d: the content takes what is left (a wide character may leave one cell): %d %q", w, got, lines[1])
		assert.True(t, strings.HasPrefix(lines[1], "c_0001  "), lines[1])
		assert.NotContains(t, lines[1], "\uFFFD")
		content := lines[1][strings.LastIndex(lines[1], "  ")+2:]
		assert.GreaterOrEqual(t, runewidth.StringWidth(content), minText, "width %d", w)
		if w >= 80 {
			assert.Contains(t, lines[0], "CONTACT", "width %d", w)
			assert.Contains(t, lines[1], "株式会…", "width %d: the name shrinks, cut", w)
			assert.NotContains(t, lines[1], name, "width %d: cut before the content", w)
		}
	}
}

// COLUMNS wins over the terminal's width; without either, 80.
func TestTableWidth(t *testing.T) {
	t.Parallel()
	env := func(columns string, terminal int) *env {
		return &env{width: terminal, getenv: func(k string) string {
			if k == "COLUMNS" {
				return columns
			}
			return ""
		}}
	}
	assert.Equal(t, 60, tableWidth(env("60", 200)))
	assert.Equal(t, 200, tableWidth(env("", 200)))
	assert.Equal(t, 200, tableWidth(env("zero", 200)))
	assert.Equal(t, 200, tableWidth(env("-3", 200)))
	assert.Equal(t, 80, tableWidth(env("", 0)))
	assert.Equal(t, 132, tableWidth(env(" 132 ", 0)))
}

// TestCLITableFits checks each listing's table on the demo data of each
// provider at 60, 80 and 120 columns (COLUMNS): it fits, its ids are
// whole, one timestamp column, labelled UTC; --wide prints every column
// with nothing cut.
func TestCLITableFits(t *testing.T) {
	t.Parallel()
	for _, p := range convo.Providers() {
		d := demoData(p)
		conv := d.Conversations[0]
		ids := map[string]bool{}
		for _, c := range d.Conversations {
			ids[c.Conversation.ID] = true
			for _, m := range c.Messages {
				ids[m.ID] = true
			}
		}
		runs := [][]string{
			{"conversations", "--demo", "--provider", p.Name()},
			{"messages", conv.Conversation.ID, "--demo", "--provider", p.Name()},
		}
		if p == convo.Rentalot {
			runs = append(runs, []string{"search", "the", "--demo", "--provider", p.Name(), "--limit", "50"})
		}
		for _, args := range runs {
			for _, w := range []int{60, 80, 120} {
				r := convoRun(t, []string{"COLUMNS=" + strconv.Itoa(w)}, append(args, "--table")...)
				require.Equal(t, 0, r.code, "%v: %s", args, r.stderr)
				lines := strings.Split(strings.TrimSuffix(r.stdout, "\n"), "\n")
				require.Greater(t, len(lines), 1, args)
				assert.LessOrEqual(t, strings.Count(lines[0], "(UTC)"), 1, "%v at %d: one timestamp: %q", args, w, lines[0])
				if w >= 80 {
					assert.Equal(t, 1, strings.Count(lines[0], "(UTC)"), "%v at %d: a timestamp: %q", args, w, lines[0])
				}
				for _, l := range lines[1:] {
					assert.LessOrEqual(t, runewidth.StringWidth(l), w, "%v: %q", args, l)
					first, _, _ := strings.Cut(l, " ")
					assert.True(t, ids[first], "%v at %d: the id %q is whole", args, w, first)
				}
			}
			r := convoRun(t, []string{"COLUMNS=60"}, append(args, "--wide")...)
			require.Equal(t, 0, r.code, "%v: %s", args, r.stderr)
			assert.NotContains(t, r.stdout, "…", "%v --wide: nothing cut", args)
			if args[0] == "conversations" && (p == convo.Rentalot || p == convo.VantaxAI) {
				assert.Contains(t, r.stdout, "CREATED (UTC)", "--wide: every column")
				assert.Contains(t, r.stdout, "LAST MESSAGE (UTC)", "--wide: every column")
			}
		}
	}
	r := convoRun(t, nil, "conversations", "--demo", "--provider", "vobiz", "--wide", "--json")
	assert.Equal(t, 2, r.code)
	assert.Contains(t, r.stderr, "--json and --wide exclude each other")
}
