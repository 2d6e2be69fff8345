package convotest

import (
	"cmp"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/convokit/convo"
)

// Demo credentials of Vobiz. A Vobiz [Server] accepts exactly these and
// answers any other credential (or none) with Vobiz's 401 error envelope.
const (
	// DemoVobizAuthID is the X-Auth-ID a Vobiz server accepts; it is also
	// the account_id of its demo data.
	DemoVobizAuthID = "MA_DEMO0001"
	// DemoVobizAuthToken is the X-Auth-Token that goes with DemoVobizAuthID.
	DemoVobizAuthToken = "vobiz-demo-auth-token"
	// DemoVobizJWT is the bearer JWT a Vobiz server accepts instead of the
	// X-Auth headers.
	DemoVobizJWT = "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiJNQV9ERU1PMDAwMSIsImRlbW8iOnRydWV9.ZGVtby1zaWduYXR1cmU"
)

var vobizFake = fake{
	provider:          convo.Vobiz,
	api:               func(s *Server) api { return vobizAPI{s} },
	demo:              demoVobiz,
	credentialHeaders: []string{"X-Auth-Id", "X-Auth-Token"},
	demoEnv:           map[string]string{"VOBIZ_AUTH_ID": DemoVobizAuthID, "VOBIZ_AUTH_TOKEN": DemoVobizAuthToken},
}

// Vobiz: X-Auth-ID + X-Auth-Token or a bearer JWT; {"items":[…]} lists;
// messages paged newest first with limit (1–100, default 50), cursor,
// has_more and next_cursor; errors
// {"status":"error","error":{code,message,details},"timestamp","requestId"}.
type vobizAPI struct{ s *Server }

func (vobizAPI) auth() convo.Authenticator {
	return convo.XAuth(DemoVobizAuthID, DemoVobizAuthToken)
}

func (vobizAPI) authorized(h http.Header) bool {
	if h.Get("X-Auth-ID") != "" || h.Get("X-Auth-Token") != "" {
		return equal(h.Get("X-Auth-ID"), DemoVobizAuthID) && equal(h.Get("X-Auth-Token"), DemoVobizAuthToken)
	}
	tok, ok := bearerToken(h)
	return ok && equal(tok, DemoVobizJWT)
}

func (vobizAPI) unauthorized(h http.Header) *apiError {
	if _, ok := bearerToken(h); !ok && h.Get("X-Auth-ID") == "" && h.Get("X-Auth-Token") == "" {
		return &apiError{kind: errUnauthorized, message: "Authentication required",
			details: []fieldError{{"headers", "send X-Auth-ID and X-Auth-Token, or Authorization: Bearer <JWT>"}}}
	}
	return &apiError{kind: errUnauthorized, message: "Invalid authentication credentials",
		details: []fieldError{{"credentials", "the auth ID, auth token or access token is not valid"}}}
}

type vobizError struct {
	Status string `json:"status"`
	Error  struct {
		Code    string            `json:"code"`
		Message string            `json:"message"`
		Details map[string]string `json:"details"`
	} `json:"error"`
	Timestamp string `json:"timestamp"`
	RequestID string `json:"requestId"`
}

func (vobizAPI) renderError(n int, e *apiError) (int, string, any) {
	var status int
	var code string
	switch e.kind {
	case errUnauthorized:
		status, code = http.StatusUnauthorized, "INVALID_CREDENTIALS"
	case errNotFound:
		status, code = http.StatusNotFound, "NOT_FOUND"
	case errMalformed, errInvalid:
		status, code = http.StatusBadRequest, "VALIDATION_ERROR"
	case errRateLimited:
		status, code = http.StatusTooManyRequests, "RATE_LIMITED"
	case errMethod:
		status, code = http.StatusMethodNotAllowed, "METHOD_NOT_ALLOWED"
	case errStatus:
		status, code = e.status, statusCode(e.status, vobizCodes, strings.ToUpper)
	default:
		status, code = max(e.status, http.StatusInternalServerError), "INTERNAL_ERROR"
	}
	var body vobizError
	body.Status = "error"
	body.Error.Code = code
	body.Error.Message = e.message
	body.Error.Details = e.detailMap()
	body.Timestamp = time.Now().UTC().Format(time.RFC3339)
	body.RequestID = vobizRequestID(n)
	return status, "application/json; charset=utf-8", body
}

// vobizCodes are Vobiz's error codes by status (UPPER_SNAKE).
var vobizCodes = map[int]string{
	400: "VALIDATION_ERROR", 401: "INVALID_CREDENTIALS", 402: "INSUFFICIENT_BALANCE", 403: "FORBIDDEN",
	404: "NOT_FOUND", 409: "CONFLICT", 422: "VALIDATION_ERROR", 429: "RATE_LIMITED",
}

