package convo

import (
	"bytes"
	"unicode/utf8"

	"github.com/goccy/go-json"
)

// VantaxAI is the VantaxAI Conversations API at https://api.vantaxai.com/v1:
// bearer API key (vx_live_…, from VANTAXAI_API_KEY); starting_after
// pagination. Docs: VantaxAI API reference.
//
//   - [ConversationService.List]: GET
//     /conversations?sub_account_id=&channel=&status=&limit=&starting_after=
//     (limit 1–100, "List Conversations"), newest activity first.
//   - [ConversationService.Get]: GET /conversations/{id} ("Conversations").
//   - [MessageService.List]: GET
//     /conversations/{id}/messages?limit=&starting_after= (limit 1–100,
//     "Conversations"), oldest first.
//   - [SearchService.Messages] is not documented.
//
// Errors answer {"success":false,"message":"…","errors":[…]}; a 402 says
// subscription_required or limit_reached.
var VantaxAI = Provider{&vantaxDesc}

// VantaxAI. Seed: testdata/vantaxai_*.json.
//
// Lists answer {"success":true,"data":[…],"pagination":{"total","limit","has_more"}};
// the next page is starting_after=<id of the last item> while has_more.
// GET /conversations/{id} answers {"success":true,"data":{…}}.
var vantaxDesc = providerDesc{
	name:          "vantaxai",
	title:         "VantaxAI",
	docs:          "VantaxAI API reference",
	baseURL:       "https://api.vantaxai.com/v1",
	credentials:   bearerEnv("VANTAXAI_API_KEY"),
	conversations: conversationList(startingAfterPaging{key: "starting_after"}, limit(100, 20), vantaxPage(decodeJSON, vantaxConversation)),
	// sub_account_id is marked required on the list page while the
	// authentication pages take the tenant from the key: it is optional
	// here and sent when set.
	conversationFilters: []Filter{
		{Field: "SubAccountID", Param: "sub_account_id", Flag: "sub-account-id", NameKey: "sub_account_id",
			Help: "only this sub-account's conversations"},
		{Field: "Channel", Param: "channel", Values: []string{"sms", "whatsapp", "facebook", "instagram", "email"}, Flag: "channel", NameKey: "channel",
			Help: "only this `channel`"},
		{Field: "Status", Param: "status", Values: []string{"open", "pending", "closed"}, Flag: "status", NameKey: "status",
			Help: "only conversations with this `status`"},
	},
	getConversation: &objectEndpoint[Conversation]{path: conversationPath, decode: dataObject(decodeJSON, vantaxConversation)},
	messages:        messageList(startingAfterPaging{key: "starting_after"}, limit(100, 50), vantaxPage(decodeJSON, vantaxMessage)),
	// Newest activity first by last_message_at; unread_count moves with it.
	change: changeSpec{
		byActivity: true,
		activity:   lastMessageActivity,
		signals:    func(c *Conversation) []int64 { return []int64{int64(c.UnreadCount)} },
	},
}

