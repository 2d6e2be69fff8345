package convotest

import (
	"cmp"
	"encoding/json"
	"math"
	"net/http"
	"sort"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/convokit/convo"
)

// DemoRentalotKey is the bearer API key a Rentalot [Server] accepts; any
// other credential (or none) gets Rentalot's 401 error envelope.
const DemoRentalotKey = "ra_demo_7c41e09b2d5f4a38"

var rentalotFake = fake{
	provider: convo.Rentalot,
	api:      func(s *Server) api { return rentalotAPI{s} },
	demo:     demoRentalot,
	demoEnv:  map[string]string{"RENTALOT_API_KEY": DemoRentalotKey},
}

// Rentalot: bearer ra_… key; camelCase; lists {"data":[…],"pagination":{…}}
// paged by 1-based page numbers; search {"data":[…],"total":n}; errors
// {"error":{code,message,details:[{field,message}]}}, 404 as RFC 9457
// problem details; X-RateLimit-* headers on every response.
type rentalotAPI struct{ s *Server }

// rentalotRateLimit is the requests-per-minute limit reported in
// X-RateLimit-Limit (the Pro tier).
const rentalotRateLimit = 120

func (rentalotAPI) auth() convo.Authenticator { return convo.Bearer(DemoRentalotKey) }

func (rentalotAPI) authorized(h http.Header) bool {
	tok, ok := bearerToken(h)
	return ok && equal(tok, DemoRentalotKey)
}

func (rentalotAPI) unauthorized(http.Header) *apiError {
	return &apiError{kind: errUnauthorized, message: "Missing or invalid API key. Send Authorization: Bearer ra_..."}
}

type rentalotError struct {
	Error struct {
		Code    string       `json:"code"`
		Message string       `json:"message"`
		Details []fieldError `json:"details,omitempty"`
	} `json:"error"`
}

// rentalotPage is Rentalot's list envelope.
type rentalotPage[T any] struct {
	Data       []T                `json:"data"`
	Pagination rentalotPagination `json:"pagination"`
}

// rentalotPagination is the position of a page. Only the conversation list
// counts its items and pages: the message list's has the page and the
// limit alone, so Total and TotalPages are left out when nil.
type rentalotPagination struct {
	Page       int  `json:"page"`
	Limit      int  `json:"limit"`
	Total      *int `json:"total,omitempty"`
	TotalPages *int `json:"totalPages,omitempty"`
}

// newRentalotPage returns the envelope of page (of limit items) with room
// for n items; its data is an empty array, never null, when none follow.
func newRentalotPage[T any](page, limit, n int) rentalotPage[T] {
	return rentalotPage[T]{Data: make([]T, 0, n), Pagination: rentalotPagination{Page: page, Limit: limit}}
}

type rentalotProblem struct {
	Type   string `json:"type"`
	Title  string `json:"title"`
	Status int    `json:"status"`
	Detail string `json:"detail"`
}

func (rentalotAPI) renderError(_ int, e *apiError) (int, string, any) {
	const ct = "application/json; charset=utf-8"
	var body rentalotError
	body.Error.Message = e.message
	var status int
	if e.kind == errStatus && e.status == http.StatusNotFound {
		e = &apiError{kind: errNotFound, message: e.message}
	}
	switch e.kind {
	case errNotFound:
		return http.StatusNotFound, "application/problem+json", rentalotProblem{
			Type:   "https://rentalot.ai/problems/not-found",
			Title:  "Not Found",
			Status: http.StatusNotFound,
			Detail: e.message,
		}
	case errUnauthorized:
		status, body.Error.Code = http.StatusUnauthorized, "unauthorized"
	case errMalformed, errInvalid:
		status, body.Error.Code = http.StatusUnprocessableEntity, "validation_error"
		body.Error.Message = "Request validation failed"
		body.Error.Details = e.details
	case errRateLimited:
		status, body.Error.Code = http.StatusTooManyRequests, "rate_limit_exceeded"
	case errMethod:
		status, body.Error.Code = http.StatusMethodNotAllowed, "method_not_allowed"
	case errStatus:
		status, body.Error.Code = e.status, statusCode(e.status, rentalotCodes, strings.ToLower)
	default:
		status, body.Error.Code = max(e.status, http.StatusInternalServerError), "internal_error"
	}
	return status, ct, body
}

