package convo_test

// The eight list cases (four providers × conversations and messages) against
// a hand-written net/http + encoding/json loop over the same loopback server
// and the same transport, and 16 goroutines sharing one client against 16
// hand-written loops. scripts/bench.sh runs them and prints the ratios.

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/convokit/convo"
	"github.com/convokit/convo/convotest"
)

const (
	caseConversation = "conv_bench"
	casePages        = 200
	casePageSize     = 100
	caseItems        = casePages * casePageSize
)

// A listCase is one list of one provider: its pages as the server sends
// them, the hand-written loop that reads them, and the SDK call.
type listCase struct {
	name     string // "vobiz/conversations"
	provider convo.Provider
	resource string // "conversations" or "messages"
	items    int
	pages    map[string][]byte // by pageKey
	hand     func(ctx context.Context, hc *http.Client, base string) (int, error)
}

// sdk iterates the case's list with the SDK and returns the number of items.
func (lc *listCase) sdk(ctx context.Context, c *convo.Client) (int, error) {
	n := 0
	if lc.resource == "conversations" {
		for _, err := range c.Conversations.List(ctx, &convo.ConversationListParams{PageSize: casePageSize}).All() {
			if err != nil {
				return n, err
			}
			n++
		}
		return n, nil
	}
	for _, err := range c.Messages.List(ctx, caseConversation, &convo.MessageListParams{PageSize: casePageSize}).All() {
		if err != nil {
			return n, err
		}
		n++
	}
	return n, nil
}

// auth is how each provider's credentials are sent, by the SDK and by hand.
func caseAuth(p convo.Provider) (convo.Authenticator, func(*http.Request)) {
	if p == convo.Vobiz {
		return convo.XAuth("MA_BENCH", "vobiz-token"), func(r *http.Request) {
			r.Header.Set("X-Auth-ID", "MA_BENCH")
			r.Header.Set("X-Auth-Token", "vobiz-token")
		}
	}
	return convo.Bearer("bench-token"), func(r *http.Request) { r.Header.Set("Authorization", "Bearer bench-token") }
}

// handGet is the request step every hand-written loop shares: GET, the
// credentials, a status check, the body read whole (the faster of the two
// common idioms, and the one that lets the connection be reused), then
// json.Unmarshal.
func handGet(ctx context.Context, hc *http.Client, u string, auth func(*http.Request), v any) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return err
	}
	auth(req)
	req.Header.Set("Accept", "application/json")
	resp, err := hc.Do(req)
	if err != nil {
		return err
	}
	body, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	if err != nil {
		return err
	}
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("GET %s: %s", u, resp.Status)
	}
	return json.Unmarshal(body, v)
}

// The hand-written wire types: what a careful engineer decodes each
// provider's items into, typed, with time.Time timestamps and pointers for
// nullable values.

type handVobizConversation struct {
	ID         string    `json:"id"`
	AccountID  string    `json:"account_id"`
	ChannelID  string    `json:"channel_id"`
	ContactID  string    `json:"contact_id"`
	Category   string    `json:"category"`
	IsBillable bool      `json:"is_billable"`
	StartedAt  time.Time `json:"started_at"`
	ExpiresAt  time.Time `json:"expires_at"`
	Status     string    `json:"status"`
}

type handVobizMessage struct {
	ID             string    `json:"id"`
	AccountID      string    `json:"account_id"`
	ChannelID      string    `json:"channel_id"`
	ContactID      string    `json:"contact_id"`
	ConversationID string    `json:"conversation_id"`
	Direction      string    `json:"direction"`
	Type           string    `json:"type"`
	Status         string    `json:"status"`
	Content        string    `json:"content"`
	MetaMessageID  string    `json:"meta_message_id"`
	CreatedAt      time.Time `json:"created_at"`
}

type handVobizPage[T any] struct {
	Items      []T    `json:"items"`
	HasMore    bool   `json:"has_more"`
	NextCursor string `json:"next_cursor"`
}

