package convo

import (
	"bytes"
	stdjson "encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// The differential tests: every page and object decoder, run with the
// library behind decodeJSON and with encoding/json, must agree on every
// body: the same items, field for field, and an error from both or from
// neither.

func stdDecode(body []byte, v any) error { return stdjson.Unmarshal(body, v) }

// diffCase is one decoder under test, built twice from the same wire types
// and mapping: with decodeJSON and with encoding/json.
type diffCase struct {
	name string
	run  func(decode decodeFunc, body []byte) (any, error)
}

func pageCase[T any](name string, build func(decodeFunc) func([]byte, string) (rawPage[T], error)) diffCase {
	return diffCase{name, func(decode decodeFunc, body []byte) (any, error) {
		p, err := build(decode)(body, "conv_scope")
		return p, err
	}}
}

func objectCase[T any](name string, build func(decodeFunc) func([]byte) (T, error)) diffCase {
	return diffCase{name, func(decode decodeFunc, body []byte) (any, error) {
		return build(decode)(body)
	}}
}

// diffCases covers every wire type of every provider.
var diffCases = []diffCase{
	pageCase("vobiz conversations", func(d decodeFunc) func([]byte, string) (rawPage[Conversation], error) {
		return vobizPage(d, vobizConversation)
	}),
	pageCase("vobiz messages", func(d decodeFunc) func([]byte, string) (rawPage[Message], error) { return vobizPage(d, vobizMessage) }),
	pageCase("vantaxai conversations", func(d decodeFunc) func([]byte, string) (rawPage[Conversation], error) {
		return vantaxPage(d, vantaxConversation)
	}),
	pageCase("vantaxai messages", func(d decodeFunc) func([]byte, string) (rawPage[Message], error) {
		return vantaxPage(d, vantaxMessage)
	}),
	objectCase("vantaxai get", func(d decodeFunc) func([]byte) (Conversation, error) { return dataObject(d, vantaxConversation) }),
	pageCase("rentalot conversations", func(d decodeFunc) func([]byte, string) (rawPage[Conversation], error) {
		return rentalotPage(d, rentalotConversation)
	}),
	pageCase("rentalot messages", func(d decodeFunc) func([]byte, string) (rawPage[Message], error) {
		return rentalotPage(d, rentalotMessage)
	}),
	pageCase("rentalot search", rentalotSearchPage),
	objectCase("rentalot get", func(d decodeFunc) func([]byte) (Conversation, error) { return dataObject(d, rentalotConversation) }),
	pageCase("agentmessage conversations", func(d decodeFunc) func([]byte, string) (rawPage[Conversation], error) {
		return agentMessagePage(d, agentMessageConversation)
	}),
	pageCase("agentmessage messages", func(d decodeFunc) func([]byte, string) (rawPage[Message], error) {
		return agentMessagePage(d, agentMessageMessage)
	}),
}

// compareDecoders fails t when decodeJSON and encoding/json disagree on body
// for any decoder.
func compareDecoders(t *testing.T, body []byte) {
	t.Helper()
	for _, c := range diffCases {
		got, gotErr := c.run(decodeJSON, body)
		want, wantErr := c.run(stdDecode, body)
		if (gotErr == nil) != (wantErr == nil) {
			t.Fatalf("%s: decodeJSON error %v, encoding/json error %v, on %q", c.name, gotErr, wantErr, body)
		}
		if gotErr == nil && !reflect.DeepEqual(got, want) {
			t.Fatalf("%s: decodeJSON and encoding/json differ on %q:\ngot:  %+v\nwant: %+v", c.name, body, got, want)
		}
	}
}

// diffBodies are the fixtures and edge cases the table test runs.
func diffBodies(t testing.TB) [][]byte {
	files, err := filepath.Glob("testdata/*.json")
	require.NoError(t, err)
	require.NotEmpty(t, files)
	var out [][]byte
	for _, name := range files {
		b, err := os.ReadFile(name)
		require.NoError(t, err)
		out = append(out, b)
	}
	for _, s := range diffEdgeCases {
		out = append(out, []byte(s))
	}
	return out
}

var diffEdgeCases = []string{
	``, `null`, `{}`, `[]`, `"x"`, `0`, `{"items":null}`, `{"data":null}`, `{"data":[]}`, `{"items":[]}`,
	`{"items":[{"id":"a","content":"{\"body\":{\"x\":1}}","created_at":null}],"has_more":null,"next_cursor":null}`,
	`{"items":[{"id":"a","content":"{\"body\":\"null\"}"},{"id":"b","content":"null"},{"id":"c","content":"{\"body\":null}"}]}`,
	`{"items":[{"id":"a","content":" {\"body\":42} "},{"id":"b","content":"{\"body\":\"x\",\"body\":\"y\"}"}]}`,
	`{"success":true,"data":[{"id":"a","metadata":{"k":1,"j":null,"s":"v","e":"\u00e9\n"},"tags":null,"media_url":[]}],"pagination":{"total":-1,"limit":0,"has_more":true}}`,
	`{"success":true,"data":{"id":"a","metadata":{"k":"v"},"tags":["x","y"]}}`,
	`{"data":[{"id":"a","lastMessageAt":null,"metadata":{"a":[1]}}],"pagination":{"page":1e308,"limit":-5,"totalPages":1e20}}`,
	`{"success":true,"data":[{"id":"a","body":null,"consent":{"opted_in":true,"opted_in_at":"2026-13-01T00:00:00Z"}}],"meta":{"next_cursor":null}}`,
	`{"data":[{"id":"\ud800","created_at":"2026-01-01T00:00:00+99:99"}]}`,
	`{"items":[{"id":1}]}`, `{"data":[1,2,3]}`, `{"data":[{}],"Data":[{},{}]}`, `{"data":[{"ID":"upper","Id":"mixed"}]}`,
	"{\"data\":[{\"id\":\"a\xff\"}]}", `{"data":[{"id":"a"}],"data":null}`, `{"data":[{"id":"a"}]} `, `{"data":[{"id":"a"}]}x`,
	`{"success":false,"data":[]}`, `{"success":"yes","data":[]}`, `{"data":[null,{"id":"b"}]}`,
	`{"success":true,"data":[{"id":"a","created_at":"2026-04-10t03:11:42z","redacted_at":"2026-04-10 03:11:42+0200"}],"meta":{"limit":1.5}}`,
	`{"success":true,"data":[{"id":"a","created_at":12}],"meta":{}}`,
	`{"data":[{"messageId":"m","sentAt":"2016-12-31T23:59:60Z","contactName":null}],"total":1}`,
	`{"data":[{"id":"a","sentAt":"","createdAt":"2026-01-01T00:00:00Z","content":"caf\u00e9 \"q\""}],"pagination":{"page":1,"limit":20}}`,
}

func TestDecodeMatchesEncodingJSON(t *testing.T) {
	t.Parallel()
	for _, body := range diffBodies(t) {
		compareDecoders(t, body)
	}
}

// TestDecodeMatchesEncodingJSONMutations compares the decoders on every
// one-byte mutation of the fixtures (each byte replaced by one of a few
// bytes that change JSON's structure, every third one deleted), where a
// lenient or a stricter decoder would show; the fuzz target goes further.
func TestDecodeMatchesEncodingJSONMutations(t *testing.T) {
	t.Parallel()
	files, err := filepath.Glob("testdata/*.json")
	require.NoError(t, err)
	require.NotEmpty(t, files)
	// Every byte of every fixture is mutated; when not Thorough, every
	// seventh byte, which still reaches every part of each fixture's
	// structure.
	step := 1
	if !Thorough() {
		step = 7
	}
	for _, name := range files {
		t.Run(filepath.Base(name), func(t *testing.T) {
			t.Parallel()
			fixture, err := os.ReadFile(name)
			require.NoError(t, err)
			fixture = compact(t, fixture)
			replacements := []byte{'"', '}', ',', 'x', 0, '\\', '['}
			for i := 0; i < len(fixture); i += step {
				body := bytes.Clone(fixture)
				body[i] = replacements[i%len(replacements)]
				compareDecoders(t, body)
				if i%3 == 0 {
					compareDecoders(t, append(bytes.Clone(fixture[:i]), fixture[i+1:]...))
				}
			}
		})
	}
}

func compact(t *testing.T, b []byte) []byte {
	var buf bytes.Buffer
	require.NoError(t, stdjson.Compact(&buf, b))
	return buf.Bytes()
}

// FuzzDecodeMatchesEncodingJSON: on any body, every decoder gives the same
// result with decodeJSON as with encoding/json, and never panics.
func FuzzDecodeMatchesEncodingJSON(f *testing.F) {
	for _, b := range diffBodies(f) {
		f.Add(b)
	}
	f.Fuzz(func(t *testing.T, body []byte) { compareDecoders(t, body) })
}

// TestModelsOwnTheirMemory checks that no model shares memory with the body
// it was decoded from (decodeJSON does not copy strings, and the body's
// buffer is reused for the next response): after the body is overwritten,
// every decoded value is unchanged.
func TestModelsOwnTheirMemory(t *testing.T) {
	t.Parallel()
	for _, body := range diffBodies(t) {
		for _, c := range diffCases {
			buf := bytes.Clone(body)
			got, err := c.run(decodeJSON, buf)
			if err != nil {
				continue
			}
			want, err := c.run(stdDecode, bytes.Clone(body))
			require.NoError(t, err)
			for i := range buf {
				buf[i] = '#'
			}
			assert.True(t, reflect.DeepEqual(got, want), "%s on %q: a model changed when the body's buffer was overwritten:\ngot:  %+v\nwant: %+v", c.name, body, got, want)
		}
	}
	// The test can fail: a model that keeps a string of the body does.
	buf := []byte(`{"items":[{"id":"conversation-1"}]}`)
	var env struct {
		Items []vobizWireConversation `json:"items"`
	}
	require.NoError(t, decodeJSON(buf, &env))
	kept := env.Items[0].ID
	for i := range buf {
		buf[i] = '#'
	}
	assert.NotEqual(t, "conversation-1", kept, "decodeJSON shares the body's memory, which is why the mappings copy")
	_ = fmt.Sprint(kept)
}
