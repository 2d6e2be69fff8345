package convotest

import (
	"cmp"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/convokit/convo"
)

// DemoVantaxAIKey is the API key a VantaxAI [Server] accepts, as a bearer
// token or in the x-api-key header; any other credential (or none) gets
// VantaxAI's 401 error envelope.
const DemoVantaxAIKey = "vx_live_demo_3fa9c2e1b7d04a6f"

var vantaxFake = fake{
	provider:          convo.VantaxAI,
	api:               func(s *Server) api { return vantaxAPI{s} },
	demo:              demoVantax,
	credentialHeaders: []string{"X-Api-Key"},
	demoEnv:           map[string]string{"VANTAXAI_API_KEY": DemoVantaxAIKey},
}

// VantaxAI: bearer vx_live_… key (or x-api-key); lists
// {"success":true,"data":[…],"pagination":{"total","limit","has_more"}} paged
// with starting_after; errors {"success":false,"message"} and, on 422, an
// "errors" array.
type vantaxAPI struct{ s *Server }

func (vantaxAPI) auth() convo.Authenticator { return convo.Bearer(DemoVantaxAIKey) }

func (vantaxAPI) authorized(h http.Header) bool {
	if tok, ok := bearerToken(h); ok {
		return equal(tok, DemoVantaxAIKey)
	}
	return h.Get("X-Api-Key") != "" && equal(h.Get("X-Api-Key"), DemoVantaxAIKey)
}

func (vantaxAPI) unauthorized(h http.Header) *apiError {
	if _, ok := bearerToken(h); !ok && h.Get("X-Api-Key") == "" {
		return &apiError{kind: errUnauthorized, message: "Missing API key"}
	}
	return &apiError{kind: errUnauthorized, message: "Invalid API key"}
}

type vantaxError struct {
	Success bool         `json:"success"`
	Message string       `json:"message"`
	Errors  []fieldError `json:"errors,omitempty"`
}

func (vantaxAPI) renderError(_ int, e *apiError) (int, string, any) {
	body := vantaxError{Message: e.message}
	var status int
	switch e.kind {
	case errUnauthorized:
		status = http.StatusUnauthorized
	case errNotFound:
		status = http.StatusNotFound
	case errMalformed, errInvalid:
		status = http.StatusUnprocessableEntity
		body.Message = "Validation failed"
		body.Errors = e.details
		if body.Errors == nil {
			body.Errors = []fieldError{}
		}
	case errRateLimited:
		status = http.StatusTooManyRequests
	case errMethod:
		status = http.StatusMethodNotAllowed
	case errStatus:
		// VantaxAI documents its codes but no field for them: the
		// message is the code.
		status, body.Message = e.status, statusCode(e.status, vantaxCodes, strings.ToLower)
		if status == http.StatusUnprocessableEntity {
			body.Errors = []fieldError{}
		}
	default:
		status = max(e.status, http.StatusInternalServerError)
	}
	return status, "application/json; charset=utf-8", body
}

// vantaxCodes are VantaxAI's documented error codes by status.
var vantaxCodes = map[int]string{
	400: "validation_failed", 401: "unauthorized", 402: "subscription_required", 403: "forbidden_scope",
	404: "not_found", 409: "conflict", 422: "validation_failed", 429: "rate_limited",
}

func (vantaxAPI) decorate(int, http.Header) {}

func (vantaxAPI) rateLimit() (int, string) { return 0, "" }

// VantaxAI lists conversations by last_message_at, newest first.
func (vantaxAPI) listsByActivity() bool { return true }

type vantaxList[T any] struct {
	Success    bool `json:"success"`
	Data       []T  `json:"data"`
	Pagination struct {
		Total   int  `json:"total"`
		Limit   int  `json:"limit"`
		HasMore bool `json:"has_more"`
	} `json:"pagination"`
}

// page returns the window after starting_after.
func vantaxPage(n int, id func(int) string, after string, limit int) (from, to int, err *apiError) {
	start := 0
	if after != "" {
		var ok bool
		if start, ok = indexAfter(id, n, after); !ok {
			return 0, 0, invalid("starting_after", "no such id in this list")
		}
	}
	from, to = window(n, start, limit)
	return from, to, nil
}