type handVantaxConversation struct {
	ID            string            `json:"id"`
	SubAccountID  string            `json:"sub_account_id"`
	Channel       string            `json:"channel"`
	ContactID     string            `json:"contact_id"`
	Status        string            `json:"status"`
	Tags          []string          `json:"tags"`
	Metadata      map[string]string `json:"metadata"`
	UnreadCount   int               `json:"unread_count"`
	LastMessageAt *time.Time        `json:"last_message_at"`
	CreatedAt     time.Time         `json:"created_at"`
}

type handVantaxMessage struct {
	ID             string    `json:"id"`
	ConversationID string    `json:"conversation_id"`
	Channel        string    `json:"channel"`
	Direction      string    `json:"direction"`
	Content        string    `json:"content"`
	Subject        *string   `json:"subject"`
	SenderType     string    `json:"sender_type"`
	MediaURL       []string  `json:"media_url"`
	Status         string    `json:"status"`
	CreatedAt      time.Time `json:"created_at"`
}

type handVantaxPage[T any] struct {
	Success    bool `json:"success"`
	Data       []T  `json:"data"`
	Pagination struct {
		Total   int  `json:"total"`
		Limit   int  `json:"limit"`
		HasMore bool `json:"has_more"`
	} `json:"pagination"`
}

type handRentalotConversation struct {
	ID            string     `json:"id"`
	ContactID     string     `json:"contactId"`
	PropertyID    string     `json:"propertyId"`
	Channel       string     `json:"channel"`
	Status        string     `json:"status"`
	StartedAt     time.Time  `json:"startedAt"`
	LastMessageAt *time.Time `json:"lastMessageAt"`
	MessageCount  int        `json:"messageCount"`
	CreatedAt     time.Time  `json:"createdAt"`
	UpdatedAt     time.Time  `json:"updatedAt"`
}

type handRentalotMessage struct {
	ID             string          `json:"id"`
	ConversationID string          `json:"conversationId"`
	Direction      string          `json:"direction"`
	Content        string          `json:"content"`
	Channel        string          `json:"channel"`
	Metadata       json.RawMessage `json:"metadata"`
	SentAt         *time.Time      `json:"sentAt"`
	CreatedAt      time.Time       `json:"createdAt"`
}

type handRentalotPage[T any] struct {
	Data       []T `json:"data"`
	Pagination struct {
		Page  int `json:"page"`
		Limit int `json:"limit"`
	} `json:"pagination"`
}

type handAgentConversation struct {
	ID                        string     `json:"id"`
	PhoneNumberID             string     `json:"phone_number_id"`
	PhoneNumber               string     `json:"phone_number"`
	ContactNumber             string     `json:"contact_number"`
	LastMessageAt             time.Time  `json:"last_message_at"`
	LastMessageDirection      string     `json:"last_message_direction"`
	LastMessagePreview        *string    `json:"last_message_preview"`
	LastMessageBodyRedactedAt *time.Time `json:"last_message_body_redacted_at"`
	MessageCount              int        `json:"message_count"`
	Consent                   *struct {
		OptedIn   bool       `json:"opted_in"`
		OptedInAt *time.Time `json:"opted_in_at"`
	} `json:"consent"`
}

// handMessage is what a careful hand-written client would decode a message
// into: typed, with time.Time timestamps and a nullable body.
type handMessage struct {
	ID            string     `json:"id"`
	Direction     string     `json:"direction"`
	PhoneNumberID string     `json:"phone_number_id"`
	FromNumber    string     `json:"from_number"`
	ToNumber      string     `json:"to_number"`
	Body          *string    `json:"body"`
	MediaURLs     []string   `json:"media_urls"`
	Channel       string     `json:"channel"`
	SegmentCount  int        `json:"segment_count"`
	CreatedAt     time.Time  `json:"created_at"`
	RedactedAt    *time.Time `json:"redacted_at"`
}

