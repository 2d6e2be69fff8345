package convo

import (
	"sync"
	"time"
	"unicode/utf16"
	"unicode/utf8"
)

// The list pages of a provider have a shape known in advance, and they are
// the hot path of every iteration: 100 items a page, a dozen fields an item.
// encoding/json spends most of its time there on reflection, on validating
// the body before decoding it, and on one allocation per string. wireReader
// decodes the common form of those pages straight into the same wire structs,
// field by field, without reflection.
//
// It is a fast path only, never a second definition of the format: it
// declines (returns false) whenever it meets anything but the plain form —
// invalid JSON, a value of an unexpected type, a key that is escaped, not
// ASCII, or matches a field only case-insensitively, a duplicate field,
// invalid UTF-8, a surrogate escape, a timestamp not in canonical RFC 3339
// form, "success": false, a missing item array — and the body is then decoded
// by encoding/json (see fastDecode), whose result or error is the one of
// record. A body it accepts decodes exactly as encoding/json decodes it; the
// differential tests hold it to that.

// maxSkipDepth bounds the nesting of values skipped as unknown; deeper ones
// are left to encoding/json.
const maxSkipDepth = 64

// internSize is how many short, repeated values (directions, channels, phone
// numbers) a reader shares between the items of a page instead of
// allocating them for every item.
const internSize = 16

// wireReader reads one JSON body. Its methods return false when the input is
// not in the form they handle.
type wireReader struct {
	b       []byte
	i       int
	scratch []byte // unescaped string content

	interned [internSize]string
	nextSlot int // next slot to replace once the table is full
}

func (r *wireReader) reset(b []byte) {
	r.b, r.i = b, 0
}

func (r *wireReader) skipSpace() {
	for r.i < len(r.b) {
		switch r.b[r.i] {
		case ' ', '\t', '\n', '\r':
			r.i++
		default:
			return
		}
	}
}

// peek returns the next byte that is not white space, 0 at the end.
func (r *wireReader) peek() byte {
	r.skipSpace()
	if r.i < len(r.b) {
		return r.b[r.i]
	}
	return 0
}

// consume reads c, the next byte that is not white space.
func (r *wireReader) consume(c byte) bool {
	if r.peek() == c {
		r.i++
		return true
	}
	return false
}

// end reports whether only white space is left.
func (r *wireReader) end() bool {
	r.skipSpace()
	return r.i == len(r.b)
}

func (r *wireReader) literal(lit string) bool {
	if len(r.b)-r.i >= len(lit) && string(r.b[r.i:r.i+len(lit)]) == lit {
		r.i += len(lit)
		return true
	}
	return false
}

// null reads a null, if that is what comes next.
func (r *wireReader) null() bool {
	return r.peek() == 'n' && r.literal("null")
}

// key reads the next key of an object whose '{' has been read, and the colon
// after it; first tells whether it is the object's first key. done is true at
// the closing brace. Only plain ASCII keys without escapes are accepted:
// encoding/json would unescape or case-fold the others before matching them.
func (r *wireReader) key(first bool) (key []byte, done, ok bool) {
	c := r.peek()
	if c == '}' {
		r.i++
		return nil, true, true
	}
	if !first {
		if c != ',' {
			return nil, false, false
		}
		r.i++
		c = r.peek()
	}
	if c != '"' {
		return nil, false, false
	}
	start := r.i + 1
	for j := start; j < len(r.b); j++ {
		switch c := r.b[j]; {
		case c == '"':
			r.i = j + 1
			return r.b[start:j], false, r.consume(':')
		case c == '\\' || c < 0x20 || c >= utf8.RuneSelf:
			return nil, false, false
		}
	}
	return nil, false, false
}

// unknown skips the value of a key that names no field, unless the key
// matches one of the fields case-insensitively, as encoding/json would
// decode it into that field.
func (r *wireReader) unknown(key []byte, fields ...string) bool {
	for _, f := range fields {
		if equalFoldASCII(key, f) {
			return false
		}
	}
	return r.skip(0)
}

func equalFoldASCII(b []byte, s string) bool {
	if len(b) != len(s) {
		return false
	}
	for i := range b {
		x, y := b[i], s[i]
		if 'A' <= x && x <= 'Z' {
			x += 'a' - 'A'
		}
		if 'A' <= y && y <= 'Z' {
			y += 'a' - 'A'
		}
		if x != y {
			return false
		}
	}
	return true
}