// rentalotCodes are Rentalot's error codes by status (a 404 is problem
// details).
var rentalotCodes = map[int]string{
	400: "bad_request", 401: "unauthorized", 402: "payment_required", 403: "forbidden",
	409: "conflict", 422: "validation_error", 429: "rate_limit_exceeded",
}

func (rentalotAPI) decorate(int, http.Header) {}

func (rentalotAPI) rateLimit() (int, string) { return rentalotRateLimit, "conversations" }

// Rentalot lists conversations by lastMessageAt, most recent first.
func (rentalotAPI) listsByActivity() bool { return true }

// pageParams reads page and limit (1–100, default 20) and applies the page
// size cap.
func (a rentalotAPI) pageParams(p params) (page, limit int, err *apiError) {
	if page, err = p.integer("page", 1, 1, math.MaxInt32); err != nil {
		return 0, 0, err
	}
	if limit, err = p.integer("limit", 20, 1, 100); err != nil {
		return 0, 0, err
	}
	return page, a.s.capLimit(limit), nil
}

func (a rentalotAPI) listConversations(raw string) (any, *apiError) {
	p, err := parseParams(raw, "page", "limit", "contactId", "status")
	if err != nil {
		return nil, err
	}
	page, limit, err := a.pageParams(p)
	if err != nil {
		return nil, err
	}
	status, err := p.enum("status", "active", "archived")
	if err != nil {
		return nil, err
	}
	contact := p.str("contactId")
	var convs []*convo.Conversation
	for i := range a.s.data.Conversations {
		c := &a.s.data.Conversations[i].Conversation
		if (contact == "" || c.ContactID == contact) && (status == "" || c.Status == status) {
			convs = append(convs, c)
		}
	}
	from, to := window(len(convs), (page-1)*limit, limit)
	out := newRentalotPage[rentalotConversation](page, limit, to-from)
	for _, c := range convs[from:to] {
		out.Data = append(out.Data, renderRentalotConversation(c))
	}
	total, pages := len(convs), (len(convs)+limit-1)/limit
	out.Pagination.Total, out.Pagination.TotalPages = &total, &pages
	return out, nil
}

func (a rentalotAPI) getConversation(id, raw string) (any, *apiError, bool) {
	if _, err := parseParams(raw); err != nil {
		return nil, err, true
	}
	conv, ok := a.s.conversation(id)
	if !ok {
		return nil, &apiError{kind: errNotFound, message: "Conversation not found"}, true
	}
	return struct {
		Data rentalotConversation `json:"data"`
	}{renderRentalotConversation(&conv.Conversation)}, nil, true
}

func (a rentalotAPI) listMessages(id, raw string) (any, *apiError) {
	conv, ok := a.s.conversation(id)
	if !ok {
		return nil, &apiError{kind: errNotFound, message: "Conversation not found"}
	}
	p, err := parseParams(raw, "page", "limit")
	if err != nil {
		return nil, err
	}
	page, limit, err := a.pageParams(p)
	if err != nil {
		return nil, err
	}
	msgs := conv.Messages
	from, to := window(len(msgs), (page-1)*limit, limit)
	out := newRentalotPage[rentalotMessage](page, limit, to-from)
	for i := from; i < to; i++ {
		out.Data = append(out.Data, renderRentalotMessage(conv, newestFirst(msgs, i)))
	}
	return out, nil
}

