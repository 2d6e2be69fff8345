package convo

import (
	"encoding/json"
	"errors"
	"time"
)

// VantaxAI. Seed: testdata/vantaxai_*.json.
//
// Lists answer {"success":true,"data":[…],"pagination":{"total","limit","has_more"}};
// the next page is starting_after=<id of the last item> while has_more.
// GET /conversations/{id} answers {"success":true,"data":{…}}.
var vantaxDesc = providerDesc{
	name:    "vantaxai",
	baseURL: "https://api.vantaxai.com/v1",
	conversations: listEndpoint[Conversation]{
		resource:     "conversations",
		path:         conversationsPath,
		style:        startingAfterPaging{key: "starting_after"},
		limitParam:   "limit",
		minLimit:     1,
		maxLimit:     100,
		defaultLimit: 20,
		decode:       vantaxPage(vantaxConversation),
		id:           conversationID,
	},
	// sub_account_id is marked required on the list page while the
	// authentication pages take the tenant from the key: it is optional
	// here and sent when set.
	conversationFilters: []filterSpec{
		{field: "SubAccountID", param: "sub_account_id"},
		{field: "Channel", param: "channel", values: []string{"sms", "whatsapp", "facebook", "instagram", "email"}},
		{field: "Status", param: "status", values: []string{"open", "pending", "closed"}},
	},
	getConversation: &objectEndpoint[Conversation]{path: conversationPath, decode: dataObject(vantaxConversation)},
	messages: listEndpoint[Message]{
		resource:     "messages",
		path:         messagesPath,
		style:        startingAfterPaging{key: "starting_after"},
		limitParam:   "limit",
		minLimit:     1,
		maxLimit:     100,
		defaultLimit: 50,
		decode:       vantaxPage(vantaxMessage),
		id:           messageID,
	},
	// Newest activity first by last_message_at; unread_count moves with it.
	change: changeSpec{
		byActivity: true,
		activity:   func(c *Conversation) (time.Time, bool) { return c.LastMessageAt, !c.LastMessageAt.IsZero() },
		signals:    func(c *Conversation) []int64 { return []int64{int64(c.UnreadCount)} },
	},
}

func vantaxPage[W, T any](conv func(*W, string, *T)) func([]byte, string) (rawPage[T], error) {
	return func(body []byte, scope string) (rawPage[T], error) {
		var env struct {
			Success    *bool `json:"success"`
			Data       []W   `json:"data"`
			Pagination struct {
				Total   *int  `json:"total"`
				Limit   int   `json:"limit"`
				HasMore *bool `json:"has_more"`
			} `json:"pagination"`
		}
		if err := decodeJSON(body, &env); err != nil {
			return rawPage[T]{}, err
		}
		if env.Success != nil && !*env.Success {
			return rawPage[T]{}, errors.New(`"success" is false`)
		}
		if env.Data == nil {
			return rawPage[T]{}, errNoItems("data")
		}
		return rawPage[T]{
			items: mapItems(env.Data, scope, conv),
			more:  env.Pagination.HasMore,
			limit: env.Pagination.Limit,
			total: env.Pagination.Total,
		}, nil
	}
}

type vantaxWireConversation struct {
	ID            string                     `json:"id"`
	SubAccountID  string                     `json:"sub_account_id"`
	Channel       string                     `json:"channel"`
	ContactID     string                     `json:"contact_id"`
	Status        string                     `json:"status"`
	Tags          []string                   `json:"tags"`
	Metadata      map[string]json.RawMessage `json:"metadata"`
	UnreadCount   int                        `json:"unread_count"`
	LastMessageAt wireTime                   `json:"last_message_at"`
	CreatedAt     wireTime                   `json:"created_at"`
}

func vantaxConversation(w *vantaxWireConversation, _ string, c *Conversation) {
	*c = Conversation{
		ID:            w.ID,
		ContactID:     w.ContactID,
		Channel:       w.Channel,
		Status:        w.Status,
		LastMessageAt: w.LastMessageAt.time(),
		CreatedAt:     w.CreatedAt.time(),
		SubAccountID:  w.SubAccountID,
		Tags:          w.Tags,
		UnreadCount:   w.UnreadCount,
	}
	if w.Metadata != nil {
		c.Metadata = make(map[string]string, len(w.Metadata))
		for k, v := range w.Metadata {
			c.Metadata[k] = rawText(v) // documented as strings; anything else keeps its JSON text
		}
	}
}

type vantaxWireMessage struct {
	ID             string     `json:"id"`
	ConversationID string     `json:"conversation_id"`
	Channel        string     `json:"channel"`
	Direction      Direction  `json:"direction"`
	Content        nullString `json:"content"`
	Subject        nullString `json:"subject"`
	SenderType     string     `json:"sender_type"`
	MediaURL       []string   `json:"media_url"` // an array, despite the name
	Status         string     `json:"status"`
	CreatedAt      wireTime   `json:"created_at"`
}

func vantaxMessage(w *vantaxWireMessage, scope string, m *Message) {
	*m = Message{
		ID:             w.ID,
		ConversationID: firstNonEmpty(w.ConversationID, scope),
		Direction:      w.Direction,
		Body:           string(w.Content),
		SentAt:         w.CreatedAt.time(),
		Channel:        w.Channel,
		Status:         w.Status,
		Content:        string(w.Content),
		CreatedAt:      w.CreatedAt.time(),
		Subject:        string(w.Subject),
		SenderType:     w.SenderType,
		MediaURLs:      w.MediaURL,
	}
}
