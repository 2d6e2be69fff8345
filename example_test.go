package convo_test

import (
	"context"
	"errors"
	"fmt"
	"log"
	"time"

	"github.com/convokit/convo"
	"github.com/convokit/convo/convotest"
)

// Each example runs against convotest, the in-process fake of the four APIs,
// with data of its own: srv.Options() points the client at the fake and
// carries its demo credentials. Against the real API, leave them out and
// pass your credentials with WithAuth: every provider has its documented
// base URL built in.

func ExampleNewClient() {
	srv := convotest.NewServer(convo.Vobiz, convotest.WithData(convotest.NewDataset().
		AddConversation(convo.Conversation{ID: "c7a1", ContactID: "ct_9", Channel: "whatsapp", Category: "service", Status: "open"})))
	defer srv.Close()

	// For the real API: convo.NewClient(convo.Vobiz,
	// convo.WithAuth(convo.XAuth("MA_XXXXXXXX", "auth-token")), …).
	opts := append(srv.Options(),
		convo.WithMaxRetries(2),
		convo.WithUserAgent("acme-sync/1.0"),
	)
	client, err := convo.NewClient(convo.Vobiz, opts...)
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
	// VantaxAI pages with starting_after=<id of the last item>; the filters
	// are sent to the server, which answers with the matching conversations.
	srv := convotest.NewServer(convo.VantaxAI, convotest.WithData(convotest.NewDataset().
		AddConversation(convo.Conversation{ID: "conv_a", Channel: "whatsapp", Status: "open", UnreadCount: 2}).
		AddConversation(convo.Conversation{ID: "conv_b", Channel: "whatsapp", Status: "open"}).
		AddConversation(convo.Conversation{ID: "conv_x", Channel: "sms", Status: "open"}).
		AddConversation(convo.Conversation{ID: "conv_c", Channel: "whatsapp", Status: "open"})))
	defer srv.Close()

	client, err := convo.NewClient(convo.VantaxAI, srv.Options()...)
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
	created := time.Date(2026, 2, 10, 14, 30, 0, 0, time.UTC)
	srv := convotest.NewServer(convo.Rentalot, convotest.WithData(convotest.NewDataset().
		AddConversation(convo.Conversation{ID: "550e8400", ContactID: "770e8400", Channel: "sms", Status: "active", MessageCount: 12, CreatedAt: created})))
	defer srv.Close()

	client, err := convo.NewClient(convo.Rentalot, srv.Options()...)
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
	// AgentMessage: opaque cursors; a body removed by the retention window is
	// empty and RedactedAt says when. The fake answers one message a page.
	t0 := time.Date(2026, 4, 3, 9, 0, 0, 0, time.UTC)
	srv := convotest.NewServer(convo.AgentMessage, convotest.WithPageSize(1), convotest.WithData(convotest.NewDataset().
		AddConversation(convo.Conversation{ID: "AQID...base64url"},
			convo.Message{ID: "m1", Direction: convo.Inbound, SentAt: t0, RedactedAt: t0.AddDate(0, 0, 7)},
			convo.Message{ID: "m2", Direction: convo.Outbound, Body: "See you Thursday.", SentAt: t0.Add(time.Hour)})))
	defer srv.Close()

	client, err := convo.NewClient(convo.AgentMessage, srv.Options()...)
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
	data := &convotest.Dataset{Conversations: []convotest.ConversationData{{
		Conversation: convo.Conversation{ID: "c1"},
		ContactName:  "Jane Smith",
		Messages: []convo.Message{
			{ID: "m1", Direction: convo.Inbound, Body: "I'm looking for a 2-bedroom apartment"},
			{ID: "m2", Direction: convo.Outbound, Body: "We have two available."},
		},
	}}}
	srv := convotest.NewServer(convo.Rentalot, convotest.WithData(data))
	defer srv.Close()

	client, err := convo.NewClient(convo.Rentalot, srv.Options()...)
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
	srv := convotest.NewServer(convo.Rentalot, convotest.WithData(convotest.NewDataset().
		AddConversation(convo.Conversation{ID: "c1"}).
		AddConversation(convo.Conversation{ID: "c2"}).
		AddConversation(convo.Conversation{ID: "c3"})))
	defer srv.Close()

	client, err := convo.NewClient(convo.Rentalot, srv.Options()...)
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
	// Vobiz lists messages newest first, two a page here, linked by
	// next_cursor.
	t0 := time.Date(2026, 3, 17, 14, 0, 0, 0, time.UTC)
	srv := convotest.NewServer(convo.Vobiz, convotest.WithPageSize(2), convotest.WithData(convotest.NewDataset().
		AddConversation(convo.Conversation{ID: "c7a1"},
			convo.Message{ID: "m3", Body: "three", SentAt: t0},
			convo.Message{ID: "m2", Body: "two", SentAt: t0.Add(time.Minute)},
			convo.Message{ID: "m1", Body: "one", SentAt: t0.Add(2 * time.Minute)})))
	defer srv.Close()

	client, err := convo.NewClient(convo.Vobiz, srv.Options()...)
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
	// Every request is rate limited, asking for a two-minute wait.
	srv := convotest.NewServer(convo.Rentalot, convotest.WithData(convotest.NewDataset().
		AddConversation(convo.Conversation{ID: "550e8400"})),
		convotest.WithFaults(convotest.Fault{Kind: convotest.FaultRateLimit, RetryAfter: 2 * time.Minute, Times: -1}))
	defer srv.Close()

	client, err := convo.NewClient(convo.Rentalot, srv.Options()...)
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
		fmt.Println(apiErr.StatusCode, apiErr.Code, apiErr.RetryAfter)
	case errors.Is(err, convo.ErrNotFound):
		fmt.Println("no such conversation")
	case err != nil:
		fmt.Println(err)
	}
	// Output: 429 rate_limit_exceeded 2m0s
}
