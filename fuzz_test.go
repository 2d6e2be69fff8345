package convo

// Native fuzz targets: nothing a server sends (or a caller passes as a
// cursor) may panic a decoder, and what decodes keeps cheap invariants.
// Each target is seeded with every wire fixture in testdata/ and a few
// edge shapes. Run one with, for example:
//
//	go test -run='^$' -fuzz='^FuzzDecodeVobizMessagePage$' -fuzztime=10s .

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"reflect"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
	"unicode"
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

// The whole-path fuzz target: a loopback server answers every request with
// bytes the fuzzer chose (status line, headers, body: Retry-After,
// X-RateLimit-*, Content-Encoding and Content-Length lies included), and
// every list and get operation of every provider runs against it through
// the real client, net/http transport included. Run it with:
//
//	go test -run='^$' -fuzz='^FuzzWholePath$' -fuzztime=30s .

// The credentials the fuzzed clients send; none may appear in an error.
const (
	fuzzAuthID    = "MA_FUZZAUTHID7"
	fuzzAuthToken = "fuzz-xauth-token-c4fe"
	fuzzBearer    = "fuzz-bearer-token-b00c"
	fuzzHost      = "api.fuzz.test" // the configured host; every dial reaches the fuzz server
)

// Bounds on one fuzzed operation. Pages: the first answer, then the second
// answer repeated, which any paging style must see through by the third
// page; attempts: WithMaxRetries(2); hops: net/http follows at most 10
// redirects.
const (
	fuzzMaxRequests = 3 * 3 * 11
	fuzzMaxItems    = 10_000
	fuzzMaxDuration = 10 * time.Second
)

// fuzzOps are the operations, indexed by the fuzzer's choice.
var fuzzOps = []string{"conversations.list", "messages.list", "conversations.get", "search.messages"}

// fuzzResponse is one scripted answer: status, raw header lines and body.
type fuzzResponse struct {
	status int
	head   string
	body   []byte
}

// raw renders the answer as bytes on the wire. A Content-Length the head
// does not set is the body's length; the connection closes after it.
func (r fuzzResponse) raw() []byte {
	var b bytes.Buffer
	fmt.Fprintf(&b, "HTTP/1.1 %03d Fuzz\r\n", r.status)
	head := strings.ReplaceAll(r.head, "\r\n", "\n")
	for _, line := range strings.Split(head, "\n") {
		if line != "" {
			b.WriteString(line)
			b.WriteString("\r\n")
		}
	}
	if !strings.Contains(strings.ToLower(head), "content-length:") {
		fmt.Fprintf(&b, "Content-Length: %d\r\n", len(r.body))
	}
	b.WriteString("Connection: close\r\n\r\n")
	b.Write(r.body)
	return b.Bytes()
}

// fuzzStatus maps any number to a status from 100 to 599, keeping those.
func fuzzStatus(n uint16) int { return 100 + (int(n)+400)%500 }

// fuzzServer answers the first request with first and every later one with
// rest, recording what it was sent.
type fuzzServer struct {
	ln          net.Listener
	first, rest fuzzResponse
	wg          sync.WaitGroup

	overflow func() // called once the requests pass fuzzMaxRequests

	mu       sync.Mutex
	requests int
	leaks    []string // requests to another host that carried a credential
}

func newFuzzServer(t *testing.T, first, rest fuzzResponse, overflow func()) *fuzzServer {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	s := &fuzzServer{ln: ln, first: first, rest: rest, overflow: overflow}
	s.wg.Add(1)
	go s.serve()
	return s
}

