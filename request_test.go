package convo

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"gopkg.in/h2non/gock.v1"
)

// The request loop: the exact requests each operation sends, its
// refusals before sending, and its log.
//
// The exact-request tests check what each operation sends to each
// provider's documented base URL. They use gock, which replaces
// http.DefaultTransport: the clients have no WithHTTPClient, so the SDK's
// retry and authentication layers run above gock exactly as in production.
// gock state is global: none of them is parallel.

const testUserAgentSuffix = "acme-sync/2.1"

// gockRecorder records every request gock intercepts.
type gockRecorder struct {
	mu   sync.Mutex
	reqs []*http.Request
}

func (g *gockRecorder) observe(r *http.Request, _ gock.Mock) {
	g.mu.Lock()
	defer g.mu.Unlock()
	g.reqs = append(g.reqs, r)
}

func (g *gockRecorder) requests() []*http.Request {
	g.mu.Lock()
	defer g.mu.Unlock()
	return append([]*http.Request(nil), g.reqs...)
}

// startGock turns gock on for one test and records what it intercepts. At
// the end of the test every mock must have been used and no request may
// have gone unmatched.
func startGock(t *testing.T) *gockRecorder {
	t.Helper()
	rec := &gockRecorder{}
	gock.CleanUnmatchedRequest()
	gock.Observe(rec.observe)
	t.Cleanup(func() {
		for _, r := range gock.GetUnmatchedRequests() {
			t.Errorf("unmatched request: %s %s", r.Method, r.URL)
		}
		for _, m := range gock.Pending() {
			t.Errorf("mock not used: %s", m.Request().URLStruct)
		}
		gock.Observe(nil)
		gock.OffAll()
	})
	return rec
}

// expectGET registers a one-time gock mock for GET on the provider's
// documented base URL + path (escaped, matched in full) with exactly the
// query want, and returns its response for the test to fill. gock's own
// matchers are unanchored regular expressions, so every value is anchored
// and quoted, and an extra matcher refuses any parameter not in want.
func expectGET(p Provider, escapedPath string, want url.Values) *gock.Response {
	base, err := url.Parse(p.DefaultBaseURL())
	if err != nil {
		panic(err)
	}
	fullPath := base.EscapedPath() + escapedPath
	req := gock.New(base.Scheme + "://" + base.Host).Get("")
	req.AddMatcher(func(r *http.Request, _ *gock.Request) (bool, error) {
		return r.URL.EscapedPath() == fullPath, nil
	})
	for k, vs := range want {
		req.MatchParam(k, "^"+regexp.QuoteMeta(vs[0])+"$")
	}
	req.AddMatcher(func(r *http.Request, _ *gock.Request) (bool, error) {
		got := r.URL.Query()
		if len(got) != len(want) {
			return false, nil
		}
		for k, vs := range want {
			if len(got[k]) != len(vs) {
				return false, nil
			}
		}
		return true, nil
	})
	return req.Reply(http.StatusOK).SetHeader("Content-Type", "application/json")
}

// testSentRequest asserts everything a request carries: method, exact path
// under the default base URL, exact query, credentials, User-Agent and
// Accept.
func testSentRequest(t *testing.T, r *http.Request, p Provider, auth string, escapedPath string, want url.Values) {
	t.Helper()
	base, err := url.Parse(p.DefaultBaseURL())
	require.NoError(t, err)
	testMethod(t, r, http.MethodGet)
	assert.Equal(t, base.Scheme, r.URL.Scheme, "scheme")
	assert.Equal(t, base.Host, r.URL.Host, "host")
	assert.Equal(t, base.EscapedPath()+escapedPath, r.URL.EscapedPath(), "path")
	testQuery(t, r, want)
	testHeader(t, r, "User-Agent", "convo/"+Version+" "+testUserAgentSuffix)
	testHeader(t, r, "Accept", "application/json")
	switch auth {
	case "xauth":
		testHeader(t, r, "X-Auth-ID", testAuthID)
		testHeader(t, r, "X-Auth-Token", testAuthToken)
		testHeader(t, r, "Authorization", "")
	case "bearer":
		testHeader(t, r, "Authorization", "Bearer "+testBearer)
		testHeader(t, r, "X-Auth-ID", "")
		testHeader(t, r, "X-Auth-Token", "")
	default:
		t.Fatalf("unknown auth %q", auth)
	}
}

// exchange is one expected request and the body answered to it.
type exchange struct {
	path  string     // escaped, under the provider's default base URL
	query url.Values // exact; nil: no query
	reply string     // JSON body of the 200 answer
}

func boolPtr(b bool) *bool { return &b }

// requestCase is one operation of TestRequestsExact: what it runs, as
// which client, the requests it must send and the items it must yield.
type requestCase struct {
	name      string
	provider  Provider
	auth      string // "xauth" or "bearer"
	run       func(ctx context.Context, c *Client) (int, error)
	exchanges []exchange
	wantItems int
}

// filterOnly is the case of p's conversations listed with params alone: one
// request with exactly query, answered with an empty list.
func filterOnly(name string, p Provider, params ConversationListParams, query url.Values) requestCase {
	return requestCase{name: name, provider: p, auth: "bearer", run: listConversations(&params),
		exchanges: []exchange{{path: "/conversations", query: query, reply: emptyListBody(p)}}}
}