// str reads a string and returns its content, unescaped. The slice is valid
// until the next read.
func (r *wireReader) str() ([]byte, bool) {
	if r.peek() != '"' {
		return nil, false
	}
	b := r.b
	start := r.i + 1
	ascii := true
	for j := start; j < len(b); j++ {
		for j < len(b) && plainASCII[b[j]] {
			j++
		}
		if j == len(b) {
			break
		}
		switch c := b[j]; {
		case c == '"':
			s := b[start:j]
			if !ascii && !utf8.Valid(s) { // encoding/json would replace the bad bytes
				return nil, false
			}
			r.i = j + 1
			return s, true
		case c == '\\':
			return r.unescape(start)
		case c < 0x20:
			return nil, false
		default:
			ascii = false
		}
	}
	return nil, false
}

// plainASCII marks the bytes a string holds as they are: printable ASCII
// but the quote and the backslash.
var plainASCII = func() (t [256]bool) {
	for c := 0x20; c < utf8.RuneSelf; c++ {
		t[c] = c != '"' && c != '\\'
	}
	return t
}()

// unescape reads the rest of a string that holds an escape, from start (just
// after the opening quote), into the scratch buffer.
func (r *wireReader) unescape(start int) ([]byte, bool) {
	out := r.scratch[:0]
	b := r.b
	for j := start; j < len(b); {
		c := b[j]
		switch {
		case c == '"':
			r.scratch = out
			if !utf8.Valid(out) {
				return nil, false
			}
			r.i = j + 1
			return out, true
		case c < 0x20:
			return nil, false
		case c != '\\':
			out = append(out, c)
			j++
			continue
		}
		if j+1 >= len(b) {
			return nil, false
		}
		switch b[j+1] {
		case '"', '\\', '/':
			out = append(out, b[j+1])
		case 'b':
			out = append(out, '\b')
		case 'f':
			out = append(out, '\f')
		case 'n':
			out = append(out, '\n')
		case 'r':
			out = append(out, '\r')
		case 't':
			out = append(out, '\t')
		case 'u':
			if j+6 > len(b) {
				return nil, false
			}
			v, ok := hex4(b[j+2 : j+6])
			if !ok || utf16.IsSurrogate(v) { // pairs and lone halves: encoding/json's rules
				return nil, false
			}
			out = utf8.AppendRune(out, v)
			j += 6
			continue
		default:
			return nil, false
		}
		j += 2
	}
	return nil, false
}

func hex4(b []byte) (rune, bool) {
	var v rune
	for _, c := range b {
		switch {
		case '0' <= c && c <= '9':
			c -= '0'
		case 'a' <= c && c <= 'f':
			c -= 'a' - 10
		case 'A' <= c && c <= 'F':
			c -= 'A' - 10
		default:
			return 0, false
		}
		v = v<<4 | rune(c)
	}
	return v, true
}

// intern returns s as a string shared with earlier equal values when s is
// short, so that the values repeated on every item are allocated once.
func (r *wireReader) intern(s []byte) string {
	if len(s) > 40 {
		return string(s)
	}
	for k := range r.interned {
		if r.interned[k] == string(s) {
			return r.interned[k]
		}
	}
	v := string(s)
	r.interned[r.nextSlot] = v
	r.nextSlot = (r.nextSlot + 1) % internSize
	return v
}

// stringField decodes a string into dst; null leaves dst as it is, as
// encoding/json does (dst is zero: a duplicate key is refused earlier).
func (r *wireReader) stringField(dst *string, shared bool) bool {
	if r.null() {
		return true
	}
	s, ok := r.str()
	if !ok {
		return false
	}
	if shared {
		*dst = r.intern(s)
	} else {
		*dst = string(s)
	}
	return true
}

// stringsField decodes an array of strings; [] is an empty, non-nil slice
// and null is nil, as with encoding/json.
func (r *wireReader) stringsField(dst *[]string) bool {
	if r.null() {
		*dst = nil
		return true
	}
	if !r.consume('[') {
		return false
	}
	out := make([]string, 0) // non-nil; allocates nothing while empty
	if r.consume(']') {
		*dst = out
		return true
	}
	for {
		var s string
		if !r.stringField(&s, false) {
			return false
		}
		out = append(out, s)
		if r.consume(']') {
			*dst = out
			return true
		}
		if !r.consume(',') {
			return false
		}
	}
}

