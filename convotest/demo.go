package convotest

import (
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/convokit/convo"
)

// DemoDataset returns the demo data of a provider, generated from seed: a
// few dozen conversations across the provider's channels and statuses with
// hundreds of messages in both directions, in the provider's id formats.
// The same provider and seed always give the same data; no clock or global
// random source is read.
//
//   - Vobiz: WhatsApp threads of a shop and a clinic; content as
//     JSON-encoded strings, some images, documents and templates; a few
//     messages without conversation_id.
//   - VantaxAI: a home-services business on SMS, WhatsApp, Facebook,
//     Instagram and email (with subjects), two sub-accounts, tags, metadata,
//     unread counts.
//   - Rentalot: a leasing agent's prospects asking about bedrooms, showings,
//     pets and leases; contact names for search.
//   - AgentMessage: SMS reminders and support; base64url conversation ids;
//     older conversations redacted by the retention window (previews
//     "[redacted]", bodies null) and some without consent.
//
// Every provider's data has one conversation longer than the provider's
// default page size. The zero Provider gets an empty dataset.
func DemoDataset(p convo.Provider, seed int64) *Dataset {
	build, ok := demos[p.Name()]
	if !ok {
		return &Dataset{}
	}
	if seed == DefaultSeed {
		// Every server made without WithData or WithSeed starts from the
		// default seed's data: it is made once for each provider and copied.
		return defaultDemos[p.Name()]().Clone()
	}
	return demoDataset(p.Name(), build, seed)
}

func demoDataset(name string, build func(*gen) *Dataset, seed int64) *Dataset {
	salt := uint64(0)
	for _, c := range name {
		salt = salt*131 + uint64(c)
	}
	g := &gen{r: rand.New(rand.NewPCG(uint64(seed), salt))}
	d := build(g)
	sort.SliceStable(d.Conversations, func(i, j int) bool {
		return lastActivity(&d.Conversations[i]).After(lastActivity(&d.Conversations[j]))
	})
	return d
}

var demos = map[string]func(*gen) *Dataset{
	"vobiz":        demoVobiz,
	"vantaxai":     demoVantax,
	"rentalot":     demoRentalot,
	"agentmessage": demoAgentMessage,
}

// defaultDemos makes, for each provider's name, its DefaultSeed dataset
// once; what it returns is never changed.
var defaultDemos = func() map[string]func() *Dataset {
	m := make(map[string]func() *Dataset, len(demos))
	for name, build := range demos {
		m[name] = sync.OnceValue(func() *Dataset { return demoDataset(name, build, DefaultSeed) })
	}
	return m
}()

// lastActivity is the time a conversation is listed by: its last message
// where the provider reports one, else its start (Vobiz).
func lastActivity(c *ConversationData) time.Time {
	return firstTime(c.Conversation.LastMessageAt, c.Conversation.StartedAt, c.Conversation.CreatedAt)
}

// gen draws everything from one seeded source.
type gen struct{ r *rand.Rand }

func (g *gen) intn(n int) int         { return g.r.IntN(n) }
func (g *gen) between(lo, hi int) int { return lo + g.r.IntN(hi-lo+1) }
func (g *gen) chance(p float64) bool  { return g.r.Float64() < p }
func (g *gen) pick(s []string) string { return s[g.r.IntN(len(s))] }
func (g *gen) dur(lo, hi time.Duration) time.Duration {
	return lo + time.Duration(g.r.Int64N(int64(hi-lo)+1))
}

func (g *gen) bytes(n int) []byte {
	b := make([]byte, n)
	for i := range b {
		b[i] = byte(g.r.Uint32())
	}
	return b
}

func (g *gen) hex(n int) string { return hex.EncodeToString(g.bytes((n + 1) / 2))[:n] }

func (g *gen) uuid() string {
	b := g.bytes(16)
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	h := hex.EncodeToString(b)
	return h[:8] + "-" + h[8:12] + "-" + h[12:16] + "-" + h[16:20] + "-" + h[20:]
}

func (g *gen) ulid() string {
	const alphabet = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
	var b [26]byte
	b[0] = '0'
	b[1] = '1'
	for i := 2; i < len(b); i++ {
		b[i] = alphabet[g.intn(32)]
	}
	return string(b[:])
}

