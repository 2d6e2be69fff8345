package convo

import (
	"strings"

	"github.com/goccy/go-json"
)

// Vobiz is the Vobiz WhatsApp Conversations API at
// https://api.vobiz.ai/api/v1/messaging: X-Auth-ID/X-Auth-Token ([XAuth],
// from VOBIZ_AUTH_ID and VOBIZ_AUTH_TOKEN) or a bearer JWT (VOBIZ_TOKEN;
// the JWTs live 30 minutes, see [BearerFunc]); opaque cursor pagination.
// Docs: Conversations API, https://docs.vobiz.ai (index:
// https://docs.vobiz.ai/llms.txt).
//
//   - [ConversationService.List]: GET /conversations. No filters or page
//     size documented (PageSize is ignored); no order documented, and no
//     activity shown.
//   - [MessageService.List]: GET /conversations/{id}/messages?limit=&cursor=
//     (limit 1–100), newest first.
//   - [ConversationService.Get] and [SearchService.Messages] are not
//     documented.
//
// Errors answer {"status":"error","error":{"code","message","details"},"requestId"}.
//
// As its list shows no activity, an incremental [Client.Sync] reads the
// whole list and the newest messages of each conversation: every
// incremental sync is a refresh (unless [SyncParams].Refresh is negative),
// and [Checkpoint.Refreshed] keeps the full sync's time, so that a run that
// finds nothing new leaves its checkpoint unchanged.
var Vobiz = Provider{&vobizDesc}

// Vobiz (WhatsApp). Seed: testdata/vobiz_*.json.
//
// Conversations: GET /conversations answers {"items":[…]} with no documented
// parameters or pagination; has_more/next_cursor are followed if they ever
// appear. Messages: GET /conversations/{id}/messages?limit=&cursor= answers
// {"items":[…],"has_more":bool,"next_cursor":"…"}, newest first.
var vobizDesc = providerDesc{
	name:    "vobiz",
	title:   "Vobiz",
	docs:    "https://docs.vobiz.ai",
	baseURL: "https://api.vobiz.ai/api/v1/messaging",
	credentials: credentialSpec{
		env:  []string{"VOBIZ_AUTH_ID", "VOBIZ_AUTH_TOKEN", "VOBIZ_TOKEN"},
		help: "VOBIZ_AUTH_ID and VOBIZ_AUTH_TOKEN, or VOBIZ_TOKEN", // the token: a bearer JWT
		auth: func(getenv func(string) string) Authenticator {
			id, token, jwt := getenv("VOBIZ_AUTH_ID"), getenv("VOBIZ_AUTH_TOKEN"), getenv("VOBIZ_TOKEN")
			switch {
			case id != "" && token != "":
				return XAuth(id, token)
			case jwt != "":
				return Bearer(jwt)
			}
			return nil
		},
	},
	// The conversation list documents no page size and no filter.
	conversations:       conversationList(cursorPaging{key: "cursor"}, pageLimits{}, vobizPage(decodeJSON, vobizConversation)),
	conversationFilters: nil,
	messages:            messageList(cursorPaging{key: "cursor"}, limit(100, 50), vobizPage(decodeJSON, vobizMessage)),
	// No order and no activity field: every conversation is listed, and a
	// known one is read from its newest messages down to the newest one
	// delivered before.
	change: changeSpec{newestFirst: true},
}

func vobizPage[W, T any](decode decodeFunc, conv func(*W, string, *T)) func([]byte, string) (rawPage[T], error) {
	return func(body []byte, scope string) (rawPage[T], error) {
		var env struct {
			Items      []W    `json:"items"`
			HasMore    *bool  `json:"has_more"`
			NextCursor string `json:"next_cursor"`
		}
		if err := decode(body, &env); err != nil {
			return rawPage[T]{}, err
		}
		if env.Items == nil {
			return rawPage[T]{}, errNoItems("items")
		}
		return rawPage[T]{
			items: mapItems(env.Items, scope, conv),
			more:  env.HasMore,
			next:  own(env.NextCursor),
		}, nil
	}
}