func (a vantaxAPI) listConversations(raw string) (any, *apiError) {
	p, err := parseParams(raw, "sub_account_id", "channel", "status", "limit", "starting_after")
	if err != nil {
		return nil, err
	}
	limit, err := p.integer("limit", 20, 1, 100)
	if err != nil {
		return nil, err
	}
	channel, err := p.enum("channel", "sms", "whatsapp", "facebook", "instagram", "email")
	if err != nil {
		return nil, err
	}
	status, err := p.enum("status", "open", "pending", "closed")
	if err != nil {
		return nil, err
	}
	sub := p.str("sub_account_id")
	var convs []*convo.Conversation
	for i := range a.s.data.Conversations {
		c := &a.s.data.Conversations[i].Conversation
		if (sub == "" || c.SubAccountID == sub) && (channel == "" || c.Channel == channel) && (status == "" || c.Status == status) {
			convs = append(convs, c)
		}
	}
	limit = a.s.capLimit(limit)
	from, to, err := vantaxPage(len(convs), func(i int) string { return convs[i].ID }, p.str("starting_after"), limit)
	if err != nil {
		return nil, err
	}
	out := vantaxList[vantaxConversation]{Success: true, Data: make([]vantaxConversation, 0, to-from)}
	for _, c := range convs[from:to] {
		out.Data = append(out.Data, renderVantaxConversation(c))
	}
	out.Pagination.Total, out.Pagination.Limit, out.Pagination.HasMore = len(convs), limit, to < len(convs)
	return out, nil
}

func (a vantaxAPI) getConversation(id, raw string) (any, *apiError, bool) {
	if _, err := parseParams(raw); err != nil {
		return nil, err, true
	}
	conv, ok := a.s.conversation(id)
	if !ok {
		return nil, &apiError{kind: errNotFound, message: "Conversation not found"}, true
	}
	return struct {
		Success bool               `json:"success"`
		Data    vantaxConversation `json:"data"`
	}{true, renderVantaxConversation(&conv.Conversation)}, nil, true
}

func (vantaxAPI) search(string) (any, *apiError, bool) { return nil, nil, false }

func (a vantaxAPI) listMessages(id, raw string) (any, *apiError) {
	conv, ok := a.s.conversation(id)
	if !ok {
		return nil, &apiError{kind: errNotFound, message: "Conversation not found"}
	}
	p, err := parseParams(raw, "limit", "starting_after")
	if err != nil {
		return nil, err
	}
	limit, err := p.integer("limit", 50, 1, 100)
	if err != nil {
		return nil, err
	}
	msgs := conv.Messages // oldest first
	limit = a.s.capLimit(limit)
	from, to, err := vantaxPage(len(msgs), func(i int) string { return msgs[i].ID }, p.str("starting_after"), limit)
	if err != nil {
		return nil, err
	}
	out := vantaxList[vantaxMessage]{Success: true, Data: make([]vantaxMessage, 0, to-from)}
	for i := from; i < to; i++ {
		out.Data = append(out.Data, renderVantaxMessage(conv, &msgs[i]))
	}
	out.Pagination.Total, out.Pagination.Limit, out.Pagination.HasMore = len(msgs), limit, to < len(msgs)
	return out, nil
}

type vantaxConversation struct {
	ID            string            `json:"id"`
	SubAccountID  string            `json:"sub_account_id"`
	Channel       string            `json:"channel"`
	ContactID     string            `json:"contact_id"`
	Status        string            `json:"status"`
	Tags          []string          `json:"tags"`
	Metadata      map[string]string `json:"metadata"`
	UnreadCount   int               `json:"unread_count"`
	LastMessageAt *string           `json:"last_message_at"`
	CreatedAt     *string           `json:"created_at"`
}