type handAgentPage[T any] struct {
	Success bool `json:"success"`
	Data    []T  `json:"data"`
	Meta    struct {
		Total      int     `json:"total"`
		Limit      int     `json:"limit"`
		Offset     int     `json:"offset"`
		NextCursor *string `json:"next_cursor"`
	} `json:"meta"`
}

func listPath(resource string) string {
	if resource == "conversations" {
		return "/conversations"
	}
	return "/conversations/" + caseConversation + "/messages"
}

// handLoop is the hand-written loop every case shares: GET a page of the
// list with query and the page parameter (start for the first page),
// decode it into P, count its items (count handles each, as the caller's
// code would), and go on with the page parameter next reads from the
// page, until it reads none.
func handLoop[P any](p convo.Provider, resource, query, start string, count func(*P) int, next func(*P) string) func(context.Context, *http.Client, string) (int, error) {
	return func(ctx context.Context, hc *http.Client, base string) (int, error) {
		_, auth := caseAuth(p)
		list := base + listPath(resource)
		n := 0
		for param := start; ; {
			u := list
			if q := strings.Trim(query+"&"+param, "&"); q != "" {
				u += "?" + q
			}
			var page P
			if err := handGet(ctx, hc, u, auth, &page); err != nil {
				return n, err
			}
			n += count(&page)
			if param = next(&page); param == "" {
				return n, nil
			}
		}
	}
}

// handLimit is the query of a list that takes a page size.
var handLimit = "limit=" + strconv.Itoa(casePageSize)

// handVobiz follows Vobiz's cursor; text reads each item as the caller
// would. Its conversation list takes no page size.
func handVobiz[T any](resource string, text func(*T) string) func(context.Context, *http.Client, string) (int, error) {
	query := handLimit
	if resource == "conversations" {
		query = ""
	}
	return handLoop(convo.Vobiz, resource, query, "",
		func(p *handVobizPage[T]) int {
			for i := range p.Items {
				_ = text(&p.Items[i])
			}
			return len(p.Items)
		},
		func(p *handVobizPage[T]) string {
			if !p.HasMore || p.NextCursor == "" {
				return ""
			}
			return "cursor=" + url.QueryEscape(p.NextCursor)
		})
}

// vobizText is what a hand-written client does with a message's content:
// decode the JSON-encoded object for its body.
func vobizText(m *handVobizMessage) string {
	var c struct {
		Body string `json:"body"`
	}
	if json.Unmarshal([]byte(m.Content), &c) != nil {
		return m.Content
	}
	return c.Body
}

// handVantax asks for the items after the last one it read.
func handVantax[T any](resource string, id func(*T) string) func(context.Context, *http.Client, string) (int, error) {
	return handLoop(convo.VantaxAI, resource, handLimit, "",
		func(p *handVantaxPage[T]) int { return len(p.Data) },
		func(p *handVantaxPage[T]) string {
			if !p.Pagination.HasMore || len(p.Data) == 0 {
				return ""
			}
			return "starting_after=" + url.QueryEscape(id(&p.Data[len(p.Data)-1]))
		})
}

// handRentalot asks for the pages by number until one is short.
func handRentalot[T any](resource string) func(context.Context, *http.Client, string) (int, error) {
	return handLoop(convo.Rentalot, resource, handLimit, "page=1",
		func(p *handRentalotPage[T]) int { return len(p.Data) },
		func(p *handRentalotPage[T]) string {
			if len(p.Data) < p.Pagination.Limit || len(p.Data) == 0 {
				return ""
			}
			return "page=" + strconv.Itoa(p.Pagination.Page+1)
		})
}

