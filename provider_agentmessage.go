package convo

import (
	"time"

	"errors"
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
		style:        cursorPaging{key: "cursor"},
		limitParam:   "limit",
		minLimit:     1,
		maxLimit:     200,
		defaultLimit: 50,
		decode:       fastDecode(agentMessageFastPage(agentMessageFastConversation, agentMessageConversation), agentMessagePage(agentMessageConversation)),
		id:           conversationID,
	},
	// since is sent in RFC 3339, opted_in as true or false.
	conversationFilters: []filterSpec{
		{field: "PhoneNumberID", param: "phone_number_id"},
		{field: "ContactNumber", param: "contact_number"},
		{field: "Since", param: "since"},
		{field: "OptedIn", param: "opted_in"},
	},
	messages: listEndpoint[Message]{
		resource:     "messages",
		path:         messagesPath,
		style:        cursorPaging{key: "cursor"},
		limitParam:   "limit",
		minLimit:     1,
		maxLimit:     200,
		defaultLimit: 50,
		decode:       fastDecode(agentMessageFastPage(agentMessageFastMessage, agentMessageMessage), agentMessagePage(agentMessageMessage)),
		id:           messageID,
	},
	// Newest first by last_message_at, filtered with since; message_count
	// moves with it.
	change: changeSpec{
		byActivity: true,
		activity:   func(c *Conversation) (time.Time, bool) { return c.LastMessageAt, !c.LastMessageAt.IsZero() },
		signals:    func(c *Conversation) []int64 { return []int64{int64(c.MessageCount)} },
		since:      true,
	},
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
	ID                        string                   `json:"id"`
	PhoneNumberID             string                   `json:"phone_number_id"`
	PhoneNumber               string                   `json:"phone_number"`
	ContactNumber             string                   `json:"contact_number"`
	LastMessageAt             wireTime                 `json:"last_message_at"`
	LastMessageDirection      Direction                `json:"last_message_direction"`
	LastMessagePreview        nullString               `json:"last_message_preview"`
	LastMessageBodyRedactedAt wireTime                 `json:"last_message_body_redacted_at"`
	MessageCount              int                      `json:"message_count"`
	Consent                   *agentMessageWireConsent `json:"consent"`
}

