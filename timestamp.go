package convo

import (
	"strings"
	"time"
)

// UnreadableField is a field of an item that the server sent in a form convo
// could not read. The model's field is left at its zero value, the rest of
// the item and of its page are read as usual, and the item lists the field in
// its Unreadable slice, so that a caller can tell "not sent" (zero, not
// listed) from "sent but unreadable" (zero, listed).
//
// Read this leniently are timestamps (a form no parser knows) and a
// conversation's Metadata (a value that is not an object); any other field of
// the wrong JSON type (a number where a string belongs) is still a
// [*DecodeError] for its page.
type UnreadableField struct {
	// Field is the field's name on the wire, such as "created_at" or
	// "consent.opted_in_at".
	Field string `json:"field"`
	// Value is the value as sent, cut to at most [MaxUnreadableValue] bytes.
	Value string `json:"value"`
}

// MaxUnreadableValue bounds [UnreadableField.Value], so that a hostile server
// cannot make one item hold a large copy of its body.
const MaxUnreadableValue = 256

// parseTimestamp reads a timestamp as the providers send it. Every form of
// RFC 3339 reads as its instant: upper- or lower-case T and Z, fractional
// seconds of any length (beyond nanoseconds they are truncated), numeric
// offsets, and a leap second (23:59:60Z, or 00:59:60+01:00, reads as the
// instant one second after :59, the first instant of the next minute, as
// Unix time counts it). The ISO 8601
// variants that real servers send read too: an offset without a colon
// (+0200) or of hours only (+02), a space instead of the T, a comma before
// the fraction, minute precision (no seconds), the basic format
// (20260410T031142Z), and no offset at all, which is taken as UTC. Anything
// else reports false. "" is the zero time, and true: the field is not set.
func parseTimestamp(s string) (time.Time, bool) {
	if s == "" {
		return time.Time{}, true
	}
	if t, err := time.Parse(time.RFC3339Nano, s); err == nil {
		return t, true // the common form: the standard library's fast path
	}
	return parseTimestampVariant(s)
}

// timestampLayouts are the forms tried after normalisation (upper case, T as
// the separator, a leap second turned into :59). time.Parse accepts a
// fraction after the seconds of any of them.
var timestampLayouts = [...]string{
	"2006-01-02T15:04:05Z07:00",
	"2006-01-02T15:04:05Z0700",
	"2006-01-02T15:04:05Z07",
	"2006-01-02T15:04:05",
	"2006-01-02T15:04Z07:00",
	"2006-01-02T15:04Z0700",
	"2006-01-02T15:04Z07",
	"2006-01-02T15:04",
	"20060102T150405Z0700",
	"20060102T150405Z07",
	"20060102T150405",
	"20060102T1504Z0700",
	"20060102T1504Z07",
	"20060102T1504",
}

func parseTimestampVariant(s string) (time.Time, bool) {
	if len(s) > 64 {
		return time.Time{}, false
	}
	b := []byte(strings.ToUpper(s))
	// The date's end: 10 in the extended format, 8 in the basic one.
	sep := -1
	switch {
	case len(b) > 10 && b[4] == '-' && (b[10] == 'T' || b[10] == ' '):
		sep = 10
	case len(b) > 8 && b[4] != '-' && (b[8] == 'T' || b[8] == ' '):
		sep = 8
	default:
		return time.Time{}, false
	}
	b[sep] = 'T'
	// A leap second: seconds "60" right after the minutes.
	leap := false
	if i := leapSecondIndex(b, sep); i >= 0 {
		b[i], b[i+1] = '5', '9'
		leap = true
	}
	v := string(b)
	for _, layout := range timestampLayouts {
		if t, err := time.Parse(layout, v); err == nil {
			if leap {
				t = t.Add(time.Second)
			}
			return t, true
		}
	}
	return time.Time{}, false
}

// leapSecondIndex returns the index of the seconds of b when they are "60",
// else -1; sep is the index of the T. Where a leap second falls in local time
// depends on the offset (23:59:60Z is 00:59:60+01:00), so any minute may
// carry one; which days had one is the leap-second table's business, not the
// parser's.
func leapSecondIndex(b []byte, sep int) int {
	t := b[sep+1:]
	switch {
	case len(t) >= 8 && t[2] == ':' && t[5] == ':': // hh:mm:60
		if t[6] == '6' && t[7] == '0' {
			return sep + 1 + 6
		}
	case len(t) >= 6 && isDigits(t[:6]): // hhmm60
		if t[4] == '6' && t[5] == '0' {
			return sep + 1 + 4
		}
	}
	return -1
}

func isDigits(b []byte) bool {
	for _, c := range b {
		if c < '0' || c > '9' {
			return false
		}
	}
	return true
}

// readTime parses the timestamp s of the wire field name; when it cannot be
// read it records the field in *bad and returns the zero time.
func readTime(bad *[]UnreadableField, name, s string) time.Time {
	t, ok := parseTimestamp(s)
	if !ok {
		unreadable(bad, name, s)
	}
	return t
}

// unreadable records the field name with (a bounded copy of) its value.
func unreadable(bad *[]UnreadableField, name, value string) {
	if len(value) > MaxUnreadableValue {
		value = strings.ToValidUTF8(value[:MaxUnreadableValue], "")
	}
	*bad = append(*bad, UnreadableField{Field: name, Value: strings.Clone(value)})
}
