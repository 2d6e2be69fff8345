package convotest

import (
	"cmp"
	"encoding/base64"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/convokit/convo"
)

// DemoAgentMessageKey is the bearer API key an AgentMessage [Server]
// accepts; any other credential (or none) gets AgentMessage's 401 error
// envelope.
const DemoAgentMessageKey = "am_live_demo_52b8f1c07e3a49d6"

var agentMessageFake = fake{
	provider: convo.AgentMessage,
	api:      func(s *Server) api { return agentMessageAPI{s} },
	demo:     demoAgentMessage,
	demoEnv:  map[string]string{"AGENTMESSAGE_API_KEY": DemoAgentMessageKey},
}

// AgentMessage: bearer am_live_… key; lists
// {"success":true,"data":[…],"meta":{"total","limit","offset","next_cursor"}}
// paged by an opaque cursor, next_cursor null on the last page; errors
// {"success":false,"error":{code,message,request_id,details}} with the
// request id also in X-Request-Id on every response.
type agentMessageAPI struct{ s *Server }

func (agentMessageAPI) auth() convo.Authenticator { return convo.Bearer(DemoAgentMessageKey) }

func (agentMessageAPI) authorized(h http.Header) bool {
	tok, ok := bearerToken(h)
	return ok && equal(tok, DemoAgentMessageKey)
}

func (agentMessageAPI) unauthorized(http.Header) *apiError {
	return &apiError{kind: errUnauthorized, message: "authentication failed"}
}

type agentMessageError struct {
	Success bool `json:"success"`
	Error   struct {
		Code      string            `json:"code"`
		Message   string            `json:"message"`
		RequestID string            `json:"request_id"`
		Details   map[string]string `json:"details,omitempty"`
	} `json:"error"`
}

func (agentMessageAPI) renderError(n int, e *apiError) (int, string, any) {
	var body agentMessageError
	body.Error.Message = e.message
	body.Error.RequestID = requestID(n)
	var status int
	switch e.kind {
	case errUnauthorized:
		status, body.Error.Code = http.StatusUnauthorized, "UNAUTHORIZED"
	case errNotFound:
		status, body.Error.Code = http.StatusNotFound, "NOT_FOUND"
	case errMalformed:
		status, body.Error.Code = http.StatusBadRequest, "INVALID_INPUT"
		body.Error.Details = e.detailMap()
	case errInvalid:
		status, body.Error.Code = http.StatusUnprocessableEntity, "VALIDATION_FAILED"
		body.Error.Message = "validation failed"
		body.Error.Details = e.detailMap()
	case errRateLimited:
		status, body.Error.Code = http.StatusTooManyRequests, "RATE_LIMITED"
	case errMethod:
		status, body.Error.Code = http.StatusMethodNotAllowed, "METHOD_NOT_ALLOWED"
	case errStatus:
		status, body.Error.Code = e.status, statusCode(e.status, agentMessageCodes, strings.ToUpper)
	default:
		status, body.Error.Code = max(e.status, http.StatusInternalServerError), "INTERNAL_ERROR"
	}
	return status, "application/json; charset=utf-8", body
}

// agentMessageCodes are AgentMessage's documented error codes by status.
var agentMessageCodes = map[int]string{
	400: "INVALID_INPUT", 401: "UNAUTHORIZED", 402: "PAYMENT_REQUIRED", 403: "FORBIDDEN",
	404: "NOT_FOUND", 409: "CONFLICT", 422: "VALIDATION_FAILED", 429: "RATE_LIMITED",
}

func (agentMessageAPI) decorate(n int, h http.Header) { h.Set("X-Request-Id", requestID(n)) }

func (agentMessageAPI) rateLimit() (int, string) { return 0, "" }

// AgentMessage lists conversations newest first.
func (agentMessageAPI) listsByActivity() bool { return true }

type agentMessageList[T any] struct {
	Success bool `json:"success"`
	Data    []T  `json:"data"`
	Meta    struct {
		Total      int     `json:"total"` // unreliable, as documented: always 0 here
		Limit      int     `json:"limit"`
		Offset     int     `json:"offset"`
		NextCursor *string `json:"next_cursor"`
	} `json:"meta"`
}

type agentMessageCursor struct {
	After string `json:"after"`
	Epoch int    `json:"e,omitempty"` // see Server.ExpireCursors
}