// handAgent follows AgentMessage's cursor; visit, when not nil, sees every
// item (TestSDKMatchesHandWrittenLoop compares them with the SDK's).
func handAgent[T any](resource string, visit func(*T)) func(context.Context, *http.Client, string) (int, error) {
	return handLoop(convo.AgentMessage, resource, handLimit, "",
		func(p *handAgentPage[T]) int {
			for i := range p.Data {
				if visit != nil {
					visit(&p.Data[i])
				}
			}
			return len(p.Data)
		},
		func(p *handAgentPage[T]) string {
			if p.Meta.NextCursor == nil || *p.Meta.NextCursor == "" {
				return ""
			}
			return "cursor=" + url.QueryEscape(*p.Meta.NextCursor)
		})
}

// The cases' data: every field of the models, realistic values, some
// nulls. A fake of each provider (convotest) renders it in the provider's
// wire form.

var caseTexts = []string{
	"Hi! Is the apartment on 5th street still available?",
	"Yes, it is. Would you like to schedule a viewing this week?",
	"Thursday after 6pm works for me.\nCan I bring my dog?",
	"Pets are welcome — there is a $250 deposit. See you Thursday at 6:30 \"sharp\".",
	"Thanks 🙏",
	"Could you send the floor plan and the list of utilities included in the rent? I'd also like to know whether parking is available on site.",
}

func caseTime(n int) time.Time {
	return time.Date(2026, 4, 10, 3, 11, 42, 0, time.UTC).Add(time.Duration(n) * 37 * time.Second)
}

func caseConversationN(p convo.Provider, n int) convo.Conversation {
	text := caseTexts[n%len(caseTexts)]
	c := convo.Conversation{
		ID: fmt.Sprintf("conv_%08d", n), ContactID: fmt.Sprintf("ct_%06d", n), Channel: caseValue(p, "Channel", "whatsapp"),
		Status: caseValue(p, "Status", []string{"open", "closed"}[n%2]), LastMessageAt: caseTime(n), CreatedAt: caseTime(n - 1000),
		AccountID: "MA_XXXXXXXX", ChannelID: "2f8892e1-59b7-40a2-b518-e7a7c31a754d", Category: "service",
		IsBillable: n%2 == 0, StartedAt: caseTime(n - 1000), ExpiresAt: caseTime(n + 2335),
		SubAccountID: "sa_123", Tags: []string{"lead", "priority"}, Metadata: map[string]string{"source": "web", "campaign": "spring"},
		UnreadCount: n % 4, PropertyID: "prop_42", MessageCount: n % 50, UpdatedAt: caseTime(n),
		PhoneNumberID: "pn_7Hq2KxVbN3", PhoneNumber: "+14155550100", ContactNumber: fmt.Sprintf("+1415555%04d", n%10000),
		LastMessageDirection: []convo.Direction{convo.Inbound, convo.Outbound}[n%2], LastMessagePreview: text[:min(len(text), 40)],
		Consent: &convo.Consent{OptedIn: true, OptedInAt: caseTime(n - 5000)},
	}
	if n%10 == 3 {
		c.LastMessageAt = time.Time{}
	}
	if n%20 == 7 {
		c.LastMessagePreview, c.LastMessageBodyRedactedAt, c.Consent = "[redacted]", caseTime(n+90000), nil
	}
	return c
}

func caseMessageN(p convo.Provider, n int) convo.Message {
	m := convo.Message{
		ID: fmt.Sprintf("mess_%08d", n), ConversationID: caseConversation, Direction: []convo.Direction{convo.Inbound, convo.Outbound}[n%2],
		Body: caseTexts[n%len(caseTexts)], SentAt: caseTime(n), Channel: caseValue(p, "Channel", "sms"), Status: "delivered", CreatedAt: caseTime(n),
		AccountID: "MA_XXXXXXXX", ChannelID: "2f8892e1-59b7-40a2-b518-e7a7c31a754d", ContactID: "9b8a7c6d-5e4f-4a3b-2c1d-0e9f8a7b6c5d",
		Type: "text", MetaMessageID: "wamid.HBgL" + strconv.Itoa(n), SenderType: []string{"contact", "ai"}[n%2],
		PhoneNumberID: "pn_7Hq2KxVbN3", FromNumber: "+14155550199", ToNumber: "+14155550100", SegmentCount: 1 + n%3,
	}
	if n%10 == 3 {
		m.MediaURLs = []string{"https://cdn.example.com/m/" + strconv.Itoa(n) + ".jpg"}
		m.Metadata = json.RawMessage(`{"intent":"viewing"}`)
	}
	if n%20 == 7 {
		m.Body, m.RedactedAt = "", caseTime(n+90000)
	}
	return m
}