func TestRequestsExact(t *testing.T) {
	since := time.Date(2026, 4, 1, 9, 30, 0, 0, time.FixedZone("CEST", 2*60*60))
	const (
		vobizConv = "c7a1b2d3-4e5f-4a6b-8c9d-0e1f2a3b4c5d"
		amConv    = "AQID...base64url"
		rlConv    = "550e8400-e29b-41d4-a716-446655440000"
	)
	vobizMsg := func(id string) string {
		return `{"id":"` + id + `","conversation_id":"` + vobizConv + `","direction":"inbound","content":"{\"body\":\"hi\"}","created_at":"2026-03-17T14:20:00Z"}`
	}
	vantaxConv := func(id string) string {
		return `{"id":"` + id + `","channel":"sms","status":"open","created_at":"2026-06-08T09:15:00Z"}`
	}
	vantaxMsg := func(id string) string {
		return `{"id":"` + id + `","conversation_id":"conv_7b2e9a","direction":"inbound","content":"hi","created_at":"2026-06-08T09:15:00Z"}`
	}
	rlMsg := func(id string) string {
		return `{"id":"` + id + `","conversationId":"` + rlConv + `","direction":"inbound","content":"hi","sentAt":"2026-02-11T09:15:00Z"}`
	}
	amConvJSON := func(id string) string {
		return `{"id":"` + id + `","contact_number":"+15554443333","last_message_at":"2026-04-28T12:00:01Z"}`
	}
	amMsg := func(id string) string {
		return `{"id":"` + id + `","direction":"inbound","body":"hi","created_at":"2026-04-28T12:00:01Z"}`
	}
	const vobizCursor = "eyJpZCI6Im1zZzAwMSJ9"
	const amCursor = "c2Vjb25k+/page=2&x" // reserved characters: must travel escaped, arrive intact

	tests := []requestCase{
		// Vobiz.
		{
			name: "vobiz conversations", provider: Vobiz, auth: "xauth",
			run:       listConversations(nil),
			exchanges: []exchange{{path: "/conversations", reply: string(fixture(t, "vobiz_conversations.json"))}},
			wantItems: 1,
		},
		{
			name: "vobiz conversations with a bearer token", provider: Vobiz, auth: "bearer",
			run:       listConversations(&ConversationListParams{}),
			exchanges: []exchange{{path: "/conversations", reply: `{"items":[]}`}},
		},
		{
			name: "vobiz conversations ignore PageSize", provider: Vobiz, auth: "xauth",
			run:       listConversations(&ConversationListParams{PageSize: 500}),
			exchanges: []exchange{{path: "/conversations", reply: string(fixture(t, "vobiz_conversations.json"))}},
			wantItems: 1,
		},
		{
			name: "vobiz messages default", provider: Vobiz, auth: "xauth",
			run:       listMessages(vobizConv, nil),
			exchanges: []exchange{{path: "/conversations/" + vobizConv + "/messages", reply: `{"items":[` + vobizMsg("m1") + `],"has_more":false}`}},
			wantItems: 1,
		},
		{
			name: "vobiz messages two pages", provider: Vobiz, auth: "xauth",
			run: listMessages(vobizConv, &MessageListParams{PageSize: 100}),
			exchanges: []exchange{
				{path: "/conversations/" + vobizConv + "/messages", query: url.Values{"limit": {"100"}}, reply: string(fixture(t, "vobiz_messages.json"))},
				{path: "/conversations/" + vobizConv + "/messages", query: url.Values{"limit": {"100"}, "cursor": {vobizCursor}}, reply: `{"items":[` + vobizMsg("m3") + `],"has_more":false,"next_cursor":""}`},
			},
			wantItems: 3,
		},

		// VantaxAI.
		{
			name: "vantaxai conversations default", provider: VantaxAI, auth: "bearer",
			run:       listConversations(nil),
			exchanges: []exchange{{path: "/conversations", reply: string(fixture(t, "vantaxai_conversations.json"))}},
			wantItems: 2,
		},
		{
			name: "vantaxai conversations every filter", provider: VantaxAI, auth: "bearer",
			run: listConversations(&ConversationListParams{SubAccountID: "sub_8a1f4c2e", Channel: "whatsapp", Status: "open", PageSize: 20}),
			exchanges: []exchange{{path: "/conversations",
				query: url.Values{"sub_account_id": {"sub_8a1f4c2e"}, "channel": {"whatsapp"}, "status": {"open"}, "limit": {"20"}},
				reply: string(fixture(t, "vantaxai_conversations.json"))}},
			wantItems: 2,
		},
		filterOnly("vantaxai conversations sub_account_id only", VantaxAI, ConversationListParams{SubAccountID: "sub 1&x=y"}, url.Values{"sub_account_id": {"sub 1&x=y"}}),
		filterOnly("vantaxai conversations channel only", VantaxAI, ConversationListParams{Channel: "email"}, url.Values{"channel": {"email"}}),
		filterOnly("vantaxai conversations status only", VantaxAI, ConversationListParams{Status: "pending"}, url.Values{"status": {"pending"}}),
		{
			name: "vantaxai conversations two pages", provider: VantaxAI, auth: "bearer",
			run: listConversations(&ConversationListParams{Status: "open", PageSize: 2}),
			exchanges: []exchange{
				{path: "/conversations", query: url.Values{"status": {"open"}, "limit": {"2"}},
					reply: `{"success":true,"data":[` + vantaxConv("conv_a") + `,` + vantaxConv("conv_b") + `],"pagination":{"total":3,"limit":2,"has_more":true}}`},
				{path: "/conversations", query: url.Values{"status": {"open"}, "limit": {"2"}, "starting_after": {"conv_b"}},
					reply: `{"success":true,"data":[` + vantaxConv("conv_c") + `],"pagination":{"total":3,"limit":2,"has_more":false}}`},
			},
			wantItems: 3,
		},
		{
			name: "vantaxai get conversation", provider: VantaxAI, auth: "bearer",
			run:       getConversation("conv_7b2e9a"),
			exchanges: []exchange{{path: "/conversations/conv_7b2e9a", reply: `{"success":true,"data":` + vantaxConv("conv_7b2e9a") + `}`}},
			wantItems: 1,
		},
		{
			name: "vantaxai messages two pages", provider: VantaxAI, auth: "bearer",
			run: listMessages("conv_7b2e9a", &MessageListParams{PageSize: 1}),
			exchanges: []exchange{
				{path: "/conversations/conv_7b2e9a/messages", query: url.Values{"limit": {"1"}},
					reply: `{"success":true,"data":[` + vantaxMsg("msg_1") + `],"pagination":{"limit":1,"has_more":true}}`},
				{path: "/conversations/conv_7b2e9a/messages", query: url.Values{"limit": {"1"}, "starting_after": {"msg_1"}},
					reply: `{"success":true,"data":[` + vantaxMsg("msg_2") + `],"pagination":{"limit":1,"has_more":false}}`},
			},
			wantItems: 2,
		},

		// Rentalot.
		{
			name: "rentalot conversations default", provider: Rentalot, auth: "bearer",
			run:       listConversations(nil),
			exchanges: []exchange{{path: "/conversations", query: url.Values{"page": {"1"}}, reply: `{"data":[],"pagination":{"page":1,"limit":20,"total":0,"totalPages":0}}`}},
		},
		{
			name: "rentalot conversations every filter, two pages", provider: Rentalot, auth: "bearer",
			run: listConversations(&ConversationListParams{ContactID: "770e8400-e29b-41d4-a716-446655440000", Status: "active", PageSize: 20}),
			exchanges: []exchange{
				{path: "/conversations", query: url.Values{"page": {"1"}, "limit": {"20"}, "contactId": {"770e8400-e29b-41d4-a716-446655440000"}, "status": {"active"}},
					reply: string(fixture(t, "rentalot_conversations.json"))},
				{path: "/conversations", query: url.Values{"page": {"2"}, "limit": {"20"}, "contactId": {"770e8400-e29b-41d4-a716-446655440000"}, "status": {"active"}},
					reply: `{"data":[{"id":"second"}],"pagination":{"page":2,"limit":20,"total":34,"totalPages":2}}`},
			},
			wantItems: 2,
		},
		filterOnly("rentalot conversations status only", Rentalot, ConversationListParams{Status: "archived"}, url.Values{"page": {"1"}, "status": {"archived"}}),
		filterOnly("rentalot conversations contactId only", Rentalot, ConversationListParams{ContactID: "ct/1 &2"}, url.Values{"page": {"1"}, "contactId": {"ct/1 &2"}}),
		{
			name: "rentalot get conversation", provider: Rentalot, auth: "bearer",
			run:       getConversation(rlConv),
			exchanges: []exchange{{path: "/conversations/" + rlConv, reply: `{"data":{"id":"` + rlConv + `","status":"active"}}`}},
			wantItems: 1,
		},
		{
			name: "rentalot messages two pages", provider: Rentalot, auth: "bearer",
			run: listMessages(rlConv, &MessageListParams{PageSize: 2}),
			exchanges: []exchange{
				{path: "/conversations/" + rlConv + "/messages", query: url.Values{"page": {"1"}, "limit": {"2"}},
					reply: `{"data":[` + rlMsg("r1") + `,` + rlMsg("r2") + `],"pagination":{"page":1,"limit":2}}`},
				{path: "/conversations/" + rlConv + "/messages", query: url.Values{"page": {"2"}, "limit": {"2"}},
					reply: `{"data":[` + rlMsg("r3") + `],"pagination":{"page":2,"limit":2}}`},
			},
			wantItems: 3,
		},
		{
			name: "rentalot search", provider: Rentalot, auth: "bearer",
			run: searchMessages(&SearchParams{Query: "2-bedroom & pets=ok #1", Limit: 50}),
			exchanges: []exchange{{path: "/conversations/search", query: url.Values{"query": {"2-bedroom & pets=ok #1"}, "limit": {"50"}},
				reply: string(fixture(t, "rentalot_search.json"))}},
			wantItems: 1,
		},
		{
			name: "rentalot search default limit", provider: Rentalot, auth: "bearer",
			run:       searchMessages(&SearchParams{Query: "apartment"}),
			exchanges: []exchange{{path: "/conversations/search", query: url.Values{"query": {"apartment"}}, reply: `{"data":[],"total":0}`}},
		},

		// AgentMessage.
		{
			name: "agentmessage conversations default", provider: AgentMessage, auth: "bearer",
			run:       listConversations(nil),
			exchanges: []exchange{{path: "/conversations", reply: string(fixture(t, "agentmessage_conversations.json"))}},
			wantItems: 2,
		},
		{
			name: "agentmessage conversations every filter", provider: AgentMessage, auth: "bearer",
			run: listConversations(&ConversationListParams{
				PhoneNumberID: "7c1f0a2d-9e8b-4c3a-9d2e-1f0a2b3c4d5e", ContactNumber: "+15554443333",
				Since: since, OptedIn: boolPtr(true), PageSize: 200,
			}),
			exchanges: []exchange{{path: "/conversations", query: url.Values{
				"phone_number_id": {"7c1f0a2d-9e8b-4c3a-9d2e-1f0a2b3c4d5e"}, "contact_number": {"+15554443333"},
				"since": {"2026-04-01T09:30:00+02:00"}, "opted_in": {"true"}, "limit": {"200"},
			}, reply: string(fixture(t, "agentmessage_conversations.json"))}},
			wantItems: 2,
		},
		filterOnly("agentmessage conversations opted_in false", AgentMessage, ConversationListParams{OptedIn: boolPtr(false)}, url.Values{"opted_in": {"false"}}),
		filterOnly("agentmessage conversations phone_number_id only", AgentMessage, ConversationListParams{PhoneNumberID: "pn_1"}, url.Values{"phone_number_id": {"pn_1"}}),
		filterOnly("agentmessage conversations since in UTC", AgentMessage, ConversationListParams{Since: since.UTC()}, url.Values{"since": {"2026-04-01T07:30:00Z"}}),
		{
			name: "agentmessage conversations two pages", provider: AgentMessage, auth: "bearer",
			run: listConversations(&ConversationListParams{ContactNumber: "+15558889999", PageSize: 1}),
			exchanges: []exchange{
				{path: "/conversations", query: url.Values{"contact_number": {"+15558889999"}, "limit": {"1"}},
					reply: `{"success":true,"data":[` + amConvJSON("AQID") + `],"meta":{"total":0,"limit":1,"next_cursor":"` + amCursor + `"}}`},
				{path: "/conversations", query: url.Values{"contact_number": {"+15558889999"}, "limit": {"1"}, "cursor": {amCursor}},
					reply: `{"success":true,"data":[` + amConvJSON("BQYH") + `],"meta":{"total":0,"limit":1,"next_cursor":null}}`},
			},
			wantItems: 2,
		},
		{
			name: "agentmessage messages two pages", provider: AgentMessage, auth: "bearer",
			run: listMessages(amConv, &MessageListParams{PageSize: 150}),
			exchanges: []exchange{
				{path: "/conversations/" + amConv + "/messages", query: url.Values{"limit": {"150"}},
					reply: `{"success":true,"data":[` + amMsg("a1") + `],"meta":{"limit":150,"next_cursor":"next-1"}}`},
				{path: "/conversations/" + amConv + "/messages", query: url.Values{"limit": {"150"}, "cursor": {"next-1"}},
					reply: `{"success":true,"data":[` + amMsg("a2") + `],"meta":{"limit":150,"next_cursor":null}}`},
			},
			wantItems: 2,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rec := startGock(t)
			for _, ex := range tt.exchanges {
				expectGET(tt.provider, ex.path, ex.query).BodyString(ex.reply)
			}
			auth := Bearer(testBearer)
			if tt.auth == "xauth" {
				auth = XAuth(testAuthID, testAuthToken)
			}
			c, err := NewClient(tt.provider, WithAuth(auth), WithUserAgent(testUserAgentSuffix),
				WithMaxRetries(1), WithRetryWait(time.Millisecond, 10*time.Millisecond))
			require.NoError(t, err)

			n, err := tt.run(testContext(t), c)
			require.NoError(t, err)
			assert.Equal(t, tt.wantItems, n, "items")
			assert.True(t, gock.IsDone(), "every expected request was sent")

			sent := rec.requests()
			require.Len(t, sent, len(tt.exchanges), "requests sent")
			for i, ex := range tt.exchanges {
				testSentRequest(t, sent[i], tt.provider, tt.auth, ex.path, ex.query)
			}
		})
	}
}