// The wire types hold what the JSON library decodes natively: strings
// (null and absent read as ""), timestamps as strings parsed while mapping.

type vobizWireConversation struct {
	ID         string `json:"id"`
	AccountID  string `json:"account_id"`
	ChannelID  string `json:"channel_id"`
	ContactID  string `json:"contact_id"`
	Category   string `json:"category"`
	IsBillable bool   `json:"is_billable"`
	StartedAt  string `json:"started_at"`
	ExpiresAt  string `json:"expires_at"`
	Status     string `json:"status"`
}

func vobizConversation(w *vobizWireConversation, _ string, c *Conversation) {
	var bad []UnreadableField
	started := readTime(&bad, "started_at", w.StartedAt)
	*c = Conversation{
		ID:         own(w.ID),
		ContactID:  own(w.ContactID),
		Channel:    "whatsapp",
		Status:     ownOf(w.Status, "open", "closed"),
		CreatedAt:  started,
		AccountID:  own(w.AccountID),
		ChannelID:  own(w.ChannelID),
		Category:   ownOf(w.Category, "service", "marketing", "utility", "authentication"),
		IsBillable: w.IsBillable,
		StartedAt:  started,
		ExpiresAt:  readTime(&bad, "expires_at", w.ExpiresAt),
		Unreadable: bad,
	}
}

type vobizWireMessage struct {
	ID             string `json:"id"`
	AccountID      string `json:"account_id"`
	ChannelID      string `json:"channel_id"`
	ContactID      string `json:"contact_id"`
	ConversationID string `json:"conversation_id"`
	Direction      string `json:"direction"`
	Type           string `json:"type"`
	Status         string `json:"status"`
	Content        string `json:"content"`
	MetaMessageID  string `json:"meta_message_id"`
	CreatedAt      string `json:"created_at"`
}

func vobizMessage(w *vobizWireMessage, scope string, m *Message) {
	var bad []UnreadableField
	created := readTime(&bad, "created_at", w.CreatedAt)
	content := own(w.Content)
	body, payload := vobizContent(content)
	*m = Message{
		ID:             own(w.ID),
		ConversationID: ownOr(w.ConversationID, scope),
		Direction:      ownDirection(w.Direction),
		Body:           body,
		SentAt:         created,
		Channel:        "whatsapp",
		Status:         ownOf(w.Status, "pending", "sent", "delivered", "read", "failed"),
		Content:        content,
		CreatedAt:      created,
		AccountID:      own(w.AccountID),
		ChannelID:      own(w.ChannelID),
		ContactID:      own(w.ContactID),
		Type:           ownOf(w.Type, "text", "image", "document", "template", "audio", "video"),
		MetaMessageID:  own(w.MetaMessageID),
		Payload:        payload,
		Unreadable:     bad,
	}
}

// vobizContent reads the JSON-encoded content string: the text is its
// "body"; the whole object is kept as the payload. Content that is not a
// JSON object is taken as plain text. A body that is JSON null is no text;
// the string "null" is the text "null".
//
// One decode of the content reads its body and checks it is JSON; only a
// body that is not a string (a number, an object) takes a second one, to keep
// its JSON text.
func vobizContent(content string) (body string, payload json.RawMessage) {
	trimmed := strings.TrimSpace(content)
	if len(trimmed) == 0 || trimmed[0] != '{' {
		return content, nil
	}
	payload = json.RawMessage(trimmed)
	var v struct {
		Body string `json:"body"`
	}
	if err := json.UnmarshalOf(payload, &v); err == nil {
		return v.Body, payload
	}
	var raw struct {
		Body json.RawMessage `json:"body"`
	}
	if json.Unmarshal(payload, &raw) != nil {
		return content, nil // not JSON: plain text
	}
	if len(raw.Body) > 0 && string(raw.Body) != "null" {
		body = rawText(raw.Body)
	}
	return body, payload
}
