package convotest_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"reflect"
	"sort"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/convokit/convo"
	"github.com/convokit/convo/convotest"
)

// shapeRules relaxes the comparison of a response with a documented
// example where the documents themselves allow it.
type shapeRules struct {
	// maps are paths of objects that map fields to values (details,
	// metadata): their keys are data, only their kind is compared.
	maps []string
	// extra lists, by path, keys the fake sends beyond the example because
	// another document lists them (Rentalot's OpenAPI spec).
	extra map[string][]string
	// optional lists, by path, keys the documents say may be absent.
	optional map[string][]string
}

func kindOf(v any) string {
	switch v.(type) {
	case nil:
		return "null"
	case string:
		return "string"
	case float64:
		return "number"
	case bool:
		return "bool"
	case map[string]any:
		return "object"
	case []any:
		return "array"
	}
	return fmt.Sprintf("%T", v)
}

// merge folds the elements of an example array into one representative:
// every key any element has, with its first non-null value. Keys seen null
// are recorded as nullable.
func merge(path string, elems []any, nullable map[string]bool) any {
	var objs []map[string]any
	for _, e := range elems {
		if m, ok := e.(map[string]any); ok {
			objs = append(objs, m)
		}
	}
	if len(objs) == 0 {
		if len(elems) > 0 {
			return elems[0]
		}
		return nil
	}
	out := map[string]any{}
	for _, m := range objs {
		for k, v := range m {
			p := path + "." + k
			if v == nil {
				nullable[p] = true
			}
			if cur, seen := out[k]; !seen || cur == nil {
				out[k] = v
			} else if cm, ok := cur.(map[string]any); ok {
				if vm, ok := v.(map[string]any); ok {
					out[k] = merge(p, []any{cm, vm}, nullable)
				}
			}
		}
	}
	return out
}

// compareShape reports every difference in keys and value kinds between a
// documented example (want) and a response of the fake (got), recursively.
func compareShape(path string, want, got any, nullable map[string]bool, r shapeRules) []string {
	if got == nil {
		if want == nil || nullable[path] {
			return nil
		}
		return []string{fmt.Sprintf("%s: null where the example has a %s", path, kindOf(want))}
	}
	if want == nil { // the example shows only null: any value is documented
		return nil
	}
	if kindOf(want) != kindOf(got) {
		return []string{fmt.Sprintf("%s: %s where the example has a %s", path, kindOf(got), kindOf(want))}
	}
	var diffs []string
	switch w := want.(type) {
	case map[string]any:
		diffs = compareObject(path, w, got.(map[string]any), nullable, r)
	case []any:
		g := got.([]any)
		if len(w) == 0 {
			return nil
		}
		elem := merge(path+"[]", w, nullable)
		for _, ge := range g {
			diffs = append(diffs, compareShape(path+"[]", elem, ge, nullable, r)...)
		}
	}
	return unique(diffs)
}

// compareObject is compareShape for an object: its keys against the
// example's, with the rules' extra and optional keys, then each value.
func compareObject(path string, w, g map[string]any, nullable map[string]bool, r shapeRules) []string {
	var diffs []string
	for _, m := range r.maps {
		if m == path {
			return nil
		}
	}
	allowed := map[string]bool{}
	for k := range w {
		allowed[k] = true
	}
	for _, k := range r.extra[path] {
		allowed[k] = true
	}
	optional := map[string]bool{}
	for _, k := range r.optional[path] {
		optional[k] = true
	}
	for k := range allowed {
		if _, ok := g[k]; !ok && !optional[k] {
			diffs = append(diffs, fmt.Sprintf("%s: missing key %q", path, k))
		}
	}
	for k, v := range g {
		if !allowed[k] {
			diffs = append(diffs, fmt.Sprintf("%s: undocumented key %q", path, k))
			continue
		}
		if wv, ok := w[k]; ok {
			diffs = append(diffs, compareShape(path+"."+k, wv, v, nullable, r)...)
		}
	}
	return diffs
}

// unique sorts diffs and drops repeats (every item of a list repeats its
// item's differences).
func unique(diffs []string) []string {
	sort.Strings(diffs)
	out := diffs[:0]
	for i, d := range diffs {
		if i == 0 || d != diffs[i-1] {
			out = append(out, d)
		}
	}
	return out
}

