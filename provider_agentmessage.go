package convo

// AgentMessage is the AgentMessage SMS API at https://api.agentmsg.io/v1:
// bearer API key (am_live_…, from AGENTMESSAGE_API_KEY); opaque cursor
// pagination. Docs: AgentMessage API reference.
//
//   - [ConversationService.List]: GET
//     /conversations?cursor=&limit=&phone_number_id=&contact_number=&since=&opted_in=
//     (limit 1–200, "List conversations"), newest activity first. Its meta.total is
//     documented as unreliable: [Page].TotalKnown stays unset.
//   - [MessageService.List]: GET /conversations/{id}/messages?cursor=&limit=
//     (limit 1–200; "List conversations" names this endpoint), oldest
//     first. Conversation ids are opaque base64url strings, sent
//     unmodified.
//   - [ConversationService.Get] and [SearchService.Messages] are not
//     documented.
//
// Errors answer {"success":false,"error":{"code","message","request_id","details":{…}}}.
var AgentMessage = Provider{&agentMessageDesc}

// AgentMessage (SMS numbers for agents). Seed: testdata/agentmessage_*.json.
//
// Lists answer {"success":true,"data":[…],"meta":{"total","limit","offset","next_cursor"}};
// next_cursor is null on the last page. meta.total is documented as
// unreliable and is not reported. Conversation ids are opaque base64url
// strings, passed back unmodified.
var agentMessageDesc = providerDesc{
	name:          "agentmessage",
	title:         "AgentMessage",
	docs:          "AgentMessage API reference",
	baseURL:       "https://api.agentmsg.io/v1",
	credentials:   bearerEnv("AGENTMESSAGE_API_KEY"),
	conversations: conversationList(cursorPaging{key: "cursor"}, limit(200, 50), agentMessagePage(decodeJSON, agentMessageConversation)),
	// since is sent in RFC 3339, opted_in as true or false.
	conversationFilters: []Filter{
		{Field: "PhoneNumberID", Param: "phone_number_id", Flag: "phone-number-id", NameKey: "phone_number_id",
			Help: "only conversations of this number"},
		{Field: "ContactNumber", Param: "contact_number", Flag: "contact-number", NameKey: "contact_number",
			Help: "only conversations with this contact number"},
		{Field: "Since", Param: "since", Flag: "since", NameKey: "since",
			Help: "only conversations active since this RFC 3339 `time`"},
		{Field: "OptedIn", Param: "opted_in", Flag: "opted-in", NameKey: "opted_in",
			Help: "only conversations whose contact opted in (true) or not (false)"},
	},
	messages: messageList(cursorPaging{key: "cursor"}, limit(200, 50), agentMessagePage(decodeJSON, agentMessageMessage)),
	// Newest first by last_message_at, filtered with since; message_count
	// moves with it.
	change: changeSpec{
		byActivity: true,
		activity:   lastMessageActivity,
		signals:    func(c *Conversation) []int64 { return []int64{int64(c.MessageCount)} },
		since:      true,
	},
}

func agentMessagePage[W, T any](decode decodeFunc, conv func(*W, string, *T)) func([]byte, string) (rawPage[T], error) {
	return func(body []byte, scope string) (rawPage[T], error) {
		var env struct {
			successList[W]
			Meta struct {
				Limit      int    `json:"limit"`
				NextCursor string `json:"next_cursor"` // null on the last page
			} `json:"meta"`
		}
		if err := decode(body, &env); err != nil {
			return rawPage[T]{}, err
		}
		if err := env.check(); err != nil {
			return rawPage[T]{}, err
		}
		return rawPage[T]{
			items: mapItems(env.Data, scope, conv),
			next:  own(env.Meta.NextCursor),
			limit: env.Meta.Limit,
		}, nil
	}
}

type agentMessageWireConversation struct {
	ID                        string                   `json:"id"`
	PhoneNumberID             string                   `json:"phone_number_id"`
	PhoneNumber               string                   `json:"phone_number"`
	ContactNumber             string                   `json:"contact_number"`
	LastMessageAt             string                   `json:"last_message_at"`
	LastMessageDirection      string                   `json:"last_message_direction"`
	LastMessagePreview        string                   `json:"last_message_preview"`
	LastMessageBodyRedactedAt string                   `json:"last_message_body_redacted_at"`
	MessageCount              int                      `json:"message_count"`
	Consent                   *agentMessageWireConsent `json:"consent"`
}

type agentMessageWireConsent struct {
	OptedIn   bool   `json:"opted_in"`
	OptedInAt string `json:"opted_in_at"`
}

func agentMessageConversation(w *agentMessageWireConversation, _ string, c *Conversation) {
	var bad []UnreadableField
	contact := own(w.ContactNumber)
	*c = Conversation{
		ID:                        own(w.ID),
		ContactID:                 contact,
		LastMessageAt:             readTime(&bad, "last_message_at", w.LastMessageAt),
		MessageCount:              w.MessageCount,
		PhoneNumberID:             own(w.PhoneNumberID),
		PhoneNumber:               own(w.PhoneNumber),
		ContactNumber:             contact,
		LastMessageDirection:      ownDirection(w.LastMessageDirection),
		LastMessagePreview:        ownOf(w.LastMessagePreview, "[redacted]"),
		LastMessageBodyRedactedAt: readTime(&bad, "last_message_body_redacted_at", w.LastMessageBodyRedactedAt),
	}
	if w.Consent != nil {
		c.Consent = &Consent{OptedIn: w.Consent.OptedIn, OptedInAt: readTime(&bad, "consent.opted_in_at", w.Consent.OptedInAt)}
	}
	c.Unreadable = bad
}

type agentMessageWireMessage struct {
	ID            string   `json:"id"`
	Direction     string   `json:"direction"`
	PhoneNumberID string   `json:"phone_number_id"`
	FromNumber    string   `json:"from_number"`
	ToNumber      string   `json:"to_number"`
	Body          string   `json:"body"` // null once the retention window removed it
	MediaURLs     []string `json:"media_urls"`
	Channel       string   `json:"channel"`
	SegmentCount  int      `json:"segment_count"`
	CreatedAt     string   `json:"created_at"`
	RedactedAt    string   `json:"redacted_at"`
}

func agentMessageMessage(w *agentMessageWireMessage, scope string, m *Message) {
	var bad []UnreadableField
	created := readTime(&bad, "created_at", w.CreatedAt)
	*m = Message{
		ID:             own(w.ID),
		ConversationID: scope,
		Direction:      ownDirection(w.Direction),
		Body:           own(w.Body),
		SentAt:         created,
		Channel:        ownOf(w.Channel, "sms", "mms"),
		CreatedAt:      created,
		MediaURLs:      ownAll(w.MediaURLs),
		PhoneNumberID:  own(w.PhoneNumberID),
		FromNumber:     own(w.FromNumber),
		ToNumber:       own(w.ToNumber),
		SegmentCount:   w.SegmentCount,
		RedactedAt:     readTime(&bad, "redacted_at", w.RedactedAt),
	}
	m.Unreadable = bad
}