func vobizRequestID(n int) string { return "req_" + requestID(n)[16:] }

func (vobizAPI) decorate(int, http.Header) {}

func (vobizAPI) rateLimit() (int, string) { return 0, "" }

// Vobiz documents no order for its conversation list.
func (vobizAPI) listsByActivity() bool { return false }

type vobizList[T any] struct {
	Items      []T     `json:"items"`
	HasMore    *bool   `json:"has_more,omitempty"`
	NextCursor *string `json:"next_cursor,omitempty"`
}

type vobizCursor struct {
	ID    string `json:"id"`
	Epoch int    `json:"e,omitempty"` // see Server.ExpireCursors
}

// page pages n items for a cursor: the items after the cursor's id.
func (a vobizAPI) page(n int, id func(int) string, cursor string, limit int) (from, to int, next *string, more *bool, err *apiError) {
	start := 0
	if cursor != "" {
		var c vobizCursor
		ok := readCursor(cursor, &c) && c.Epoch == a.s.epoch
		if ok {
			start, ok = indexAfter(id, n, c.ID)
		}
		if !ok {
			return 0, 0, nil, nil, malformed("cursor", "invalid or expired cursor")
		}
	}
	from, to = window(n, start, limit)
	hasMore := to < n
	nextCursor := ""
	if hasMore {
		nextCursor = makeCursor(vobizCursor{ID: id(to - 1), Epoch: a.s.epoch})
	}
	return from, to, &nextCursor, &hasMore, nil
}

func (a vobizAPI) listConversations(raw string) (any, *apiError) {
	convs := a.s.data.Conversations
	if a.s.pageSize == 0 { // as documented: one page, no parameters
		if _, err := parseParams(raw); err != nil {
			return nil, err
		}
		out := vobizList[vobizConversation]{Items: make([]vobizConversation, len(convs))}
		for i := range convs {
			out.Items[i] = renderVobizConversation(&convs[i].Conversation)
		}
		return out, nil
	}
	p, err := parseParams(raw, "cursor")
	if err != nil {
		return nil, err
	}
	from, to, next, more, err := a.page(len(convs), func(i int) string { return convs[i].Conversation.ID }, p.str("cursor"), a.s.pageSize)
	if err != nil {
		return nil, err
	}
	out := vobizList[vobizConversation]{Items: make([]vobizConversation, 0, to-from), HasMore: more, NextCursor: next}
	for i := from; i < to; i++ {
		out.Items = append(out.Items, renderVobizConversation(&convs[i].Conversation))
	}
	return out, nil
}

func (vobizAPI) getConversation(string, string) (any, *apiError, bool) { return nil, nil, false }

func (vobizAPI) search(string) (any, *apiError, bool) { return nil, nil, false }

func (a vobizAPI) listMessages(id, raw string) (any, *apiError) {
	conv, ok := a.s.conversation(id)
	if !ok {
		return nil, conversationNotFound(id)
	}
	p, err := parseParams(raw, "limit", "cursor")
	if err != nil {
		return nil, err
	}
	limit, err := p.integer("limit", 50, 1, 100)
	if err != nil {
		return nil, err
	}
	msgs := conv.Messages
	from, to, next, more, err := a.page(len(msgs), func(i int) string { return newestFirst(msgs, i).ID }, p.str("cursor"), a.s.capLimit(limit))
	if err != nil {
		return nil, err
	}
	out := vobizList[vobizMessage]{Items: make([]vobizMessage, 0, to-from), HasMore: more, NextCursor: next}
	for i := from; i < to; i++ {
		out.Items = append(out.Items, renderVobizMessage(conv, newestFirst(msgs, i)))
	}
	return out, nil
}

type vobizConversation struct {
	ID         string  `json:"id"`
	AccountID  string  `json:"account_id"`
	ChannelID  string  `json:"channel_id"`
	ContactID  string  `json:"contact_id"`
	Category   string  `json:"category"`
	IsBillable bool    `json:"is_billable"`
	StartedAt  *string `json:"started_at"`
	ExpiresAt  *string `json:"expires_at"`
	Status     string  `json:"status"`
}

func renderVobizConversation(c *convo.Conversation) vobizConversation {
	return vobizConversation{
		ID:         c.ID,
		AccountID:  cmp.Or(c.AccountID, DemoVobizAuthID),
		ChannelID:  c.ChannelID,
		ContactID:  c.ContactID,
		Category:   c.Category,
		IsBillable: c.IsBillable,
		StartedAt:  timestamp(firstTime(c.StartedAt, c.CreatedAt)),
		ExpiresAt:  timestamp(c.ExpiresAt),
		Status:     c.Status,
	}
}