func fixture(t *testing.T, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("..", "testdata", name))
	require.NoError(t, err)
	return b
}

func messagesOfFirst(q string) func(*convotest.Server) string {
	return func(srv *convotest.Server) string {
		return "/conversations/" + url.PathEscape(srv.Dataset().Conversations[0].Conversation.ID) + "/messages" + q
	}
}

func fixed(p string) func(*convotest.Server) string {
	return func(*convotest.Server) string { return p }
}

// TestConvotestMatchesDocumentedExamples holds every response of the fake
// that has a documented example against it: same keys, recursively, and
// the same kinds of values.
func TestConvotestMatchesDocumentedExamples(t *testing.T) {
	t.Parallel()
	wrongKey := http.Header{"Authorization": {"Bearer wrong"}}
	wrongXAuth := http.Header{"X-Auth-Id": {convotest.DemoVobizAuthID}, "X-Auth-Token": {"wrong"}}
	tests := []struct {
		name    string
		p       convo.Provider
		fixture string
		path    func(*convotest.Server) string
		header  http.Header // nil: the demo credentials
		status  int
		rules   shapeRules
	}{
		{"vobiz conversations", convo.Vobiz, "vobiz_conversations.json", fixed("/conversations"), nil, 200, shapeRules{}},
		{"vobiz messages", convo.Vobiz, "vobiz_messages.json", messagesOfFirst("?limit=2"), nil, 200,
			shapeRules{optional: map[string][]string{".items[]": {"conversation_id"}}}},
		{"vobiz 401", convo.Vobiz, "vobiz_error_401.json", fixed("/conversations"), wrongXAuth, 401,
			shapeRules{maps: []string{".error.details"}}},
		{"vantaxai conversations", convo.VantaxAI, "vantaxai_conversations.json", fixed("/conversations"), nil, 200,
			shapeRules{maps: []string{".data[].metadata"}}},
		{"vantaxai 401", convo.VantaxAI, "vantaxai_error_401.json", fixed("/conversations"), wrongKey, 401, shapeRules{}},
		{"vantaxai 422", convo.VantaxAI, "vantaxai_error_422.json", fixed("/conversations?limit=101"), nil, 422, shapeRules{}},
		{"rentalot conversations", convo.Rentalot, "rentalot_conversations.json", fixed("/conversations"), nil, 200,
			shapeRules{extra: map[string][]string{".data[]": {"channel", "messageCount"}}}},
		{"rentalot messages", convo.Rentalot, "rentalot_messages.json", messagesOfFirst(""), nil, 200, shapeRules{}},
		{"rentalot search", convo.Rentalot, "rentalot_search.json", fixed("/conversations/search?query=bedroom"), nil, 200, shapeRules{}},
		{"rentalot 422", convo.Rentalot, "rentalot_error_422.json", fixed("/conversations?limit=0"), nil, 422, shapeRules{}},
		{"rentalot 404", convo.Rentalot, "rentalot_problem_404.json", fixed("/conversations/6f1c1a52-0000-4000-8000-000000000000"), nil, 404, shapeRules{}},
		{"agentmessage conversations", convo.AgentMessage, "agentmessage_conversations.json", fixed("/conversations"), nil, 200, shapeRules{}},
		{"agentmessage 401", convo.AgentMessage, "agentmessage_error_401.json", fixed("/conversations"), wrongKey, 401, shapeRules{}},
		{"agentmessage 422", convo.AgentMessage, "agentmessage_error_422.json", fixed("/conversations?limit=201"), nil, 422,
			shapeRules{maps: []string{".error.details"}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := convotest.NewServer(tt.p)
			defer srv.Close()
			h := tt.header
			if h == nil {
				h = demoAuth(tt.p)
			}
			resp, body := rawGet(t, srv, tt.path(srv), h)
			require.Equal(t, tt.status, resp.StatusCode, "body: %s", body)

			var want, got any
			require.NoError(t, json.Unmarshal(fixture(t, tt.fixture), &want))
			require.NoError(t, json.Unmarshal(body, &got))
			assert.Empty(t, compareShape("", want, got, map[string]bool{}, tt.rules))
		})
	}
}

