package main

import (
	"io"
	"strings"
	"unicode"

	"github.com/mattn/go-runewidth"
)

// defaultWidth is the width of a table when stdout is not a terminal.
const defaultWidth = 80

// columnGap is the space between two columns.
const columnGap = 2

// column is a table column. A table that does not fit its width gives
// way in this order: free text is cut (a lower-value text, like a
// contact's name, before the body), then whole columns go, lowest value
// first (drop 1 before drop 2 …), until the text columns have at least
// their minimum. Ids are never cut nor dropped (they are what a user copies
// into the next command), nor are times and labels cut (a cut time or
// "outbo…" says nothing): they go whole. Wide-only columns appear only in
// the wide output, where nothing is cut.
type column struct {
	name     string
	min      int  // text: the narrowest it is cut to; 0: never cut
	flex     bool // the main text: it gets the width left over first
	drop     int  // the order in which columns go (1 first); 0: never
	wideOnly bool // shown only in the wide output…
	standIn  bool // …or when the column before it is empty in every row
}

// idCol is an id: never cut, never dropped.
func idCol(name string) column { return column{name: name} }

// keepCol is a time or a label: never cut; dropped at rank drop.
func keepCol(name string, drop int) column { return column{name: name, drop: drop} }

// textCol is the main free text (a body, a content): it takes the width
// the other columns leave, cut down to minText before any column goes.
func textCol(name string) column { return column{name: name, min: minText, flex: true} }

// minorTextCol is free text of less value: cut first, to minLabel, and
// dropped at rank drop.
func minorTextCol(name string, drop int) column { return column{name: name, min: minLabel, drop: drop} }

// standIn marks c as shown only in the wide output or in place of the
// column before it when that one is empty in every row (a provider
// without that field).
func standIn(c column) column { c.wideOnly, c.standIn = true, true; return c }

// minText is the narrowest the main text is cut to before a column goes.
const minText = 20

// minLabel is the narrowest a minor text is cut to before it goes.
const minLabel = 8

// table collects rows and prints them aligned within a width, measured in
// terminal cells (a wide character counts two). A cell cut to its column
// ends with an ellipsis; an empty cell prints as "-". A wide table prints
// every column and cuts nothing.
type table struct {
	width int
	wide  bool
	cols  []column
	rows  [][]string
}

// newTable makes a table of the columns cols that fits width cells
// (defaultWidth when width is 0 or less), or, when wide, a wide table.
func newTable(width int, wide bool, cols ...column) *table {
	if width <= 0 {
		width = defaultWidth
	}
	return &table{width: width, wide: wide, cols: cols}
}

// add adds a row; control characters (line breaks) become spaces.
func (t *table) add(cells ...string) {
	row := make([]string, len(t.cols))
	for i := range row {
		if i < len(cells) {
			row[i] = printable(cells[i])
		}
		if row[i] == "" {
			row[i] = "-"
		}
	}
	t.rows = append(t.rows, row)
}

// printable replaces control characters with spaces.
func printable(s string) string {
	if strings.IndexFunc(s, unicode.IsControl) < 0 {
		return s
	}
	return strings.Map(func(r rune) rune {
		if unicode.IsControl(r) {
			return ' '
		}
		return r
	}, s)
}

// keepColumns keeps the columns for which keep[i] is true, in the
// header and in every row.
func (t *table) keepColumns(keep []bool) {
	var cols []column
	for i, c := range t.cols {
		if keep[i] {
			cols = append(cols, c)
		}
	}
	for r, row := range t.rows {
		var cells []string
		for i, cell := range row {
			if keep[i] {
				cells = append(cells, cell)
			}
		}
		t.rows[r] = cells
	}
	t.cols = cols
}

