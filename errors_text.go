package convo

import (
	"strings"
	"unicode"
	"unicode/utf8"
)

// MaxErrorTextLen bounds the Error() text of every error type of this
// package ([*APIError], [*DecodeError], [*RequestError], [*AuthError],
// [*ConversationError], [*PacingError]): at most this many bytes, on one
// line.
const MaxErrorTextLen = 4 << 10

// maxErrorDetails is how many validation details APIError.Error() lists;
// the rest are counted.
const maxErrorDetails = 10

// errorLine makes the final text of an Error() method: one printable line of
// at most MaxErrorTextLen bytes.
func errorLine(s string) string { return oneLine(s, MaxErrorTextLen) }

// oneLine fits text that may come from a server (or a caller's error) into
// one printable line of at most max bytes, so that printing an error can
// neither break a log line in two nor drive the terminal it is shown on:
//
//   - ANSI escape sequences are removed whole: CSI (colours, cursor moves),
//     OSC (window titles, hyperlinks), DCS, SOS, PM and APC strings, and
//     two-byte escapes, whether introduced by ESC or by their C1 code;
//   - every other control character (C0, DEL, C1, line and paragraph
//     separators) and every run of white space becomes one space;
//   - invisible format characters (bidirectional overrides and isolates,
//     zero-width characters, the byte order mark) are dropped, so that the
//     text reads in the order it is stored;
//   - a byte that is not UTF-8 becomes U+FFFD;
//   - the text is cut at a rune boundary, with "…", to at most max bytes.
func oneLine(s string, max int) string {
	if len(s) <= max && cleanLine(s) {
		return s
	}
	var b strings.Builder
	b.Grow(min(len(s), max))
	space := false // a space is due before the next visible rune
	for i := 0; i < len(s); {
		r, size := utf8.DecodeRuneInString(s[i:])
		switch {
		case r == 0x1b || r >= 0x80 && r <= 0x9f:
			i = skipEscape(s, i, size)
			space = b.Len() > 0
			continue
		case r == utf8.RuneError && size == 1:
			r = utf8.RuneError
		case unicode.IsControl(r) || unicode.IsSpace(r) || r == '\u2028' || r == '\u2029':
			space = b.Len() > 0
			i += size
			continue
		case unicode.Is(unicode.Cf, r):
			i += size
			continue
		}
		need := utf8.RuneLen(r)
		if space {
			need++
		}
		if b.Len()+need > max-len("…") && (b.Len()+need > max || i+size < len(s)) {
			b.WriteString("…")
			return b.String()
		}
		if space {
			b.WriteByte(' ')
			space = false
		}
		b.WriteRune(r)
		i += size
	}
	return b.String()
}

// cleanLine reports whether s is printable ASCII with no double space and
// no space at either end: already one clean line.
func cleanLine(s string) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c < 0x20 || c > 0x7e || c == ' ' && (i == 0 || i == len(s)-1 || s[i-1] == ' ') {
			return false
		}
	}
	return true
}

// skipEscape returns the index just after the escape sequence or C1 control
// that starts at s[i] (size bytes long), as ECMA-48 delimits them.
func skipEscape(s string, i, size int) int {
	r, _ := utf8.DecodeRuneInString(s[i:])
	j := i + size
	if r != 0x1b {
		return skipControl(s, r, j)
	}
	if j >= len(s) {
		return j
	}
	c := s[j]
	j++
	switch {
	case c >= 0x40 && c <= 0x5f: // ESC Fe is the 7-bit form of a C1 control
		return skipControl(s, rune(c)+0x40, j)
	case c >= 0x20 && c <= 0x2f: // nF: intermediates, then one final byte
		j = skipBytes(s, j, 0x20, 0x2f)
		if j < len(s) {
			j++
		}
		return j
	default: // Fp, Fs: two bytes
		return j
	}
}

// skipControl returns the index just after what the C1 control c, whose
// introducer ends at s[j], delimits: a CSI's parameters and final byte, a
// control string, or nothing more.
func skipControl(s string, c rune, j int) int {
	switch c {
	case 0x9b: // CSI: parameters, intermediates, one final byte
		j = skipBytes(s, j, 0x20, 0x3f)
		if j < len(s) && s[j] >= 0x40 && s[j] <= 0x7e {
			j++
		}
		return j
	case 0x90, 0x98, 0x9d, 0x9e, 0x9f: // DCS, SOS, OSC, PM, APC: a string up to ST or BEL
		return skipControlString(s, j)
	}
	return j
}

// skipControlString returns the index just after the terminator (BEL, ST or
// ESC \) of the control string whose content starts at s[j], or len(s) when
// it is not terminated.
func skipControlString(s string, j int) int {
	for j < len(s) {
		c, n := utf8.DecodeRuneInString(s[j:])
		switch {
		case c == 0x07 || c == 0x9c:
			return j + n
		case c == 0x1b && j+1 < len(s) && s[j+1] == '\\':
			return j + 2
		}
		j += n
	}
	return j
}

// skipBytes returns the index of the first byte of s from j on that is not
// in lo..hi.
func skipBytes(s string, j int, lo, hi byte) int {
	for j < len(s) && s[j] >= lo && s[j] <= hi {
		j++
	}
	return j
}

// snippet returns at most n bytes of b, cut at a rune boundary.
func snippet(b []byte, n int) string {
	if len(b) <= n {
		return string(b)
	}
	for n > 0 && !utf8.RuneStart(b[n]) {
		n--
	}
	return string(b[:n]) + "…"
}
