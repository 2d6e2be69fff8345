package convo

import (
	"encoding/json"
	"time"
)

// Rentalot (AI leasing agent). Seed: testdata/rentalot_*.json; the OpenAPI
// spec is the most precise source. Where the docs page and the spec differ,
// both are decoded and every field is optional.
//
// Lists answer {"data":[…],"pagination":{"page","limit","total","totalPages"}}
// (messages: page and limit only); pages are 1-based. The last message page
// is the one with fewer items than the limit the server reports, which may
// be below the one requested (plans cap the page size).
var rentalotDesc = providerDesc{
	name:    "rentalot",
	baseURL: "https://rentalot.ai/api/v1",
	conversations: listEndpoint[Conversation]{
		resource:     "conversations",
		path:         conversationsPath,
		style:        pageNumberPaging{key: "page"},
		limitParam:   "limit",
		minLimit:     1,
		maxLimit:     100,
		defaultLimit: 20,
		decode:       rentalotPage(rentalotConversation),
		id:           conversationID,
	},
	conversationFilters: []filterSpec{
		{field: "ContactID", param: "contactId"},
		{field: "Status", param: "status", values: []string{"active", "archived"}},
	},
	getConversation: &objectEndpoint[Conversation]{path: conversationPath, decode: dataObject(rentalotConversation)},
	messages: listEndpoint[Message]{
		resource:     "messages",
		path:         messagesPath,
		style:        pageNumberPaging{key: "page"},
		limitParam:   "limit",
		minLimit:     1,
		maxLimit:     100,
		defaultLimit: 20,
		decode:       rentalotPage(rentalotMessage),
		id:           messageID,
	},
	search: &searchSpec{
		queryParam:     "query",
		maxQueryLength: 500,
		endpoint: listEndpoint[SearchResult]{
			resource:     "search",
			path:         func(string) string { return "/conversations/search" },
			style:        singlePage{},
			limitParam:   "limit",
			minLimit:     1,
			maxLimit:     50,
			defaultLimit: 10,
			decode:       rentalotSearchPage,
			id:           searchResultID,
		},
	},
	// Most recent message first by lastMessageAt (null: updatedAt tells the
	// activity but not the place); messageCount and updatedAt move with it.
	change: changeSpec{
		byActivity: true,
		activity: func(c *Conversation) (time.Time, bool) {
			if c.LastMessageAt.IsZero() {
				return c.UpdatedAt, false
			}
			return c.LastMessageAt, true
		},
		signals:     func(c *Conversation) []int64 { return []int64{int64(c.MessageCount), unixNano(c.UpdatedAt)} },
		newestFirst: true,
	},
}

func rentalotPage[W, T any](conv func(*W, string, *T)) func([]byte, string) (rawPage[T], error) {
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
		if err := decodeJSON(body, &env); err != nil {
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

func rentalotSearchPage(body []byte, _ string) (rawPage[SearchResult], error) {
	var env struct {
		Data  []rentalotWireSearchResult `json:"data"`
		Total *float64                   `json:"total"`
	}
	if err := decodeJSON(body, &env); err != nil {
		return rawPage[SearchResult]{}, err
	}
	if env.Data == nil {
		return rawPage[SearchResult]{}, errNoItems("data")
	}
	return rawPage[SearchResult]{items: mapItems(env.Data, "", rentalotSearchResult), total: intPtr(env.Total)}, nil
}

type rentalotWireConversation struct {
	ID            string   `json:"id"`
	ContactID     string   `json:"contactId"`
	PropertyID    string   `json:"propertyId"`
	Channel       string   `json:"channel"`
	Status        string   `json:"status"`
	StartedAt     wireTime `json:"startedAt"`
	LastMessageAt wireTime `json:"lastMessageAt"`
	MessageCount  int      `json:"messageCount"`
	CreatedAt     wireTime `json:"createdAt"`
	UpdatedAt     wireTime `json:"updatedAt"`
}

func rentalotConversation(w *rentalotWireConversation, _ string, c *Conversation) {
	*c = Conversation{
		ID:            w.ID,
		ContactID:     w.ContactID,
		Channel:       w.Channel,
		Status:        w.Status,
		LastMessageAt: w.LastMessageAt.time(),
		CreatedAt:     w.CreatedAt.time(),
		StartedAt:     w.StartedAt.time(),
		PropertyID:    w.PropertyID,
		MessageCount:  w.MessageCount,
		UpdatedAt:     w.UpdatedAt.time(),
	}
}

type rentalotWireMessage struct {
	ID             string          `json:"id"`
	ConversationID string          `json:"conversationId"`
	Direction      Direction       `json:"direction"`
	Content        nullString      `json:"content"`
	Channel        string          `json:"channel"`
	Metadata       json.RawMessage `json:"metadata"`
	SentAt         wireTime        `json:"sentAt"`
	CreatedAt      wireTime        `json:"createdAt"`
}

func rentalotMessage(w *rentalotWireMessage, scope string, m *Message) {
	sent := w.SentAt.time()
	if sent.IsZero() {
		sent = w.CreatedAt.time()
	}
	*m = Message{
		ID:             w.ID,
		ConversationID: firstNonEmpty(w.ConversationID, scope),
		Direction:      w.Direction,
		Body:           string(w.Content),
		SentAt:         sent,
		Channel:        w.Channel,
		Content:        string(w.Content),
		CreatedAt:      w.CreatedAt.time(),
	}
	if len(w.Metadata) > 0 && string(w.Metadata) != "null" {
		m.Metadata = w.Metadata
	}
}

type rentalotWireSearchResult struct {
	MessageID      string     `json:"messageId"`
	Content        nullString `json:"content"`
	Direction      Direction  `json:"direction"`
	Channel        string     `json:"channel"`
	SentAt         wireTime   `json:"sentAt"`
	ConversationID string     `json:"conversationId"`
	ContactName    nullString `json:"contactName"`
}

func rentalotSearchResult(w *rentalotWireSearchResult, _ string, r *SearchResult) {
	*r = SearchResult{
		MessageID:      w.MessageID,
		ConversationID: w.ConversationID,
		Content:        string(w.Content),
		Direction:      w.Direction,
		Channel:        w.Channel,
		SentAt:         w.SentAt.time(),
		ContactName:    string(w.ContactName),
	}
}
