package convo

import (
	"bytes"
	"os"
	"reflect"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestDecodeFixturesAllServed(t *testing.T) {
	t.Parallel()
	// Every fixture is exercised by a decoding test (provider_*_test.go)
	// or errors_test.go; this list fails when a fixture is added without one.
	covered := map[string]bool{
		"agentmessage_conversations.json": true, "agentmessage_error_401.json": true,
		"agentmessage_error_403.json": true, "agentmessage_error_422.json": true,
		"rentalot_conversations.json": true, "rentalot_error_422.json": true,
		"rentalot_messages.json": true, "rentalot_problem_404.json": true,
		"rentalot_search.json": true, "vantaxai_conversations.json": true,
		"vantaxai_error_401.json": true, "vantaxai_error_422.json": true,
		"vobiz_conversations.json": true, "vobiz_error_401.json": true,
		"vobiz_messages.json": true,
	}
	entries, err := os.ReadDir("testdata")
	require.NoError(t, err)
	for _, e := range entries {
		if strings.HasSuffix(e.Name(), ".json") {
			assert.True(t, covered[e.Name()], "fixture %s has no decoding test", e.Name())
		}
	}
}

// TestDecodeMinimalItems checks that items with only an id (every optional
// field absent or null) decode to zero values without error.
func TestDecodeMinimalItems(t *testing.T) {
	t.Parallel()
	tests := []struct {
		provider Provider
		convs    string
		msgs     string
	}{
		{Vobiz, `{"items":[{"id":"x","started_at":null,"expires_at":null,"status":null}]}`,
			`{"items":[{"id":"x","content":null,"created_at":null}],"has_more":false,"next_cursor":null}`},
		{VantaxAI, `{"success":true,"data":[{"id":"x","tags":null,"metadata":null,"last_message_at":null}],"pagination":{"has_more":false}}`,
			`{"success":true,"data":[{"id":"x","content":null,"media_url":null,"created_at":""}],"pagination":{}}`},
		{Rentalot, `{"data":[{"id":"x","contactId":null,"lastMessageAt":null}],"pagination":{"page":1,"limit":20}}`,
			`{"data":[{"id":"x","content":null,"metadata":null,"sentAt":null}],"pagination":{}}`},
		{AgentMessage, `{"success":true,"data":[{"id":"x","consent":null,"last_message_preview":null}],"meta":{"next_cursor":null}}`,
			`{"success":true,"data":[{"id":"x","body":null,"media_urls":null,"redacted_at":null}],"meta":{}}`},
	}
	for _, tt := range tests {
		t.Run(tt.provider.Name(), func(t *testing.T) {
			c := servedLists(t, tt.provider, tt.convs, tt.msgs)
			ctx := testContext(t)

			convs, err := drain(c.Conversations.List(ctx, nil), 10)
			require.NoError(t, err)
			require.Len(t, convs, 1)
			conv := convs[0]
			assert.Equal(t, "x", conv.ID)
			assert.Empty(t, conv.ContactID)
			assert.Empty(t, conv.Status)
			assert.True(t, conv.LastMessageAt.IsZero())
			assert.True(t, conv.CreatedAt.IsZero())
			assert.Nil(t, conv.Consent)
			assert.Nil(t, conv.Metadata)
			assert.Nil(t, conv.Tags)

			msgs, err := drain(c.Messages.List(ctx, "conv", nil), 10)
			require.NoError(t, err)
			require.Len(t, msgs, 1)
			m := msgs[0]
			assert.Equal(t, "x", m.ID)
			assert.Equal(t, "conv", m.ConversationID)
			assert.Empty(t, m.Body)
			assert.Empty(t, m.Direction)
			assert.True(t, m.SentAt.IsZero())
			assert.Nil(t, m.Payload)
			assert.Nil(t, m.Metadata)
			assert.Nil(t, m.MediaURLs)
		})
	}
}

// TestPageSizeRange: the documented ranges, as PROVIDERS.md lists them,
// and zero for what takes no page size.
func TestPageSizeRange(t *testing.T) {
	t.Parallel()
	type r struct{ min, max, def int }
	get := func(p Provider, op Operation) r {
		lo, hi, d := p.PageSizeRange(op)
		return r{lo, hi, d}
	}
	assert.Equal(t, r{}, get(Vobiz, OpListConversations), "Vobiz's conversation list takes no page size")
	assert.Equal(t, r{1, 100, 50}, get(Vobiz, OpListMessages))
	assert.Equal(t, r{1, 100, 20}, get(VantaxAI, OpListConversations))
	assert.Equal(t, r{1, 100, 20}, get(Rentalot, OpListMessages))
	assert.Equal(t, r{1, 50, 10}, get(Rentalot, OpSearchMessages))
	assert.Equal(t, r{}, get(VantaxAI, OpSearchMessages), "no search")
	assert.Equal(t, r{}, get(Rentalot, OpGetConversation), "not a list")
	assert.Equal(t, r{}, get(Provider{}, OpListMessages))
	for _, p := range Providers() {
		for _, op := range []Operation{OpListConversations, OpListMessages, OpSearchMessages} {
			if lo, hi, d := p.PageSizeRange(op); hi > 0 {
				assert.True(t, lo >= 1 && lo <= d && d <= hi, "%s %s: %d <= %d <= %d", p, op, lo, d, hi)
			}
		}
	}
}

// reuseCase is one page decoder built once, so that it reuses its slices of
// wire items from one page to the next, as a client's does.
type reuseCase struct {
	name  string
	build func() func(body []byte) (any, error)
}

func reusePageCase[T any](name string, build func() func([]byte, string) (rawPage[T], error)) reuseCase {
	return reuseCase{name, func() func([]byte) (any, error) {
		decode := build()
		return func(body []byte) (any, error) { return decode(body, "conv_scope") }
	}}
}

var reuseCases = []reuseCase{
	reusePageCase("vobiz conversations", func() func([]byte, string) (rawPage[Conversation], error) {
		return vobizPage(decodeJSON, vobizConversation)
	}),
	reusePageCase("vobiz messages", func() func([]byte, string) (rawPage[Message], error) { return vobizPage(decodeJSON, vobizMessage) }),
	reusePageCase("vantaxai conversations", func() func([]byte, string) (rawPage[Conversation], error) {
		return vantaxPage(decodeJSON, vantaxConversation)
	}),
	reusePageCase("vantaxai messages", func() func([]byte, string) (rawPage[Message], error) {
		return vantaxPage(decodeJSON, vantaxMessage)
	}),
	reusePageCase("rentalot conversations", func() func([]byte, string) (rawPage[Conversation], error) {
		return rentalotPage(decodeJSON, rentalotConversation)
	}),
	reusePageCase("rentalot messages", func() func([]byte, string) (rawPage[Message], error) {
		return rentalotPage(decodeJSON, rentalotMessage)
	}),
	reusePageCase("rentalot search", func() func([]byte, string) (rawPage[SearchResult], error) {
		return rentalotSearchPage(decodeJSON)
	}),
	reusePageCase("agentmessage conversations", func() func([]byte, string) (rawPage[Conversation], error) {
		return agentMessagePage(decodeJSON, agentMessageConversation)
	}),
	reusePageCase("agentmessage messages", func() func([]byte, string) (rawPage[Message], error) {
		return agentMessagePage(decodeJSON, agentMessageMessage)
	}),
}

// TestPageDecodersReuseNothingVisible decodes every pair of bodies, one
// after the other, with one decoder per list (which reuses the slice the
// first page's wire items were decoded into for the second), and checks
// that the second page decodes exactly as it does on a decoder of its own
// (an item without a field shows no value of the item before it in the
// slice, an absent or null array is still an error and an empty one is not),
// and that the first page's models are unchanged by the second's decoding.
func TestPageDecodersReuseNothingVisible(t *testing.T) {
	t.Parallel()
	bodies := diffBodies(t)
	// Pages of many items, each with every optional field set, before pages
	// whose items lack them: the reused slice is then full of values.
	full := map[string]string{
		"vobiz":        `{"items":[{"id":"a","conversation_id":"c","direction":"inbound","content":"{\"body\":\"x\"}","status":"read","created_at":"2026-01-01T00:00:00Z","phone_number":"+1","contact_name":"n","last_message_at":"2026-01-01T00:00:00Z","unread_count":3}],"has_more":true,"next_cursor":"n"}`,
		"vantaxai":     `{"success":true,"data":[{"id":"a","sub_account_id":"s","channel":"sms","contact_id":"k","status":"open","tags":["t","u"],"metadata":{"k":"v"},"unread_count":2,"last_message_at":"2026-01-01T00:00:00Z","created_at":"2026-01-01T00:00:00Z","content":"x","subject":"s","media_url":["u"]}],"pagination":{"has_more":true}}`,
		"rentalot":     `{"data":[{"id":"a","messageId":"m","leadId":"l","content":"x","metadata":{"a":1},"sentAt":"2026-01-01T00:00:00Z","createdAt":"2026-01-01T00:00:00Z","contactName":"n","status":"open"}],"pagination":{"page":1,"limit":20}}`,
		"agentmessage": `{"success":true,"data":[{"id":"a","phone_number":"+1","contact_number":"+2","last_message_preview":"p","message_count":4,"body":"b","consent":{"opted_in":true,"opted_in_at":"2026-01-01T00:00:00Z"}}],"meta":{"next_cursor":"n"}}`,
	}
	for _, f := range full {
		bodies = append([][]byte{repeatItems(f, 150)}, bodies...)
	}
	for _, c := range reuseCases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			shared := c.build()
			// Every body after every other one; when not Thorough, every body
			// after each full page, whose slice of wire items is the fullest.
			firsts := bodies
			if !Thorough() {
				firsts = bodies[:len(full)]
			}
			for _, first := range firsts {
				firstPage, firstErr := shared(bytes.Clone(first))
				for _, second := range bodies {
					got, gotErr := shared(bytes.Clone(second))
					want, wantErr := c.build()(bytes.Clone(second))
					require.Equal(t, wantErr == nil, gotErr == nil, "%s: %q after %q: error %v, on a decoder of its own %v", c.name, clip(second), clip(first), gotErr, wantErr)
					if wantErr == nil {
						require.True(t, reflect.DeepEqual(got, want), "%s: %q after %q decodes differently:\ngot:  %.2000v\nwant: %.2000v", c.name, clip(second), clip(first), got, want)
					}
				}
				if firstErr == nil {
					kept, err := c.build()(bytes.Clone(first))
					require.NoError(t, err)
					assert.True(t, reflect.DeepEqual(firstPage, kept), "%s: the models of %q changed while later pages were decoded", c.name, clip(first))
				}
			}
		})
	}
}

// repeatItems returns body with its one item repeated n times.
func repeatItems(body string, n int) []byte {
	i, j := strings.IndexByte(body, '['), strings.LastIndexByte(body, ']')
	items := strings.Repeat(body[i+1:j]+",", n)
	return []byte(body[:i+1] + items[:len(items)-1] + body[j:])
}

// clip shortens a body for a failure message.
func clip(b []byte) string {
	if len(b) > 200 {
		return string(b[:200]) + "…"
	}
	return string(b)
}
