package convo

import "fmt"

// progressWindow is how many recent pages progress remembers exactly.
const progressWindow = 128

// progress detects pagination that does not advance, in memory that does
// not grow with the number of pages: it keeps the hashes of the tokens and
// first items of the last progressWindow pages, which catches a server that
// ignores the cursor or page number or cycles over a few pages at once, and
// runs Brent's cycle detection over the pages' first items, which catches a
// longer cycle within a few times its length.
type progress struct {
	recent [progressWindow]pageMark
	n      int // pages recorded

	mark        uint64 // Brent: the first item of the page at the last power of two
	marked      bool
	power, lamb int
}

type pageMark struct {
	token, first uint64
	hasFirst     bool
	label        string // the page's label (pagingStyle.label), for the error
}

// check returns an ErrPaginationStalled error when the page just fetched
// shows that following the server would loop or repeat items: "more"
// promised with an empty page, a next token used before, or a page that
// starts with the same item as an earlier page (a server ignoring the page
// number or cursor, or cycling). The last check applies to the last page
// too, so that a server reporting totalPages cannot repeat a page either.
func (g *progress) check(style pagingStyle, name string, f pageOutline) error {
	stalled := func(reason string) error { return fmt.Errorf("%w: %s: %s", ErrPaginationStalled, name, reason) }
	used := hashID(f.token)
	if f.next != "" {
		if f.items == 0 {
			return stalled("the server reported more results with an empty page")
		}
		if checked, reason := style.loops(f.next); checked && g.usedToken(used, hashID(f.next)) {
			return stalled(reason)
		}
	}
	if f.items > 0 { // an item without an id starts a page too: "" repeats like any id
		first := hashID(f.first)
		if earlier, dup := g.startedWith(first); dup {
			return stalled(style.repeated(f.token, earlier, f.first))
		}
		if g.cycles(first) {
			return stalled(style.repeated(f.token, "an earlier page", f.first))
		}
	}
	g.record(pageMark{token: used, first: hashID(f.first), hasFirst: f.items > 0, label: style.label(f.token)})
	return nil
}

// pageOutline is what progress reads of a page.
type pageOutline struct {
	token, next, first string
	items              int
}

// usedToken reports whether next is the token just used or one of the
// recent pages'.
func (g *progress) usedToken(used, next uint64) bool {
	if next == used {
		return true
	}
	for i := range min(g.n, progressWindow) {
		if g.recent[i].token == next {
			return true
		}
	}
	return false
}

// startedWith names a recent page that started with first ("page 3").
func (g *progress) startedWith(first uint64) (string, bool) {
	for i := range min(g.n, progressWindow) {
		if m := g.recent[i]; m.hasFirst && m.first == first {
			return "page " + m.label, true
		}
	}
	return "", false
}

// cycles is one step of Brent's cycle detection over the first items of
// the pages: it reports a first item equal to the one remembered at the
// last power of two.
func (g *progress) cycles(first uint64) bool {
	if g.marked && first == g.mark {
		return true
	}
	g.lamb++
	if g.power == 0 || g.lamb == g.power {
		g.mark, g.marked = first, true
		g.power, g.lamb = max(1, 2*g.power), 0
	}
	return false
}

func (g *progress) record(m pageMark) {
	g.recent[g.n%progressWindow] = m
	g.n++
}
