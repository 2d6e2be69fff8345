package convo

import (
	"errors"
	"net/http"
	"net/url"
	"os"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// emptyConversationList is a valid last, empty conversation page per
// provider.
var emptyConversationList = map[string]string{
	"vobiz":        `{"items":[]}`,
	"vantaxai":     `{"success":true,"data":[],"pagination":{"has_more":false}}`,
	"rentalot":     `{"data":[],"pagination":{"page":1,"limit":20}}`,
	"agentmessage": `{"success":true,"data":[],"meta":{"next_cursor":null}}`,
}

// filterValue sets v, a field of ConversationListParams, to a value the
// provider accepts when it declares the filter (its first documented
// value for an enumerated one).
func filterValue(t *testing.T, v reflect.Value, spec *Filter) {
	t.Helper()
	switch v.Interface().(type) {
	case string:
		s := "value-" + strings.ToLower(v.Type().Name())
		if spec != nil && spec.Values != nil {
			s = spec.Values[0]
		}
		v.SetString(s)
	case time.Time:
		v.Set(reflect.ValueOf(time.Date(2026, 2, 3, 4, 5, 6, 0, time.UTC)))
	case *bool:
		b := false // set, though false: a *bool filter is sent whenever it is non-nil
		v.Set(reflect.ValueOf(&b))
	case int:
		v.SetInt(7)
	default:
		t.Fatalf("ConversationListParams has a field of a new type %s: teach this test a value for it", v.Type())
	}
}

// TestFiltersSentOrRefused sets each field of ConversationListParams (found
// by reflection, so that a field added later is covered) on every provider
// and checks that it is either sent as a query parameter or refused with
// ErrUnsupported before any request — never silently dropped.
func TestFiltersSentOrRefused(t *testing.T) {
	t.Parallel()
	rt := reflect.TypeOf(ConversationListParams{})
	for _, p := range Providers() {
		var queries []url.Values
		ft := &fakeTransport{script: func(_ int, req *http.Request) (*http.Response, error) {
			queries = append(queries, req.URL.Query())
			return fakeResponse(req, 200, strings.NewReader(emptyConversationList[p.Name()])), nil
		}}
		c, err := NewClient(p, WithoutAuth(), WithBaseURL("https://api.example.test/v1"), WithHTTPClient(&http.Client{Transport: ft}))
		require.NoError(t, err)
		_, err = firstPage(c.Conversations.List(testContext(t), nil))
		require.NoError(t, err)
		baseline := queries[0]
		for i := range rt.NumField() {
			field := rt.Field(i)
			if pagingFields[field.Name] {
				continue // pages the list; covered by the pager's tests
			}
			t.Run(p.Name()+"/"+field.Name, func(t *testing.T) {
				queries = nil
				var params ConversationListParams
				spec := lookupFilter(p.d.conversationFilters, field.Name)
				filterValue(t, reflect.ValueOf(&params).Elem().Field(i), spec)
				_, err := firstPage(c.Conversations.List(testContext(t), &params))
				if errors.Is(err, ErrUnsupported) {
					assert.Empty(t, queries, "refused before any request")
					assert.Contains(t, err.Error(), field.Name, "the error names the filter")
					assert.Nil(t, spec, "a declared filter is not refused")
					return
				}
				require.NoError(t, err, "neither sent nor refused")
				require.Len(t, queries, 1)
				sent := queries[0]
				added := 0
				for k := range sent {
					if _, ok := baseline[k]; !ok {
						added++
					}
				}
				assert.Equal(t, 1, added, "the filter is sent as exactly one parameter, not dropped: %v", sent)
				require.NotNil(t, spec)
				assert.NotEmpty(t, sent.Get(spec.Param), "sent under its declared name %q", spec.Param)
			})
		}
	}
}

// TestFiltersEncoding checks the wire form of each kind of filter value.
func TestFiltersEncoding(t *testing.T) {
	t.Parallel()
	yes := true
	q, err := encodeFilters("agentmessage", agentMessageDesc.conversationFilters, &ConversationListParams{
		PhoneNumberID: "pn 1", Since: time.Date(2026, 2, 3, 4, 5, 6, 0, time.FixedZone("", 3600)), OptedIn: &yes,
	})
	require.NoError(t, err)
	assert.Equal(t, url.Values{"phone_number_id": {"pn 1"}, "since": {"2026-02-03T04:05:06+01:00"}, "opted_in": {"true"}}, q)

	_, err = encodeFilters("vantaxai", vantaxDesc.conversationFilters, &ConversationListParams{Channel: "fax"})
	assert.ErrorIs(t, err, ErrInvalidParams)
	assert.Contains(t, err.Error(), "sms, whatsapp, facebook, instagram, email")

	_, err = encodeFilters("vobiz", vobizDesc.conversationFilters, &ConversationListParams{Status: "open"})
	assert.ErrorIs(t, err, ErrUnsupported)
}

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
			c, mux, _ := setup(t, tt.provider)
			serveJSON(mux, "GET /conversations", []byte(tt.convs))
			serveJSON(mux, "GET /conversations/{id}/messages", []byte(tt.msgs))
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