// caseValue is the first value p documents for the filter on field, or def
// when p documents none: a status or channel the provider sends.
func caseValue(p convo.Provider, field, def string) string {
	for _, f := range p.Filters() {
		if f.Field == field && len(f.Values) > 0 {
			return f.Values[0]
		}
	}
	return def
}

// caseData is a case's list: items conversations, or items messages of
// one conversation.
func caseData(p convo.Provider, resource string, items int) *convotest.Dataset {
	d := convotest.NewDataset()
	if resource == "conversations" {
		for n := range items {
			d.AddConversation(caseConversationN(p, n))
		}
		return d
	}
	msgs := make([]convo.Message, items)
	for n := range msgs {
		msgs[n] = caseMessageN(p, n)
	}
	return d.AddConversation(convo.Conversation{ID: caseConversation, Channel: "whatsapp", Status: "open"}, msgs...)
}

// newListCase returns the case of p's resource list holding items items.
func newListCase(p convo.Provider, resource string, items int) *listCase {
	lc := &listCase{name: p.Name() + "/" + resource, provider: p, resource: resource, items: items}
	switch lc.name {
	case "vobiz/conversations":
		lc.hand = handVobiz(resource, func(c *handVobizConversation) string { return c.ID })
	case "vobiz/messages":
		lc.hand = handVobiz(resource, vobizText)
	case "vantaxai/conversations":
		lc.hand = handVantax(resource, func(c *handVantaxConversation) string { return c.ID })
	case "vantaxai/messages":
		lc.hand = handVantax(resource, func(m *handVantaxMessage) string { return m.ID })
	case "rentalot/conversations":
		lc.hand = handRentalot[handRentalotConversation](resource)
	case "rentalot/messages":
		lc.hand = handRentalot[handRentalotMessage](resource)
	case "agentmessage/conversations":
		lc.hand = handAgent[handAgentConversation](resource, nil)
	case "agentmessage/messages":
		lc.hand = handAgent[handMessage](resource, nil)
	}
	lc.record()
	return lc
}

// record walks the case's list on a fake of its provider that holds the
// case's data, with the hand-written loop and with the SDK, through a
// server in front of the fake that keeps every page the fake sends, by
// pageKey. The benchmarks serve these bytes: the server's cost, counted on
// both sides, stays a map lookup.
func (lc *listCase) record() {
	ctx := context.Background()
	fake := convotest.NewServer(lc.provider, convotest.WithData(caseData(lc.provider, lc.resource, lc.items)), convotest.WithPageSize(casePageSize))
	defer fake.Close()
	upstream, err := url.Parse(fake.URL())
	if err != nil {
		panic(err)
	}
	demo := demoHeader(fake)
	lc.pages = map[string][]byte{}
	var mu sync.Mutex
	front := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		out := r.Clone(ctx)
		out.RequestURI, out.Header = "", demo.Clone() // the fake accepts only its demo credentials
		out.URL.Scheme, out.URL.Host = upstream.Scheme, upstream.Host
		resp, err := http.DefaultTransport.RoundTrip(out)
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadGateway)
			return
		}
		defer resp.Body.Close()
		body, err := io.ReadAll(resp.Body)
		if err != nil || resp.StatusCode != http.StatusOK {
			http.Error(w, fmt.Sprintf("%s: %v %s", resp.Status, err, body), http.StatusBadGateway)
			return
		}
		mu.Lock()
		lc.pages[pageKey(r.URL.RawQuery)] = body
		mu.Unlock()
		w.Header().Set("Content-Type", "application/json")
		w.Write(body)
	}))
	defer front.Close()
	base := *upstream
	base.Host = front.Listener.Addr().String()
	hc := &http.Client{Transport: &http.Transport{}}
	defer hc.CloseIdleConnections()
	n, err := lc.hand(ctx, hc, base.String())
	if err == nil && n == lc.items {
		var c *convo.Client
		if c, err = fake.Client(convo.WithBaseURL(base.String()), convo.WithHTTPClient(hc)); err == nil {
			n, err = lc.sdk(ctx, c)
		}
	}
	if err != nil || n != lc.items {
		panic(fmt.Sprintf("recording %s: %d items, want %d: %v", lc.name, n, lc.items, err))
	}
}