func renderVantaxConversation(c *convo.Conversation) vantaxConversation {
	w := vantaxConversation{
		ID:            c.ID,
		SubAccountID:  c.SubAccountID,
		Channel:       c.Channel,
		ContactID:     c.ContactID,
		Status:        c.Status,
		Tags:          c.Tags,
		Metadata:      c.Metadata,
		UnreadCount:   c.UnreadCount,
		LastMessageAt: timestamp(c.LastMessageAt),
		CreatedAt:     timestamp(c.CreatedAt),
	}
	if w.Tags == nil {
		w.Tags = []string{}
	}
	if w.Metadata == nil {
		w.Metadata = map[string]string{}
	}
	return w
}

type vantaxMessage struct {
	ID             string   `json:"id"`
	ConversationID string   `json:"conversation_id"`
	Channel        string   `json:"channel"`
	Direction      string   `json:"direction"`
	Content        string   `json:"content"`
	Subject        *string  `json:"subject"`
	SenderType     string   `json:"sender_type"`
	MediaURL       []string `json:"media_url"`
	Status         string   `json:"status"`
	CreatedAt      *string  `json:"created_at"`
}

func renderVantaxMessage(conv *ConversationData, m *convo.Message) vantaxMessage {
	sender := m.SenderType
	if sender == "" {
		sender = "ai"
		if m.Direction == convo.Inbound {
			sender = "contact"
		}
	}
	w := vantaxMessage{
		ID:             m.ID,
		ConversationID: cmp.Or(m.ConversationID, conv.Conversation.ID),
		Channel:        cmp.Or(m.Channel, conv.Conversation.Channel),
		Direction:      string(m.Direction),
		Content:        cmp.Or(m.Body, m.Content),
		Subject:        nullable(m.Subject),
		SenderType:     sender,
		MediaURL:       m.MediaURLs,
		Status:         m.Status,
		CreatedAt:      timestamp(firstTime(m.SentAt, m.CreatedAt)),
	}
	if w.MediaURL == nil {
		w.MediaURL = []string{}
	}
	return w
}

// A VantaxAI conversation's status, tags, metadata or unread count change
// in place; last_message_at does not move, nor the list order.
func (vantaxAPI) conversationChanged(*convo.Conversation, *convo.Conversation, time.Time) {}

// A VantaxAI message's status changes with no other effect; VantaxAI
// documents no redaction.
func (vantaxAPI) messageChanged(_ *ConversationData, m *convo.Message, _ bool) bool {
	return m.RedactedAt.IsZero()
}

// ---- Demo data ----

var vantaxTopics = [][]turn{
	{in("Hi, how much for a deep clean of a 3-bedroom house?"), out("Hi {name}! A deep clean for a 3-bedroom home starts at $240. Would you like to book a visit?"),
		in("Yes, is {day} possible?"), out("{day} at 9am is open. Shall I reserve it?"), in("Perfect"),
		out("Done! You'll get a confirmation shortly.")},
	{in("My AC stopped blowing cold air this morning"), out("Sorry to hear that, {name}. Is the outdoor unit running?"),
		in("It hums but the fan doesn't spin"), out("That sounds like a capacitor. A technician can come {day} between 1 and 4pm. Does that work?"),
		in("Yes please"), out("You're booked. The visit fee is $89, waived if you go ahead with the repair.")},
	{in("Can I move my appointment to next week?"), out("Of course. Which day works best for you?"),
		in("{day} afternoon"), out("I've moved you to {day} at 2pm. See you then!")},
	{in("I was charged $189 but the quote said $160"), out("Thanks for flagging this, {name}. Let me pull up invoice #{order}."),
		out("You're right: a parts line was added in error. I've refunded $29 to your card."), in("Thank you for sorting it out so fast")},
	{in("Do you service Brooklyn?"), out("Yes, we cover all of Brooklyn and Queens. What do you need help with?"),
		in("A leaking kitchen faucet"), out("A plumber can come {day} morning. The standard call-out is $75.")},
	{in("Hello, I'd like a quote for gutter cleaning."), out("Happy to help! Roughly how many stories is the house?"),
		in("Two stories, about 150 feet of gutter"), out("That would be $180 including downspout flushing. Want to book it?"),
		in("Let me check with my partner first"), out("No problem, just reply here when you're ready.")},
}