// search is a case-insensitive substring match over every message's
// content, most recent first.
func (a rentalotAPI) search(raw string) (any, *apiError, bool) {
	p, err := parseParams(raw, "query", "limit")
	if err != nil {
		return nil, err, true
	}
	q := p.str("query")
	switch n := utf8.RuneCountInString(q); {
	case !p.has("query"):
		return nil, invalid("query", "Required"), true
	case n < 1:
		return nil, invalid("query", "String must contain at least 1 character(s)"), true
	case n > 500:
		return nil, invalid("query", "String must contain at most 500 character(s)"), true
	}
	limit, err := p.integer("limit", 10, 1, 50)
	if err != nil {
		return nil, err, true
	}
	type hit struct {
		conv *ConversationData
		msg  *convo.Message
		at   time.Time
	}
	var hits []hit
	needle := strings.ToLower(q)
	for i := range a.s.data.Conversations {
		c := &a.s.data.Conversations[i]
		for j := range c.Messages {
			m := &c.Messages[j]
			if strings.Contains(strings.ToLower(cmp.Or(m.Body, m.Content)), needle) {
				hits = append(hits, hit{c, m, firstTime(m.SentAt, m.CreatedAt)})
			}
		}
	}
	sort.SliceStable(hits, func(i, j int) bool { return hits[i].at.After(hits[j].at) })
	hits = hits[:min(len(hits), limit)]
	out := struct {
		Data  []rentalotSearchResult `json:"data"`
		Total int                    `json:"total"`
	}{Data: make([]rentalotSearchResult, len(hits)), Total: len(hits)}
	for i, h := range hits {
		out.Data[i] = rentalotSearchResult{
			MessageID:      h.msg.ID,
			Content:        cmp.Or(h.msg.Body, h.msg.Content),
			Direction:      string(h.msg.Direction),
			Channel:        cmp.Or(h.msg.Channel, h.conv.Conversation.Channel),
			SentAt:         timestamp(h.at),
			ConversationID: h.conv.Conversation.ID,
			ContactName:    nullable(h.conv.ContactName),
		}
	}
	return out, nil, true
}

// rentalotConversation has the fields of the docs page and of the OpenAPI
// spec (channel, messageCount).
type rentalotConversation struct {
	ID            string  `json:"id"`
	ContactID     string  `json:"contactId"`
	PropertyID    *string `json:"propertyId"`
	Channel       string  `json:"channel"`
	Status        string  `json:"status"`
	StartedAt     *string `json:"startedAt"`
	LastMessageAt *string `json:"lastMessageAt"`
	MessageCount  int     `json:"messageCount"`
	CreatedAt     *string `json:"createdAt"`
	UpdatedAt     *string `json:"updatedAt"`
}

func renderRentalotConversation(c *convo.Conversation) rentalotConversation {
	return rentalotConversation{
		ID:            c.ID,
		ContactID:     c.ContactID,
		PropertyID:    nullable(c.PropertyID),
		Channel:       c.Channel,
		Status:        c.Status,
		StartedAt:     timestamp(firstTime(c.StartedAt, c.CreatedAt)),
		LastMessageAt: timestamp(c.LastMessageAt),
		MessageCount:  c.MessageCount,
		CreatedAt:     timestamp(c.CreatedAt),
		UpdatedAt:     timestamp(firstTime(c.UpdatedAt, c.LastMessageAt, c.CreatedAt)),
	}
}

type rentalotMessage struct {
	ID             string          `json:"id"`
	ConversationID string          `json:"conversationId"`
	Direction      string          `json:"direction"`
	Content        string          `json:"content"`
	Channel        string          `json:"channel"`
	Metadata       json.RawMessage `json:"metadata"`
	SentAt         *string         `json:"sentAt"`
	CreatedAt      *string         `json:"createdAt"`
}