// weighted picks a value with the given weights.
func (g *gen) weighted(values []string, weights []int) string {
	total := 0
	for _, w := range weights {
		total += w
	}
	n := g.intn(total)
	for i, w := range weights {
		if n < w {
			return values[i]
		}
		n -= w
	}
	return values[len(values)-1]
}

// turn is one scripted message: direction, text and (Vobiz) kind.
type turn struct {
	in   bool
	text string
	kind string // text, image, document, template
}

func in(text string) turn  { return turn{in: true, text: text, kind: "text"} }
func out(text string) turn { return turn{text: text, kind: "text"} }

// script fills placeholders and lengthens or shortens a topic to n turns
// with generic follow-ups.
func (g *gen) script(topic []turn, fill map[string]string, followUps []turn, n int) []turn {
	ts := append([]turn(nil), topic...)
	pairs := g.r.Perm(len(followUps) / 2) // each follow-up once before any repeats
	for k := 0; len(ts) < n; k++ {
		j := pairs[k%len(pairs)] * 2
		ts = append(ts, followUps[j], followUps[j+1])
	}
	ts = ts[:min(len(ts), n)]
	rep := strings.NewReplacer(pairsSorted(fill)...) // sorted: map order must not leak into the output
	for i := range ts {
		ts[i].text = rep.Replace(ts[i].text)
	}
	return ts
}