var vantaxFollowUps = []turn{
	in("Also, do you offer a maintenance plan?"), out("Yes: the Home Care plan is $19/month and includes two tune-ups a year."),
	in("Will the technician call before arriving?"), out("Yes, they'll text you 30 minutes before they arrive."),
	in("Thanks!"), out("Anytime! Let us know if there's anything else."),
	in("Can I pay by bank transfer?"), out("Yes, the invoice includes our bank details."),
	in("Do you bring your own supplies?"), out("Yes, our team brings all supplies and equipment."),
	in("Is there a discount for seniors?"), out("Yes, seniors get 10% off every service."),
	in("How long will the visit take?"), out("Most visits take about two hours."),
	in("Can I get the invoice by email?"), out("Sure, it will be emailed to you right after the visit."),
}

var vantaxTalk = talk{
	now:       time.Date(2026, 6, 12, 9, 0, 0, 0, time.UTC),
	followUps: vantaxFollowUps,
	longTurns: [2]int{56, 70},
	minAge:    time.Hour,
	maxAge:    20 * 24 * time.Hour,
}

func demoVantax(g *gen) *Dataset {
	subs := []string{"sub_8a1f4c2e", "sub_5d03b7a9"}
	return g.dataset(32, 40, func(i, long int) ConversationData {
		channel := g.weighted([]string{"sms", "whatsapp", "facebook", "instagram", "email"}, []int{30, 25, 15, 12, 18})
		topic := vantaxTopics[g.intn(len(vantaxTopics))]
		name := g.pick(firstNames)
		fill := map[string]string{"name": name, "day": g.pick(weekdays), "order": fmt.Sprint(g.between(2000, 9999))}
		ts, times := g.talk(vantaxTalk, topic, fill, i, long)
		start := times[0]
		c := convo.Conversation{
			ID:            "conv_" + g.hex(6),
			SubAccountID:  subs[min(g.intn(10)/7, 1)],
			Channel:       channel,
			ContactID:     "ct_" + g.hex(6),
			Status:        g.weighted([]string{"open", "pending", "closed"}, []int{45, 20, 35}),
			Tags:          []string{},
			Metadata:      map[string]string{},
			CreatedAt:     start,
			LastMessageAt: times[len(times)-1],
		}
		for _, tag := range []string{"vip", "billing", "support", "lead", "renewal"} {
			if g.chance(0.18) {
				c.Tags = append(c.Tags, tag)
			}
		}
		switch g.intn(4) {
		case 0:
			c.Metadata["source"] = "campaign_spring_2026"
		case 1:
			c.Metadata["source"] = "website_chat"
			c.Metadata["utm_campaign"] = "summer_ac_tuneup"
		case 2:
			c.Metadata["crm_id"] = "hs_" + fmt.Sprint(g.between(100000, 999999))
		}
		cd := ConversationData{Conversation: c, ContactName: name + " " + g.pick(lastNames)}
		subject := g.pick([]string{"Quote request", "Service appointment", "Question about my invoice", "Booking"})
		for j, t := range ts {
			m := convo.Message{
				ID:             "msg_" + g.hex(10),
				ConversationID: c.ID,
				Direction:      direction(t.in),
				Body:           t.text,
				Content:        t.text,
				SentAt:         times[j],
				CreatedAt:      times[j],
				Channel:        channel,
				SenderType:     map[bool]string{true: "contact", false: "ai"}[t.in],
			}
			if channel == "email" {
				m.Subject = subject
				if j > 0 {
					m.Subject = "Re: " + subject
				}
			}
			if t.in {
				m.Status = "received"
				if channel != "email" && g.chance(0.07) {
					m.MediaURLs = []string{"https://cdn.vantaxai.com/media/" + g.hex(20) + ".jpg"}
				}
			} else {
				m.Status = g.weighted([]string{"delivered", "read", "sent", "failed"}, []int{40, 40, 15, 5})
			}
			cd.Messages = append(cd.Messages, m)
		}
		if c.Status != "closed" {
			for j := len(cd.Messages) - 1; j >= 0 && cd.Messages[j].Direction == convo.Inbound; j-- {
				cd.Conversation.UnreadCount++
			}
		}
		return cd
	})
}