// dropEmpty removes the columns that are empty in every row (a field the
// provider does not have), when there are rows, and the wide-only columns
// of a table that is not wide, unless one stands in for the column before
// it, empty in every row.
func (t *table) dropEmpty() {
	filled := make([]bool, len(t.cols))
	for i := range filled {
		filled[i] = len(t.rows) == 0
	}
	for _, row := range t.rows {
		for i, cell := range row {
			filled[i] = filled[i] || cell != "-"
		}
	}
	keep := make([]bool, len(t.cols))
	for i, c := range t.cols {
		shown := t.wide || !c.wideOnly || (c.standIn && i > 0 && !filled[i-1])
		keep[i] = filled[i] && shown
	}
	t.keepColumns(keep)
}

// natural returns each column's width uncut: its widest cell or header.
func (t *table) natural() []int {
	w := make([]int, len(t.cols))
	for i, c := range t.cols {
		w[i] = runewidth.StringWidth(c.name)
	}
	for _, row := range t.rows {
		for i, cell := range row {
			w[i] = max(w[i], runewidth.StringWidth(cell))
		}
	}
	return w
}

// fit drops the columns that must go for the table to fit t.width and
// returns the widths of those that stay. Columns go lowest value first;
// then each that went, highest value first, comes back if it fits after
// all. Only ids (and text at its minimum) can make a table wider than
// t.width: ids are never cut.
func (t *table) fit() []int {
	nat := t.natural()
	if t.wide {
		return nat
	}
	keep := make([]bool, len(t.cols))
	for i := range keep {
		keep[i] = true
	}
	fits := func() bool { _, ok := allot(t.cols, nat, keep, t.width); return ok }
	var gone []int // in the order they went
	for !fits() {
		victim := -1
		for i, c := range t.cols {
			if keep[i] && c.drop > 0 && (victim < 0 || c.drop < t.cols[victim].drop) {
				victim = i
			}
		}
		if victim < 0 {
			break
		}
		keep[victim] = false
		gone = append(gone, victim)
	}
	for j := len(gone) - 1; j >= 0; j-- {
		keep[gone[j]] = true
		if !fits() {
			keep[gone[j]] = false
		}
	}
	w, _ := allot(t.cols, nat, keep, t.width)
	var widths []int
	for i := range keep {
		if keep[i] {
			widths = append(widths, w[i])
		}
	}
	t.keepColumns(keep)
	return widths
}

// allot gives the columns of natural widths nat their widths within width:
// the columns that are never cut their natural width, each text column at
// least its minimum (or its natural width if less), then what is left to
// the main text first, the minor texts after, up to their natural widths.
// Only the columns keep[i] count. It reports whether the result fits.
func allot(cols []column, nat []int, keep []bool, width int) ([]int, bool) {
	w := make([]int, len(cols))
	used := -columnGap
	for i, c := range cols {
		if !keep[i] {
			continue
		}
		used += columnGap
		w[i] = nat[i]
		if c.min > 0 {
			w[i] = min(nat[i], c.min)
		}
		used += w[i]
	}
	left := width - used
	for _, flex := range []bool{true, false} {
		for i, c := range cols {
			if keep[i] && c.min > 0 && c.flex == flex && left > 0 {
				more := min(nat[i]-w[i], left)
				w[i] += more
				left -= more
			}
		}
	}
	return w, left >= 0
}

// render prints the header and the rows, without the columns that no row
// fills.
func (t *table) render(out io.Writer) error {
	t.dropEmpty()
	w := t.fit()
	var b strings.Builder
	line := func(cells []string) {
		for i, cell := range cells {
			if runewidth.StringWidth(cell) > w[i] {
				cell = runewidth.Truncate(cell, w[i], "…")
			}
			b.WriteString(cell)
			if i < len(cells)-1 {
				b.WriteString(strings.Repeat(" ", w[i]-runewidth.StringWidth(cell)+columnGap))
			}
		}
		b.WriteByte('\n')
	}
	header := make([]string, len(t.cols))
	for i, c := range t.cols {
		header[i] = c.name
	}
	line(header)
	for _, row := range t.rows {
		line(row)
	}
	_, err := io.WriteString(out, b.String())
	return err
}
