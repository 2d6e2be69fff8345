package inbox

import (
	"context"
	"errors"
	"testing"

	"github.com/convokit/convo"
	"github.com/convokit/convo/convotest"
)

func TestAwaitingReplyRefused(t *testing.T) {
	for status, want := range map[int]error{401: convo.ErrUnauthorized, 402: convo.ErrPaymentRequired} {
		// Any status, in the provider's own error envelope (VantaxAI's 402
		// is subscription_required).
		srv := convotest.New(t, convo.VantaxAI,
			convotest.WithFaults(convotest.Fault{Kind: convotest.FaultStatus, Status: status}))
		client, err := srv.Client()
		if err != nil {
			t.Fatal(err)
		}
		if _, err := AwaitingReply(context.Background(), client); !errors.Is(err, want) {
			t.Errorf("%d: err = %v, want %v", status, err, want)
		}
	}
}
