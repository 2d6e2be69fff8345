package convo

// Native fuzz targets: nothing a server sends (or a caller passes as a
// cursor) may panic a decoder, and what decodes keeps cheap invariants.
// Each target is seeded with every wire fixture in testdata/ and a few
// edge shapes. Run one with, for example:
//
//	go test -run='^$' -fuzz='^FuzzDecodeVobizMessagePage$' -fuzztime=10s .

import (
	"bytes"
	"encoding/json"
	"errors"
	"net/http"
	"os"
	"path/filepath"
	"reflect"
	"strconv"
	"strings"
	"testing"
	"unicode/utf8"
)

// fuzzSeeds adds every fixture and a few edge shapes to f's corpus.
func fuzzSeeds(f *testing.F) {
	f.Helper()
	files, err := filepath.Glob("testdata/*.json")
	if err != nil || len(files) == 0 {
		f.Fatalf("no fixtures in testdata: %v", err)
	}
	for _, name := range files {
		b, err := os.ReadFile(name)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
		f.Add(b[:len(b)/2]) // cut off
	}
	for _, s := range []string{
		``, `null`, `{}`, `[]`, `"x"`, `0`, `{"items":null}`, `{"data":null}`,
		`{"items":[],"has_more":true,"next_cursor":"c"}`,
		`{"items":[{"id":"a","content":"{\"body\":{\"x\":1}}","created_at":null}],"has_more":null,"next_cursor":null}`,
		`{"success":true,"data":[{"id":"a","metadata":{"k":1,"j":null},"tags":null,"media_url":[]}],"pagination":{"total":-1,"limit":0,"has_more":true}}`,
		`{"data":[{"id":"a","lastMessageAt":null,"metadata":{"a":[1]}}],"pagination":{"page":1e308,"limit":-5,"totalPages":1e20}}`,
		`{"success":true,"data":[{"id":"a","body":null,"consent":{"opted_in":true,"opted_in_at":"2026-13-01T00:00:00Z"}}],"meta":{"next_cursor":null}}`,
		`{"data":[{"id":"\ud800","created_at":"2026-01-01T00:00:00+99:99"}]}`,
		`{"items":[{"id":1}]}`, `{"data":[1,2,3]}`, `{"data":[{}],"Data":[{},{}]}`,
		"{\"data\":[{\"id\":\"a\xff\"}]}",
	} {
		f.Add([]byte(s))
	}
}

// jsonArrayLen is how many elements encoding/json finds in the page's item
// array, the reference for what a successful decode must return.
func jsonArrayLen(body []byte, key string) (int, bool) {
	var items []json.RawMessage
	var err error
	if key == "items" {
		var env struct {
			Items []json.RawMessage `json:"items"`
		}
		err = json.Unmarshal(body, &env)
		items = env.Items
	} else {
		var env struct {
			Data []json.RawMessage `json:"data"`
		}
		err = json.Unmarshal(body, &env)
		items = env.Data
	}
	return len(items), err == nil && items != nil
}

const fuzzScope = "conv_fuzz"

// fuzzPage fuzzes one list decoder: no panic; on success the body was valid
// JSON, the item count matches the JSON array, and ids and scopes hold; on
// failure the DecodeError built from it is bounded.
func fuzzPage[T any](f *testing.F, provider string, ep *listEndpoint[T], key string, check func(t *testing.T, item *T)) {
	fuzzSeeds(f)
	f.Fuzz(func(t *testing.T, body []byte) {
		raw, err := ep.decode(body, fuzzScope)
		if err != nil {
			de := newDecodeError(provider, "/conversations", http.StatusOK, body, err)
			if !errors.Is(de, ErrUnexpectedResponse) {
				t.Fatal("DecodeError does not wrap ErrUnexpectedResponse")
			}
			head := strings.TrimSuffix(de.Snippet, "…")
			if len(head) > 200 || !bytes.HasPrefix(body, []byte(head)) {
				t.Fatalf("snippet %q is not a bounded prefix of the body", de.Snippet)
			}
			if utf8.Valid(body) && !utf8.ValidString(de.Snippet) {
				t.Fatalf("snippet %q cuts a rune", de.Snippet)
			}
			_ = de.Error()
			return
		}
		if !json.Valid(body) {
			t.Fatalf("decoded a body that is not JSON: %q", body)
		}
		n, ok := jsonArrayLen(body, key)
		if !ok {
			t.Fatalf("decoded, but encoding/json finds no %q array", key)
		}
		if len(raw.items) != n {
			t.Fatalf("decoded %d items, the JSON array holds %d", len(raw.items), n)
		}
		for i := range raw.items {
			_ = ep.id(&raw.items[i])
			if check != nil {
				check(t, &raw.items[i])
			}
		}
	})
}