// demoHeader returns the header of a request that carries the demo
// credentials of fake.
func demoHeader(fake *convotest.Server) http.Header {
	var h http.Header
	capture := transportFunc(func(r *http.Request) (*http.Response, error) {
		h = r.Header.Clone()
		return nil, errEnough
	})
	c, err := fake.Client(convo.WithHTTPClient(&http.Client{Transport: capture}), convo.WithMaxRetries(0))
	if err != nil {
		panic(err)
	}
	for range c.Messages.List(context.Background(), caseConversation, nil).All() {
		break
	}
	return h
}

type transportFunc func(*http.Request) (*http.Response, error)

func (f transportFunc) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }

// pageKey names the page a request asks for by its paging parameter ("" for
// the first page), without url.ParseQuery, to keep the server's cost
// (counted on both sides) small.
func pageKey(rawQuery string) string {
	for _, kv := range strings.Split(rawQuery, "&") {
		if k, _, _ := strings.Cut(kv, "="); k == "cursor" || k == "page" || k == "starting_after" {
			return kv
		}
	}
	return ""
}

// serve answers the page r asks for.
func (lc *listCase) serve(w http.ResponseWriter, r *http.Request) {
	page, ok := lc.pages[pageKey(r.URL.RawQuery)]
	if !ok {
		http.Error(w, `{"error":"no such page"}`, http.StatusNotFound)
		return
	}
	h := w.Header()
	h["Content-Type"] = []string{"application/json"}
	h["Content-Length"] = []string{strconv.Itoa(len(page))}
	w.Write(page)
}

// caseEnv is the loopback server of every case and the transport both
// sides share, with a count of the connections the server accepted.
type caseEnv struct {
	srv       *httptest.Server
	transport *http.Transport
	cases     []*listCase
	newConns  atomic.Int64
}

var (
	caseOnce sync.Once
	caseFix  *caseEnv
)

func caseFixture() *caseEnv {
	caseOnce.Do(func() {
		env := &caseEnv{transport: &http.Transport{MaxIdleConnsPerHost: 64, IdleConnTimeout: time.Minute}}
		routes := map[string]*listCase{}
		for _, p := range convo.Providers() {
			for _, resource := range []string{"conversations", "messages"} {
				lc := newListCase(p, resource, caseItems)
				env.cases = append(env.cases, lc)
				routes["/"+p.Name()+listPath(resource)] = lc
			}
		}
		env.srv = httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			lc := routes[r.URL.Path]
			if lc == nil {
				http.Error(w, `{"error":"no such list"}`, http.StatusNotFound)
				return
			}
			lc.serve(w, r)
		}))
		env.srv.Config.ConnState = func(_ net.Conn, s http.ConnState) {
			if s == http.StateNew {
				env.newConns.Add(1)
			}
		}
		env.srv.Start()
		caseFix = env
	})
	return caseFix
}

func (env *caseEnv) base(p convo.Provider) string { return env.srv.URL + "/" + p.Name() }

func (env *caseEnv) client(tb testing.TB, p convo.Provider, opts ...convo.Option) *convo.Client {
	auth, _ := caseAuth(p)
	c, err := convo.NewClient(p, append([]convo.Option{convo.WithBaseURL(env.base(p)), convo.WithAuth(auth)}, opts...)...)
	if err != nil {
		tb.Fatal(err)
	}
	return c
}

