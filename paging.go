package convo

import (
	"fmt"
	"strconv"
)

// pageFacts is what a paging style reads from one decoded page.
type pageFacts struct {
	items        int    // items the server sent
	lastID       string // id of the last of them
	more         *bool  // has_more, when sent
	next         string // next cursor, when sent
	page         int    // page number the server reports
	limit        int    // page size the server reports
	totalPages   *int   // number of pages, when reported
	requested    int    // page size asked for; 0: the default
	defaultLimit int    // the endpoint's documented default page size
}

// pagingStyle is how an endpoint moves from one page to the next. Each
// style is a small type below; the pager asks its endpoint's style and
// never looks at which one it is.
type pagingStyle interface {
	// param returns the query parameter that asks for the page at token
	// (name "" sends none), or an error for a token the style cannot hold.
	param(token string) (name, value string, err error)
	// next returns the token of the page after the one fetched at token,
	// "" when the list ends, or the reason the reply cannot be followed
	// (reported as ErrPaginationStalled).
	next(token string, f pageFacts) (string, error)
	// itemPositions reports whether the token just after an item is that
	// item's id (starting_after), so that a position needs nothing else.
	itemPositions() bool
	// label names the page at token in log lines and errors, without
	// revealing an opaque token.
	label(token string) string
	// loops reports whether a next token used before means a loop, and
	// how to say so.
	loops(next string) (checked bool, reason string)
	// repeated says that the page at token starts with the item that
	// started an earlier page (earlier names it: "page 3").
	repeated(token, earlier, first string) string
}

// cursorPaging follows the next_cursor the server hands out while it
// reports more (has_more true or absent).
type cursorPaging struct{ key string }

// startingAfterPaging asks for the items after the id of the last item seen,
// while has_more is true.
type startingAfterPaging struct{ key string }

// pageNumberPaging asks for 1-based page numbers; the last page is the one
// with fewer items than the page size the server reports (or, when it
// reports totalPages, the last of those).
type pageNumberPaging struct{ key string }

// singlePage is a list of one page.
type singlePage struct{}

func tokenParam(name, token string) (string, string, error) {
	if token == "" {
		return "", "", nil
	}
	return name, token, nil
}

func (s cursorPaging) param(token string) (string, string, error) { return tokenParam(s.key, token) }

func (cursorPaging) next(_ string, f pageFacts) (string, error) {
	if f.next != "" && (f.more == nil || *f.more) {
		return f.next, nil
	}
	return "", nil
}

func (cursorPaging) itemPositions() bool { return false }

func (cursorPaging) label(token string) string { return opaqueLabel("cursor", token) }

func (cursorPaging) loops(next string) (bool, string) {
	return true, fmt.Sprintf("the server repeated cursor %q", snippet([]byte(next), 64))
}

func (cursorPaging) repeated(_, _, first string) string { return repeatedPage(first) }

func (s startingAfterPaging) param(token string) (string, string, error) {
	return tokenParam(s.key, token)
}

func (startingAfterPaging) next(token string, f pageFacts) (string, error) {
	switch {
	case f.more == nil || !*f.more:
		return "", nil
	case f.items == 0:
		return token, nil // more promised with nothing to start after: caught as stalled
	}
	return f.lastID, nil
}

func (startingAfterPaging) itemPositions() bool { return true }

func (startingAfterPaging) label(token string) string { return opaqueLabel("after", token) }

func (startingAfterPaging) loops(next string) (bool, string) {
	return true, fmt.Sprintf("starting_after did not advance past %q", snippet([]byte(next), 64))
}

func (startingAfterPaging) repeated(_, _, first string) string { return repeatedPage(first) }

func (s pageNumberPaging) param(token string) (string, string, error) {
	n, err := pageNumber(token)
	return s.key, strconv.Itoa(n), err
}

func (pageNumberPaging) next(token string, f pageFacts) (string, error) {
	n, err := pageNumber(token)
	if err != nil {
		return "", err
	}
	if f.page > 0 && f.page != n {
		return "", fmt.Errorf("asked for page %d, the server answered page %d", n, f.page)
	}
	more := f.items > 0 && f.items >= firstPositive(f.limit, f.requested, f.defaultLimit)
	if f.totalPages != nil {
		more = f.items > 0 && n < *f.totalPages
	}
	if !more {
		return "", nil
	}
	return strconv.Itoa(n + 1), nil
}

func (pageNumberPaging) itemPositions() bool { return false }

func (pageNumberPaging) label(token string) string {
	if token == "" {
		return "1"
	}
	return token
}

func (pageNumberPaging) loops(string) (bool, string) { return false, "" } // every next page is new

func (s pageNumberPaging) repeated(token, earlier, _ string) string {
	return fmt.Sprintf("the server ignored the page number (page %s starts with the same item as %s)", s.label(token), earlier)
}

func (singlePage) param(string) (string, string, error) { return "", "", nil }

func (singlePage) next(string, pageFacts) (string, error) { return "", nil }

func (singlePage) itemPositions() bool { return false }

func (singlePage) label(string) string { return "1" }

func (singlePage) loops(string) (bool, string) { return false, "" }

func (singlePage) repeated(_, _, first string) string { return repeatedPage(first) }

// pageNumber reads a page-number token; "" is the first page.
func pageNumber(token string) (int, error) {
	if token == "" {
		return 1, nil
	}
	n, err := strconv.Atoi(token)
	if err != nil || n < 1 {
		return 0, fmt.Errorf("page %q", token)
	}
	return n, nil
}

func repeatedPage(first string) string {
	return fmt.Sprintf("the server answered a page it had already sent (starting again with item %q)", snippet([]byte(first), 64))
}

// opaqueLabel names a page by a short hash of its token: enough to tell
// pages apart in a log, nothing of the token itself.
func opaqueLabel(kind, token string) string {
	if token == "" {
		return "first"
	}
	return fmt.Sprintf("%s#%08x", kind, uint32(hashID(token)))
}