func pairsSorted(fill map[string]string) []string {
	keys := make([]string, 0, len(fill))
	for k := range fill {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	out := make([]string, 0, 2*len(keys))
	for _, k := range keys {
		out = append(out, "{"+k+"}", fill[k])
	}
	return out
}

// length draws a conversation length around the topic's own length; the
// conversation with index long gets more than a default page.
func (g *gen) length(topic, i, long, longLen int) int {
	if i == long {
		return longLen
	}
	switch {
	case g.chance(0.15):
		return g.between(2, max(topic-1, 2))
	case g.chance(0.3):
		return topic + g.between(2, 12)
	}
	return topic + g.between(0, 3)
}

// timeline returns n increasing message times, the first between minAge
// and maxAge before now and the last before now.
func (g *gen) timeline(now time.Time, minAge, maxAge time.Duration, n int) []time.Time {
	ts := make([]time.Time, n)
	t := now.Add(-g.dur(minAge, maxAge)).Truncate(time.Second)
	for i := range ts {
		ts[i] = t
		switch {
		case g.chance(0.08):
			t = t.Add(g.dur(3*time.Hour, 30*time.Hour))
		default:
			t = t.Add(g.dur(8*time.Second, 25*time.Minute))
		}
		t = t.Truncate(time.Second)
	}
	if over := ts[n-1].Sub(now); over > -time.Minute {
		shift := (over + g.dur(time.Minute, time.Hour)).Truncate(time.Second)
		for i := range ts {
			ts[i] = ts[i].Add(-shift)
		}
	}
	return ts
}

var weekdays = []string{"Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday"}

var firstNames = []string{"Jane", "Marcus", "Priya", "Diego", "Aisha", "Tom", "Mei", "Olu", "Sofia", "Liam",
	"Hannah", "Kenji", "Fatima", "Noah", "Grace", "Mateo", "Zoe", "Ravi", "Chloe", "Samuel"}

var lastNames = []string{"Smith", "Lee", "Patel", "Garcia", "Khan", "Nguyen", "Okafor", "Rossi", "Murphy",
	"Tanaka", "Silva", "Cohen", "Haddad", "Brown", "Kowalski"}

// ---- Vobiz ----

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

func demoVobiz(g *gen) *Dataset {
	now := time.Date(2026, 3, 20, 12, 0, 0, 0, time.UTC)
	channels := []string{g.uuid(), g.uuid()}
	n := g.between(30, 40)
	long := g.intn(n)
	d := &Dataset{}
	for i := range n {
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
		ts := g.script(topic, fill, vobizFollowUps, g.length(len(topic), i, long, g.between(64, 80)))
		maxAge := 30 * 24 * time.Hour
		if i%9 == 0 {
			maxAge = 20 * time.Hour
		}
		times := g.timeline(now, 10*time.Minute, maxAge, len(ts))
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
		d.Conversations = append(d.Conversations, cd)
	}
	return d
}

func direction(inbound bool) convo.Direction {
	if inbound {
		return convo.Inbound
	}
	return convo.Outbound
}

// marshalCompact encodes v without HTML escaping; maps get sorted keys.
func marshalCompact(v any) string {
	var b strings.Builder
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	enc.Encode(v) // maps of strings: cannot fail
	return strings.TrimSuffix(b.String(), "\n")
}

// ---- VantaxAI ----

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

func demoVantax(g *gen) *Dataset {
	now := time.Date(2026, 6, 12, 9, 0, 0, 0, time.UTC)
	subs := []string{"sub_8a1f4c2e", "sub_5d03b7a9"}
	n := g.between(32, 40)
	long := g.intn(n)
	d := &Dataset{}
	for i := range n {
		channel := g.weighted([]string{"sms", "whatsapp", "facebook", "instagram", "email"}, []int{30, 25, 15, 12, 18})
		topic := vantaxTopics[g.intn(len(vantaxTopics))]
		name := g.pick(firstNames)
		fill := map[string]string{"name": name, "day": g.pick(weekdays), "order": fmt.Sprint(g.between(2000, 9999))}
		ts := g.script(topic, fill, vantaxFollowUps, g.length(len(topic), i, long, g.between(56, 70)))
		times := g.timeline(now, time.Hour, 20*24*time.Hour, len(ts))
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
		d.Conversations = append(d.Conversations, cd)
	}
	return d
}

// ---- Rentalot ----

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

func demoRentalot(g *gen) *Dataset {
	now := time.Date(2026, 2, 20, 18, 0, 0, 0, time.UTC)
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
	n := g.between(34, 40)
	long := g.intn(n)
	d := &Dataset{}
	for i := range n {
		prop := props[g.intn(len(props))]
		channel := g.weighted([]string{"whatsapp", "telegram", "sms", "gmail"}, []int{45, 10, 30, 15})
		topic := rentalotTopics[g.intn(len(rentalotTopics))]
		first := g.pick(firstNames)
		fill := map[string]string{"short": prop.short, "addr": prop.addr, "beds": prop.beds, "rent": prop.rent,
			"day": g.pick(weekdays), "name": first, "code": g.hex(8)}
		ts := g.script(topic, fill, rentalotFollowUps, g.length(len(topic), i, long, g.between(45, 60)))
		times := g.timeline(now, time.Hour, 45*24*time.Hour, len(ts))
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
		d.Conversations = append(d.Conversations, cd)
	}
	return d
}

// ---- AgentMessage ----

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

func demoAgentMessage(g *gen) *Dataset {
	now := time.Date(2026, 4, 30, 12, 0, 0, 0, time.UTC)
	const retention = 60 * 24 * time.Hour
	numbers := []struct{ id, number string }{
		{"7c1f0a2d-9e8b-4c3a-9d2e-1f0a2b3c4d5e", "+15551112222"},
		{"3b9e2c71-4d5a-4f1e-8b6c-9a0d1e2f3a4b", "+15553334444"},
	}
	n := g.between(32, 40)
	long := g.intn(n)
	d := &Dataset{}
	for i := range n {
		num := numbers[min(g.intn(10)/6, 1)]
		ti := g.intn(len(agentMessageTopics))
		topic := agentMessageTopics[ti]
		fill := map[string]string{"name": g.pick(firstNames), "day": g.pick(weekdays), "code": g.hex(10),
			"amount": fmt.Sprintf("%d.%02d", g.between(9, 180), g.intn(100))}
		length := g.length(len(topic), i, long, g.between(60, 75))
		ts := g.script(topic, fill, agentMessageFollowUps, length)
		times := g.timeline(now, time.Hour, 95*24*time.Hour, len(ts))
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
		d.Conversations = append(d.Conversations, cd)
	}
	return d
}

func preview(s string) string {
	r := []rune(s)
	if len(r) > 60 {
		return string(r[:57]) + "..."
	}
	return s
}

func minTime(a, b time.Time) time.Time {
	if a.Before(b) {
		return a
	}
	return b
}