func (s *fuzzServer) serve() {
	defer s.wg.Done()
	for {
		conn, err := s.ln.Accept()
		if err != nil {
			return
		}
		s.wg.Add(1)
		go func() {
			defer s.wg.Done()
			defer conn.Close()
			_ = conn.SetDeadline(time.Now().Add(fuzzMaxDuration))
			req, err := http.ReadRequest(bufio.NewReader(conn))
			if err != nil {
				return
			}
			s.mu.Lock()
			s.requests++
			if s.requests == fuzzMaxRequests+1 && s.overflow != nil {
				s.overflow()
			}
			answer := s.rest
			if s.requests == 1 {
				answer = s.first
			}
			host := strings.ToLower(req.Host)
			if h, _, err := net.SplitHostPort(host); err == nil {
				host = h
			}
			if host != fuzzHost {
				for _, name := range credentialHeaders {
					if req.Header.Get(name) != "" {
						s.leaks = append(s.leaks, name+" sent to "+req.Host)
					}
				}
			}
			s.mu.Unlock()
			_, _ = conn.Write(answer.raw())
		}()
	}
}

func (s *fuzzServer) close() {
	s.ln.Close()
	s.wg.Wait()
}

// servedStrings returns every JSON string value and object key in the
// bodies the server can send (and in their gzip-decoded form): an item the
// client yields must have its id among them.
func servedStrings(bodies ...[]byte) map[string]bool {
	out := map[string]bool{}
	var walk func(v any)
	walk = func(v any) {
		switch v := v.(type) {
		case string:
			out[v] = true
			var inner any // Vobiz nests JSON in a string
			if json.Unmarshal([]byte(v), &inner) == nil {
				walk(inner)
			}
		case []any:
			for _, e := range v {
				walk(e)
			}
		case map[string]any:
			for k, e := range v {
				out[k] = true
				walk(e)
			}
		}
	}
	for _, b := range bodies {
		forms := [][]byte{b}
		if zr, err := gzip.NewReader(bytes.NewReader(b)); err == nil {
			if plain, err := io.ReadAll(io.LimitReader(zr, 1<<20)); err == nil || len(plain) > 0 {
				forms = append(forms, plain)
			}
		}
		for _, f := range forms {
			dec := json.NewDecoder(bytes.NewReader(f))
			var v any
			if dec.Decode(&v) == nil {
				walk(v)
			}
		}
	}
	return out
}