type agentMessageWireConsent struct {
	OptedIn   bool     `json:"opted_in"`
	OptedInAt wireTime `json:"opted_in_at"`
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

// agentMessageFastPage is agentMessagePage without reflection, for the
// common form of a page; it declines everything else (see wireReader).
func agentMessageFastPage[W, T any](item func(*wireReader, *W) bool, conv func(*W, string, *T)) func([]byte, string) (rawPage[T], bool) {
	var pool pagePool[W]
	return func(body []byte, scope string) (rawPage[T], bool) {
		s := pool.get(body)
		defer pool.put(s)
		r := &s.r
		var page rawPage[T]
		var seen [3]bool
		if !r.consume('{') {
			return page, false
		}
		for first := true; ; first = false {
			key, done, ok := r.key(first)
			if !ok {
				return page, false
			}
			if done {
				break
			}
			switch string(key) {
			case "success":
				success := true
				ok = !seen[0] && r.boolField(&success) && success // false: the exact decoder's error
				seen[0] = true
			case "data":
				ok = !seen[1] && s.itemArray(item) // null: the exact decoder's error
				seen[1] = true
			case "meta":
				ok = !seen[2] && agentMessageFastMeta(r, &page)
				seen[2] = true
			default:
				ok = r.unknown(key, "success", "data", "meta")
			}
			if !ok {
				return page, false
			}
		}
		if !seen[1] || !r.end() {
			return page, false
		}
		page.items = mapItems(s.items, scope, conv)
		return page, true
	}
}

func agentMessageFastMeta[T any](r *wireReader, page *rawPage[T]) bool {
	if r.null() {
		return true
	}
	if !r.consume('{') {
		return false
	}
	var seen [2]bool
	for first := true; ; first = false {
		key, done, ok := r.key(first)
		if !ok || done {
			return ok
		}
		switch string(key) {
		case "limit":
			ok = !seen[0] && r.intField(&page.limit)
			seen[0] = true
		case "next_cursor":
			ok = !seen[1] && r.stringField(&page.next, false)
			seen[1] = true
		default:
			ok = r.unknown(key, "limit", "next_cursor")
		}
		if !ok {
			return false
		}
	}
}

// agentMessageConversationFields and agentMessageMessageFields are the json
// names of the wire structs, which their fast decoders handle one by one
// (TestFastDecodersKnowEveryWireField keeps them complete).
var agentMessageConversationFields = []string{
	"id", "phone_number_id", "phone_number", "contact_number", "last_message_at", "last_message_direction",
	"last_message_preview", "last_message_body_redacted_at", "message_count", "consent",
}

func agentMessageFastConversation(r *wireReader, w *agentMessageWireConversation) bool {
	if !r.consume('{') {
		return false
	}
	var seen uint16
	for first := true; ; first = false {
		key, done, ok := r.key(first)
		if !ok || done {
			return ok
		}
		var bit uint16
		switch string(key) {
		case "id":
			bit, ok = 1<<0, r.stringField(&w.ID, false)
		case "phone_number_id":
			bit, ok = 1<<1, r.stringField(&w.PhoneNumberID, true)
		case "phone_number":
			bit, ok = 1<<2, r.stringField(&w.PhoneNumber, true)
		case "contact_number":
			bit, ok = 1<<3, r.stringField(&w.ContactNumber, false)
		case "last_message_at":
			bit, ok = 1<<4, r.timeField(&w.LastMessageAt)
		case "last_message_direction":
			bit, ok = 1<<5, r.stringField((*string)(&w.LastMessageDirection), true)
		case "last_message_preview":
			bit, ok = 1<<6, r.stringField((*string)(&w.LastMessagePreview), false)
		case "last_message_body_redacted_at":
			bit, ok = 1<<7, r.timeField(&w.LastMessageBodyRedactedAt)
		case "message_count":
			bit, ok = 1<<8, r.intField(&w.MessageCount)
		case "consent":
			bit, ok = 1<<9, agentMessageFastConsent(r, &w.Consent)
		default:
			ok = r.unknown(key, agentMessageConversationFields...)
		}
		if !ok || seen&bit != 0 {
			return false
		}
		seen |= bit
	}
}

func agentMessageFastConsent(r *wireReader, dst **agentMessageWireConsent) bool {
	if r.null() {
		*dst = nil
		return true
	}
	if !r.consume('{') {
		return false
	}
	c := new(agentMessageWireConsent)
	*dst = c
	var seen [2]bool
	for first := true; ; first = false {
		key, done, ok := r.key(first)
		if !ok || done {
			return ok
		}
		switch string(key) {
		case "opted_in":
			ok = !seen[0] && r.boolField(&c.OptedIn)
			seen[0] = true
		case "opted_in_at":
			ok = !seen[1] && r.timeField(&c.OptedInAt)
			seen[1] = true
		default:
			ok = r.unknown(key, "opted_in", "opted_in_at")
		}
		if !ok {
			return false
		}
	}
}

var agentMessageMessageFields = []string{
	"id", "direction", "phone_number_id", "from_number", "to_number", "body",
	"media_urls", "channel", "segment_count", "created_at", "redacted_at",
}

func agentMessageFastMessage(r *wireReader, w *agentMessageWireMessage) bool {
	if !r.consume('{') {
		return false
	}
	var seen uint16
	for first := true; ; first = false {
		key, done, ok := r.key(first)
		if !ok || done {
			return ok
		}
		var bit uint16
		switch string(key) {
		case "id":
			bit, ok = 1<<0, r.stringField(&w.ID, false)
		case "direction":
			bit, ok = 1<<1, r.stringField((*string)(&w.Direction), true)
		case "phone_number_id":
			bit, ok = 1<<2, r.stringField(&w.PhoneNumberID, true)
		case "from_number":
			bit, ok = 1<<3, r.stringField(&w.FromNumber, true)
		case "to_number":
			bit, ok = 1<<4, r.stringField(&w.ToNumber, true)
		case "body":
			bit, ok = 1<<5, r.stringField((*string)(&w.Body), false)
		case "media_urls":
			bit, ok = 1<<6, r.stringsField(&w.MediaURLs)
		case "channel":
			bit, ok = 1<<7, r.stringField(&w.Channel, true)
		case "segment_count":
			bit, ok = 1<<8, r.intField(&w.SegmentCount)
		case "created_at":
			bit, ok = 1<<9, r.timeField(&w.CreatedAt)
		case "redacted_at":
			bit, ok = 1<<10, r.timeField(&w.RedactedAt)
		default:
			ok = r.unknown(key, agentMessageMessageFields...)
		}
		if !ok || seen&bit != 0 {
			return false
		}
		seen |= bit
	}
}
