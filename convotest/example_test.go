package convotest_test

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/convokit/convo"
	"github.com/convokit/convo/convotest"
)

// A fake VantaxAI serving data of your own, for a test of code of yours
// that takes a *convo.Client. examples/testing holds that pattern in full:
// a function and its tests, with faults.
func Example() {
	t0 := time.Date(2026, 6, 1, 9, 0, 0, 0, time.UTC)
	data := convotest.NewDataset().AddConversation(
		convo.Conversation{ID: "conv_waiting", Channel: "email", Status: "open"},
		convo.Message{ID: "msg_1", Direction: convo.Outbound, Body: "Your quote is attached.", SentAt: t0},
		convo.Message{ID: "msg_2", Direction: convo.Inbound, Body: "Is there a discount?", SentAt: t0.Add(time.Hour)})

	srv := convotest.NewServer(convo.VantaxAI, convotest.WithData(data))
	defer srv.Close()
	client, err := srv.Client() // base URL and demo credentials
	if err != nil {
		fmt.Println(err)
		return
	}

	for msg, err := range client.Messages.List(context.Background(), "conv_waiting", nil).All() {
		if err != nil {
			fmt.Println(err)
			return
		}
		fmt.Println(msg.Direction, msg.Body)
	}
	// Output:
	// outbound Your quote is attached.
	// inbound Is there a discount?
}

// Retries through injected faults: the first request fails with a 503,
// the second is rate limited, and the SDK still delivers every conversation.
func ExampleWithFaults() {
	srv := convotest.NewServer(convo.Rentalot, convotest.WithFaults(
		convotest.Fault{Kind: convotest.FaultServerError, Status: 503},
		convotest.Fault{Kind: convotest.FaultRateLimit, RetryAfter: 0},
	))
	defer srv.Close()
	client, err := srv.Client(convo.WithRetryWait(time.Millisecond, 10*time.Millisecond))
	if err != nil {
		fmt.Println(err)
		return
	}

	n := 0
	for _, err := range client.Conversations.List(context.Background(), nil).All() {
		if err != nil {
			fmt.Println(err)
			return
		}
		n++
	}
	fmt.Println("all conversations:", n == len(srv.Dataset().Conversations))
	for _, r := range srv.Requests()[:3] {
		fmt.Println(r.Status, r.Fault)
	}
	// Output:
	// all conversations: true
	// 503 server-error
	// 429 rate-limit
	// 200 none
}

// The demo data of a provider: a few dozen conversations, hundreds of
// messages, the same for every run.
func ExampleNewServer() {
	srv := convotest.NewServer(convo.Rentalot)
	defer srv.Close()
	client, err := srv.Client()
	if err != nil {
		fmt.Println(err)
		return
	}
	ctx := context.Background()
	for r, err := range client.Search.Messages(ctx, &convo.SearchParams{Query: "showing", Limit: 1}).All() {
		if err != nil {
			fmt.Println(err)
			return
		}
		fmt.Println(r.MessageID != "", r.ConversationID != "")
	}
	// Output: true true
}

// A plan that caps pages at 5 items: the SDK follows the server's limit.
func ExampleWithPageSize() {
	srv := convotest.NewServer(convo.Rentalot, convotest.WithPageSize(5))
	defer srv.Close()
	client, err := srv.Client()
	if err != nil {
		fmt.Println(err)
		return
	}
	pages := 0
	for page, err := range client.Conversations.List(context.Background(), &convo.ConversationListParams{PageSize: 100}).Pages() {
		if err != nil {
			fmt.Println(err)
			return
		}
		if pages == 0 {
			fmt.Println("first page:", len(page.Items), "items")
		}
		pages++
	}
	fmt.Println("pages:", pages == (len(srv.Dataset().Conversations)+4)/5)
	// Output:
	// first page: 5 items
	// pages: true
}

// Live data: the fake changes while it serves, as a real account does. A
// new message moves its conversation to the front of an activity-ordered
// list and updates its activity fields; a new conversation appears.
func ExampleServer_AddMessages() {
	t0 := time.Date(2026, 6, 1, 9, 0, 0, 0, time.UTC)
	data := convotest.NewDataset().
		AddConversation(convo.Conversation{ID: "conv_new", Channel: "sms", LastMessageAt: t0.Add(time.Hour)},
			convo.Message{ID: "msg_1", Direction: convo.Inbound, Body: "Hello", SentAt: t0.Add(time.Hour)}).
		AddConversation(convo.Conversation{ID: "conv_old", Channel: "sms", LastMessageAt: t0},
			convo.Message{ID: "msg_2", Direction: convo.Inbound, Body: "Hi", SentAt: t0})
	srv := convotest.NewServer(convo.VantaxAI, convotest.WithData(data))
	defer srv.Close()
	client, err := srv.Client()
	if err != nil {
		fmt.Println(err)
		return
	}
	ctx := context.Background()
	list := func() {
		var line []string
		for conv, err := range client.Conversations.List(ctx, nil).All() {
			if err != nil {
				fmt.Println(err)
				return
			}
			line = append(line, fmt.Sprint(conv.ID, " ", conv.LastMessageAt.Format(time.Kitchen), " unread ", conv.UnreadCount))
		}
		fmt.Println(strings.Join(line, "; "))
	}
	list()

	// From the test, while the server runs:
	if err := srv.AddMessages("conv_old", convo.Message{ID: "msg_3", Direction: convo.Inbound, Body: "Still there?", SentAt: t0.Add(2 * time.Hour)}); err != nil {
		fmt.Println(err)
	}
	if err := srv.AddConversation(convo.Conversation{ID: "conv_added", Channel: "email"},
		convo.Message{ID: "msg_4", Direction: convo.Inbound, Body: "Quote?", SentAt: t0.Add(90 * time.Minute)}); err != nil {
		fmt.Println(err)
	}
	list()
	// Output:
	// conv_new 10:00AM unread 0; conv_old 9:00AM unread 0
	// conv_old 11:00AM unread 1; conv_added 10:30AM unread 1; conv_new 10:00AM unread 0
}