type vobizMessage struct {
	ID             string  `json:"id"`
	AccountID      string  `json:"account_id"`
	ChannelID      string  `json:"channel_id"`
	ContactID      string  `json:"contact_id"`
	ConversationID string  `json:"conversation_id,omitempty"` // "may be omitted"
	Direction      string  `json:"direction"`
	Type           string  `json:"type"`
	Status         string  `json:"status"`
	Content        string  `json:"content"`
	MetaMessageID  string  `json:"meta_message_id"`
	CreatedAt      *string `json:"created_at"`
}

func renderVobizMessage(conv *ConversationData, m *convo.Message) vobizMessage {
	c := &conv.Conversation
	return vobizMessage{
		ID:             m.ID,
		AccountID:      cmp.Or(m.AccountID, c.AccountID, DemoVobizAuthID),
		ChannelID:      cmp.Or(m.ChannelID, c.ChannelID),
		ContactID:      cmp.Or(m.ContactID, c.ContactID),
		ConversationID: m.ConversationID,
		Direction:      string(m.Direction),
		Type:           cmp.Or(m.Type, "text"),
		Status:         m.Status,
		Content:        vobizContent(m),
		MetaMessageID:  m.MetaMessageID,
		CreatedAt:      timestamp(firstTime(m.SentAt, m.CreatedAt)),
	}
}

// vobizContent is the JSON-encoded content string: Content as given, else
// the Payload, else {"body": Body}.
func vobizContent(m *convo.Message) string {
	switch {
	case m.Content != "":
		return m.Content
	case len(m.Payload) > 0:
		return string(m.Payload)
	}
	var b strings.Builder
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	enc.Encode(struct {
		Body string `json:"body"`
	}{m.Body}) // a string field: cannot fail
	return strings.TrimSuffix(b.String(), "\n")
}

// A Vobiz conversation's status, expiry, category or billing changes in
// place and moves nothing else: Vobiz shows no activity field.
func (vobizAPI) conversationChanged(*convo.Conversation, *convo.Conversation, time.Time) {}

// A Vobiz message's status moves (pending, sent, delivered, read, failed)
// with no other effect; Vobiz documents no redaction.
func (vobizAPI) messageChanged(_ *ConversationData, m *convo.Message, _ bool) bool {
	return m.RedactedAt.IsZero()
}

// ---- Demo data ----

var vobizTopics = [][]turn{
	{in("Hi, where is my order #{order}?"), out("Thanks for reaching out, {name}! Let me check order #{order} for you."),
		out("Your order shipped yesterday and should arrive by {day}."), in("Great, thank you!"),
		out("You're welcome. Anything else I can help with?")},
	{in("I'd like to return the sneakers I bought last week."), out("Sorry they didn't work out. Could you share your order number?"),
		in("It's #{order}."), {in: true, text: "Here's the box label", kind: "image"},
		out("Thanks. I've started the return; you'll get a pickup slot by SMS."), in("Perfect, thanks")},
	{in("Can I book a check-up for {day}?"), out("We have 10:30 or 15:00 available on {day}. Which suits you?"),
		in("10:30 please"), out("Booked! See you on {day} at 10:30. Reply CANCEL if your plans change.")},
	{in("My card was charged twice for order #{order}"), out("I'm sorry about that. Could you send a screenshot of the charge?"),
		{in: true, text: "", kind: "image"}, out("Thanks, I can see the duplicate. A refund of {amount} is on its way (3-5 business days)."),
		in("Ok, appreciate it")},
	{{text: "Hi {name}, our spring sale starts today: 20% off everything with code SPRING20.", kind: "template"},
		in("Does it include shoes?"), out("Yes, shoes are included!"), in("Nice, ordering now")},
	{in("Can you send me the invoice for my last order?"), {text: "Here is your invoice for order #{order}.", kind: "document"},
		in("Got it, thanks"), out("Happy to help, {name}.")},
	{{text: "Your verification code is {code}. It expires in 10 minutes.", kind: "template"}, in("Thanks")},
	{in("Is the blue jacket in size M back in stock?"), out("It is! We restocked this morning."),
		in("Can you hold one for me until {day}?"), out("Done, it's on hold under your name until {day}.")},
}