// TestRequestsSinceIsRFC3339 checks the since filter is a parsable RFC 3339
// instant equal to the one given, whatever its zone.
func TestRequestsSinceIsRFC3339(t *testing.T) {
	rec := startGock(t)
	since := time.Date(2025, 12, 31, 23, 59, 59, 0, time.FixedZone("", 5*60*60+30*60))
	base, err := url.Parse(AgentMessage.DefaultBaseURL())
	require.NoError(t, err)
	gock.New(base.Scheme + "://" + base.Host).Get("^" + regexp.QuoteMeta(base.Path+"/conversations") + "$").
		Reply(http.StatusOK).JSON(map[string]any{"success": true, "data": []any{}, "meta": map[string]any{"next_cursor": nil}})

	c, err := NewClient(AgentMessage, WithAuth(Bearer(testBearer)))
	require.NoError(t, err)
	_, err = drain(c.Conversations.List(testContext(t), &ConversationListParams{Since: since}), 10)
	require.NoError(t, err)
	sent := rec.requests()
	require.Len(t, sent, 1)
	got, err := time.Parse(time.RFC3339, sent[0].URL.Query().Get("since"))
	require.NoError(t, err, "since is RFC 3339")
	assert.True(t, got.Equal(since), "since %v, want %v", got, since)
	assert.NotContains(t, sent[0].URL.RawQuery, "+", "a raw '+' would be read as a space")
}

