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

// column is a table column. When the table is too wide, free text gives
// up its width first, then short labels (contact, channel, status), and ids
// and times last: what a user copies into the next command stays whole as
// long as it can.
type column struct {
	name string
	tier int // the order in which columns are cut: tierText first
}

const (
	tierText = iota
	tierLabel
	tierKey
)

func textCol(name string) column  { return column{name: name, tier: tierText} }
func labelCol(name string) column { return column{name: name, tier: tierLabel} }
func keyCol(name string) column   { return column{name: name, tier: tierKey} }

// minText is the narrowest free text is cut to before the other columns
// are cut.
const minText = 12

// minLabel is the narrowest a label is cut to before ids and times are
// ("outbound", "whatsapp").
const minLabel = 8

// table collects rows and prints them aligned within a width, measured in
// terminal cells (a wide character counts two). A cell too long for its
// column ends with an ellipsis; an empty cell prints as "-".
type table struct {
	width int
	cols  []column
	rows  [][]string
}

func newTable(width int, cols ...column) *table {
	if width <= 0 {
		width = defaultWidth
	}
	return &table{width: width, cols: cols}
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

// dropEmpty removes the columns that are empty in every row (a field the
// provider does not have), when there are rows.
func (t *table) dropEmpty() {
	if len(t.rows) == 0 {
		return
	}
	keep := make([]bool, len(t.cols))
	for _, row := range t.rows {
		for i, cell := range row {
			keep[i] = keep[i] || cell != "-"
		}
	}
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

// widths returns each column's width: its widest cell, cut so that the
// whole table fits t.width.
func (t *table) widths() []int {
	n := len(t.cols)
	w := make([]int, n)
	for i, c := range t.cols {
		w[i] = runewidth.StringWidth(c.name)
	}
	for _, row := range t.rows {
		for i, cell := range row {
			w[i] = max(w[i], runewidth.StringWidth(cell))
		}
	}
	budget := t.width - columnGap*(n-1)
	// Free text first, down to minText; then labels, then every column,
	// down to one character and the ellipsis.
	var text, labels, all []int
	for i, c := range t.cols {
		switch c.tier {
		case tierText:
			text = append(text, i)
		case tierLabel:
			labels = append(labels, i)
		}
		all = append(all, i)
	}
	shrink(w, text, budget, minText)
	shrink(w, labels, budget, minLabel)
	shrink(w, text, budget, minLabel-2)
	shrink(w, labels, budget, minLabel/2)
	shrink(w, all, budget, 2)
	return w
}

// shrink lowers the widths of the columns idx, widest first, until the sum
// of all widths is at most budget or each is down to floor. It sets the
// highest cap that fits: every column of idx wider than the cap is cut to
// it.
func shrink(w, idx []int, budget, floor int) {
	total := 0
	for _, x := range w {
		total += x
	}
	if total <= budget || len(idx) == 0 {
		return
	}
	fixed := total // the width of the columns not in idx
	hi := 0
	for _, i := range idx {
		fixed -= w[i]
		hi = max(hi, w[i])
	}
	fits := func(limit int) bool {
		sum := fixed
		for _, i := range idx {
			sum += max(min(w[i], limit), min(w[i], floor))
		}
		return sum <= budget
	}
	// The highest cap in [floor, hi] that fits, or floor.
	lo := floor
	for lo < hi {
		mid := (lo + hi + 1) / 2
		if fits(mid) {
			lo = mid
		} else {
			hi = mid - 1
		}
	}
	for _, i := range idx {
		w[i] = min(w[i], lo)
	}
}

// render prints the header and the rows, without the columns that no row
// fills.
func (t *table) render(out io.Writer) error {
	t.dropEmpty()
	w := t.widths()
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
