package convotest_test

import (
	"context"
	"fmt"
	"time"

	"github.com/convokit/convo"
	"github.com/convokit/convo/convotest"
)

// Changing records while the fake serves: a Rentalot conversation is
// archived (which moves its updatedAt, as Rentalot documents, and not its
// lastMessageAt), and an AgentMessage message is removed by the retention
// window (its body becomes null and, as it was the newest, the
// conversation's preview becomes "[redacted]").
func ExampleServer_ChangeConversation() {
	ctx := context.Background()
	t0 := time.Date(2026, 6, 1, 9, 0, 0, 0, time.UTC)
	data := convotest.NewDataset().
		AddConversation(convo.Conversation{ID: "conv_1", Channel: "sms", Status: "active", ContactNumber: "+15550100"},
			convo.Message{ID: "msg_1", Direction: convo.Inbound, Body: "Is the flat still free?", SentAt: t0})

	rentalot := convotest.NewServer(convo.Rentalot, convotest.WithData(data))
	defer rentalot.Close()
	client, _ := rentalot.Client()
	before, _ := client.Conversations.Get(ctx, "conv_1")
	if err := rentalot.ChangeConversation("conv_1", func(c *convo.Conversation) { c.Status = "archived" }); err != nil {
		fmt.Println(err)
		return
	}
	after, _ := client.Conversations.Get(ctx, "conv_1")
	fmt.Println(after.Status, after.UpdatedAt.After(before.UpdatedAt), after.LastMessageAt.Equal(before.LastMessageAt))

	agent := convotest.NewServer(convo.AgentMessage, convotest.WithData(data))
	defer agent.Close()
	client, _ = agent.Client()
	if err := agent.RedactMessage("conv_1", "msg_1", t0.Add(30*24*time.Hour)); err != nil {
		fmt.Println(err)
		return
	}
	for conv, err := range client.Conversations.List(ctx, nil).All() {
		if err != nil {
			fmt.Println(err)
			return
		}
		fmt.Println(conv.ID, conv.LastMessagePreview, conv.LastMessageBodyRedactedAt.Format(time.DateOnly))
	}
	for msg, err := range client.Messages.List(ctx, "conv_1", nil).All() {
		if err != nil {
			fmt.Println(err)
			return
		}
		fmt.Printf("%s %q %s\n", msg.ID, msg.Body, msg.RedactedAt.Format(time.DateOnly))
	}
	// Output:
	// archived true true
	// conv_1 [redacted] 2026-07-01
	// msg_1 "" 2026-07-01
}