func vantaxPage[W, T any](decode decodeFunc, conv func(*W, string, *T)) func([]byte, string) (rawPage[T], error) {
	return func(body []byte, scope string) (rawPage[T], error) {
		var env struct {
			successList[W]
			Pagination struct {
				Total   *int  `json:"total"`
				Limit   int   `json:"limit"`
				HasMore *bool `json:"has_more"`
			} `json:"pagination"`
		}
		if err := decode(body, &env); err != nil {
			return rawPage[T]{}, err
		}
		if err := env.check(); err != nil {
			return rawPage[T]{}, err
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
	ID            string          `json:"id"`
	SubAccountID  string          `json:"sub_account_id"`
	Channel       string          `json:"channel"`
	ContactID     string          `json:"contact_id"`
	Status        string          `json:"status"`
	Tags          []string        `json:"tags"`
	Metadata      json.RawMessage `json:"metadata"` // an object of strings: see vantaxMetadata
	UnreadCount   int             `json:"unread_count"`
	LastMessageAt string          `json:"last_message_at"`
	CreatedAt     string          `json:"created_at"`
}

var vantaxChannels = []string{"sms", "whatsapp", "facebook", "instagram", "email"}

func vantaxConversation(w *vantaxWireConversation, _ string, c *Conversation) {
	var bad []UnreadableField
	*c = Conversation{
		ID:            own(w.ID),
		ContactID:     own(w.ContactID),
		Channel:       ownOf(w.Channel, vantaxChannels...),
		Status:        ownOf(w.Status, "open", "pending", "closed"),
		LastMessageAt: readTime(&bad, "last_message_at", w.LastMessageAt),
		CreatedAt:     readTime(&bad, "created_at", w.CreatedAt),
		SubAccountID:  own(w.SubAccountID),
		Tags:          ownAll(w.Tags),
		UnreadCount:   w.UnreadCount,
	}
	c.Metadata = vantaxMetadata(&bad, w.Metadata)
	c.Unreadable = bad
}

// vantaxMetadata reads the metadata object, documented as an object of
// strings; a value of another type keeps its JSON text. raw is already a
// copy of the body's bytes (json.RawMessage's UnmarshalJSON copies them), and
// the strings of the map share it: one allocation for them all instead of
// one per key and value. Null or absent is nil. A value that is not an
// object is recorded as unreadable.
func vantaxMetadata(bad *[]UnreadableField, raw json.RawMessage) map[string]string {
	if len(raw) == 0 || string(raw) == "null" {
		return nil
	}
	var m map[string]string
	if decodeJSON(raw, &m) == nil {
		return m
	}
	var values map[string]json.RawMessage
	if decodeJSON(raw, &values) != nil { // not an object
		unreadable(bad, "metadata", string(raw))
		return nil
	}
	m = make(map[string]string, len(values))
	for k, v := range values {
		m[k] = metadataText(v)
	}
	return m
}

// metadataText returns a metadata value's string, or the JSON text of a
// value that is not a string. A string without escapes is its bytes between
// the quotes (the library has checked its syntax and UTF-8 is kept as sent,
// as encoding/json keeps valid UTF-8); any other string is decoded.
func metadataText(v json.RawMessage) string {
	if len(v) >= 2 && v[0] == '"' && bytes.IndexByte(v, '\\') < 0 && utf8.Valid(v) {
		return string(v[1 : len(v)-1])
	}
	var s string
	if json.Unmarshal(v, &s) == nil {
		return s
	}
	return string(v)
}

type vantaxWireMessage struct {
	ID             string   `json:"id"`
	ConversationID string   `json:"conversation_id"`
	Channel        string   `json:"channel"`
	Direction      string   `json:"direction"`
	Content        string   `json:"content"`
	Subject        string   `json:"subject"` // email
	SenderType     string   `json:"sender_type"`
	MediaURL       []string `json:"media_url"` // an array, despite the name
	Status         string   `json:"status"`
	CreatedAt      string   `json:"created_at"`
}

func vantaxMessage(w *vantaxWireMessage, scope string, m *Message) {
	var bad []UnreadableField
	created := readTime(&bad, "created_at", w.CreatedAt)
	content := own(w.Content)
	*m = Message{
		ID:             own(w.ID),
		ConversationID: ownOr(w.ConversationID, scope),
		Direction:      ownDirection(w.Direction),
		Body:           content,
		SentAt:         created,
		Channel:        ownOf(w.Channel, vantaxChannels...),
		Status:         ownOf(w.Status, "queued", "sent", "delivered", "read", "failed", "received"),
		Content:        content,
		CreatedAt:      created,
		Subject:        own(w.Subject),
		SenderType:     ownOf(w.SenderType, "contact", "ai"),
		MediaURLs:      ownAll(w.MediaURL),
	}
	m.Unreadable = bad
}
