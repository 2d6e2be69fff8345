package convo

import (
	"bytes"
	"encoding/json"
	"os"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// The fast decoders must be a pure optimisation: every body they accept must
// decode exactly as encoding/json decodes it (the exact decoders), and every
// body they decline is decoded by encoding/json. These tests compare the two
// on fixtures, on hand-written edge cases, and on systematic mutations of a
// page.

type wireDecoders[T any] struct {
	fast  func([]byte, string) (rawPage[T], bool)
	exact func([]byte, string) (rawPage[T], error)
	used  func([]byte, string) (rawPage[T], error) // what the endpoint uses
}

var (
	wireMessages = wireDecoders[Message]{
		fast:  agentMessageFastPage(agentMessageFastMessage, agentMessageMessage),
		exact: agentMessagePage(agentMessageMessage),
		used:  agentMessageDesc.messages.decode,
	}
	wireConversations = wireDecoders[Conversation]{
		fast:  agentMessageFastPage(agentMessageFastConversation, agentMessageConversation),
		exact: agentMessagePage(agentMessageConversation),
		used:  agentMessageDesc.conversations.decode,
	}
)

// check compares the fast and exact decoders on body and reports whether the
// fast one accepted it.
func (d wireDecoders[T]) check(t *testing.T, body []byte) (accepted bool) {
	t.Helper()
	fast, ok := d.fast(body, "conv_scope")
	exact, exactErr := d.exact(body, "conv_scope")
	used, usedErr := d.used(body, "conv_scope")
	if ok {
		if !assert.NoError(t, exactErr, "the fast decoder accepted a body encoding/json rejects: %q", body) {
			return ok
		}
		assert.True(t, reflect.DeepEqual(exact, fast), "fast and exact decoders differ on %q:\nfast:  %+v\nexact: %+v", body, fast, exact)
	}
	// Whatever the path, the endpoint's decoder answers as encoding/json.
	if exactErr != nil {
		assert.EqualError(t, usedErr, exactErr.Error(), "body %q", body)
	} else {
		assert.NoError(t, usedErr, "body %q", body)
		assert.True(t, reflect.DeepEqual(exact, used), "endpoint decoder differs from encoding/json on %q", body)
	}
	return ok
}

const wireMessagePage = `{"success":true,"data":[` +
	`{"id":"msg_1","direction":"inbound","phone_number_id":"pn_1","from_number":"+15550001","to_number":"+15550002","body":"Hi \"there\"\n\u00e9\u20ac café 🙏","media_urls":["https://m.example/1.jpg","https://m.example/2.jpg"],"channel":"sms","segment_count":2,"created_at":"2026-04-10T03:11:42Z","redacted_at":null},` +
	`{"id":"msg_2","direction":"outbound","phone_number_id":"pn_1","from_number":"+15550002","to_number":"+15550001","body":null,"media_urls":[],"channel":"sms","segment_count":1,"created_at":"2026-04-10T03:12:42.123456789+02:00","redacted_at":"2026-07-10T00:00:00Z"},` +
	`{"id":"msg_3","direction":"inbound","phone_number_id":"pn_1","from_number":"+15550001","to_number":"+15550002","body":"","media_urls":null,"channel":"sms","segment_count":0,"created_at":"","redacted_at":""}` +
	`],"meta":{"total":0,"limit":100,"offset":0,"next_cursor":"c2"}}`

func TestFastDecodeAcceptsTheDocumentedForm(t *testing.T) {
	fixture, err := os.ReadFile("testdata/agentmessage_conversations.json")
	require.NoError(t, err)
	assert.True(t, wireConversations.check(t, fixture), "the documented conversations page takes the fast path")
	assert.True(t, wireMessages.check(t, []byte(wireMessagePage)), "a messages page takes the fast path")

	page, ok := wireMessages.fast([]byte(wireMessagePage), "conv_scope")
	require.True(t, ok)
	require.Len(t, page.items, 3)
	assert.Equal(t, "c2", page.next)
	assert.Equal(t, 100, page.limit)
	m := page.items[0]
	assert.Equal(t, "Hi \"there\"\n\u00e9\u20ac café 🙏", m.Body)
	assert.Equal(t, "conv_scope", m.ConversationID)
	assert.Equal(t, []string{"https://m.example/1.jpg", "https://m.example/2.jpg"}, m.MediaURLs)
	assert.Equal(t, 2, m.SegmentCount)
	assert.True(t, page.items[1].RedactedAt.Equal(mustTime(t, "2026-07-10T00:00:00Z")))
	assert.Equal(t, "", page.items[1].Body)
	assert.NotNil(t, page.items[1].MediaURLs, "[] stays an empty slice, as with encoding/json")
	assert.Nil(t, page.items[2].MediaURLs, "null stays nil")
	assert.True(t, page.items[2].SentAt.IsZero())
}

func mustTime(t *testing.T, s string) time.Time {
	t.Helper()
	v, err := time.Parse(time.RFC3339Nano, s)
	require.NoError(t, err)
	return v
}

// The edge cases: each is either declined by the fast decoder or decoded
// exactly like encoding/json; check tells which, and some must be declined.
func TestFastDecodeEdgeCases(t *testing.T) {
	item := func(fields string) string {
		return `{"success":true,"data":[{` + fields + `}],"meta":{"limit":1,"next_cursor":null}}`
	}
	cases := []struct {
		name     string
		body     string
		declined bool // the fast decoder must hand it to encoding/json
	}{
		{"empty data", `{"success":true,"data":[],"meta":{"next_cursor":null}}`, false},
		{"no success, no meta", `{"data":[{"id":"a"}]}`, false},
		{"null meta and success", `{"success":null,"data":[],"meta":null}`, false},
		{"white space everywhere", " \n\t{ \"data\" : [ { \"id\" : \"a\" , \"segment_count\" : -0 } ] , \"meta\" : { } } \r\n", false},
		{"unknown values of every kind", `{"x":{"a":[1,-2.5e+3,true,false,null,"s\"",{}],"b":{"c":[]}},"data":[{"id":"a","extra":[{"y":0.5E-2}]}],"z":"\ud83d\ude4f"}`, false},
		{"escapes", item(`"body":"\\ \/ \b \f \n \r \t \u0041 \u00e9 \u4e16"`), false},
		{"empty object item", item(``), false},
		{"large int", item(`"segment_count":999999999999999999`), false},
		{"time with offset", item(`"created_at":"2024-02-29T23:59:59.5-07:30"`), false},
		{"time, local offset", item(`"created_at":"2024-02-29T23:59:59+00:00"`), false},

		{"success false", `{"success":false,"data":[]}`, true},
		{"data missing", `{"success":true,"meta":{}}`, true},
		{"data null", `{"success":true,"data":null}`, true},
		{"data object", `{"data":{}}`, true},
		{"null item", `{"data":[null]}`, true},
		{"not JSON", `<html>oops</html>`, true},
		{"empty body", ``, true},
		{"top-level null", `null`, true},
		{"trailing garbage", `{"data":[]} x`, true},
		{"two values", `{"data":[]}{"data":[]}`, true},
		{"truncated", `{"data":[{"id":"a"`, true},
		{"trailing comma", `{"data":[{"id":"a",}]}`, true},
		{"trailing comma in array", `{"data":[{"id":"a"},]}`, true},
		{"case-folded key", item(`"ID":"a"`), true},
		{"case-folded envelope key", `{"Data":[]}`, true},
		{"escaped key", item(`"\u0069d":"a"`), true},
		{"non-ASCII key", item(`"idé":"a"`), true},
		{"duplicate key", item(`"id":"a","id":"b"`), true},
		{"duplicate data", `{"data":[],"data":[{"id":"a"}]}`, true},
		{"id is a number", item(`"id":1`), true},
		{"count is a float", item(`"segment_count":1.0`), true},
		{"count has an exponent", item(`"segment_count":1e2`), true},
		{"count is a string", item(`"segment_count":"1"`), true},
		{"count with leading zero", item(`"segment_count":01`), true},
		{"count overflows", item(`"segment_count":99999999999999999999`), true},
		{"invalid UTF-8", item("\"body\":\"a\xffb\""), true},
		{"invalid UTF-8 after escape", item("\"body\":\"\\n\xc3\""), true},
		{"lone surrogate", item(`"body":"\ud83d"`), true},
		{"surrogate pair", item(`"body":"\ud83d\ude4f"`), true},
		{"bad escape", item(`"body":"\x"`), true},
		{"control character", item("\"body\":\"a\tb\""), true},
		{"time not RFC 3339", item(`"created_at":"10/04/2026"`), true},
		{"time month 13", item(`"created_at":"2026-13-10T03:11:42Z"`), true},
		{"time 30 February", item(`"created_at":"2026-02-30T03:11:42Z"`), true},
		{"time lower-case t", item(`"created_at":"2026-04-10t03:11:42Z"`), true},
		{"time without zone", item(`"created_at":"2026-04-10T03:11:42"`), true},
		{"time is a number", item(`"created_at":1712718702`), true},
		{"media_urls with a number", item(`"media_urls":[1]`), true},
		{"media_urls with null", item(`"media_urls":["a",null]`), false},
		{"consent in a message", item(`"consent":{"x":1}`), false},
		{"bad literal", item(`"body":nul`), true},
		{"bad number", item(`"x":-`), true},
		{"bad fraction", item(`"x":1.`), true},
		{"deep nesting", `{"data":[],"x":` + strings.Repeat("[", 100) + strings.Repeat("]", 100) + `}`, true},
		{"next_cursor is a number", `{"data":[],"meta":{"next_cursor":5}}`, true},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			accepted := wireMessages.check(t, []byte(tc.body))
			if tc.declined {
				assert.False(t, accepted, "the fast decoder must decline %q", tc.body)
			} else {
				assert.True(t, accepted, "the fast decoder should take %q", tc.body)
			}
		})
	}
}

