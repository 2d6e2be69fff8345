package convotest

import (
	"encoding/hex"
	"encoding/json"
	"maps"
	"math/rand/v2"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/convokit/convo"
)

// DemoEnv returns the environment that gives provider p's demo
// credentials, in the variables [convo.Provider.CredentialEnv] names and
// [convo.Provider.AuthFromEnv] reads: for a program under test that takes
// its credentials from the environment, pointed at a [Server] of p. Each
// call returns a map of its own; nil for the zero Provider.
func DemoEnv(p convo.Provider) map[string]string {
	f, ok := fakeOf(p)
	if !ok {
		return nil
	}
	return maps.Clone(f.demoEnv)
}

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
	f, ok := fakeOf(p)
	if !ok {
		return &Dataset{}
	}
	if seed == DefaultSeed {
		// Every server made without WithData or WithSeed starts from the
		// default seed's data: it is made once for each provider and copied.
		return defaultDemos[p.Name()]().Clone()
	}
	return demoDataset(p.Name(), f.demo, seed)
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

// defaultDemos makes, for each provider's name, its DefaultSeed dataset
// once; what it returns is never changed.
var defaultDemos = func() map[string]func() *Dataset {
	m := make(map[string]func() *Dataset, len(fakes))
	for _, f := range fakes {
		name := f.provider.Name()
		m[name] = sync.OnceValue(func() *Dataset { return demoDataset(name, f.demo, DefaultSeed) })
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

// dataset draws how many conversations the demo data has (lo to hi) and
// which of them is longer than a default page, then collects what conv
// draws for each, in order.
func (g *gen) dataset(lo, hi int, conv func(i, long int) ConversationData) *Dataset {
	n := g.between(lo, hi)
	long := g.intn(n)
	d := &Dataset{Conversations: make([]ConversationData, 0, n)}
	for i := range n {
		d.Conversations = append(d.Conversations, conv(i, long))
	}
	return d
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

// talk declares how a provider's demo conversations run: when the data
// is made, what lengthens a topic, how long the one conversation longer
// than a default page is, and how long before now a conversation starts.
type talk struct {
	now            time.Time
	followUps      []turn // pairs of turns, each used once before any repeats
	longTurns      [2]int // at least and at most
	minAge, maxAge time.Duration
}

// talk draws conversation i's turns from topic (filled, lengthened or
// shortened as length and script do) and their times (timeline).
func (g *gen) talk(tk talk, topic []turn, fill map[string]string, i, long int) ([]turn, []time.Time) {
	ts := g.script(topic, fill, tk.followUps, g.length(len(topic), i, long, g.between(tk.longTurns[0], tk.longTurns[1])))
	return ts, g.timeline(tk.now, tk.minAge, tk.maxAge, len(ts))
}

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

func preview(s string) string {
	r := []rune(s)
	if len(r) > 60 {
		return string(r[:57]) + "..."
	}
	return s
}