// page pages n items for a cursor and limit (1–200, default 50).
func (a agentMessageAPI) page(p params, n int, id func(int) string) (from, to, limit int, next *string, err *apiError) {
	if limit, err = p.integer("limit", 50, 1, 200); err != nil {
		return 0, 0, 0, nil, err
	}
	limit = a.s.capLimit(limit)
	start := 0
	if cur := p.str("cursor"); cur != "" {
		var c agentMessageCursor
		ok := readCursor(cur, &c) && c.Epoch == a.s.epoch
		if ok {
			start, ok = indexAfter(id, n, c.After)
		}
		if !ok {
			return 0, 0, 0, nil, malformed("cursor", "invalid cursor")
		}
	}
	from, to = window(n, start, limit)
	if to < n {
		s := makeCursor(agentMessageCursor{After: id(to - 1), Epoch: a.s.epoch})
		next = &s
	}
	return from, to, limit, next, nil
}

func (a agentMessageAPI) listConversations(raw string) (any, *apiError) {
	p, err := parseParams(raw, "cursor", "limit", "phone_number_id", "contact_number", "since", "opted_in")
	if err != nil {
		return nil, err
	}
	var since time.Time
	if p.has("since") {
		t, perr := time.Parse(time.RFC3339Nano, p.str("since"))
		if perr != nil {
			return nil, malformed("since", "must be an RFC 3339 date-time")
		}
		since = t
	}
	var optedIn *bool
	if p.has("opted_in") {
		switch p.str("opted_in") {
		case "true":
			v := true
			optedIn = &v
		case "false":
			v := false
			optedIn = &v
		default:
			return nil, malformed("opted_in", "must be true or false")
		}
	}
	phoneID, contact := p.str("phone_number_id"), p.str("contact_number")
	var convs []*convo.Conversation
	for i := range a.s.data.Conversations {
		c := &a.s.data.Conversations[i].Conversation
		switch {
		case phoneID != "" && c.PhoneNumberID != phoneID,
			contact != "" && cmp.Or(c.ContactNumber, c.ContactID) != contact,
			!since.IsZero() && c.LastMessageAt.Before(since),
			optedIn != nil && (c.Consent != nil && c.Consent.OptedIn) != *optedIn:
			continue
		}
		convs = append(convs, c)
	}
	from, to, limit, next, err := a.page(p, len(convs), func(i int) string { return convs[i].ID })
	if err != nil {
		return nil, err
	}
	out := agentMessageList[agentMessageConversation]{Success: true, Data: make([]agentMessageConversation, 0, to-from)}
	for _, c := range convs[from:to] {
		out.Data = append(out.Data, renderAgentMessageConversation(c))
	}
	out.Meta.Limit, out.Meta.Offset, out.Meta.NextCursor = limit, from, next
	return out, nil
}

func (agentMessageAPI) getConversation(string, string) (any, *apiError, bool) {
	return nil, nil, false
}

func (agentMessageAPI) search(string) (any, *apiError, bool) { return nil, nil, false }

func (a agentMessageAPI) listMessages(id, raw string) (any, *apiError) {
	conv, ok := a.s.conversation(id)
	if !ok {
		return nil, conversationNotFound(id)
	}
	p, err := parseParams(raw, "cursor", "limit")
	if err != nil {
		return nil, err
	}
	msgs := conv.Messages // chronological
	from, to, limit, next, err := a.page(p, len(msgs), func(i int) string { return msgs[i].ID })
	if err != nil {
		return nil, err
	}
	out := agentMessageList[agentMessageMessage]{Success: true, Data: make([]agentMessageMessage, 0, to-from)}
	for i := from; i < to; i++ {
		out.Data = append(out.Data, renderAgentMessageMessage(conv, &msgs[i]))
	}
	out.Meta.Limit, out.Meta.Offset, out.Meta.NextCursor = limit, from, next
	return out, nil
}

type agentMessageConsent struct {
	OptedIn   bool    `json:"opted_in"`
	OptedInAt *string `json:"opted_in_at"`
}

type agentMessageConversation struct {
	ID                        string               `json:"id"`
	PhoneNumberID             string               `json:"phone_number_id"`
	PhoneNumber               string               `json:"phone_number"`
	ContactNumber             string               `json:"contact_number"`
	LastMessageAt             *string              `json:"last_message_at"`
	LastMessageDirection      *string              `json:"last_message_direction"`
	LastMessagePreview        *string              `json:"last_message_preview"`
	LastMessageBodyRedactedAt *string              `json:"last_message_body_redacted_at"`
	MessageCount              int                  `json:"message_count"`
	Consent                   *agentMessageConsent `json:"consent"`
}

