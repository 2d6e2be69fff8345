package convotest_test

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/convokit/convo"
	"github.com/convokit/convo/convotest"
	"github.com/convokit/convo/internal/testkit"
	"github.com/convokit/convo/internal/testproc"
)

func TestMain(m *testing.M) { testproc.Main(m) }

// demoAuth returns the raw headers of the demo credentials of p.
func demoAuth(p convo.Provider) http.Header { return convotest.DemoAuth(p) }

// check checks an answer's headers and decoded body.
type check func(t *testing.T, h http.Header, body map[string]any)

// wire is what the tests know of one provider's fake that the tests of
// all providers read: its error envelopes and codes, what it refuses and
// accepts, its demo data. Each is declared in provider_<name>_test.go,
// beside the tests of that provider alone.
type wire struct {
	provider                 convo.Provider
	refusals                 []errorCase   // requests the fake refuses, and how, besides every provider's (allRefusals)
	accepted                 []http.Header // credentials it accepts besides demoAuth's
	demoKey                  string        // its demo key (or id), which has
	keyPrefix                string        // the prefix of the provider's documents
	unauthorized             check         // the envelope of a 401
	serverError, rateLimited check         // the envelopes of a scripted 5xx and 429
	code500                  string        // the APIError.Code of a scripted 500
	// statusCodes are the codes of scripted statuses, as the SDK reads
	// them: from the message where codeInMessage.
	statusCodes   map[int]string
	codeInMessage bool
	headers       []string // headers on every answer
	// demo checks what is particular to the provider's demo data;
	// demoDigests pins it, by seed (see TestDemoDatasetPinned).
	demo        func(t *testing.T, d *convotest.Dataset)
	demoDigests map[int64]string

	// What the data's changes do on the wire (change_test.go,
	// live_test.go). change is a change in place of a conversation's
	// record that the provider documents, after prepare (when set), and
	// changed checks it is served.
	prepare, change func(*convo.Conversation)
	changed         func(t *testing.T, got convo.Conversation)
	// added checks the activity fields of a conversation (old before)
	// after an outbound message at at and an inbound one a second later.
	added func(t *testing.T, old, got convo.Conversation, at time.Time)

	movesUpdatedAt      bool // a change in place moves updatedAt
	messageStatus       bool // messages carry a delivery status
	redacts             bool // a retention window redacts messages
	messagesNewestFirst bool // the message list is newest first
	serverCursors       bool // the message list pages by cursors the server makes
}

// allRefusals returns the requests the fake of w must refuse: those every
// provider refuses, without credentials or with a key of the provider's
// form that is not the demo key, and then w's own.
func (w wire) allRefusals() []errorCase {
	return append([]errorCase{
		{"no credentials", "/conversations", http.Header{}, 401, w.unauthorized},
		{"wrong key", "/conversations", http.Header{"Authorization": {"Bearer " + w.keyPrefix + "wrong"}}, 401, w.unauthorized},
	}, w.refusals...)
}

// wires lists the wire of each provider.
var wires = []wire{vobizWire, vantaxWire, rentalotWire, agentMessageWire}

// eachProvider runs test as a subtest for each provider of convo's
// registry, with the provider's wire.
func eachProvider(t *testing.T, test func(t *testing.T, p convo.Provider, w wire)) {
	t.Helper()
	for _, p := range convo.Providers() {
		t.Run(p.Name(), func(t *testing.T) { test(t, p, wireOf(t, p)) })
	}
}

// eachProviderWith is eachProvider for the providers whose wire has the
// property has; a property no provider has fails the test, which would
// otherwise check nothing.
func eachProviderWith(t *testing.T, has func(w wire) bool, test func(t *testing.T, p convo.Provider, w wire)) {
	t.Helper()
	n := 0
	for _, p := range convo.Providers() {
		if w := wireOf(t, p); has(w) {
			n++
			t.Run(p.Name(), func(t *testing.T) { test(t, p, w) })
		}
	}
	require.NotZero(t, n, "no provider has the property")
}

// wireOf returns the wire of p, and fails the test when p has none.
func wireOf(t *testing.T, p convo.Provider) wire {
	t.Helper()
	for _, w := range wires {
		if w.provider == p {
			return w
		}
	}
	t.Fatalf("no wire declared for %s in the tests", p.Name())
	return wire{}
}

// rawClient does not keep connections alive, so that every request of a
// fault test meets a fresh connection (net/http retries some failures of
// reused ones by itself).
var rawClient = &http.Client{
	Timeout:   10 * time.Second,
	Transport: &http.Transport{DisableKeepAlives: true},
}