func renderRentalotMessage(conv *ConversationData, m *convo.Message) rentalotMessage {
	w := rentalotMessage{
		ID:             m.ID,
		ConversationID: cmp.Or(m.ConversationID, conv.Conversation.ID),
		Direction:      string(m.Direction),
		Content:        cmp.Or(m.Body, m.Content),
		Channel:        cmp.Or(m.Channel, conv.Conversation.Channel),
		Metadata:       m.Metadata,
		SentAt:         timestamp(firstTime(m.SentAt, m.CreatedAt)),
		CreatedAt:      timestamp(firstTime(m.CreatedAt, m.SentAt)),
	}
	if !json.Valid(w.Metadata) {
		w.Metadata = nil // null
	}
	return w
}

type rentalotSearchResult struct {
	MessageID      string  `json:"messageId"`
	Content        string  `json:"content"`
	Direction      string  `json:"direction"`
	Channel        string  `json:"channel"`
	SentAt         *string `json:"sentAt"`
	ConversationID string  `json:"conversationId"`
	ContactName    *string `json:"contactName"`
}

// A Rentalot conversation's change in place (a status archived) moves its
// updatedAt to the server's clock, unless the change sets updatedAt
// itself; lastMessageAt, and so the list order, stay.
func (rentalotAPI) conversationChanged(c, was *convo.Conversation, now time.Time) {
	served := firstTime(was.UpdatedAt, was.LastMessageAt, was.CreatedAt)
	if c.UpdatedAt.IsZero() || c.UpdatedAt.Equal(served) || c.UpdatedAt.Equal(was.UpdatedAt) {
		c.UpdatedAt = laterThan(now.UTC(), served)
	}
}

// Rentalot documents no change of a message (metadata is free-form: a
// change of it has no other effect) and no redaction.
func (rentalotAPI) messageChanged(_ *ConversationData, m *convo.Message, _ bool) bool {
	return m.RedactedAt.IsZero()
}

// ---- Demo data ----

type property struct {
	id, short, addr, beds, rent string
}

var rentalotTopics = [][]turn{
	{in("Hi, I'm interested in {short}. Is it still available?"), out("Yes, it's available! Would you like to schedule a showing?"),
		in("Yes, can I see it on {day}?"), out("I have {day} at 5:30pm or 6:15pm open for a showing. Which works?"),
		in("5:30 works"), out("Great, your showing is booked for {day} at 5:30pm at {addr}. See you there!")},
	{in("Do you allow pets? I have a small dog."), out("Yes! Cats and dogs under 30 lbs are welcome at {addr} with a $300 pet deposit."),
		in("Is there a monthly pet fee too?"), out("It's $35/month per pet."), in("Ok, that works for me")},
	{in("I'm looking for a {beds} apartment under $2,000"), out("We have a {beds} at {addr} for {rent}/month. Want photos or to book a showing?"),
		in("Photos please"), out("Here you go: https://rentalot.ai/p/{code}. The bedrooms get great morning light."),
		in("Looks nice. Is parking included?"), out("One parking spot is included; a second one is $75/month.")},
	{in("What do I need to apply for {short}?"), out("You'll need a photo ID, proof of income (3x the rent), and the $45 application fee: https://rentalot.ai/apply/{code}"),
		in("Submitted!"), out("Thanks, {name}! We'll review your application within 48 hours."),
		out("Good news: your application is approved. The lease is ready to sign."), in("Amazing, signing now")},
	{in("Something came up, can we move my showing to {day}?"), out("No problem, I've moved your showing to {day} at 6pm."),
		in("Thank you"), out("You're welcome! Text me if anything changes.")},
	{in("How long is the lease for the {beds}?"), out("Leases are 12 months; a 6-month lease is possible for an extra $150/month."),
		in("Are utilities included?"), out("Water and trash are included; electricity and internet are on the tenant."),
		in("And the security deposit?"), out("One month's rent, {rent}, due at lease signing.")},
}

