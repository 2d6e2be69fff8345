package convotest

import (
	"encoding/base64"
	"encoding/json"
	"strings"

	"github.com/convokit/convo"
)

// capLimit applies WithPageSize.
func (s *Server) capLimit(limit int) int {
	if s.pageSize > 0 && limit > s.pageSize {
		return s.pageSize
	}
	return limit
}

// window returns the bounds of the page of n items that starts at start
// and holds at most limit items.
func window(n, start, limit int) (from, to int) {
	from = min(max(start, 0), n)
	return from, min(from+limit, n)
}

// indexAfter returns the index just after the item whose id is id.
func indexAfter(ids func(int) string, n int, id string) (int, bool) {
	for i := 0; i < n; i++ {
		if ids(i) == id {
			return i + 1, true
		}
	}
	return 0, false
}

// makeCursor encodes v as an opaque page token.
func makeCursor(v any) string {
	b, _ := json.Marshal(v) // plain structs of strings: cannot fail
	return base64.RawURLEncoding.EncodeToString(b)
}

// readCursor decodes a token made by makeCursor.
func readCursor(s string, v any) bool {
	b, err := base64.RawURLEncoding.DecodeString(s)
	if err != nil {
		return false
	}
	dec := json.NewDecoder(strings.NewReader(string(b)))
	dec.DisallowUnknownFields()
	return dec.Decode(v) == nil
}

// newestFirst returns the i-th of msgs (kept oldest first) counting from
// the newest, for the providers that list messages newest first: a page
// reads its window of the list in place, with no reversed copy of it.
func newestFirst(msgs []convo.Message, i int) *convo.Message {
	return &msgs[len(msgs)-1-i]
}