// TestConvotestDocumentedKeysWithoutExample checks the responses that have
// no published example against the field lists of the documents.
func TestConvotestDocumentedKeysWithoutExample(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		p    convo.Provider
		path func(*convotest.Server) string
		item []any // path to an item
		keys []string
	}{
		{"vantaxai get", convo.VantaxAI, func(s *convotest.Server) string { return "/conversations/" + firstConversation(t, s) },
			[]any{"data"}, []string{"id", "sub_account_id", "channel", "contact_id", "status", "tags", "metadata", "unread_count", "last_message_at", "created_at"}},
		{"vantaxai messages", convo.VantaxAI, messagesOfFirst(""), []any{"data", 0},
			[]string{"id", "conversation_id", "channel", "direction", "content", "subject", "sender_type", "media_url", "status", "created_at"}},
		{"vantaxai messages envelope", convo.VantaxAI, messagesOfFirst(""), []any{}, []string{"success", "data", "pagination"}},
		{"vantaxai messages pagination", convo.VantaxAI, messagesOfFirst(""), []any{"pagination"}, []string{"total", "limit", "has_more"}},
		{"rentalot get", convo.Rentalot, func(s *convotest.Server) string { return "/conversations/" + firstConversation(t, s) },
			[]any{"data"}, []string{"id", "contactId", "propertyId", "channel", "status", "startedAt", "lastMessageAt", "messageCount", "createdAt", "updatedAt"}},
		{"rentalot messages pagination", convo.Rentalot, messagesOfFirst(""), []any{"pagination"}, []string{"page", "limit"}},
		{"agentmessage messages", convo.AgentMessage, messagesOfFirst(""), []any{"data", 0},
			[]string{"id", "direction", "phone_number_id", "from_number", "to_number", "body", "media_urls", "channel", "segment_count", "created_at", "redacted_at"}},
		{"agentmessage messages meta", convo.AgentMessage, messagesOfFirst(""), []any{"meta"}, []string{"total", "limit", "offset", "next_cursor"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := convotest.NewServer(tt.p)
			defer srv.Close()
			resp, body := rawGet(t, srv, tt.path(srv), demoAuth(tt.p))
			require.Equal(t, http.StatusOK, resp.StatusCode, "body: %s", body)
			item, ok := at(t, object(t, body), tt.item...).(map[string]any)
			require.True(t, ok)
			var keys []string
			for k := range item {
				keys = append(keys, k)
			}
			assert.ElementsMatch(t, tt.keys, keys)
		})
	}
}

// nonZeroFields returns the names of the fields of a struct that are set.
func nonZeroFields(v any) map[string]bool {
	out := map[string]bool{}
	rv := reflect.ValueOf(v)
	for i := range rv.NumField() {
		if !rv.Field(i).IsZero() {
			out[rv.Type().Field(i).Name] = true
		}
	}
	return out
}

// firstPage decodes the first page of a list through the SDK.
func firstPage[T any](t *testing.T, pages func(yield func(*convo.Page[T], error) bool)) []T {
	t.Helper()
	for page, err := range pages {
		require.NoError(t, err)
		return page.Items
	}
	t.Fatal("no page")
	return nil
}