// intField decodes an integer literal; null leaves dst as it is. A fraction
// or an exponent is refused, as encoding/json refuses it for an int.
func (r *wireReader) intField(dst *int) bool {
	if r.null() {
		return true
	}
	b, j := r.b, r.i
	neg := j < len(b) && b[j] == '-'
	if neg {
		j++
	}
	start := j
	var n int64
	for j < len(b) && '0' <= b[j] && b[j] <= '9' {
		n = n*10 + int64(b[j]-'0')
		j++
	}
	digits := j - start
	switch {
	case digits == 0, digits > 18, digits > 1 && b[start] == '0':
		return false
	case j < len(b) && (b[j] == '.' || b[j] == 'e' || b[j] == 'E'):
		return false
	}
	if neg {
		n = -n
	}
	if int64(int(n)) != n { // 32-bit int
		return false
	}
	*dst = int(n)
	r.i = j
	return true
}

// boolField decodes true or false; null leaves dst as it is.
func (r *wireReader) boolField(dst *bool) bool {
	switch r.peek() {
	case 't':
		if r.literal("true") {
			*dst = true
			return true
		}
	case 'f':
		if r.literal("false") {
			*dst = false
			return true
		}
	case 'n':
		return r.literal("null")
	}
	return false
}

// timeField decodes a timestamp as wireTime does: null and "" are the zero
// time. Only the canonical RFC 3339 form is taken here; anything else,
// valid or not, is left to wireTime.UnmarshalJSON.
func (r *wireReader) timeField(dst *wireTime) bool {
	if r.null() {
		*dst = wireTime{}
		return true
	}
	s, ok := r.str()
	if !ok {
		return false
	}
	if len(s) == 0 {
		*dst = wireTime{}
		return true
	}
	if !canonicalRFC3339(s) {
		return false
	}
	// Canonical input is parsed by time's RFC 3339 fast path, the same one
	// time.Parse(time.RFC3339Nano, …) takes, without converting s to a string.
	var t time.Time
	if t.UnmarshalText(s) != nil {
		return false
	}
	*dst = wireTime(t)
	return true
}

// canonicalRFC3339 reports whether s is YYYY-MM-DDTHH:MM:SS[.F…](Z|±HH:MM)
// with every field in range: the form time.Parse's RFC 3339 fast path
// accepts.
func canonicalRFC3339(s []byte) bool {
	if len(s) < len("2006-01-02T15:04:05Z") {
		return false
	}
	num := func(b []byte, max int) (int, bool) {
		n := 0
		for _, c := range b {
			if c < '0' || c > '9' {
				return 0, false
			}
			n = n*10 + int(c-'0')
		}
		return n, n <= max
	}
	year, ok1 := num(s[0:4], 9999)
	month, ok2 := num(s[5:7], 12)
	day, ok3 := num(s[8:10], 31)
	_, ok4 := num(s[11:13], 23)
	_, ok5 := num(s[14:16], 59)
	_, ok6 := num(s[17:19], 59)
	if !(ok1 && ok2 && ok3 && ok4 && ok5 && ok6) || month < 1 || day < 1 || day > daysInMonth(month, year) ||
		s[4] != '-' || s[7] != '-' || s[10] != 'T' || s[13] != ':' || s[16] != ':' {
		return false
	}
	s = s[19:]
	if s[0] == '.' {
		n := 1
		for n < len(s) && '0' <= s[n] && s[n] <= '9' {
			n++
		}
		if n == 1 {
			return false
		}
		s = s[n:]
	}
	switch {
	case len(s) == 1:
		return s[0] == 'Z'
	case len(s) == len("+07:00"):
		_, okH := num(s[1:3], 23)
		_, okM := num(s[4:6], 59)
		return okH && okM && (s[0] == '+' || s[0] == '-') && s[3] == ':'
	}
	return false
}

func daysInMonth(month, year int) int {
	switch month {
	case 2:
		if year%4 == 0 && (year%100 != 0 || year%400 == 0) {
			return 29
		}
		return 28
	case 4, 6, 9, 11:
		return 30
	}
	return 31
}