func TestFastDecodeConversationEdgeCases(t *testing.T) {
	conv := func(fields string) []byte {
		return []byte(`{"success":true,"data":[{` + fields + `}],"meta":{"next_cursor":"n"}}`)
	}
	for _, body := range [][]byte{
		conv(`"id":"a","consent":null`),
		conv(`"id":"a","consent":{}`),
		conv(`"id":"a","consent":{"opted_in":false,"opted_in_at":null}`),
		conv(`"id":"a","consent":{"opted_in":null,"opted_in_at":"2026-04-01T09:00:00Z","note":[1]}`),
		conv(`"consent":{"opted_in":1}`),
		conv(`"consent":{"Opted_In":true}`),
		conv(`"consent":{"opted_in":true,"opted_in":false}`),
		conv(`"consent":[]`),
		conv(`"message_count":3,"last_message_direction":"outbound","last_message_preview":null,"last_message_body_redacted_at":""`),
		conv(`"Message_Count":3`),
	} {
		wireConversations.check(t, body)
	}
}

// Every one-byte change of a page (deletion, and replacement by bytes that
// matter to JSON) must be declined or decoded as encoding/json decodes it.
func TestFastDecodeMutations(t *testing.T) {
	page := []byte(wireMessagePage)
	fixture, err := os.ReadFile("testdata/agentmessage_conversations.json")
	require.NoError(t, err)
	fixture = compactJSON(t, fixture)
	replacements := []byte("\"\\{}[],:0-.e\xff")
	accepted := 0
	for i := range page {
		mutants := [][]byte{append(bytes.Clone(page[:i]), page[i+1:]...)}
		for _, c := range replacements {
			if c != page[i] {
				m := bytes.Clone(page)
				m[i] = c
				mutants = append(mutants, m)
			}
		}
		for _, m := range mutants {
			if wireMessages.check(t, m) {
				accepted++
			}
		}
		if t.Failed() {
			t.Fatalf("first failure at byte %d", i)
		}
	}
	for i := range fixture {
		m := append(bytes.Clone(fixture[:i]), fixture[i+1:]...)
		wireConversations.check(t, m)
		if t.Failed() {
			t.Fatalf("first failure at byte %d of the fixture", i)
		}
	}
	assert.Greater(t, accepted, 100, "some mutants are still valid pages the fast path takes")
}