func renderAgentMessageConversation(c *convo.Conversation) agentMessageConversation {
	w := agentMessageConversation{
		ID:                        c.ID,
		PhoneNumberID:             c.PhoneNumberID,
		PhoneNumber:               c.PhoneNumber,
		ContactNumber:             cmp.Or(c.ContactNumber, c.ContactID),
		LastMessageAt:             timestamp(c.LastMessageAt),
		LastMessageDirection:      nullable(string(c.LastMessageDirection)),
		LastMessagePreview:        nullable(c.LastMessagePreview),
		LastMessageBodyRedactedAt: timestamp(c.LastMessageBodyRedactedAt),
		MessageCount:              c.MessageCount,
	}
	if c.Consent != nil {
		w.Consent = &agentMessageConsent{OptedIn: c.Consent.OptedIn, OptedInAt: timestamp(c.Consent.OptedInAt)}
	}
	return w
}

type agentMessageMessage struct {
	ID            string   `json:"id"`
	Direction     string   `json:"direction"`
	PhoneNumberID string   `json:"phone_number_id"`
	FromNumber    string   `json:"from_number"`
	ToNumber      string   `json:"to_number"`
	Body          *string  `json:"body"`
	MediaURLs     []string `json:"media_urls"`
	Channel       string   `json:"channel"`
	SegmentCount  int      `json:"segment_count"`
	CreatedAt     *string  `json:"created_at"`
	RedactedAt    *string  `json:"redacted_at"`
}

func renderAgentMessageMessage(conv *ConversationData, m *convo.Message) agentMessageMessage {
	c := &conv.Conversation
	ours, theirs := c.PhoneNumber, cmp.Or(c.ContactNumber, c.ContactID)
	from, to := ours, theirs
	if m.Direction == convo.Inbound {
		from, to = theirs, ours
	}
	w := agentMessageMessage{
		ID:            m.ID,
		Direction:     string(m.Direction),
		PhoneNumberID: cmp.Or(m.PhoneNumberID, c.PhoneNumberID),
		FromNumber:    cmp.Or(m.FromNumber, from),
		ToNumber:      cmp.Or(m.ToNumber, to),
		MediaURLs:     m.MediaURLs,
		Channel:       cmp.Or(m.Channel, "sms"),
		SegmentCount:  m.SegmentCount,
		CreatedAt:     timestamp(firstTime(m.SentAt, m.CreatedAt)),
		RedactedAt:    timestamp(m.RedactedAt),
	}
	if m.RedactedAt.IsZero() {
		body := m.Body
		w.Body = &body
		if w.SegmentCount == 0 && body != "" {
			w.SegmentCount = (len(body) + 159) / 160
		}
	} else {
		w.MediaURLs = nil // removed with the body
	}
	if w.MediaURLs == nil {
		w.MediaURLs = []string{}
	}
	return w
}

// An AgentMessage conversation's consent changes in place; last_message_at
// and message_count do not move.
func (agentMessageAPI) conversationChanged(*convo.Conversation, *convo.Conversation, time.Time) {}

// A message redacted by the retention window (RedactedAt set) loses its
// body (null on the wire) and its media; when it is the conversation's
// newest message, the conversation's preview becomes "[redacted]" and
// last_message_body_redacted_at is set. last_message_at, the direction
// and message_count stay.
func (agentMessageAPI) messageChanged(c *ConversationData, m *convo.Message, newest bool) bool {
	if m.RedactedAt.IsZero() {
		return true
	}
	m.Body, m.MediaURLs = "", nil
	if newest {
		c.Conversation.LastMessagePreview = "[redacted]"
		c.Conversation.LastMessageBodyRedactedAt = m.RedactedAt
	}
	return true
}

// ---- Demo data ----

var agentMessageTopics = [][]turn{
	{out("Hi {name}, this is Bright Smile Dental. Reminder: your cleaning is {day} at 10:00 AM. Reply C to confirm or R to reschedule."),
		in("C"), out("Thanks, you're confirmed. See you {day}!")},
	{out("Hi {name}, this is Bright Smile Dental. Reminder: your appointment is {day} at 3:30 PM."),
		in("Cancel my appointment please"), out("Your appointment on {day} is cancelled. Reply BOOK anytime to pick a new time.")},
	{out("Your package from Nimbus Outfitters is out for delivery. Track: https://nimb.us/t/{code}"),
		in("Can you leave it at the back door?"), out("Noted: the driver will leave it at the back door."), in("Thank you!")},
	{in("Hi, has my refund been processed?"), out("Checking... Your refund of ${amount} was issued on {day}. It can take 5-7 days to appear."),
		in("Ok thanks"), out("You're welcome! Reply here if it hasn't arrived by next week.")},
	{out("Hi {name}, your table for 2 at Olive & Vine is confirmed for {day} at 7:30 PM. Reply STOP to opt out."),
		in("STOP"), out("You have been unsubscribed and will receive no further messages. Reply START to resubscribe.")},
	{in("My shower is leaking again, can someone come by?"), out("Sorry about that! Can you send a photo of the leak?"),
		in("Here's a photo of the damage"), out("Thanks. A plumber can come {day} between 9 and 11 AM. Does that work?"),
		in("Yes"), out("Booked. You'll get a text when the plumber is on the way.")},
}

