package convo

import (
	"bytes"
	"encoding/json"
)

// Vobiz (WhatsApp). Seed: testdata/vobiz_*.json.
//
// Conversations: GET /conversations answers {"items":[…]} with no documented
// parameters or pagination; has_more/next_cursor are followed if they ever
// appear. Messages: GET /conversations/{id}/messages?limit=&cursor= answers
// {"items":[…],"has_more":bool,"next_cursor":"…"}, newest first.
var vobizDesc = providerDesc{
	name:    "vobiz",
	baseURL: "https://api.vobiz.ai/api/v1/messaging",
	conversations: listEndpoint[Conversation]{
		resource: "conversations",
		path:     conversationsPath,
		style:    cursorPaging{key: "cursor"},
		decode:   vobizPage(vobizConversation),
		id:       conversationID,
	},
	conversationFilters: nil, // none documented
	messages: listEndpoint[Message]{
		resource:     "messages",
		path:         messagesPath,
		style:        cursorPaging{key: "cursor"},
		limitParam:   "limit",
		minLimit:     1,
		maxLimit:     100,
		defaultLimit: 50,
		decode:       vobizPage(vobizMessage),
		id:           messageID,
	},
	// No order and no activity field: every conversation is listed, and a
	// known one is read from its newest messages down to the newest one
	// delivered before.
	change: changeSpec{newestFirst: true},
}

func conversationsPath(string) string { return "/conversations" }

func conversationPath(escapedID string) string { return "/conversations/" + escapedID }

func messagesPath(escapedID string) string { return "/conversations/" + escapedID + "/messages" }

func vobizPage[W, T any](conv func(*W, string, *T)) func([]byte, string) (rawPage[T], error) {
	return func(body []byte, scope string) (rawPage[T], error) {
		var env struct {
			Items      []W        `json:"items"`
			HasMore    *bool      `json:"has_more"`
			NextCursor nullString `json:"next_cursor"`
		}
		if err := decodeJSON(body, &env); err != nil {
			return rawPage[T]{}, err
		}
		if env.Items == nil {
			return rawPage[T]{}, errNoItems("items")
		}
		return rawPage[T]{
			items: mapItems(env.Items, scope, conv),
			more:  env.HasMore,
			next:  string(env.NextCursor),
		}, nil
	}
}

type vobizWireConversation struct {
	ID         string   `json:"id"`
	AccountID  string   `json:"account_id"`
	ChannelID  string   `json:"channel_id"`
	ContactID  string   `json:"contact_id"`
	Category   string   `json:"category"`
	IsBillable bool     `json:"is_billable"`
	StartedAt  wireTime `json:"started_at"`
	ExpiresAt  wireTime `json:"expires_at"`
	Status     string   `json:"status"`
}

func vobizConversation(w *vobizWireConversation, _ string, c *Conversation) {
	*c = Conversation{
		ID:         w.ID,
		ContactID:  w.ContactID,
		Channel:    "whatsapp",
		Status:     w.Status,
		CreatedAt:  w.StartedAt.time(),
		AccountID:  w.AccountID,
		ChannelID:  w.ChannelID,
		Category:   w.Category,
		IsBillable: w.IsBillable,
		StartedAt:  w.StartedAt.time(),
		ExpiresAt:  w.ExpiresAt.time(),
	}
}

type vobizWireMessage struct {
	ID             string     `json:"id"`
	AccountID      string     `json:"account_id"`
	ChannelID      string     `json:"channel_id"`
	ContactID      string     `json:"contact_id"`
	ConversationID string     `json:"conversation_id"`
	Direction      Direction  `json:"direction"`
	Type           string     `json:"type"`
	Status         string     `json:"status"`
	Content        nullString `json:"content"`
	MetaMessageID  string     `json:"meta_message_id"`
	CreatedAt      wireTime   `json:"created_at"`
}

func vobizMessage(w *vobizWireMessage, scope string, m *Message) {
	body, payload := vobizContent(string(w.Content))
	*m = Message{
		ID:             w.ID,
		ConversationID: firstNonEmpty(w.ConversationID, scope),
		Direction:      w.Direction,
		Body:           body,
		SentAt:         w.CreatedAt.time(),
		Channel:        "whatsapp",
		Status:         w.Status,
		Content:        string(w.Content),
		CreatedAt:      w.CreatedAt.time(),
		AccountID:      w.AccountID,
		ChannelID:      w.ChannelID,
		ContactID:      w.ContactID,
		Type:           w.Type,
		MetaMessageID:  w.MetaMessageID,
		Payload:        payload,
	}
}

// vobizContent reads the JSON-encoded content string: the text is its
// "body"; the whole object is kept as the payload. Content that is not a
// JSON object is taken as plain text.
func vobizContent(content string) (body string, payload json.RawMessage) {
	trimmed := bytes.TrimSpace([]byte(content))
	if len(trimmed) == 0 || trimmed[0] != '{' || !json.Valid(trimmed) {
		return content, nil
	}
	var v struct {
		Body json.RawMessage `json:"body"`
	}
	if json.Unmarshal(trimmed, &v) != nil {
		return content, nil
	}
	if len(v.Body) > 0 {
		body = rawText(v.Body)
		if body == "null" {
			body = ""
		}
	}
	return body, json.RawMessage(trimmed)
}