var rentalotFollowUps = []turn{
	in("Is the bedroom big enough for a queen bed?"), out("Yes, the main bedroom fits a queen with room for a dresser."),
	in("Is there laundry in the building?"), out("There's a shared laundry room on the ground floor."),
	in("Thanks!"), out("Anytime! Let me know if you'd like to book a showing."),
	in("Is the neighborhood quiet at night?"), out("It's a residential street, generally very quiet after 9pm."),
	in("When is the earliest move-in date?"), out("The unit is available from the 1st of next month."),
	in("Does the apartment have a dishwasher?"), out("Yes, the kitchen has a dishwasher and a gas range."),
	in("Is smoking allowed?"), out("All our buildings are smoke-free, including balconies."),
	in("Can I do a virtual showing instead?"), out("Absolutely, I can host a video showing over WhatsApp. What time suits you?"),
	in("Is there storage space?"), out("Each unit comes with a storage locker in the basement."),
}

var rentalotTalk = talk{
	now:       time.Date(2026, 2, 20, 18, 0, 0, 0, time.UTC),
	followUps: rentalotFollowUps,
	longTurns: [2]int{45, 60},
	minAge:    time.Hour,
	maxAge:    45 * 24 * time.Hour,
}

func demoRentalot(g *gen) *Dataset {
	props := []property{
		{g.uuid(), "the 2BR on Main St", "412 Main St, Apt 3B", "2-bedroom", "$1,850"},
		{g.uuid(), "the studio on Elm Ave", "14 Elm Ave, Unit 2", "studio", "$1,200"},
		{g.uuid(), "the 3-bedroom townhouse on Oak Ridge Dr", "88 Oak Ridge Dr", "3-bedroom", "$2,650"},
		{g.uuid(), "the 1BR loft on Harbor St", "230 Harbor St, Loft 5", "1-bedroom", "$1,575"},
	}
	contacts := make([]string, 6)
	for i := range contacts {
		contacts[i] = g.uuid()
	}
	return g.dataset(34, 40, func(i, long int) ConversationData {
		prop := props[g.intn(len(props))]
		channel := g.weighted([]string{"whatsapp", "telegram", "sms", "gmail"}, []int{45, 10, 30, 15})
		topic := rentalotTopics[g.intn(len(rentalotTopics))]
		first := g.pick(firstNames)
		fill := map[string]string{"short": prop.short, "addr": prop.addr, "beds": prop.beds, "rent": prop.rent,
			"day": g.pick(weekdays), "name": first, "code": g.hex(8)}
		ts, times := g.talk(rentalotTalk, topic, fill, i, long)
		start := times[0]
		contact := g.uuid()
		if i < 12 { // some prospects have several conversations
			contact = contacts[i%len(contacts)]
		}
		c := convo.Conversation{
			ID:            g.uuid(),
			ContactID:     contact,
			PropertyID:    prop.id,
			Channel:       channel,
			Status:        g.weighted([]string{"active", "archived"}, []int{70, 30}),
			StartedAt:     start,
			CreatedAt:     start,
			LastMessageAt: times[len(times)-1],
			UpdatedAt:     times[len(times)-1],
			MessageCount:  len(ts),
		}
		cd := ConversationData{Conversation: c}
		if !g.chance(0.1) {
			cd.ContactName = first + " " + g.pick(lastNames)
		}
		for j, t := range ts {
			m := convo.Message{
				ID:             g.uuid(),
				ConversationID: c.ID,
				Direction:      direction(t.in),
				Body:           t.text,
				Content:        t.text,
				Channel:        channel,
				SentAt:         times[j],
				CreatedAt:      times[j].Add(time.Duration(g.intn(3)) * time.Second),
			}
			switch {
			case channel == "gmail" && t.in && j == 0:
				m.Metadata = json.RawMessage(marshalCompact(map[string]string{"subject": "Inquiry about " + prop.addr}))
			case !t.in && g.chance(0.12):
				m.Metadata = json.RawMessage(`{"generatedBy":"ai","model":"leasing-agent-v2"}`)
			}
			cd.Messages = append(cd.Messages, m)
		}
		return cd
	})
}