// rawGet sends GET srv.URL()+path with header h and returns the response
// and its whole body.
func rawGet(t *testing.T, srv *convotest.Server, path string, h http.Header) (*http.Response, []byte) {
	t.Helper()
	resp, body, err := tryGet(srv, path, h)
	require.NoError(t, err, "GET %s", path)
	return resp, body
}

func tryGet(srv *convotest.Server, path string, h http.Header) (*http.Response, []byte, error) {
	req, err := http.NewRequest(http.MethodGet, srv.URL()+path, nil)
	if err != nil {
		return nil, nil, err
	}
	for k, v := range h {
		req.Header[k] = v
	}
	resp, err := rawClient.Do(req)
	if err != nil {
		return nil, nil, err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	return resp, body, err
}

// object decodes a JSON object.
func object(t *testing.T, b []byte) map[string]any {
	t.Helper()
	var m map[string]any
	require.NoError(t, json.Unmarshal(b, &m), "body: %s", b)
	return m
}

// at walks a decoded JSON value along keys (strings) and indexes (ints).
func at(t *testing.T, v any, path ...any) any {
	t.Helper()
	for _, p := range path {
		switch k := p.(type) {
		case string:
			m, ok := v.(map[string]any)
			require.True(t, ok, "not an object at %v", p)
			v, ok = m[k]
			require.True(t, ok, "no key %q", k)
		case int:
			a, ok := v.([]any)
			require.True(t, ok, "not an array at %v", p)
			require.Less(t, k, len(a))
			v = a[k]
		}
	}
	return v
}

// firstConversation returns the id of the first conversation served.
func firstConversation(t *testing.T, srv *convotest.Server) string {
	t.Helper()
	d := srv.Dataset()
	require.NotEmpty(t, d.Conversations)
	return d.Conversations[0].Conversation.ID
}

// errorCase is a request the fake must refuse, and how.
type errorCase struct {
	name   string
	path   string      // may hold {id}: the first conversation's escaped id
	header http.Header // nil: demo credentials
	status int
	check  check
}

// collect collects what an iteration yields; every error fails the test.
func collect[T any](t *testing.T, seq func(yield func(T, error) bool)) []T {
	t.Helper()
	return testkit.Collect(t, seq)
}

// longest returns the conversation with the most messages.
func longest(d *convotest.Dataset) convotest.ConversationData { return testkit.Longest(d) }

func reversedIDs(msgs []convo.Message) []string {
	out := make([]string, len(msgs))
	for i, m := range msgs {
		out[len(msgs)-1-i] = m.ID
	}
	return out
}

func mustClient(t *testing.T, srv *convotest.Server, opts ...convo.Option) *convo.Client {
	t.Helper()
	c, err := srv.Client(opts...)
	require.NoError(t, err)
	return c
}

func ids(convs []convo.Conversation) []string {
	out := make([]string, len(convs))
	for i, c := range convs {
		out[i] = c.ID
	}
	return out
}

func keys(m map[string]bool) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	return out
}

func convs(d *convotest.Dataset) []convo.Conversation {
	out := make([]convo.Conversation, len(d.Conversations))
	for i, c := range d.Conversations {
		out[i] = c.Conversation
	}
	return out
}

// distinct returns the distinct values of field among d's conversations.
func distinct(d *convotest.Dataset, field func(convo.Conversation) string) map[string]bool {
	out := map[string]bool{}
	for _, cd := range d.Conversations {
		out[field(cd.Conversation)] = true
	}
	return out
}

// filterCase is a conversation list filter and the conversations it
// selects.
type filterCase struct {
	params convo.ConversationListParams
	keep   func(convo.Conversation) bool
}

// checkFilters lists the demo conversations of p through the SDK with
// each filter cases gives for the data, and checks that the fake serves
// exactly those the filter keeps, in order: some, and not all.
func checkFilters(t *testing.T, p convo.Provider, cases func(*convotest.Dataset) []filterCase) {
	t.Helper()
	srv := convotest.New(t, p)
	c := mustClient(t, srv)
	d := srv.Dataset()
	for _, tt := range cases(d) {
		var want []string
		for _, cd := range d.Conversations {
			if tt.keep(cd.Conversation) {
				want = append(want, cd.Conversation.ID)
			}
		}
		require.NotEmpty(t, want, "%+v selects nothing in the demo data", tt.params)
		assert.Less(t, len(want), len(d.Conversations), "%+v selects everything", tt.params)
		assert.Equal(t, want, ids(collect(t, c.Conversations.List(context.Background(), &tt.params).All())), "%+v", tt.params)
	}
}
