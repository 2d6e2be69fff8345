package convo_test

import (
	"context"
	"errors"
	"fmt"
	"log"
	"net/http"
	"net/http/httptest"

	"github.com/convokit/convo"
)

// Each example starts a small local server that answers like the provider,
// and points the client at it with WithBaseURL. Against the real API, leave
// WithBaseURL out: every provider has its documented base URL built in.

func ExampleNewClient() {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprint(w, `{"items":[{"id":"c7a1","contact_id":"ct_9","category":"service","status":"open"}]}`)
	}))
	defer srv.Close()

	client, err := convo.NewClient(convo.Vobiz,
		convo.WithAuth(convo.XAuth("MA_XXXXXXXX", "auth-token")),
		convo.WithBaseURL(srv.URL+"/api/v1/messaging"),
		convo.WithMaxRetries(2),
		convo.WithUserAgent("acme-sync/1.0"),
	)
	if err != nil {
		log.Fatal(err)
	}
	for conv, err := range client.Conversations.List(context.Background(), nil).All() {
		if err != nil {
			log.Fatal(err)
		}
		fmt.Println(conv.ID, conv.Channel, conv.Category, conv.Status)
	}

	// Invalid options are reported by NewClient.
	_, err = convo.NewClient(convo.Vobiz, convo.WithMaxRetries(-1))
	fmt.Println(errors.Is(err, convo.ErrInvalidOption))
	// Output:
	// c7a1 whatsapp service open
	// true
}

func ExampleConversationService_List() {
	// VantaxAI pages with starting_after=<id of the last item>.
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Query().Get("starting_after") == "" {
			fmt.Fprint(w, `{"success":true,"data":[{"id":"conv_a","status":"open","unread_count":2},{"id":"conv_b","status":"open"}],"pagination":{"has_more":true}}`)
			return
		}
		fmt.Fprint(w, `{"success":true,"data":[{"id":"conv_c","status":"open"}],"pagination":{"has_more":false}}`)
	}))
	defer srv.Close()

	client, err := convo.NewClient(convo.VantaxAI,
		convo.WithAuth(convo.Bearer("vx_live_example")),
		convo.WithBaseURL(srv.URL+"/v1"))
	if err != nil {
		log.Fatal(err)
	}
	params := &convo.ConversationListParams{Channel: "whatsapp", Status: "open", PageSize: 2}
	for conv, err := range client.Conversations.List(context.Background(), params).All() {
		if err != nil {
			log.Fatal(err)
		}
		fmt.Println(conv.ID, conv.UnreadCount)
	}
	// Output:
	// conv_a 2
	// conv_b 0
	// conv_c 0
}

func ExampleConversationService_Get() {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprint(w, `{"data":{"id":"550e8400","contactId":"770e8400","channel":"sms","status":"active","messageCount":12,"createdAt":"2026-02-10T14:30:00Z"}}`)
	}))
	defer srv.Close()

	client, err := convo.NewClient(convo.Rentalot,
		convo.WithAuth(convo.Bearer("ra_example")),
		convo.WithBaseURL(srv.URL+"/api/v1"))
	if err != nil {
		log.Fatal(err)
	}
	conv, err := client.Conversations.Get(context.Background(), "550e8400")
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(conv.ID, conv.ContactID, conv.Channel, conv.Status, conv.MessageCount, conv.CreatedAt.Format("2006-01-02"))
	// Output: 550e8400 770e8400 sms active 12 2026-02-10
}

func ExampleMessageService_List() {
	// AgentMessage: opaque cursors; a body removed by the retention window is null.
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Query().Get("cursor") == "" {
			fmt.Fprint(w, `{"success":true,"data":[{"id":"m1","direction":"inbound","body":null,"redacted_at":"2026-04-10T03:11:42Z"}],"meta":{"next_cursor":"b3BhcXVl"}}`)
			return
		}
		fmt.Fprint(w, `{"success":true,"data":[{"id":"m2","direction":"outbound","body":"See you Thursday."}],"meta":{"next_cursor":null}}`)
	}))
	defer srv.Close()

	client, err := convo.NewClient(convo.AgentMessage,
		convo.WithAuth(convo.Bearer("am_live_example")),
		convo.WithBaseURL(srv.URL+"/v1"))
	if err != nil {
		log.Fatal(err)
	}
	pager := client.Messages.List(context.Background(), "AQID...base64url", &convo.MessageListParams{PageSize: 100})
	for msg, err := range pager.All() {
		if err != nil {
			log.Fatal(err)
		}
		if !msg.RedactedAt.IsZero() {
			fmt.Println(msg.ID, msg.Direction, "[redacted]")
			continue
		}
		fmt.Println(msg.ID, msg.Direction, msg.Body)
	}
	// Output:
	// m1 inbound [redacted]
	// m2 outbound See you Thursday.
}

