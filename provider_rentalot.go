package convo

import (
	"time"

	"github.com/goccy/go-json"
)

// Rentalot is the Rentalot (AI leasing agent) API at
// https://rentalot.ai/api/v1: bearer API key (ra_…, from
// RENTALOT_API_KEY); page number pagination; message search. Docs:
// Rentalot API (OpenAPI 3.0.3, https://rentalot.ai).
//
//   - [ConversationService.List]: GET /conversations?page=&limit=&contactId=&status=
//     (limit 1–100, "List conversations"), newest activity first.
//   - [ConversationService.Get]: GET /conversations/{id} ("Get a conversation").
//   - [MessageService.List]: GET /conversations/{id}/messages?page=&limit=
//     (limit 1–100, "List conversation messages"), newest first.
//   - [SearchService.Messages]: GET /conversations/search?query=&limit=
//     ("Search conversations"): a case-insensitive substring of 1–500
//     characters; one page of at most Limit results (1–50, default 10).
//
// Errors answer {"error":{"code","message","details":[{"field","message"}]}}.
// Responses report the rate limit in X-RateLimit-* headers
// ([Page].RateLimit), in windows of 60 seconds.
var Rentalot = Provider{&rentalotDesc}

// Rentalot (AI leasing agent). Seed: testdata/rentalot_*.json; the OpenAPI
// spec is the most precise source. Where the docs page and the spec differ,
// both are decoded and every field is optional.
//
// Lists answer {"data":[…],"pagination":{"page","limit","total","totalPages"}}
// (messages: page and limit only); pages are 1-based. The last message page
// is the one with fewer items than the limit the server reports, which may
// be below the one requested (plans cap the page size).
var rentalotDesc = providerDesc{
	name:          "rentalot",
	title:         "Rentalot",
	docs:          "https://rentalot.ai (Rentalot API, OpenAPI 3.0.3)",
	baseURL:       "https://rentalot.ai/api/v1",
	credentials:   bearerEnv("RENTALOT_API_KEY"),
	conversations: conversationList(pageNumberPaging{key: "page"}, limit(100, 20), rentalotPage(decodeJSON, rentalotConversation)),
	conversationFilters: []Filter{
		{Field: "ContactID", Param: "contactId", Flag: "contact-id", NameKey: "contact_id",
			Help: "only this contact's conversations"},
		{Field: "Status", Param: "status", Values: []string{"active", "archived"}, Flag: "status", NameKey: "status",
			Help: "only conversations with this `status`"},
	},
	getConversation: &objectEndpoint[Conversation]{path: conversationPath, decode: dataObject(decodeJSON, rentalotConversation)},
	messages:        messageList(pageNumberPaging{key: "page"}, limit(100, 20), rentalotPage(decodeJSON, rentalotMessage)),
	search: &searchSpec{
		queryParam:     "query",
		maxQueryLength: 500,
		endpoint: listEndpoint[SearchResult]{
			resource:   "search",
			path:       func(string) string { return "/conversations/search" },
			style:      singlePage{},
			pageLimits: limit(50, 10),
			decode:     rentalotSearchPage(decodeJSON),
			id:         searchResultID,
		},
	},
	// Most recent message first by lastMessageAt (null: updatedAt tells the
	// activity but not the place); messageCount moves with it. updatedAt
	// also moves with a change of the record alone (a status archived):
	// that is the record's digest's to see, and needs no message read.
	change: changeSpec{
		byActivity: true,
		activity: func(c *Conversation) (time.Time, bool) {
			if c.LastMessageAt.IsZero() {
				return c.UpdatedAt, false
			}
			return c.LastMessageAt, true
		},
		signals:     func(c *Conversation) []int64 { return []int64{int64(c.MessageCount)} },
		newestFirst: true,
	},
}

func rentalotPage[W, T any](decode decodeFunc, conv func(*W, string, *T)) func([]byte, string) (rawPage[T], error) {
	return func(body []byte, scope string) (rawPage[T], error) {
		var env struct {
			Data       []W `json:"data"`
			Pagination struct {
				Page       float64  `json:"page"`
				Limit      float64  `json:"limit"`
				Total      *float64 `json:"total"`
				TotalPages *float64 `json:"totalPages"`
			} `json:"pagination"`
		}
		if err := decode(body, &env); err != nil {
			return rawPage[T]{}, err
		}
		if env.Data == nil {
			return rawPage[T]{}, errNoItems("data")
		}
		pg := env.Pagination
		return rawPage[T]{
			items:      mapItems(env.Data, scope, conv),
			page:       int(pg.Page),
			limit:      int(pg.Limit),
			total:      intPtr(pg.Total),
			totalPages: intPtr(pg.TotalPages),
		}, nil
	}
}