var vobizFollowUps = []turn{
	in("One more question: do you deliver on weekends?"), out("Yes, we deliver on Saturdays between 9:00 and 14:00."),
	in("Can I change the delivery address?"), out("Of course. Please send the new address and I'll update it."),
	in("Thanks!"), out("Happy to help. Have a great day!"),
	in("Is there a tracking link?"), out("Sure: https://track.example.com/{order}"),
	in("👍"), out("😊"),
	in("Do you have gift wrapping?"), out("Yes, gift wrapping is $4 per item; you can add it at checkout."),
	in("What's your return window?"), out("You can return unworn items within 30 days of delivery."),
	in("Are you open on Sunday?"), out("Our store is open 10:00-16:00 on Sundays; chat support is available every day."),
	in("Can I pay on delivery?"), out("Cash on delivery is available for orders under $200."),
	in("Do you ship abroad?"), out("We ship to the EU and the UK; delivery takes 5-8 business days."),
}

var vobizTalk = talk{
	now:       time.Date(2026, 3, 20, 12, 0, 0, 0, time.UTC),
	followUps: vobizFollowUps,
	longTurns: [2]int{64, 80},
	minAge:    10 * time.Minute,
	maxAge:    30 * 24 * time.Hour,
}

func demoVobiz(g *gen) *Dataset {
	now := vobizTalk.now
	channels := []string{g.uuid(), g.uuid()}
	return g.dataset(30, 40, func(i, long int) ConversationData {
		topic := vobizTopics[g.intn(len(vobizTopics))]
		category := g.weighted([]string{"service", "marketing", "utility", "authentication"}, []int{60, 15, 17, 8})
		if topic[0].kind == "template" && strings.Contains(topic[0].text, "verification") {
			category = "authentication"
		} else if topic[0].kind == "template" {
			category = "marketing"
		}
		name := g.pick(firstNames)
		fill := map[string]string{
			"order": fmt.Sprint(g.between(10400, 19999)), "name": name, "day": g.pick(weekdays),
			"amount": fmt.Sprintf("$%d.%02d", g.between(12, 240), g.intn(100)), "code": fmt.Sprintf("%06d", g.intn(1000000)),
		}
		tk := vobizTalk
		if i%9 == 0 { // some conversations still open
			tk.maxAge = 20 * time.Hour
		}
		ts, times := g.talk(tk, topic, fill, i, long)
		start := times[0]
		c := convo.Conversation{
			ID:        g.uuid(),
			AccountID: DemoVobizAuthID,
			ChannelID: channels[g.intn(2)],
			ContactID: g.uuid(),
			Channel:   "whatsapp",
			Category:  category,
			StartedAt: start,
			CreatedAt: start,
			ExpiresAt: start.Add(24 * time.Hour),
		}
		c.IsBillable = category != "service" || g.chance(0.2)
		c.Status = "closed"
		if c.ExpiresAt.After(now) {
			c.Status = "open"
		}
		cd := ConversationData{Conversation: c, ContactName: name}
		for j, t := range ts {
			m := convo.Message{
				ID:             g.uuid(),
				ConversationID: c.ID,
				Direction:      direction(t.in),
				SentAt:         times[j],
				CreatedAt:      times[j],
				Channel:        "whatsapp",
				AccountID:      c.AccountID,
				ChannelID:      c.ChannelID,
				ContactID:      c.ContactID,
				Type:           t.kind,
				MetaMessageID:  "wamid.HBgM" + base64.RawStdEncoding.EncodeToString(g.bytes(24)),
				Body:           t.text,
			}
			if g.chance(0.04) {
				m.ConversationID = "" // documented: may be omitted
			}
			payload := map[string]any{"body": t.text}
			switch t.kind {
			case "image":
				payload["media_url"] = "https://media.vobiz.ai/wa/" + g.hex(24) + ".jpg"
				payload["mime_type"] = "image/jpeg"
			case "document":
				payload["media_url"] = "https://media.vobiz.ai/wa/" + g.hex(24) + ".pdf"
				payload["mime_type"] = "application/pdf"
				payload["filename"] = "invoice-" + fill["order"] + ".pdf"
			case "template":
				payload["template_name"] = map[bool]string{true: "otp_code", false: "spring_sale"}[category == "authentication"]
				payload["language"] = "en"
			}
			raw := marshalCompact(payload)
			m.Content, m.Payload = raw, json.RawMessage(raw)
			if t.in {
				m.Status = g.weighted([]string{"delivered", "read"}, []int{30, 70})
			} else {
				m.Status = g.weighted([]string{"read", "delivered", "sent", "failed"}, []int{60, 25, 11, 4})
			}
			cd.Messages = append(cd.Messages, m)
		}
		return cd
	})
}