func listConversations(p *ConversationListParams) func(context.Context, *Client) (int, error) {
	return func(ctx context.Context, c *Client) (int, error) {
		items, err := drain(c.Conversations.List(ctx, p), 100)
		return len(items), err
	}
}

func listMessages(id string, p *MessageListParams) func(context.Context, *Client) (int, error) {
	return func(ctx context.Context, c *Client) (int, error) {
		items, err := drain(c.Messages.List(ctx, id, p), 100)
		return len(items), err
	}
}

func searchMessages(p *SearchParams) func(context.Context, *Client) (int, error) {
	return func(ctx context.Context, c *Client) (int, error) {
		items, err := drain(c.Search.Messages(ctx, p), 100)
		return len(items), err
	}
}

func getConversation(id string) func(context.Context, *Client) (int, error) {
	return func(ctx context.Context, c *Client) (int, error) {
		conv, err := c.Conversations.Get(ctx, id)
		if err != nil {
			return 0, err
		}
		if conv.ID != id {
			return 0, errors.New("Get returned conversation " + conv.ID + ", not " + id)
		}
		return 1, nil
	}
}

// TestIDsSentAsOneSegment checks that ids reach the server unmodified as
// exactly one escaped path segment, for Get and Messages.List.
func TestIDsSentAsOneSegment(t *testing.T) {
	ids := []string{
		"AQID...base64url",
		"AQID-_x8",
		"a/b",
		"a?b=c",
		"a#b",
		"%2e%2e",
		"../admin",
		"a b+c",
		"a;b,c",
		"ünïcödé",
		"...",
	}
	for _, p := range Providers() {
		t.Run(p.Name(), func(t *testing.T) {
			var (
				mu   sync.Mutex
				seen []string // escaped paths, in order
			)
			c, mux, _ := setup(t, p)
			mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
				mu.Lock()
				seen = append(seen, r.URL.EscapedPath())
				mu.Unlock()
				if strings.HasSuffix(r.URL.EscapedPath(), "/messages") {
					writeJSON(w, http.StatusOK, []byte(emptyListBody(p)))
					return
				}
				writeJSON(w, http.StatusOK, []byte(`{"success":true,"data":{"id":"x"}}`))
			})
			last := func() string {
				mu.Lock()
				defer mu.Unlock()
				if len(seen) == 0 {
					return ""
				}
				return seen[len(seen)-1]
			}
			// oneSegment asserts path is /conversations/<id as one escaped segment><suffix>.
			oneSegment := func(t *testing.T, path, id, suffix string) {
				t.Helper()
				require.True(t, strings.HasPrefix(path, "/conversations/") && strings.HasSuffix(path, suffix), "path %q", path)
				seg := strings.TrimSuffix(strings.TrimPrefix(path, "/conversations/"), suffix)
				assert.NotContains(t, seg, "/", "one segment")
				unescaped, err := url.PathUnescape(seg)
				require.NoError(t, err)
				assert.Equal(t, id, unescaped, "the id arrives unmodified")
			}
			for _, id := range ids {
				ctx := testContext(t)
				_, err := drain(c.Messages.List(ctx, id, nil), 10)
				require.NoError(t, err, "id %q", id)
				oneSegment(t, last(), id, "/messages")

				if p.Supports("conversations.get") {
					conv, err := c.Conversations.Get(ctx, id)
					require.NoError(t, err, "id %q", id)
					assert.Equal(t, "x", conv.ID)
					oneSegment(t, last(), id, "")
				}
			}
		})
	}
}