func checkMessage(t *testing.T, m *Message) {
	if m.ConversationID == "" {
		t.Fatalf("message %q lost its conversation (the listed one is %q)", m.ID, fuzzScope)
	}
}

func FuzzDecodeVobizConversationPage(f *testing.F) {
	fuzzPage(f, "vobiz", &vobizDesc.conversations, "items", func(t *testing.T, c *Conversation) {
		if c.Channel != "whatsapp" {
			t.Fatalf("a Vobiz conversation is a WhatsApp thread, got channel %q", c.Channel)
		}
	})
}

func FuzzDecodeVobizMessagePage(f *testing.F) {
	fuzzPage(f, "vobiz", &vobizDesc.messages, "items", func(t *testing.T, m *Message) {
		checkMessage(t, m)
		if m.Payload != nil && !json.Valid(m.Payload) {
			t.Fatalf("payload %q is not JSON", m.Payload)
		}
	})
}

func FuzzDecodeVantaxAIConversationPage(f *testing.F) {
	fuzzPage(f, "vantaxai", &vantaxDesc.conversations, "data", nil)
}

func FuzzDecodeVantaxAIMessagePage(f *testing.F) {
	fuzzPage(f, "vantaxai", &vantaxDesc.messages, "data", checkMessage)
}

func FuzzDecodeRentalotConversationPage(f *testing.F) {
	fuzzPage(f, "rentalot", &rentalotDesc.conversations, "data", nil)
}

func FuzzDecodeRentalotMessagePage(f *testing.F) {
	fuzzPage(f, "rentalot", &rentalotDesc.messages, "data", checkMessage)
}

func FuzzDecodeRentalotSearchPage(f *testing.F) {
	fuzzPage(f, "rentalot", &rentalotDesc.search.endpoint, "data", nil)
}

func FuzzDecodeAgentMessageConversationPage(f *testing.F) {
	fuzzPage(f, "agentmessage", &agentMessageDesc.conversations, "data", nil)
}

func FuzzDecodeAgentMessageMessagePage(f *testing.F) {
	fuzzPage(f, "agentmessage", &agentMessageDesc.messages, "data", func(t *testing.T, m *Message) {
		if m.ConversationID != fuzzScope {
			t.Fatalf("AgentMessage messages belong to the listed conversation, got %q", m.ConversationID)
		}
	})
}

// FuzzDecodeConversation fuzzes the single-conversation decoders (VantaxAI
// and Rentalot GET /conversations/{id}).
func FuzzDecodeConversation(f *testing.F) {
	fuzzSeeds(f)
	f.Add([]byte(`{"success":true,"data":{"id":"conv_1","tags":["a"],"metadata":{"k":"v"}}}`))
	f.Add([]byte(`{"data":{"id":"c","lastMessageAt":null}}`))
	f.Fuzz(func(t *testing.T, body []byte) {
		for _, d := range []*providerDesc{&vantaxDesc, &rentalotDesc} {
			if _, err := d.getConversation.decode(body); err == nil && !json.Valid(body) {
				t.Fatalf("%s: decoded a body that is not JSON: %q", d.name, body)
			}
		}
	})
}

