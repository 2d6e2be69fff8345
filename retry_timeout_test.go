package convo_test

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/convokit/convo"
	"github.com/convokit/convo/convotest"
)

// An attempt cut by the per-attempt timeout (WithTimeout) is retried with
// a fresh timeout: the server holds the first attempt past it and answers
// the second at once. (Here, not in retry_test.go: it runs against
// convotest, which a test inside the package cannot import.)
func TestPerAttemptTimeoutRetried(t *testing.T) {
	t.Parallel()
	release := make(chan struct{})
	srv := convotest.NewServer(convo.VantaxAI, convotest.WithRequestHook(func(r convotest.Request) {
		if r.N == 1 {
			select { // longer than the timeout; ends with the test
			case <-release:
			case <-time.After(5 * time.Second):
			}
		}
	}))
	defer srv.Close()
	defer close(release) // before Close, which waits for the held attempt
	client, err := srv.Client(convo.WithTimeout(200*time.Millisecond), convo.WithRetryWait(time.Millisecond, 10*time.Millisecond), convo.WithMaxRetries(2))
	require.NoError(t, err)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	start := time.Now()
	var n int
	for _, err := range client.Conversations.List(ctx, nil).Pages() {
		require.NoError(t, err, "the timed-out attempt is retried")
		n++
		break
	}
	assert.Equal(t, 1, n)
	assert.Less(t, time.Since(start), 4*time.Second, "the first attempt was cut at its timeout")
	assert.Len(t, srv.Requests(), 2)
}