// TestIDsRejected checks that ids that cannot be one path segment fail with
// ErrInvalidParams before any request.
func TestIDsRejected(t *testing.T) {
	ids := []string{"", ".", "..", "a\nb", "a\rb", "\x00", "a\tb", "id\x7f", "id\u0085"}
	for _, p := range Providers() {
		for _, id := range ids {
			t.Run(p.Name()+"/"+strings.ToValidUTF8(url.PathEscape(id), "?"), func(t *testing.T) {
				c, _, srv := setup(t, p)
				ctx := testContext(t)
				_, err := drain(c.Messages.List(ctx, id, nil), 10)
				require.Error(t, err)
				assert.ErrorIs(t, err, ErrInvalidParams)
				if p.Supports("conversations.get") {
					_, err := c.Conversations.Get(ctx, id)
					require.Error(t, err)
					assert.ErrorIs(t, err, ErrInvalidParams)
				}
				assert.Zero(t, srv.Requests(), "no request sent")
			})
		}
	}
}

// TestValidationBeforeSending checks every parameter check that fails
// before a request is sent.
// noParamError marks a refusal that is about an operation, not a field.
const noParamError = "(not a ParamError)"

func TestValidationBeforeSending(t *testing.T) {
	long := strings.Repeat("a", 501)
	type refusal struct {
		name     string
		provider Provider
		run      func(context.Context, *Client) error
		want     error
		field    string // ParamError.Field, or noParamError
	}
	tests := []refusal{
		// Page sizes outside each provider's documented range.
		{"vobiz messages 101", Vobiz, runMsgs(&MessageListParams{PageSize: 101}), ErrInvalidParams, "PageSize"},
		{"vobiz messages negative", Vobiz, runMsgs(&MessageListParams{PageSize: -1}), ErrInvalidParams, "PageSize"},
		{"vobiz conversations negative", Vobiz, runConvs(&ConversationListParams{PageSize: -5}), ErrInvalidParams, "PageSize"},
		{"vantaxai conversations 101", VantaxAI, runConvs(&ConversationListParams{PageSize: 101}), ErrInvalidParams, "PageSize"},
		{"vantaxai conversations negative", VantaxAI, runConvs(&ConversationListParams{PageSize: -1}), ErrInvalidParams, "PageSize"},
		{"vantaxai messages 101", VantaxAI, runMsgs(&MessageListParams{PageSize: 101}), ErrInvalidParams, "PageSize"},
		{"rentalot conversations 101", Rentalot, runConvs(&ConversationListParams{PageSize: 101}), ErrInvalidParams, "PageSize"},
		{"rentalot messages 101", Rentalot, runMsgs(&MessageListParams{PageSize: 101}), ErrInvalidParams, "PageSize"},
		{"rentalot messages negative", Rentalot, runMsgs(&MessageListParams{PageSize: -100}), ErrInvalidParams, "PageSize"},
		{"agentmessage conversations 201", AgentMessage, runConvs(&ConversationListParams{PageSize: 201}), ErrInvalidParams, "PageSize"},
		{"agentmessage messages 201", AgentMessage, runMsgs(&MessageListParams{PageSize: 201}), ErrInvalidParams, "PageSize"},
		{"agentmessage messages negative", AgentMessage, runMsgs(&MessageListParams{PageSize: -1}), ErrInvalidParams, "PageSize"},

		// Search.
		{"search limit 51", Rentalot, runSearch(&SearchParams{Query: "x", Limit: 51}), ErrInvalidParams, "Limit"},
		{"search limit negative", Rentalot, runSearch(&SearchParams{Query: "x", Limit: -1}), ErrInvalidParams, "Limit"},
		{"search empty query", Rentalot, runSearch(&SearchParams{}), ErrInvalidParams, "Query"},
		{"search nil params", Rentalot, runSearch(nil), ErrInvalidParams, "Query"},
		{"search whitespace query", Rentalot, runSearch(&SearchParams{Query: " \t\n "}), ErrInvalidParams, "Query"},
		{"search query of 501 characters", Rentalot, runSearch(&SearchParams{Query: long}), ErrInvalidParams, "Query"},
		{"search query of 501 multibyte characters", Rentalot, runSearch(&SearchParams{Query: strings.Repeat("é", 501)}), ErrInvalidParams, "Query"},

		// Operations a provider does not document.
		{"vobiz get", Vobiz, runGet("c1"), ErrUnsupported, noParamError},
		{"agentmessage get", AgentMessage, runGet("AQID"), ErrUnsupported, noParamError},
		{"vobiz search", Vobiz, runSearch(&SearchParams{Query: "x"}), ErrUnsupported, noParamError},
		{"vantaxai search", VantaxAI, runSearch(&SearchParams{Query: "x"}), ErrUnsupported, noParamError},
		{"agentmessage search", AgentMessage, runSearch(&SearchParams{Query: "x"}), ErrUnsupported, noParamError},
		{"vobiz get with an invalid id", Vobiz, runGet(""), ErrUnsupported, noParamError},

		// Cursors and ids.
		{"not a convo cursor", Vobiz, runMsgs(&MessageListParams{Cursor: "garbage"}), ErrInvalidParams, "Cursor"},
		{"conversation cursor", AgentMessage, runConvs(&ConversationListParams{Cursor: "%%%"}), ErrInvalidParams, "Cursor"},
		{"rentalot get empty id", Rentalot, runGet(""), ErrInvalidParams, ""},
		{"vantaxai get traversal", VantaxAI, runGet(".."), ErrInvalidParams, ""},

		// Enumerated filters.
		{"vantaxai channel", VantaxAI, runConvs(&ConversationListParams{Channel: "telegram"}), ErrInvalidParams, "Channel"},
		{"vantaxai channel case", VantaxAI, runConvs(&ConversationListParams{Channel: "SMS"}), ErrInvalidParams, "Channel"},
		{"vantaxai status", VantaxAI, runConvs(&ConversationListParams{Status: "active"}), ErrInvalidParams, "Status"},
		{"rentalot status", Rentalot, runConvs(&ConversationListParams{Status: "open"}), ErrInvalidParams, "Status"},
	}

	// Every filter a provider does not document.
	set := map[string]ConversationListParams{
		"Status":        {Status: "open"},
		"Channel":       {Channel: "sms"},
		"ContactID":     {ContactID: "ct_1"},
		"SubAccountID":  {SubAccountID: "sub_1"},
		"PhoneNumberID": {PhoneNumberID: "pn_1"},
		"ContactNumber": {ContactNumber: "+15550000000"},
		"Since":         {Since: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)},
		"OptedIn":       {OptedIn: boolPtr(false)},
	}
	undocumented := map[Provider][]string{
		Vobiz:        {"Status", "Channel", "ContactID", "SubAccountID", "PhoneNumberID", "ContactNumber", "Since", "OptedIn"},
		VantaxAI:     {"ContactID", "PhoneNumberID", "ContactNumber", "Since", "OptedIn"},
		Rentalot:     {"Channel", "SubAccountID", "PhoneNumberID", "ContactNumber", "Since", "OptedIn"},
		AgentMessage: {"Status", "Channel", "ContactID", "SubAccountID"},
	}
	for p, names := range undocumented {
		for _, name := range names {
			params := set[name]
			tests = append(tests, refusal{p.Name() + " filter " + name, p, runConvs(&params), ErrUnsupported, name})
		}
	}

	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, _, srv := setup(t, tt.provider)
			err := tt.run(testContext(t), c)
			require.Error(t, err)
			assert.ErrorIs(t, err, tt.want)
			for _, other := range []error{ErrInvalidParams, ErrUnsupported} {
				if other != tt.want {
					assert.NotErrorIs(t, err, other)
				}
			}
			var apiErr *APIError
			assert.False(t, errors.As(err, &apiErr), "not an API error")
			var pe *ParamError
			if tt.field == noParamError {
				assert.False(t, errors.As(err, &pe), "an operation is no parameter")
			} else if assert.ErrorAs(t, err, &pe, "the field is named for errors.As") {
				assert.Equal(t, tt.field, pe.Field)
				assert.ErrorIs(t, pe.Err, tt.want)
			}
			assert.Zero(t, srv.Requests(), "no request sent")
		})
	}
}