// FuzzDecodeError fuzzes the one error decoder with any status, headers and
// body: it never panics, keeps at most 64 KiB of the body, has a message
// (for a status net/http knows, at least its text), matches the sentinel of
// its status class, and its Error() names the status.
func FuzzDecodeError(f *testing.F) {
	files, _ := filepath.Glob("testdata/*.json")
	for _, name := range files {
		b, err := os.ReadFile(name)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(422, "application/json", "", "", b)
	}
	f.Add(429, "application/json", "120", "req_1", []byte(`{"success":false,"error":{"code":"RATE_LIMITED","message":"slow","details":{"a":1}}}`))
	f.Add(503, "text/html", "Wed, 21 Oct 2015 07:28:00 GMT", "", []byte("<html>down</html>"))
	f.Add(404, "application/problem+json", "-1", "", []byte(`{"type":"t","title":"Not Found","status":"404","detail":null}`))
	f.Add(400, "text/plain; charset=utf-8", "99999999999999999999", "", []byte("bad \xff request\n\n"))
	f.Add(500, "", "", "", []byte(`{"error":"boom","errors":["a",{"field":"f"},null,[1]]}`))
	f.Add(401, "application/json", "", "", []byte(`{"error":{"details":[{"path":"x","message":"y"}]},"message":123}`))
	f.Fuzz(func(t *testing.T, status int, contentType, retryAfter, requestID string, body []byte) {
		status = 400 + int(uint(status)%200)
		h := http.Header{}
		h.Set("Content-Type", contentType)
		h.Set("Retry-After", retryAfter)
		h.Set("X-Request-Id", requestID)
		h.Set("X-RateLimit-Limit", retryAfter)
		h.Set("X-RateLimit-Reset", requestID)
		e := newAPIError("vobiz", http.MethodGet, "/conversations", status, h, body)
		if len(e.Body) > maxErrorBody {
			t.Fatalf("kept %d bytes of the body", len(e.Body))
		}
		if !bytes.HasPrefix(body, e.Body) {
			t.Fatal("Body is not the start of the response body")
		}
		if e.Message == "" && http.StatusText(status) != "" {
			t.Fatal("empty Message for a known status")
		}
		if e.RetryAfter < 0 {
			t.Fatalf("negative RetryAfter %v", e.RetryAfter)
		}
		if e.StatusCode != status || !strings.Contains(e.Error(), strconv.Itoa(status)) {
			t.Fatalf("Error() %q does not name status %d", e.Error(), status)
		}
		if errors.Is(e, ErrServer) != (status >= 500) || errors.Is(e, ErrNotFound) != (status == 404) ||
			errors.Is(e, ErrRateLimited) != (status == 429) || errors.Is(e, ErrUnauthorized) != (status == 401) {
			t.Fatalf("status %d matches the wrong sentinels", status)
		}
	})
}

// FuzzDecodeCursor fuzzes resume tokens, which callers pass back: no panic,
// and a token that decodes re-encodes to an equal token.
func FuzzDecodeCursor(f *testing.F) {
	f.Add(encodeCursor(cursorToken{V: 1, P: "vobiz", R: "messages", S: "x", T: "cur", L: 50, K: 3, I: "m1"}))
	f.Add(encodeCursor(cursorToken{V: 1, P: "rentalot", R: "conversations", S: "y", T: "7"}))
	f.Add(encodeCursor(cursorToken{V: cursorVersion, P: "rentalot", R: "messages", S: "y", T: "2", H: []uint64{1, 2}}))
	f.Add("")
	f.Add("eyJ2IjoxfQ")
	f.Add("e30")
	f.Add("!!!")
	f.Fuzz(func(t *testing.T, s string) {
		tok, err := decodeCursor(s)
		if err != nil {
			return
		}
		if tok.K < 0 || tok.L < 0 || (tok.V != 1 && tok.V != cursorVersion) {
			t.Fatalf("accepted an invalid token %+v", tok)
		}
		again, err := decodeCursor(encodeCursor(tok))
		if err != nil || !reflect.DeepEqual(again, tok) {
			t.Fatalf("token %+v does not round-trip: %+v, %v", tok, again, err)
		}
	})
}
