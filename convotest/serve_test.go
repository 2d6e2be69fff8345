package convotest_test

import (
	"context"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/convokit/convo"
	"github.com/convokit/convo/convotest"
)

func TestConvotestAcceptedCredentials(t *testing.T) {
	t.Parallel()
	for _, p := range convo.Providers() {
		t.Run(p.Name(), func(t *testing.T) {
			w := wireOf(t, p)
			srv := convotest.New(t, p)
			for _, h := range append([]http.Header{demoAuth(p)}, w.accepted...) {
				resp, body := rawGet(t, srv, "/conversations", h)
				assert.Equal(t, http.StatusOK, resp.StatusCode, "body: %s", body)
			}
			assert.True(t, strings.HasPrefix(w.demoKey, w.keyPrefix), "the key prefix of the documents")
		})
	}
}

func TestConvotestMethodNotAllowed(t *testing.T) {
	t.Parallel()
	srv := convotest.NewServer(convo.AgentMessage)
	defer srv.Close()
	req, err := http.NewRequest(http.MethodPost, srv.URL()+"/conversations", strings.NewReader("{}"))
	require.NoError(t, err)
	req.Header = demoAuth(convo.AgentMessage)
	resp, err := rawClient.Do(req)
	require.NoError(t, err)
	resp.Body.Close()
	assert.Equal(t, http.StatusMethodNotAllowed, resp.StatusCode)
	assert.Equal(t, "GET", resp.Header.Get("Allow"))
}

func TestConvotestLatency(t *testing.T) {
	t.Parallel()
	const d = 30 * time.Millisecond
	srv := convotest.NewServer(convo.Vobiz, convotest.WithLatency(d))
	defer srv.Close()
	start := time.Now()
	resp, _ := rawGet(t, srv, "/conversations", demoAuth(convo.Vobiz))
	assert.Equal(t, http.StatusOK, resp.StatusCode)
	assert.GreaterOrEqual(t, time.Since(start), d, "answered no earlier than the latency")

	slow := convotest.NewServer(convo.Vobiz, convotest.WithLatency(time.Minute))
	defer slow.Close()
	c := mustClient(t, slow, convo.WithMaxRetries(0))
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Millisecond)
	defer cancel()
	var err error
	for _, e := range c.Conversations.List(ctx, nil).All() {
		err = e
	}
	assert.ErrorIs(t, err, context.DeadlineExceeded, "a caller's deadline ends the wait")
}

// TestConvotestCloseDoesNotWaitOutLatency checks that a delay ends with
// the request's context: a request its client abandoned does not keep
// Close waiting for the rest of the latency.
func TestConvotestCloseDoesNotWaitOutLatency(t *testing.T) {
	t.Parallel()
	srv := convotest.NewServer(convo.Vobiz, convotest.WithLatency(time.Minute))
	c, err := srv.Client(convo.WithMaxRetries(0))
	require.NoError(t, err)
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	for _, err := range c.Conversations.List(ctx, nil).All() {
		require.ErrorIs(t, err, context.DeadlineExceeded)
	}
	closed := make(chan struct{})
	go func() {
		srv.Close()
		close(closed)
	}()
	select {
	case <-closed:
	case <-time.After(10 * time.Second):
		t.Fatal("Close still waits for the abandoned request's delay")
	}
}