// TestValidationAccepts checks the edges of each documented range are
// accepted and sent.
func TestValidationAccepts(t *testing.T) {
	tests := []struct {
		name      string
		provider  Provider
		run       func(context.Context, *Client) error
		wantLimit string
		wantQuery string
	}{
		{"vobiz messages 1", Vobiz, runMsgs(&MessageListParams{PageSize: 1}), "1", ""},
		{"vobiz messages 100", Vobiz, runMsgs(&MessageListParams{PageSize: 100}), "100", ""},
		{"vantaxai conversations 100", VantaxAI, runConvs(&ConversationListParams{PageSize: 100}), "100", ""},
		{"rentalot messages 100", Rentalot, runMsgs(&MessageListParams{PageSize: 100}), "100", ""},
		{"agentmessage conversations 200", AgentMessage, runConvs(&ConversationListParams{PageSize: 200}), "200", ""},
		{"agentmessage messages 1", AgentMessage, runMsgs(&MessageListParams{PageSize: 1}), "1", ""},
		{"search limit 1", Rentalot, runSearch(&SearchParams{Query: "x", Limit: 1}), "1", "x"},
		{"search limit 50, query of 500 characters", Rentalot, runSearch(&SearchParams{Query: strings.Repeat("é", 500), Limit: 50}), "50", strings.Repeat("é", 500)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, mux, srv := setup(t, tt.provider)
			var got url.Values
			mux.HandleFunc("GET /", func(w http.ResponseWriter, r *http.Request) {
				got = r.URL.Query()
				writeJSON(w, http.StatusOK, []byte(emptyListBody(tt.provider)))
			})
			require.NoError(t, tt.run(testContext(t), c))
			assert.Equal(t, 1, srv.Requests())
			assert.Equal(t, tt.wantLimit, got.Get("limit"))
			if tt.wantQuery != "" {
				assert.Equal(t, tt.wantQuery, got.Get("query"))
			}
		})
	}
}