var agentMessageFollowUps = []turn{
	in("What's your address again?"), out("We're at 1200 Market St, Suite 400."),
	in("Thanks"), out("Anytime!"),
	in("Do you have anything earlier?"), out("The earliest opening is tomorrow at 8:30 AM."),
	in("Is parking available?"), out("Yes, free parking is behind the building."),
	in("Can I bring my kids?"), out("Of course, children are welcome."),
	in("How long will it take?"), out("About 45 minutes."),
	in("Do you take insurance?"), out("We accept most major insurance plans. Bring your card with you."),
}

var agentMessageTalk = talk{
	now:       time.Date(2026, 4, 30, 12, 0, 0, 0, time.UTC),
	followUps: agentMessageFollowUps,
	longTurns: [2]int{60, 75},
	minAge:    time.Hour,
	maxAge:    95 * 24 * time.Hour,
}

func demoAgentMessage(g *gen) *Dataset {
	now := agentMessageTalk.now
	const retention = 60 * 24 * time.Hour
	numbers := []struct{ id, number string }{
		{"7c1f0a2d-9e8b-4c3a-9d2e-1f0a2b3c4d5e", "+15551112222"},
		{"3b9e2c71-4d5a-4f1e-8b6c-9a0d1e2f3a4b", "+15553334444"},
	}
	return g.dataset(32, 40, func(i, long int) ConversationData {
		num := numbers[min(g.intn(10)/6, 1)]
		ti := g.intn(len(agentMessageTopics))
		topic := agentMessageTopics[ti]
		fill := map[string]string{"name": g.pick(firstNames), "day": g.pick(weekdays), "code": g.hex(10),
			"amount": fmt.Sprintf("%d.%02d", g.between(9, 180), g.intn(100))}
		ts, times := g.talk(agentMessageTalk, topic, fill, i, long)
		start := times[0]
		last := times[len(times)-1]
		contact := fmt.Sprintf("+1555%07d", g.intn(10000000))
		c := convo.Conversation{
			ID:                   base64.RawURLEncoding.EncodeToString(g.bytes(12)),
			ContactID:            contact,
			ContactNumber:        contact,
			PhoneNumberID:        num.id,
			PhoneNumber:          num.number,
			LastMessageAt:        last,
			LastMessageDirection: direction(ts[len(ts)-1].in),
			MessageCount:         len(ts),
		}
		redacted := now.Sub(last) > retention
		var redactedAt time.Time
		if redacted {
			redactedAt = last.Add(retention).Add(g.dur(time.Hour, 20*time.Hour)).Truncate(time.Second)
			redactedAt = minTime(redactedAt, now)
			c.LastMessagePreview = "[redacted]"
			c.LastMessageBodyRedactedAt = redactedAt
		} else {
			c.LastMessagePreview = preview(ts[len(ts)-1].text)
		}
		switch {
		case ti == 4: // opted out with STOP
			c.Consent = &convo.Consent{OptedIn: false, OptedInAt: start.Add(-g.dur(24*time.Hour, 90*24*time.Hour)).Truncate(time.Second)}
		case g.chance(0.2):
			c.Consent = nil
		default:
			c.Consent = &convo.Consent{OptedIn: true, OptedInAt: start.Add(-g.dur(time.Hour, 90*24*time.Hour)).Truncate(time.Second)}
		}
		cd := ConversationData{Conversation: c}
		for j, t := range ts {
			m := convo.Message{
				ID:            "msg_" + g.ulid(),
				Direction:     direction(t.in),
				SentAt:        times[j],
				CreatedAt:     times[j],
				Channel:       "sms",
				PhoneNumberID: num.id,
			}
			if t.in {
				m.FromNumber, m.ToNumber = contact, num.number
			} else {
				m.FromNumber, m.ToNumber = num.number, contact
			}
			if strings.Contains(t.text, "photo of the damage") {
				m.Channel = "mms"
				m.MediaURLs = []string{"https://media.agentmsg.io/mms/" + g.hex(24) + ".jpg"}
			}
			m.SegmentCount = max((len(t.text)+159)/160, 1)
			if redacted {
				m.RedactedAt = redactedAt
				m.MediaURLs = nil
			} else {
				m.Body = t.text
			}
			cd.Messages = append(cd.Messages, m)
		}
		return cd
	})
}

func minTime(a, b time.Time) time.Time {
	if a.Before(b) {
		return a
	}
	return b
}
