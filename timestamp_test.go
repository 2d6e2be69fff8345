package convo

import (
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestParseTimestamp(t *testing.T) {
	t.Parallel()
	utc := func(y int, mo time.Month, d, h, mi, s, ns int) time.Time {
		return time.Date(y, mo, d, h, mi, s, ns, time.UTC)
	}
	base := utc(2026, 4, 10, 3, 11, 42, 0)
	tests := []struct {
		in   string
		want time.Time // zero with ok false: unreadable
		ok   bool
	}{
		{"", time.Time{}, true}, // not set
		// RFC 3339, every form.
		{"2026-04-10T03:11:42Z", base, true},
		{"2026-04-10t03:11:42z", base, true},
		{"2026-04-10T03:11:42z", base, true},
		{"2026-04-10t03:11:42Z", base, true},
		{"2026-04-10T03:11:42.5Z", base.Add(500 * time.Millisecond), true},
		{"2026-04-10T03:11:42.123456789Z", base.Add(123456789), true},
		{"2026-04-10T03:11:42.1234567891234Z", base.Add(123456789), true}, // beyond ns: truncated
		{"2026-04-10T03:11:42.1Z", base.Add(100 * time.Millisecond), true},
		{"2026-04-10T05:11:42+02:00", base, true},
		{"2026-04-09T22:41:42-04:30", base, true},
		{"2026-04-10T03:11:42-00:00", base, true},
		{"2026-04-10t05:11:42.25+02:00", base.Add(250 * time.Millisecond), true},
		{"2016-12-31T23:59:60Z", utc(2017, 1, 1, 0, 0, 0, 0), true}, // a leap second
		{"2016-12-31T23:59:60.5Z", utc(2017, 1, 1, 0, 0, 0, 5e8), true},
		{"2017-01-01T00:59:60+01:00", utc(2017, 1, 1, 0, 0, 0, 0), true}, // the same leap second in another offset
		{"2016-12-31t23:59:60z", utc(2017, 1, 1, 0, 0, 0, 0), true},
		// ISO 8601 variants.
		{"2026-04-10T05:11:42+0200", base, true},
		{"2026-04-10T05:11:42+02", base, true},
		{"2026-04-10 03:11:42Z", base, true},
		{"2026-04-10 05:11:42+02:00", base, true},
		{"2026-04-10 03:11:42", base, true}, // no offset: UTC
		{"2026-04-10T03:11:42", base, true},
		{"2026-04-10T03:11:42.5", base.Add(500 * time.Millisecond), true},
		{"2026-04-10T03:11:42,5Z", base.Add(500 * time.Millisecond), true},
		{"2026-04-10T03:11Z", base.Add(-42 * time.Second), true}, // minute precision
		{"2026-04-10T05:11+02:00", base.Add(-42 * time.Second), true},
		{"2026-04-10T03:11", base.Add(-42 * time.Second), true},
		{"20260410T031142Z", base, true}, // basic format
		{"20260410T051142+0200", base, true},
		{"20260410T031142.5Z", base.Add(500 * time.Millisecond), true},
		{"20260410t031142z", base, true},
		{"20260410T0311Z", base.Add(-42 * time.Second), true},
		{"20161231T235960Z", utc(2017, 1, 1, 0, 0, 0, 0), true},
		// Unreadable: left zero.
		{"yesterday", time.Time{}, false},
		{"2026-04-10", time.Time{}, false},
		{"2026-13-01T00:00:00Z", time.Time{}, false},
		{"2026-04-10T25:00:00Z", time.Time{}, false},
		{"2026-04-10T03:11:61Z", time.Time{}, false},
		{"2026-04-10T03:11:42+99:99", time.Time{}, false},
		{"2026-04-10X03:11:42Z", time.Time{}, false},
		{"1712718702", time.Time{}, false},
		{strings.Repeat("2", 100), time.Time{}, false},
	}
	for _, tt := range tests {
		got, ok := parseTimestamp(tt.in)
		assert.Equal(t, tt.ok, ok, "%q", tt.in)
		assert.True(t, tt.want.Equal(got), "%q: got %v, want %v", tt.in, got, tt.want)
	}
}

func TestReadTimeRecordsUnreadableFields(t *testing.T) {
	t.Parallel()
	var bad []UnreadableField
	assert.True(t, readTime(&bad, "created_at", "").IsZero())
	assert.Nil(t, bad, "an empty timestamp is not set, not unreadable")
	assert.True(t, readTime(&bad, "created_at", "2026-04-10T03:11:42Z").Equal(time.Date(2026, 4, 10, 3, 11, 42, 0, time.UTC)))
	assert.Nil(t, bad)
	assert.True(t, readTime(&bad, "created_at", "yesterday").IsZero())
	assert.Equal(t, []UnreadableField{{Field: "created_at", Value: "yesterday"}}, bad)
	long := strings.Repeat("é", 1000)
	readTime(&bad, "sentAt", long)
	require.Len(t, bad, 2)
	assert.LessOrEqual(t, len(bad[1].Value), MaxUnreadableValue)
	assert.True(t, strings.HasPrefix(long, bad[1].Value), "a valid prefix of the value")
}

// FuzzParseTimestamp: no input panics; every instant written in RFC 3339
// (any fraction, any offset, either case) reads back as that instant.
func FuzzParseTimestamp(f *testing.F) {
	for _, s := range []string{"2026-04-10T03:11:42Z", "2016-12-31T23:59:60Z", "20260410T031142+0200", "2026-04-10 03:11", "", "x", "2026-04-10T03:11:42.000000000001-23:59"} {
		f.Add(s, int64(1712718702), int32(0), int16(0), false)
	}
	f.Fuzz(func(t *testing.T, s string, sec int64, nsec int32, offMin int16, lower bool) {
		if v, ok := parseTimestamp(s); !ok && !v.IsZero() {
			t.Fatalf("%q: unreadable but not zero: %v", s, v)
		}
		sec = sec % (253402300799 - 62135596800) // within years 1970…9999
		if sec < 0 {
			sec = -sec
		}
		ns := int(nsec) % 1e9
		if ns < 0 {
			ns = -ns
		}
		off := int(offMin) % (24 * 60)
		instant := time.Unix(sec, int64(ns)).In(time.FixedZone("", off*60))
		text := instant.Format(time.RFC3339Nano)
		if lower {
			text = strings.ToLower(text)
		}
		got, ok := parseTimestamp(text)
		if !ok || !got.Equal(instant) {
			t.Fatalf("%q read as %v (%v), want %v", text, got, ok, instant)
		}
	})
}

// TestDecodeUnreadableTimestampKeepsThePage checks, for every provider, that
// a timestamp in no known form leaves its field zero, is listed in the
// item's Unreadable, and costs neither the rest of the item nor the page.
func TestDecodeUnreadableTimestampKeepsThePage(t *testing.T) {
	t.Parallel()
	const odd = "next tuesday"
	tests := []struct {
		provider   Provider
		convs      string
		convField  string
		msgs       string
		msgField   string
		convRead   func(*Conversation) time.Time // a timestamp of the item that stays readable
		messageLen int
	}{
		{Vobiz,
			`{"items":[{"id":"a","started_at":"next tuesday","expires_at":"2026-03-18 14:00:00Z"},{"id":"b","started_at":"2026-03-17T14:00:00Z"}]}`, "started_at",
			`{"items":[{"id":"m1","created_at":"next tuesday","content":"{\"body\":\"hi\"}"},{"id":"m2","created_at":"2026-03-17t14:20:00z"}],"has_more":false}`, "created_at",
			func(c *Conversation) time.Time { return c.ExpiresAt }, 2},
		{VantaxAI,
			`{"success":true,"data":[{"id":"a","created_at":"next tuesday","last_message_at":"2026-03-18T14:00:00+0000"},{"id":"b","created_at":"2026-03-17T14:00:00Z"}],"pagination":{"has_more":false}}`, "created_at",
			`{"success":true,"data":[{"id":"m1","created_at":"next tuesday","content":"hi"},{"id":"m2","created_at":"2026-03-17T14:20:00Z"}],"pagination":{"has_more":false}}`, "created_at",
			func(c *Conversation) time.Time { return c.LastMessageAt }, 2},
		{Rentalot,
			`{"data":[{"id":"a","createdAt":"next tuesday","lastMessageAt":"20260318T140000Z"},{"id":"b","createdAt":"2026-03-17T14:00:00Z"}],"pagination":{"page":1,"limit":20}}`, "createdAt",
			`{"data":[{"id":"m1","sentAt":"next tuesday","createdAt":"2026-03-18T14:00:00Z","content":"hi"},{"id":"m2","sentAt":"2026-03-17T14:20:00Z"}],"pagination":{"page":1,"limit":20}}`, "sentAt",
			func(c *Conversation) time.Time { return c.LastMessageAt }, 2},
		{AgentMessage,
			`{"success":true,"data":[{"id":"a","last_message_body_redacted_at":"next tuesday","last_message_at":"2026-03-18T14:00"},{"id":"b","last_message_at":"2026-03-17T14:00:00Z"}],"meta":{"next_cursor":null}}`, "last_message_body_redacted_at",
			`{"success":true,"data":[{"id":"m1","created_at":"next tuesday","body":"hi"},{"id":"m2","created_at":"2026-03-17T14:20:00Z"}],"meta":{"next_cursor":null}}`, "created_at",
			func(c *Conversation) time.Time { return c.LastMessageAt }, 2},
	}
	for _, tt := range tests {
		t.Run(tt.provider.Name(), func(t *testing.T) {
			c := servedLists(t, tt.provider, tt.convs, tt.msgs)
			ctx := testContext(t)

			convs, err := drain(c.Conversations.List(ctx, nil), 10)
			require.NoError(t, err, "one odd timestamp does not make the page unreadable")
			require.Len(t, convs, 2)
			assert.Equal(t, []UnreadableField{{Field: tt.convField, Value: odd}}, convs[0].Unreadable)
			assert.Equal(t, time.Date(2026, 3, 18, 14, 0, 0, 0, time.UTC), tt.convRead(&convs[0]).UTC(), "the item's other timestamps are read")
			assert.Nil(t, convs[1].Unreadable)
			assert.Equal(t, "b", convs[1].ID)

			msgs, err := drain(c.Messages.List(ctx, "conv", nil), 10)
			require.NoError(t, err)
			require.Len(t, msgs, tt.messageLen)
			assert.Equal(t, []UnreadableField{{Field: tt.msgField, Value: odd}}, msgs[0].Unreadable)
			assert.Equal(t, "m1", msgs[0].ID)
			if tt.provider == Rentalot {
				assert.Equal(t, time.Date(2026, 3, 18, 14, 0, 0, 0, time.UTC), msgs[0].SentAt.UTC(), "an unreadable sentAt falls back to createdAt")
			} else {
				assert.True(t, msgs[0].SentAt.IsZero())
			}
			assert.Equal(t, time.Date(2026, 3, 17, 14, 20, 0, 0, time.UTC), msgs[1].SentAt.UTC())
			assert.Nil(t, msgs[1].Unreadable)
		})
	}
}