func compactJSON(t *testing.T, b []byte) []byte {
	t.Helper()
	var buf bytes.Buffer
	require.NoError(t, json.Compact(&buf, b))
	return buf.Bytes()
}

func FuzzFastDecodeMatchesEncodingJSON(f *testing.F) {
	f.Add([]byte(wireMessagePage))
	f.Add([]byte(`{"data":[{"id":"a","body":"\u00e9","created_at":"2026-04-10T03:11:42.5+01:00"}]}`))
	fixture, err := os.ReadFile("testdata/agentmessage_conversations.json")
	if err != nil {
		f.Fatal(err)
	}
	f.Add(fixture)
	f.Fuzz(func(t *testing.T, body []byte) {
		wireMessages.check(t, body)
		wireConversations.check(t, body)
	})
}

// A field added to a wire struct must be added to its fast decoder too, or
// the fast path would skip it as unknown. Every field of the wire structs,
// set to a sample of its type, must take the fast path and decode as with
// encoding/json; and the field lists used for case-folded keys must name
// them all.
func TestFastDecodersKnowEveryWireField(t *testing.T) {
	tests := []struct {
		wire   reflect.Type
		fields []string
		check  func(*testing.T, []byte) bool
	}{
		{reflect.TypeFor[agentMessageWireMessage](), agentMessageMessageFields, wireMessages.check},
		{reflect.TypeFor[agentMessageWireConversation](), agentMessageConversationFields, wireConversations.check},
	}
	for _, tc := range tests {
		t.Run(tc.wire.Name(), func(t *testing.T) {
			obj, tags := sampleObject(t, tc.wire)
			assert.ElementsMatch(t, tags, tc.fields, "the fast decoder's field list")
			body := []byte(`{"success":true,"data":[` + obj + `],"meta":{"limit":1,"next_cursor":"n"}}`)
			assert.True(t, tc.check(t, body), "every field takes the fast path: %s", body)
		})
	}
}