func checkItems(b *testing.B, name string, n int, err error) {
	if err != nil {
		b.Fatalf("%s: %v", name, err)
	}
	if n != caseItems {
		b.Fatalf("%s: %d items, want %d", name, n, caseItems)
	}
}

// BenchmarkHandWrittenList iterates each case's 20,000 items with the
// hand-written loop.
func BenchmarkHandWrittenList(b *testing.B) {
	env := caseFixture()
	hc := &http.Client{Transport: env.transport, Timeout: convo.DefaultTimeout}
	for _, lc := range env.cases {
		b.Run(lc.name, func(b *testing.B) {
			b.ReportAllocs()
			for range b.N {
				n, err := lc.hand(context.Background(), hc, env.base(lc.provider))
				checkItems(b, lc.name, n, err)
			}
		})
	}
}

// BenchmarkSDKList iterates each case's 20,000 items with All(), default
// options but the shared transport.
func BenchmarkSDKList(b *testing.B) {
	env := caseFixture()
	for _, lc := range env.cases {
		b.Run(lc.name, func(b *testing.B) {
			c := env.client(b, lc.provider, convo.WithHTTPClient(&http.Client{Transport: env.transport}))
			b.ReportAllocs()
			for range b.N {
				n, err := lc.sdk(context.Background(), c)
				checkItems(b, lc.name, n, err)
			}
		})
	}
}

// measure runs f once after a collection and returns its wall time and the
// number of heap allocations it made (the server's, the same for both
// rivals, included).
func measure(f func()) (time.Duration, uint64) {
	runtime.GC()
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	start := time.Now()
	f()
	d := time.Since(start)
	runtime.ReadMemStats(&after)
	return d, after.Mallocs - before.Mallocs
}

// BenchmarkVsHandWritten runs, for each case, the hand-written loop and the
// SDK one after the other in every iteration (order alternating), on the
// same server and transport, and reports the fastest time of each
// ("hand-ms", "sdk-ms"), their ratio ("sdk/hand", the target is at most
// 0.6) and the allocations per item of each ("hand-allocs/item",
// "sdk-allocs/item"; the SDK's may be no more). Run it with -benchtime 8x
// or so.
func BenchmarkVsHandWritten(b *testing.B) {
	env := caseFixture()
	hc := &http.Client{Transport: env.transport, Timeout: convo.DefaultTimeout}
	for _, lc := range env.cases {
		b.Run(lc.name, func(b *testing.B) {
			c := env.client(b, lc.provider, convo.WithHTTPClient(&http.Client{Transport: env.transport}))
			ctx := context.Background()
			var best [2]time.Duration
			var allocs [2]uint64
			rivals := [2]func(){
				func() { n, err := lc.hand(ctx, hc, env.base(lc.provider)); checkItems(b, "hand "+lc.name, n, err) },
				func() { n, err := lc.sdk(ctx, c); checkItems(b, "sdk "+lc.name, n, err) },
			}
			for i := range b.N {
				for k := range 2 {
					j := (i + k) % 2
					d, a := measure(rivals[j])
					if best[j] == 0 || d < best[j] {
						best[j] = d
					}
					allocs[j] += a
				}
			}
			b.ReportMetric(float64(best[0].Microseconds())/1000, "hand-ms")
			b.ReportMetric(float64(best[1].Microseconds())/1000, "sdk-ms")
			b.ReportMetric(float64(best[1])/float64(best[0]), "sdk/hand")
			b.ReportMetric(float64(allocs[0])/float64(b.N*caseItems), "hand-allocs/item")
			b.ReportMetric(float64(allocs[1])/float64(b.N*caseItems), "sdk-allocs/item")
		})
	}
}

// Concurrency: concurrentWorkers goroutines each list concurrentPages pages
// of one case's messages.
const (
	concurrentWorkers = 16
	concurrentPages   = 20
)