// The log: one record per attempt, at a level that says what became of
// it, naming the page, never a credential or a filter value.

func TestLoggingEachAttempt(t *testing.T) {
	t.Parallel()
	logger, logs := newTestLogger()
	c, srv := scriptedServer(t, Vobiz, failFirst(2, func(w http.ResponseWriter) {
		writeJSON(w, http.StatusServiceUnavailable, []byte(`{"status":"error","error":{"code":"UNAVAILABLE","message":"later"}}`))
	}, `{"items":[{"id":"m1"}],"has_more":false}`), WithLogger(logger), WithMaxRetries(3))

	items, err := drain(c.Messages.List(testContext(t), "conv/1", &MessageListParams{PageSize: 10}), 10)
	require.NoError(t, err)
	require.Len(t, items, 1)
	require.Equal(t, 3, srv.Requests())

	recs := parseLog(t, logs)
	require.Len(t, recs, 3, "one record per attempt:\n%s", logs)
	for i, r := range recs {
		level := "WARN" // failed, retried: shown by a default handler
		if i == 2 {
			level = "DEBUG" // the successful attempt
		}
		assert.Equal(t, level, r.Level)
		assert.Equal(t, "vobiz", r.Provider)
		assert.Equal(t, http.MethodGet, r.Method)
		assert.Equal(t, "/conversations/conv%2F1/messages", r.Path)
		assert.Equal(t, i+1, r.Attempt)
	}
	assert.Equal(t, 503, recs[0].Status)
	assert.Equal(t, 503, recs[1].Status)
	assert.Equal(t, 200, recs[2].Status)
	for _, r := range recs[:2] {
		if assert.NotNil(t, r.Wait, "a retried attempt logs its wait") {
			assert.GreaterOrEqual(t, time.Duration(*r.Wait), time.Millisecond)
			assert.LessOrEqual(t, time.Duration(*r.Wait), 10*time.Millisecond)
		}
	}
	assert.Nil(t, recs[2].Wait, "no wait after the last attempt")
	assertNoCredential(t, logs.String())
}

func TestLoggingExhaustedAndErrors(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name     string
		provider Provider
		params   *ConversationListParams
		fail     func(t *testing.T, n int, w http.ResponseWriter)
		retries  int
		status   int // of every attempt; 0: no response
	}{
		{"status", VantaxAI, &ConversationListParams{SubAccountID: "sub_secret_query"},
			func(t *testing.T, n int, w http.ResponseWriter) { errorBody(w, http.StatusInternalServerError, n) }, 2, 500},
		{"connection", AgentMessage, nil,
			func(t *testing.T, n int, w http.ResponseWriter) { hijackClose(t, w) }, 1, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			logger, logs := newTestLogger()
			c, srv := scriptedServer(t, tt.provider, func(n int, w http.ResponseWriter, r *http.Request) {
				tt.fail(t, n, w)
			}, WithLogger(logger), WithMaxRetries(tt.retries))
			_, err := firstPage(c.Conversations.List(testContext(t), tt.params))
			require.Error(t, err)
			attempts := tt.retries + 1
			require.Equal(t, attempts, srv.Requests())
			recs := parseLog(t, logs)
			require.Len(t, recs, attempts, "one record per attempt:\n%s", logs)
			for i, r := range recs {
				assert.Equal(t, i+1, r.Attempt)
				assert.Equal(t, tt.status, r.Status, "the attempt's status, none without a response")
				assert.Equal(t, tt.status == 0, r.Error != nil, "the transport error is logged, and only it")
				assert.Equal(t, "/conversations", r.Path)
				assert.Equal(t, i < attempts-1, r.Wait != nil, "a wait before each retry, none after the last attempt")
			}
			assert.NotContains(t, logs.String(), "sub_secret_query", "no query value logged")
			assertNoCredential(t, logs.String())
		})
	}
}

// TestLoggingNothingWithoutLogger checks that a client without a logger
// writes nothing to stdout or stderr, even while retrying.
func TestLoggingNothingWithoutLogger(t *testing.T) {
	c, srv := scriptedServer(t, VantaxAI, func(n int, w http.ResponseWriter, r *http.Request) {
		if n == 1 {
			hijackClose(t, w)
			return
		}
		if n == 2 {
			errorBody(w, http.StatusServiceUnavailable, n)
			return
		}
		writeJSON(w, http.StatusOK, []byte(vantaxConvBody))
	})

	out := captureOutput(t, func() {
		_, err := drain(c.Conversations.List(testContext(t), nil), 10)
		assert.NoError(t, err)
	})
	assert.Equal(t, 3, srv.Requests())
	assert.Empty(t, out, "nothing printed")
}