// sampleObject returns a JSON object with a non-zero sample value for every
// json-tagged field of the struct type st, and the tags.
func sampleObject(t *testing.T, st reflect.Type) (string, []string) {
	t.Helper()
	var parts, tags []string
	for i := range st.NumField() {
		f := st.Field(i)
		tag, _, _ := strings.Cut(f.Tag.Get("json"), ",")
		require.NotEmpty(t, tag, "field %s has a json name", f.Name)
		tags = append(tags, tag)
		var v string
		switch ft := f.Type; {
		case ft == reflect.TypeFor[wireTime]():
			v = `"2026-04-10T03:11:42.5+02:00"`
		case ft.Kind() == reflect.String:
			v = `"sample ` + tag + `"`
		case ft.Kind() == reflect.Int:
			v = `7`
		case ft.Kind() == reflect.Bool:
			v = `true`
		case ft.Kind() == reflect.Slice && ft.Elem().Kind() == reflect.String:
			v = `["a","b"]`
		case ft.Kind() == reflect.Pointer && ft.Elem().Kind() == reflect.Struct:
			v, _ = sampleObject(t, ft.Elem())
		default:
			t.Fatalf("no sample for field %s of type %s", f.Name, ft)
		}
		parts = append(parts, `"`+tag+`":`+v)
	}
	return "{" + strings.Join(parts, ",") + "}", tags
}