// BenchmarkConcurrentVsHandWritten runs, for each provider, 16 goroutines
// that share one client made with default options (no WithHTTPClient)
// against 16 hand-written loops sharing one http.Client on a clone of
// http.DefaultTransport (what a hand-written program uses), alternating, and
// reports the throughput ratio of the fastest runs ("sdk/hand-throughput",
// the target is at least 1.5) and the new connections the server accepted
// per run on each side ("hand-conns", "sdk-conns"; 320 requests a run).
func BenchmarkConcurrentVsHandWritten(b *testing.B) {
	env := caseFixture()
	for _, p := range convo.Providers() {
		b.Run(p.Name(), func(b *testing.B) {
			var lc *listCase
			for _, c := range env.cases {
				if c.provider == p && c.resource == "messages" {
					lc = c
				}
			}
			hand := &http.Client{Transport: http.DefaultTransport.(*http.Transport).Clone(), Timeout: convo.DefaultTimeout}
			defer hand.CloseIdleConnections()
			sdk := env.client(b, p)
			ctx := context.Background()
			limit := concurrentPages * casePageSize
			rivals := [2]func(){
				func() { runWorkers(b, func() error { return handPrefix(ctx, hand, env.base(p), lc, limit) }) },
				func() { runWorkers(b, func() error { return sdkPrefix(ctx, sdk, lc, limit) }) },
			}
			var best [2]time.Duration
			var conns [2]int64
			for i := range b.N {
				for k := range 2 {
					j := (i + k) % 2
					before := env.newConns.Load()
					d, _ := measure(rivals[j])
					conns[j] += env.newConns.Load() - before
					if best[j] == 0 || d < best[j] {
						best[j] = d
					}
				}
			}
			b.ReportMetric(float64(best[0])/float64(best[1]), "sdk/hand-throughput")
			b.ReportMetric(float64(best[0].Microseconds())/1000, "hand-ms")
			b.ReportMetric(float64(best[1].Microseconds())/1000, "sdk-ms")
			b.ReportMetric(float64(conns[0])/float64(b.N), "hand-conns")
			b.ReportMetric(float64(conns[1])/float64(b.N), "sdk-conns")
		})
	}
}

func runWorkers(b *testing.B, work func() error) {
	var wg sync.WaitGroup
	errs := make(chan error, concurrentWorkers)
	for range concurrentWorkers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := work(); err != nil {
				errs <- err
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		b.Fatal(err)
	}
}

// errEnough stops a hand-written loop after its share of items.
var errEnough = fmt.Errorf("enough")

// handPrefix runs the case's hand-written loop until it has seen limit
// items (the loop returns after the page that reaches it).
func handPrefix(ctx context.Context, hc *http.Client, base string, lc *listCase, limit int) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	counting := &http.Client{Transport: &stopAfter{base: hc.Transport, pages: limit / casePageSize}, Timeout: hc.Timeout}
	_, err := lc.hand(ctx, counting, base)
	if err == nil || strings.Contains(err.Error(), errEnough.Error()) {
		return nil
	}
	return err
}

// stopAfter lets pages requests through, then fails the next one: it ends
// a hand-written loop after a prefix of the list without changing the loop.
type stopAfter struct {
	base  http.RoundTripper
	pages int
	n     int
}

func (s *stopAfter) RoundTrip(r *http.Request) (*http.Response, error) {
	if s.n >= s.pages {
		return nil, errEnough
	}
	s.n++
	return s.base.RoundTrip(r)
}

func sdkPrefix(ctx context.Context, c *convo.Client, lc *listCase, limit int) error {
	n := 0
	for _, err := range c.Messages.List(ctx, caseConversation, &convo.MessageListParams{PageSize: casePageSize}).All() {
		if err != nil {
			return err
		}
		if n++; n == limit {
			return nil
		}
	}
	return fmt.Errorf("%d items, want %d", n, limit)
}