// TestLoggingLevels: with a default slog handler (info and above), an
// attempt that failed and is retried shows as a warning and a final failure
// as an error, successful attempts stay at debug; lines name the page, never
// a filter value, a token or a credential.
func TestLoggingLevels(t *testing.T) {
	t.Parallel()
	t.Run("retried then success", func(t *testing.T) {
		var buf bytes.Buffer
		logger := slog.New(slog.NewTextHandler(&buf, nil))
		c, _ := fakeClient(t, func(n int, req *http.Request) (*http.Response, error) {
			if n <= 2 {
				return fakeResponse(req, 503, strings.NewReader(`{"success":false,"message":"later"}`)), nil
			}
			return fakeResponse(req, 200, strings.NewReader(fakeOK)), nil
		}, WithLogger(logger))
		_, err := drain(c.Conversations.List(testContext(t), &ConversationListParams{SubAccountID: "sub_filter_value"}), 10)
		require.NoError(t, err)
		out := buf.String()
		assert.Equal(t, 2, strings.Count(out, "level=WARN"), out)
		assert.NotContains(t, out, "level=DEBUG")
		assert.NotContains(t, out, "level=ERROR")
		assert.Contains(t, out, "page=first")
		assert.NotContains(t, out, "sub_filter_value")
		assertNoCredential(t, out)
	})
	t.Run("final failure", func(t *testing.T) {
		var buf bytes.Buffer
		logger := slog.New(slog.NewTextHandler(&buf, nil))
		c, _ := fakeClient(t, func(n int, req *http.Request) (*http.Response, error) {
			return fakeResponse(req, 500, strings.NewReader(`{"success":false,"message":"broken"}`)), nil
		}, WithLogger(logger), WithMaxRetries(1))
		_, err := firstPage(c.Conversations.List(testContext(t), nil))
		require.Error(t, err)
		assert.Contains(t, err.Error(), "after 2 attempts")
		out := buf.String()
		assert.Equal(t, 1, strings.Count(out, "level=WARN"), out)
		assert.Equal(t, 1, strings.Count(out, "level=ERROR"), out)
	})
}

// A server that echoes the credential it refuses (in the message, the
// details, the request id and the raw body) does not get it into the
// APIError.
func TestRedactEchoedCredentials(t *testing.T) {
	t.Parallel()
	const (
		id     = "MA_ECHOID42"
		token  = "xauth-token-7c0ffee"
		bearer = "am_live_echo_9f8e7d6c"
	)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		seen := strings.TrimPrefix(r.Header.Get("Authorization"), "Bearer ")
		if seen == "" {
			seen = r.Header.Get("X-Auth-ID") + ":" + r.Header.Get("X-Auth-Token")
		}
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusUnauthorized)
		json.NewEncoder(w).Encode(map[string]any{"success": false, "error": map[string]any{
			"code":       "UNAUTHORIZED",
			"message":    "invalid credential " + seen,
			"request_id": "req-" + seen,
			"details":    map[string]string{"authorization": "Bearer " + seen, seen: "unknown key"},
		}})
	}))
	defer srv.Close()

	cases := map[string]struct {
		auth    Authenticator
		secrets []string
	}{
		"XAuth":      {XAuth(id, token), []string{id, token}},
		"Bearer":     {Bearer(bearer), []string{bearer}},
		"BearerFunc": {BearerFunc(func(context.Context) (string, error) { return bearer, nil }), []string{bearer}},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			c, err := NewClient(AgentMessage, WithBaseURL(srv.URL), WithAuth(tc.auth), WithMaxRetries(0))
			require.NoError(t, err)
			for _, e := range c.Conversations.List(context.Background(), nil).Pages() {
				err = e
			}
			require.Error(t, err)
			var apiErr *APIError
			require.True(t, errors.As(err, &apiErr))
			assert.True(t, errors.Is(err, ErrUnauthorized))
			assert.Contains(t, string(apiErr.Body), "REDACTED", "the echo was there and was scrubbed")
			out := strings.Join([]string{err.Error(), fmt.Sprintf("%+v", apiErr), fmt.Sprintf("%#v", apiErr),
				string(apiErr.Body), fmt.Sprint(apiErr.Details), apiErr.RequestID, apiErr.Message}, "\n")
			for _, s := range tc.secrets {
				assert.NotContains(t, out, s)
			}
		})
	}
}

// A 2xx body that echoes the credential, whether an error envelope or not
// JSON at all, does not get it into the DecodeError.
func TestRedactEchoedCredentialsInSuccessBodies(t *testing.T) {
	const bearer = "am_live_echo_2xx_5a4b3c"
	for name, body := range map[string]string{
		"not JSON":       "<html>your key " + bearer + " is not valid here</html>",
		"error envelope": `{"success":false,"error":{"code":"UNAUTHORIZED","message":"bad key ` + bearer + `","request_id":"r-` + bearer + `"}}`,
	} {
		t.Run(name, func(t *testing.T) {
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				w.Header().Set("Content-Type", "application/json")
				_, _ = w.Write([]byte(body))
			}))
			defer srv.Close()
			c, err := NewClient(AgentMessage, WithBaseURL(srv.URL), WithAuth(Bearer(bearer)), WithMaxRetries(0))
			require.NoError(t, err)
			_, err = drain(c.Conversations.List(context.Background(), nil), 10)
			var de *DecodeError
			require.ErrorAs(t, err, &de)
			assert.Contains(t, de.Snippet, "REDACTED", "the echo was there and was scrubbed")
			out := strings.Join([]string{err.Error(), fmt.Sprintf("%+v", de), fmt.Sprintf("%#v", de), de.Snippet, de.Message, de.RequestID}, "\n")
			assert.NotContains(t, out, bearer)
		})
	}
}
