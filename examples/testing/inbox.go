// Package inbox is a small piece of application code built on convo, with a
// test of its own that runs against convotest: the pattern to copy for
// testing code of yours without touching the network.
package inbox

import (
	"context"

	"github.com/convokit/convo"
)

// AwaitingReply returns the ids of the conversations whose latest message
// came from the contact.
func AwaitingReply(ctx context.Context, c *convo.Client) ([]string, error) {
	var ids []string
	for conv, err := range c.Conversations.List(ctx, nil).All() {
		if err != nil {
			return nil, err
		}
		var latest convo.Message
		for msg, err := range c.Messages.List(ctx, conv.ID, nil).All() {
			if err != nil {
				return nil, err
			}
			if msg.SentAt.After(latest.SentAt) {
				latest = msg
			}
		}
		if latest.Direction == convo.Inbound {
			ids = append(ids, conv.ID)
		}
	}
	return ids, nil
}
