package convo_test

import (
	"context"
	"errors"
	"fmt"
	"log"
	"os"
	"time"

	"github.com/convokit/convo"
)

// The README's Go code, compiled here: each block of the README is one of
// the regions below (between "// readme:NAME" and "// readme:end", less
// one tab), or a whole file of the examples (TestReadmeGoBlocks).

var _ = []any{readmeUse, readmeProviders, readmeErrors}

func readmeUse(ctx context.Context, token, conversationID string) error {
	// readme:use
	client, err := convo.NewClient(convo.Vobiz,
		convo.WithAuth(convo.XAuth("MA_XXXXXXXX", token)))
	if err != nil {
		return err
	}
	pager := client.Messages.List(ctx, conversationID, &convo.MessageListParams{PageSize: 100})
	for msg, err := range pager.All() {
		if err != nil {
			return err // *convo.APIError, *convo.RequestError, or ctx.Err()
		}
		fmt.Println(msg.SentAt, msg.Direction, msg.Body)
	}
	// readme:end
	return nil
}

func readmeProviders(ctx context.Context, authID, authToken string, tokens interface {
	Current(context.Context) (string, error)
}) error {
	// readme:providers
	// (check each err as above)
	vobiz, _ := convo.NewClient(convo.Vobiz, convo.WithAuth(convo.XAuth(authID, authToken)))
	// or a JWT that rotates: convo.WithAuth(convo.BearerFunc(tokens.Current))
	vantax, _ := convo.NewClient(convo.VantaxAI, convo.WithAuth(convo.Bearer(os.Getenv("VANTAXAI_API_KEY"))))
	rentalot, _ := convo.NewClient(convo.Rentalot, convo.WithAuth(convo.Bearer(os.Getenv("RENTALOT_API_KEY"))))
	agentmsg, _ := convo.NewClient(convo.AgentMessage, convo.WithAuth(convo.Bearer(os.Getenv("AGENTMESSAGE_API_KEY"))))

	windows := vobiz.Conversations.List(ctx, nil)
	open := vantax.Conversations.List(ctx, &convo.ConversationListParams{Channel: "whatsapp", Status: "open"})
	hits := rentalot.Search.Messages(ctx, &convo.SearchParams{Query: "2-bedroom", Limit: 50})
	optedIn := true
	week := agentmsg.Conversations.List(ctx, &convo.ConversationListParams{Since: time.Now().AddDate(0, 0, -7), OptedIn: &optedIn})

	for conv, err := range open.All() { // windows, hits and week alike
		if err != nil {
			return err
		}
		fmt.Println(conv.ID, conv.Tags, conv.UnreadCount) // VantaxAI's own fields, typed
	}
	// readme:end
	_, _, _ = windows, hits, week
	return nil
}

func readmeErrors(ctx context.Context, client *convo.Client, id string) {
	// readme:errors
	_, err := client.Conversations.Get(ctx, id)
	var apiErr *convo.APIError
	switch {
	case errors.Is(err, convo.ErrNotFound):
		// 404: no such conversation (or another tenant's)
	case errors.Is(err, convo.ErrRateLimited) && errors.As(err, &apiErr):
		time.Sleep(apiErr.RetryAfter)
	case errors.As(err, &apiErr):
		log.Printf("%s (code %s, request %s)", apiErr.Message, apiErr.Code, apiErr.RequestID)
	}
	// readme:end
}