// fuzzClient is a client of p whose every connection reaches addr, with
// small waits so that an iteration stays fast.
func fuzzClient(t *testing.T, p Provider, addr string, prefetch int) *Client {
	base, err := url.Parse(p.DefaultBaseURL())
	if err != nil {
		t.Fatal(err)
	}
	var auth Authenticator = Bearer(fuzzBearer)
	if p == Vobiz {
		auth = XAuth(fuzzAuthID, fuzzAuthToken)
	}
	dialer := &net.Dialer{Timeout: time.Second}
	transport := &http.Transport{
		Proxy:             nil,
		DisableKeepAlives: true,
		DialContext: func(ctx context.Context, network, _ string) (net.Conn, error) {
			return dialer.DialContext(ctx, network, addr)
		},
	}
	t.Cleanup(transport.CloseIdleConnections)
	c, err := NewClient(p,
		WithBaseURL("http://"+fuzzHost+base.Path),
		WithInsecureCleartextCredentials(),
		WithAuth(auth),
		WithHTTPClient(&http.Client{Transport: transport}),
		WithMaxRetries(2),
		WithRetryWait(0, time.Millisecond),
		WithMaxPacingWait(5*time.Millisecond),
		WithTimeout(2*time.Second),
		WithPrefetch(prefetch),
	)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// runFuzzOp runs one operation to its end and returns the ids it yielded
// and its error.
func runFuzzOp(ctx context.Context, t *testing.T, c *Client, op string, requests func() int) ([]string, error) {
	collect := func(ids []string, id string) []string {
		if len(ids) >= fuzzMaxItems || requests() > fuzzMaxRequests {
			t.Fatalf("%s: no end after %d items and %d requests", op, len(ids), requests())
		}
		return append(ids, id)
	}
	var ids []string
	switch op {
	case "conversations.get":
		conv, err := c.Conversations.Get(ctx, "conv_1")
		if err == nil {
			if conv == nil {
				t.Fatal("Get returned neither a conversation nor an error")
			}
			ids = append(ids, conv.ID)
		}
		return ids, err
	case "messages.list":
		for m, err := range c.Messages.List(ctx, "conv_1", nil).All() {
			if err != nil {
				return ids, err
			}
			ids = collect(ids, m.ID)
		}
	case "search.messages":
		for r, err := range c.Search.Messages(ctx, &SearchParams{Query: "hello"}).All() {
			if err != nil {
				return ids, err
			}
			ids = collect(ids, r.MessageID)
		}
	default:
		for conv, err := range c.Conversations.List(ctx, nil).All() {
			if err != nil {
				return ids, err
			}
			ids = collect(ids, conv.ID)
		}
	}
	return ids, nil
}

// checkErrorText fails unless s is one bounded, printable line without a
// credential.
func checkErrorText(t *testing.T, what, s string) {
	for _, secret := range []string{fuzzAuthID, fuzzAuthToken, fuzzBearer} {
		if strings.Contains(s, secret) {
			t.Fatalf("%s reveals a credential: %q", what, s)
		}
	}
	if len(s) > MaxErrorTextLen+256 || !utf8.ValidString(s) {
		t.Fatalf("%s is %d bytes or not UTF-8", what, len(s))
	}
	for _, r := range s {
		if unicode.IsControl(r) || unicode.Is(unicode.Cf, r) {
			t.Fatalf("%s holds %U: %q", what, r, s)
		}
	}
}

// fuzzPathSeeds adds every fixture, for the operations of its provider, and
// hostile shapes of status, headers and body.
func fuzzPathSeeds(f *testing.F) {
	files, err := filepath.Glob("testdata/*.json")
	if err != nil || len(files) == 0 {
		f.Fatalf("no fixtures in testdata: %v", err)
	}
	json200 := "Content-Type: application/json"
	for _, name := range files {
		b, err := os.ReadFile(name)
		if err != nil {
			f.Fatal(err)
		}
		base := filepath.Base(name)
		status := uint16(200)
		if i := strings.LastIndexByte(base, '_'); strings.Contains(base, "_error_") || strings.Contains(base, "_problem_") {
			n, _ := strconv.Atoi(strings.TrimSuffix(base[i+1:], ".json"))
			status = uint16(n)
		}
		for pi, p := range Providers() {
			if !strings.HasPrefix(base, p.Name()+"_") {
				continue
			}
			for oi := range fuzzOps {
				op := uint8(pi + 4*oi)
				f.Add(op, status, json200, b, uint16(200), json200, b)
				if status == 200 { // a retry first, then the page, then the page again
					f.Add(op|0x10, uint16(503), "Retry-After: 0", []byte(`{"success":false,"message":"later"}`), status, json200, b)
				}
			}
		}
	}
	hostile := []struct {
		op     uint8
		status uint16
		head   string
		body   string
	}{
		{0, 429, "Retry-After: 10000000000\nX-RateLimit-Remaining: 0\nX-RateLimit-Reset: 99999999999", `{"status":"error","error":{"code":"RATE_LIMITED","message":"slow"}}`},
		{1, 200, "X-RateLimit-Limit: -1\nX-RateLimit-Remaining: 0\nX-RateLimit-Reset: 1", `{"items":[],"has_more":false}`},
		{2, 200, "Content-Encoding: gzip", `{"items":[{"id":"m1"}]}`},
		{3, 200, "Content-Length: 100000", `{"success":true,"data":[]}`},
		{6, 200, "Content-Length: 5", `{"data":{"id":"c1"}}`},
		{1, 200, "Transfer-Encoding: chunked", "5\r\n{\"ite\r\n0\r\n\r\n"},
		{0, 302, "Location: http://evil.test/steal", ``},
		{1, 307, "Location: //api.fuzz.test.evil.test/v1/conversations", ``},
		{5, 200, "Content-Type: application/problem+json", `{"type":"about:blank","title":"Not Found","status":404}`},
		{2, 200, json200, `{"error":{"code":"x","message":"echo ` + fuzzBearer + `"},"data":[]}`},
		{0, 200, json200, `{"items":[{"id":"c1"}],"has_more":true,"next_cursor":"same"}`},
		{3, 200, json200, `{"success":true,"data":[{"id":"m1"}],"meta":{"next_cursor":"n\u001b[2J"}}`},
		{2, 200, json200, `{"data":[{},{},{}],"pagination":{"limit":3}}`},
		{1, 500, "Content-Type: text/plain", "\x1b]0;pwned\x07 down\r\nX-Injected: 1"},
		{0, 101, "Upgrade: h2c", ``},
	}
	for _, h := range hostile {
		f.Add(h.op, h.status, h.head, []byte(h.body), h.status, h.head, []byte(h.body))
	}
}

// FuzzWholePath serves arbitrary responses to every list and get operation
// of every provider and checks: no panic; the operation ends within a
// bounded number of requests and time; no credential in any error, nor on a
// request to another host; every error is one printable bounded line; every
// item yielded has its id in a body the server sent.
func FuzzWholePath(f *testing.F) {
	fuzzPathSeeds(f)
	f.Fuzz(func(t *testing.T, op uint8, status1 uint16, head1 string, body1 []byte, status2 uint16, head2 string, body2 []byte) {
		if len(head1)+len(body1)+len(head2)+len(body2) > 64<<10 {
			return
		}
		p := Providers()[int(op)%4]
		opName := fuzzOps[int(op/4)%4]
		if !p.Supports(Operation(opName)) {
			opName = "conversations.list"
		}
		prefetch := int(op>>4) & 1
		first := fuzzResponse{status: fuzzStatus(status1), head: head1, body: body1}
		rest := fuzzResponse{status: fuzzStatus(status2), head: head2, body: body2}

		ctx, cancel := context.WithTimeout(context.Background(), 2*fuzzMaxDuration)
		defer cancel()
		srv := newFuzzServer(t, first, rest, cancel)
		defer srv.close()
		c := fuzzClient(t, p, srv.ln.Addr().String(), prefetch)
		requests := func() int {
			srv.mu.Lock()
			defer srv.mu.Unlock()
			return srv.requests
		}

		start := time.Now()
		ids, err := runFuzzOp(ctx, t, c, opName, requests)
		elapsed := time.Since(start)

		if n := requests(); n > fuzzMaxRequests {
			t.Fatalf("%s %s: no end after %d requests (%d items yielded, %v)", p.Name(), opName, n, len(ids), err)
		}
		if elapsed > fuzzMaxDuration || errors.Is(err, context.DeadlineExceeded) && ctx.Err() != nil {
			t.Fatalf("%s %s: took %v (%v)", p.Name(), opName, elapsed, err)
		}
		if n := requests(); n > fuzzMaxRequests {
			t.Fatalf("%s %s: no end after %d requests (%d items yielded)", p.Name(), opName, n, len(ids))
		}
		srv.mu.Lock()
		leaks := srv.leaks
		srv.mu.Unlock()
		if len(leaks) > 0 {
			t.Fatalf("%s %s: credentials left the configured host: %v", p.Name(), opName, leaks)
		}
		if err != nil {
			checkErrorText(t, "Error()", err.Error())
			for _, text := range []string{fmt.Sprintf("%+v", err), fmt.Sprintf("%#v", err)} {
				for _, secret := range []string{fuzzAuthID, fuzzAuthToken, fuzzBearer} {
					if strings.Contains(text, secret) {
						t.Fatalf("a formatted error reveals a credential: %q", text)
					}
				}
			}
		}
		if len(ids) > 0 {
			served := servedStrings(body1, body2)
			for _, id := range ids {
				if id != "" && !served[id] {
					t.Fatalf("%s %s yielded id %q, in no body the server sent", p.Name(), opName, id)
				}
			}
		}
	})
}