// intPtr converts a JSON number (the spec types pagination as "number").
func intPtr(f *float64) *int {
	if f == nil {
		return nil
	}
	n := int(*f)
	return &n
}

func rentalotSearchPage(decode decodeFunc) func([]byte, string) (rawPage[SearchResult], error) {
	return func(body []byte, _ string) (rawPage[SearchResult], error) {
		var env struct {
			Data  []rentalotWireSearchResult `json:"data"`
			Total *float64                   `json:"total"`
		}
		if err := decode(body, &env); err != nil {
			return rawPage[SearchResult]{}, err
		}
		if env.Data == nil {
			return rawPage[SearchResult]{}, errNoItems("data")
		}
		return rawPage[SearchResult]{items: mapItems(env.Data, "", rentalotSearchResult), total: intPtr(env.Total)}, nil
	}
}

type rentalotWireConversation struct {
	ID            string `json:"id"`
	ContactID     string `json:"contactId"`
	PropertyID    string `json:"propertyId"`
	Channel       string `json:"channel"`
	Status        string `json:"status"`
	StartedAt     string `json:"startedAt"`
	LastMessageAt string `json:"lastMessageAt"` // nullable
	MessageCount  int    `json:"messageCount"`
	CreatedAt     string `json:"createdAt"`
	UpdatedAt     string `json:"updatedAt"`
}

func rentalotConversation(w *rentalotWireConversation, _ string, c *Conversation) {
	var bad []UnreadableField
	*c = Conversation{
		ID:            own(w.ID),
		ContactID:     own(w.ContactID),
		Channel:       ownOf(w.Channel, rentalotChannels...),
		Status:        ownOf(w.Status, "active", "archived"),
		StartedAt:     readTime(&bad, "startedAt", w.StartedAt),
		LastMessageAt: readTime(&bad, "lastMessageAt", w.LastMessageAt),
		CreatedAt:     readTime(&bad, "createdAt", w.CreatedAt),
		UpdatedAt:     readTime(&bad, "updatedAt", w.UpdatedAt),
		PropertyID:    own(w.PropertyID),
		MessageCount:  w.MessageCount,
	}
	c.Unreadable = bad
}

var rentalotChannels = []string{"whatsapp", "telegram", "sms", "gmail"}

type rentalotWireMessage struct {
	ID             string          `json:"id"`
	ConversationID string          `json:"conversationId"`
	Direction      string          `json:"direction"`
	Content        string          `json:"content"`
	Channel        string          `json:"channel"`
	Metadata       json.RawMessage `json:"metadata"` // nullable
	SentAt         string          `json:"sentAt"`
	CreatedAt      string          `json:"createdAt"`
}

func rentalotMessage(w *rentalotWireMessage, scope string, m *Message) {
	var bad []UnreadableField
	created := readTime(&bad, "createdAt", w.CreatedAt)
	sent := readTime(&bad, "sentAt", w.SentAt)
	if sent.IsZero() {
		sent = created
	}
	content := own(w.Content)
	*m = Message{
		ID:             own(w.ID),
		ConversationID: ownOr(w.ConversationID, scope),
		Direction:      ownDirection(w.Direction),
		Body:           content,
		SentAt:         sent,
		Channel:        ownOf(w.Channel, rentalotChannels...),
		Content:        content,
		CreatedAt:      created,
	}
	if len(w.Metadata) > 0 && string(w.Metadata) != "null" {
		m.Metadata = w.Metadata // json.RawMessage's UnmarshalJSON made it a copy
	}
	m.Unreadable = bad
}

type rentalotWireSearchResult struct {
	MessageID      string `json:"messageId"`
	Content        string `json:"content"`
	Direction      string `json:"direction"`
	Channel        string `json:"channel"`
	SentAt         string `json:"sentAt"` // nullable
	ConversationID string `json:"conversationId"`
	ContactName    string `json:"contactName"` // nullable
}

func rentalotSearchResult(w *rentalotWireSearchResult, _ string, r *SearchResult) {
	var bad []UnreadableField
	*r = SearchResult{
		MessageID:      own(w.MessageID),
		ConversationID: own(w.ConversationID),
		Content:        own(w.Content),
		Direction:      ownDirection(w.Direction),
		Channel:        ownOf(w.Channel, rentalotChannels...),
		SentAt:         readTime(&bad, "sentAt", w.SentAt),
		ContactName:    own(w.ContactName),
	}
	r.Unreadable = bad
}
