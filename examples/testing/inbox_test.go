package inbox

import (
	"context"
	"testing"
	"time"

	"github.com/convokit/convo"
	"github.com/convokit/convo/convotest"
)

func TestAwaitingReply(t *testing.T) {
	t0 := time.Date(2026, 6, 1, 9, 0, 0, 0, time.UTC)
	data := convotest.NewDataset().
		AddConversation(convo.Conversation{ID: "conv_answered", Channel: "sms", Status: "open"},
			convo.Message{ID: "msg_1", Direction: convo.Inbound, Body: "Can you come on Friday?", SentAt: t0},
			convo.Message{ID: "msg_2", Direction: convo.Outbound, Body: "Friday at 9am works.", SentAt: t0.Add(time.Minute)}).
		AddConversation(convo.Conversation{ID: "conv_waiting", Channel: "email", Status: "open"},
			convo.Message{ID: "msg_3", Direction: convo.Outbound, Body: "Your quote is attached.", SentAt: t0},
			convo.Message{ID: "msg_4", Direction: convo.Inbound, Body: "Is there a discount?", SentAt: t0.Add(time.Hour)})

	// A fake VantaxAI with this data, closed when the test ends; the first
	// request fails with a 503, which the client retries.
	srv := convotest.New(t, convo.VantaxAI, convotest.WithData(data),
		convotest.WithFaults(convotest.Fault{Kind: convotest.FaultServerError, Status: 503}))
	client, err := srv.Client(convo.WithRetryWait(time.Millisecond, 10*time.Millisecond))
	if err != nil {
		t.Fatal(err)
	}

	ids, err := AwaitingReply(context.Background(), client)
	if err != nil {
		t.Fatal(err)
	}
	if len(ids) != 1 || ids[0] != "conv_waiting" {
		t.Fatalf("AwaitingReply = %v, want [conv_waiting]", ids)
	}
}
