package convo

import (
	"errors"
	"net/url"
	"time"

	"github.com/google/go-querystring/query"
)

// AgentMessage (SMS numbers for agents). Seed: testdata/agentmessage_*.json.
//
// Lists answer {"success":true,"data":[…],"meta":{"total","limit","offset","next_cursor"}};
// next_cursor is null on the last page. meta.total is documented as
// unreliable and is not reported. Conversation ids are opaque base64url
// strings, passed back unmodified.
var agentMessageDesc = providerDesc{
	name:    "agentmessage",
	baseURL: "https://api.agentmsg.io/v1",
	conversations: listEndpoint[Conversation]{
		resource:     "conversations",
		path:         conversationsPath,
		style:        pagingCursor,
		limitParam:   "limit",
		tokenParam:   "cursor",
		minLimit:     1,
		maxLimit:     200,
		defaultLimit: 50,
		decode:       agentMessagePage(agentMessageConversation),
		id:           conversationID,
	},
	conversationQuery: agentMessageConversationQuery,
	messages: listEndpoint[Message]{
		resource:     "messages",
		path:         messagesPath,
		style:        pagingCursor,
		limitParam:   "limit",
		tokenParam:   "cursor",
		minLimit:     1,
		maxLimit:     200,
		defaultLimit: 50,
		decode:       agentMessagePage(agentMessageMessage),
		id:           messageID,
	},
}

type agentMessageConversationFilters struct {
	PhoneNumberID string    `url:"phone_number_id,omitempty"`
	ContactNumber string    `url:"contact_number,omitempty"`
	Since         time.Time `url:"since,omitempty"` // RFC 3339
	OptedIn       *bool     `url:"opted_in,omitempty"`
}

func agentMessageConversationQuery(p *ConversationListParams) (url.Values, error) {
	if err := refuse("agentmessage",
		filter("Status", p.Status != ""), filter("Channel", p.Channel != ""),
		filter("ContactID", p.ContactID != ""), filter("SubAccountID", p.SubAccountID != "")); err != nil {
		return nil, err
	}
	return query.Values(agentMessageConversationFilters{
		PhoneNumberID: p.PhoneNumberID,
		ContactNumber: p.ContactNumber,
		Since:         p.Since,
		OptedIn:       p.OptedIn,
	})
}

func agentMessagePage[W, T any](conv func(*W, string, *T)) func([]byte, string) (rawPage[T], error) {
	return func(body []byte, scope string) (rawPage[T], error) {
		var env struct {
			Success *bool `json:"success"`
			Data    []W   `json:"data"`
			Meta    struct {
				Limit      int        `json:"limit"`
				NextCursor nullString `json:"next_cursor"`
			} `json:"meta"`
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
			next:  string(env.Meta.NextCursor),
			limit: env.Meta.Limit,
		}, nil
	}
}

type agentMessageWireConversation struct {
	ID                        string     `json:"id"`
	PhoneNumberID             string     `json:"phone_number_id"`
	PhoneNumber               string     `json:"phone_number"`
	ContactNumber             string     `json:"contact_number"`
	LastMessageAt             wireTime   `json:"last_message_at"`
	LastMessageDirection      Direction  `json:"last_message_direction"`
	LastMessagePreview        nullString `json:"last_message_preview"`
	LastMessageBodyRedactedAt wireTime   `json:"last_message_body_redacted_at"`
	MessageCount              int        `json:"message_count"`
	Consent                   *struct {
		OptedIn   bool     `json:"opted_in"`
		OptedInAt wireTime `json:"opted_in_at"`
	} `json:"consent"`
}

func agentMessageConversation(w *agentMessageWireConversation, _ string, c *Conversation) {
	*c = Conversation{
		ID:                        w.ID,
		ContactID:                 w.ContactNumber,
		LastMessageAt:             w.LastMessageAt.time(),
		MessageCount:              w.MessageCount,
		PhoneNumberID:             w.PhoneNumberID,
		PhoneNumber:               w.PhoneNumber,
		ContactNumber:             w.ContactNumber,
		LastMessageDirection:      w.LastMessageDirection,
		LastMessagePreview:        string(w.LastMessagePreview),
		LastMessageBodyRedactedAt: w.LastMessageBodyRedactedAt.time(),
	}
	if w.Consent != nil {
		c.Consent = &Consent{OptedIn: w.Consent.OptedIn, OptedInAt: w.Consent.OptedInAt.time()}
	}
}

type agentMessageWireMessage struct {
	ID            string     `json:"id"`
	Direction     Direction  `json:"direction"`
	PhoneNumberID string     `json:"phone_number_id"`
	FromNumber    string     `json:"from_number"`
	ToNumber      string     `json:"to_number"`
	Body          nullString `json:"body"` // null once the retention window removed it
	MediaURLs     []string   `json:"media_urls"`
	Channel       string     `json:"channel"`
	SegmentCount  int        `json:"segment_count"`
	CreatedAt     wireTime   `json:"created_at"`
	RedactedAt    wireTime   `json:"redacted_at"`
}

func agentMessageMessage(w *agentMessageWireMessage, scope string, m *Message) {
	*m = Message{
		ID:             w.ID,
		ConversationID: scope,
		Direction:      w.Direction,
		Body:           string(w.Body),
		SentAt:         w.CreatedAt.time(),
		Channel:        w.Channel,
		CreatedAt:      w.CreatedAt.time(),
		MediaURLs:      w.MediaURLs,
		PhoneNumberID:  w.PhoneNumberID,
		FromNumber:     w.FromNumber,
		ToNumber:       w.ToNumber,
		SegmentCount:   w.SegmentCount,
		RedactedAt:     w.RedactedAt.time(),
	}
}