// TestConvotestDecodesLikeDocumentedExamples decodes each documented list
// example and the fake's answer with the SDK: every model field the example
// fills is filled by the fake too.
func TestConvotestDecodesLikeDocumentedExamples(t *testing.T) {
	t.Parallel()
	type lister func(ctx context.Context, c *convo.Client, id string) []any
	convs := func(t *testing.T) lister {
		return func(ctx context.Context, c *convo.Client, _ string) []any {
			return toAny(firstPage(t, c.Conversations.List(ctx, nil).Pages()))
		}
	}
	msgs := func(t *testing.T) lister {
		return func(ctx context.Context, c *convo.Client, id string) []any {
			return toAny(firstPage(t, c.Messages.List(ctx, id, nil).Pages()))
		}
	}
	search := func(t *testing.T) lister {
		return func(ctx context.Context, c *convo.Client, _ string) []any {
			return toAny(firstPage(t, c.Search.Messages(ctx, &convo.SearchParams{Query: "bedroom"}).Pages()))
		}
	}
	tests := []struct {
		p       convo.Provider
		fixture string
		list    func(*testing.T) lister
	}{
		{convo.Vobiz, "vobiz_conversations.json", convs},
		{convo.Vobiz, "vobiz_messages.json", msgs},
		{convo.VantaxAI, "vantaxai_conversations.json", convs},
		{convo.Rentalot, "rentalot_conversations.json", convs},
		{convo.Rentalot, "rentalot_messages.json", msgs},
		{convo.Rentalot, "rentalot_search.json", search},
		{convo.AgentMessage, "agentmessage_conversations.json", convs},
	}
	for _, tt := range tests {
		t.Run(tt.fixture, func(t *testing.T) {
			ctx := context.Background()
			body := fixture(t, tt.fixture)
			doc := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
				w.Header().Set("Content-Type", "application/json")
				w.Write(body)
			}))
			defer doc.Close()
			base, err := url.Parse(tt.p.DefaultBaseURL())
			require.NoError(t, err)
			docClient, err := convo.NewClient(tt.p, convo.WithBaseURL(doc.URL+base.Path), convo.WithMaxRetries(0), convo.WithoutAuth())
			require.NoError(t, err)

			srv := convotest.NewServer(tt.p)
			defer srv.Close()
			fakeClient, err := srv.Client()
			require.NoError(t, err)

			// The longest conversation is the likeliest to show every field.
			longest := longest(srv.Dataset())
			documented := tt.list(t)(ctx, docClient, "c7a1b2d3-4e5f-4a6b-8c9d-0e1f2a3b4c5d")
			faked := tt.list(t)(ctx, fakeClient, longest.Conversation.ID)
			require.NotEmpty(t, documented)
			require.NotEmpty(t, faked)
			want, got := map[string]bool{}, map[string]bool{}
			for _, v := range documented {
				for f := range nonZeroFields(v) {
					want[f] = true
				}
			}
			for _, v := range faked {
				for f := range nonZeroFields(v) {
					got[f] = true
				}
			}
			for f := range want {
				assert.True(t, got[f], "the example fills %s, the fake never does", f)
			}
		})
	}
}

func toAny[T any](items []T) []any {
	out := make([]any, len(items))
	for i, v := range items {
		out[i] = v
	}
	return out
}

// TestConvotestErrorsDecodeInSDK checks that the SDK reads the fake's error
// envelopes like the documented ones: status, code and details.
func TestConvotestErrorsDecodeInSDK(t *testing.T) {
	t.Parallel()
	tests := []struct {
		p      convo.Provider
		params *convo.MessageListParams
		id     string
		status int
		code   string
		detail string
	}{
		{convo.Vobiz, nil, "no-such-conversation", 404, "NOT_FOUND", ""},
		{convo.VantaxAI, nil, "conv_000000", 404, "", ""},
		{convo.Rentalot, nil, "00000000-0000-4000-8000-000000000000", 404, "", ""}, // RFC 9457: no machine code; the problem type identifies it
		{convo.AgentMessage, nil, "AAAAAAAAAAAAAAAA", 404, "NOT_FOUND", ""},
	}
	for _, tt := range tests {
		t.Run(tt.p.Name(), func(t *testing.T) {
			srv := convotest.NewServer(tt.p)
			defer srv.Close()
			c, err := srv.Client(convo.WithMaxRetries(0))
			require.NoError(t, err)
			var gotErr error
			for _, err := range c.Messages.List(context.Background(), tt.id, tt.params).All() {
				gotErr = err
			}
			var apiErr *convo.APIError
			require.ErrorAs(t, gotErr, &apiErr)
			assert.Equal(t, tt.status, apiErr.StatusCode)
			assert.ErrorIs(t, gotErr, convo.ErrNotFound)
			assert.Equal(t, tt.code, apiErr.Code)
			assert.True(t, strings.Contains(strings.ToLower(apiErr.Message), "not found"), apiErr.Message)
		})
	}
}