// skip reads and validates any value.
func (r *wireReader) skip(depth int) bool {
	switch c := r.peek(); {
	case c == '"':
		return r.skipString()
	case c == '{':
		if depth >= maxSkipDepth {
			return false
		}
		r.i++
		for first := true; ; first = false {
			if r.peek() == '}' {
				r.i++
				return true
			}
			if !first && !r.consume(',') {
				return false
			}
			if r.peek() != '"' || !r.skipString() || !r.consume(':') || !r.skip(depth+1) {
				return false
			}
		}
	case c == '[':
		if depth >= maxSkipDepth {
			return false
		}
		r.i++
		for first := true; ; first = false {
			if r.peek() == ']' {
				r.i++
				return true
			}
			if !first && !r.consume(',') {
				return false
			}
			if !r.skip(depth + 1) {
				return false
			}
		}
	case c == 't':
		return r.literal("true")
	case c == 'f':
		return r.literal("false")
	case c == 'n':
		return r.literal("null")
	case c == '-' || '0' <= c && c <= '9':
		return r.number()
	}
	return false
}

// skipString reads and validates a string whose content is not needed: any
// escape JSON allows, surrogates included, and any bytes but control
// characters (encoding/json accepts invalid UTF-8 and replaces it).
func (r *wireReader) skipString() bool {
	b := r.b
	for j := r.i + 1; j < len(b); j++ {
		switch c := b[j]; {
		case c == '"':
			r.i = j + 1
			return true
		case c < 0x20:
			return false
		case c == '\\':
			if j+1 >= len(b) {
				return false
			}
			switch b[j+1] {
			case '"', '\\', '/', 'b', 'f', 'n', 'r', 't':
				j++
			case 'u':
				if j+6 > len(b) {
					return false
				}
				if _, ok := hex4(b[j+2 : j+6]); !ok {
					return false
				}
				j += 5
			default:
				return false
			}
		}
	}
	return false
}

// number reads a number in JSON's grammar.
func (r *wireReader) number() bool {
	b, j := r.b, r.i
	digits := func() int {
		k := j
		for j < len(b) && '0' <= b[j] && b[j] <= '9' {
			j++
		}
		return j - k
	}
	if j < len(b) && b[j] == '-' {
		j++
	}
	switch {
	case j < len(b) && b[j] == '0':
		j++
	case digits() == 0:
		return false
	}
	if j < len(b) && b[j] == '.' {
		j++
		if digits() == 0 {
			return false
		}
	}
	if j < len(b) && (b[j] == 'e' || b[j] == 'E') {
		j++
		if j < len(b) && (b[j] == '+' || b[j] == '-') {
			j++
		}
		if digits() == 0 {
			return false
		}
	}
	r.i = j
	return true
}

// wireScratch is what one decoding of a page borrows: the reader and the
// wire items, kept between pages.
type wireScratch[W any] struct {
	r     wireReader
	items []W
}

// maxPooledItems and maxPooledScratch bound what is kept for the next page.
const (
	maxPooledItems   = 1024
	maxPooledScratch = 64 << 10
)

// pagePool hands out the scratch of one wire item type.
type pagePool[W any] struct{ p sync.Pool }

func (pp *pagePool[W]) get(body []byte) *wireScratch[W] {
	s, _ := pp.p.Get().(*wireScratch[W])
	if s == nil {
		s = new(wireScratch[W])
	}
	s.r.reset(body)
	s.items = s.items[:0]
	return s
}

func (pp *pagePool[W]) put(s *wireScratch[W]) {
	clear(s.items) // keep no item's strings alive; the rest was cleared before
	s.r.b = nil
	if cap(s.items) > maxPooledItems {
		s.items = nil
	}
	if cap(s.r.scratch) > maxPooledScratch {
		s.r.scratch = nil
	}
	pp.p.Put(s)
}

// itemArray decodes an array of objects with item, appending to s.items.
// null elements are left to encoding/json.
func (s *wireScratch[W]) itemArray(item func(*wireReader, *W) bool) bool {
	r := &s.r
	if !r.consume('[') {
		return false
	}
	if r.consume(']') {
		return true
	}
	for {
		var zero W
		s.items = append(s.items, zero)
		if !item(r, &s.items[len(s.items)-1]) {
			return false
		}
		if r.consume(']') {
			return true
		}
		if !r.consume(',') {
			return false
		}
	}
}

// fastDecode returns a page decoder that tries fast first and, whenever fast
// declines, decodes the body with exact (encoding/json).
func fastDecode[T any](fast func(body []byte, scope string) (rawPage[T], bool), exact func(body []byte, scope string) (rawPage[T], error)) func(body []byte, scope string) (rawPage[T], error) {
	return func(body []byte, scope string) (rawPage[T], error) {
		if p, ok := fast(body, scope); ok {
			return p, nil
		}
		return exact(body, scope)
	}
}