func ExampleSearchService_Messages() {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprint(w, `{"data":[{"messageId":"m1","conversationId":"c1","content":"I'm looking for a 2-bedroom apartment","direction":"inbound","contactName":"Jane Smith"}],"total":1}`)
	}))
	defer srv.Close()

	client, err := convo.NewClient(convo.Rentalot,
		convo.WithAuth(convo.Bearer("ra_example")),
		convo.WithBaseURL(srv.URL+"/api/v1"))
	if err != nil {
		log.Fatal(err)
	}
	results := client.Search.Messages(context.Background(), &convo.SearchParams{Query: "2-bedroom", Limit: 20})
	for r, err := range results.All() {
		if err != nil {
			log.Fatal(err)
		}
		fmt.Printf("%s in %s from %s: %q\n", r.MessageID, r.ConversationID, r.ContactName, r.Content)
	}

	// The other providers document no search.
	other, _ := convo.NewClient(convo.Vobiz, convo.WithAuth(convo.Bearer("jwt")))
	for _, err := range other.Search.Messages(context.Background(), &convo.SearchParams{Query: "x"}).All() {
		fmt.Println(errors.Is(err, convo.ErrUnsupported))
	}
	// Output:
	// m1 in c1 from Jane Smith: "I'm looking for a 2-bedroom apartment"
	// true
}

func ExamplePager_Pages() {
	// Rentalot pages by number and reports the total.
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Query().Get("page") == "1" {
			fmt.Fprint(w, `{"data":[{"id":"c1"},{"id":"c2"}],"pagination":{"page":1,"limit":2,"total":3,"totalPages":2}}`)
			return
		}
		fmt.Fprint(w, `{"data":[{"id":"c3"}],"pagination":{"page":2,"limit":2,"total":3,"totalPages":2}}`)
	}))
	defer srv.Close()

	client, err := convo.NewClient(convo.Rentalot,
		convo.WithAuth(convo.Bearer("ra_example")),
		convo.WithBaseURL(srv.URL+"/api/v1"))
	if err != nil {
		log.Fatal(err)
	}
	pager := client.Conversations.List(context.Background(), &convo.ConversationListParams{PageSize: 2})
	for page, err := range pager.Pages() {
		if err != nil {
			log.Fatal(err)
		}
		fmt.Printf("%d items of %d, more: %v\n", len(page.Items), page.Total, page.HasMore)
	}
	// Output:
	// 2 items of 3, more: true
	// 1 items of 3, more: false
}

func ExamplePager_Cursor() {
	// Vobiz messages: two pages linked by next_cursor.
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Query().Get("cursor") == "" {
			fmt.Fprint(w, `{"items":[{"id":"m1","content":"{\"body\":\"one\"}"},{"id":"m2","content":"{\"body\":\"two\"}"}],"has_more":true,"next_cursor":"c2"}`)
			return
		}
		fmt.Fprint(w, `{"items":[{"id":"m3","content":"{\"body\":\"three\"}"}],"has_more":false}`)
	}))
	defer srv.Close()

	client, err := convo.NewClient(convo.Vobiz,
		convo.WithAuth(convo.XAuth("MA_XXXXXXXX", "auth-token")),
		convo.WithBaseURL(srv.URL+"/api/v1/messaging"))
	if err != nil {
		log.Fatal(err)
	}
	ctx := context.Background()

	// Read one message, then stop (a crash, a deadline, a batch limit…).
	pager := client.Messages.List(ctx, "c7a1", nil)
	for msg, err := range pager.All() {
		if err != nil {
			log.Fatal(err)
		}
		fmt.Println("first run:", msg.Body)
		break
	}
	checkpoint := pager.Cursor() // store it anywhere: it is an opaque string

	// Later, resume just after the last message read.
	resumed := client.Messages.List(ctx, "c7a1", &convo.MessageListParams{Cursor: checkpoint})
	for msg, err := range resumed.All() {
		if err != nil {
			log.Fatal(err)
		}
		fmt.Println("resumed:", msg.Body)
	}
	// Output:
	// first run: one
	// resumed: two
	// resumed: three
}

func ExampleAPIError() {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Retry-After", "120")
		w.Header().Set("X-Request-Id", "req_7f3a9c")
		w.WriteHeader(http.StatusTooManyRequests)
		fmt.Fprint(w, `{"error":{"code":"rate_limited","message":"Too many requests"}}`)
	}))
	defer srv.Close()

	client, err := convo.NewClient(convo.Rentalot,
		convo.WithAuth(convo.Bearer("ra_example")),
		convo.WithBaseURL(srv.URL+"/api/v1"))
	if err != nil {
		log.Fatal(err)
	}
	_, err = client.Conversations.Get(context.Background(), "550e8400")

	// Branch on the status class first, then on the provider's code.
	var apiErr *convo.APIError
	switch {
	case errors.Is(err, convo.ErrRateLimited) && errors.As(err, &apiErr):
		// A Retry-After longer than the client's maximum wait is not slept
		// through: the call returns at once and the caller decides.
		fmt.Println(apiErr.StatusCode, apiErr.Code, apiErr.RetryAfter, apiErr.RequestID)
	case errors.Is(err, convo.ErrNotFound):
		fmt.Println("no such conversation")
	case err != nil:
		fmt.Println(err)
	}
	// Output: 429 rate_limited 2m0s req_7f3a9c
}
