package convotest_test

import (
	"context"
	"net/http"
	"net/url"
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
	eachProvider(t, func(t *testing.T, p convo.Provider, w wire) {
		srv := convotest.New(t, p)
		for _, h := range append([]http.Header{demoAuth(p)}, w.accepted...) {
			resp, body := rawGet(t, srv, "/conversations", h)
			assert.Equal(t, http.StatusOK, resp.StatusCode, "body: %s", body)
		}
		assert.True(t, strings.HasPrefix(w.demoKey, w.keyPrefix), "the key prefix of the documents")
	})
}

func TestConvotestMethodNotAllowed(t *testing.T) {
	t.Parallel()
	srv := convotest.New(t, convo.AgentMessage)
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
	srv := convotest.New(t, convo.Vobiz, convotest.WithLatency(d))
	start := time.Now()
	resp, _ := rawGet(t, srv, "/conversations", demoAuth(convo.Vobiz))
	assert.Equal(t, http.StatusOK, resp.StatusCode)
	assert.GreaterOrEqual(t, time.Since(start), d, "answered no earlier than the latency")

	slow := convotest.New(t, convo.Vobiz, convotest.WithLatency(time.Minute))
	c := mustClient(t, slow, convo.WithMaxRetries(0))
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Millisecond)
	defer cancel()
	var err error
	for _, e := range c.Conversations.List(ctx, nil).All() {
		err = e
	}
	assert.ErrorIs(t, err, context.DeadlineExceeded, "a caller's deadline ends the wait")
}

// TestConvotestStrictness sends each provider the requests its fake must
// refuse (its wire's refusals) and checks the status and the provider's
// error envelope.
func TestConvotestStrictness(t *testing.T) {
	t.Parallel()
	eachProvider(t, func(t *testing.T, p convo.Provider, w wire) {
		srv := convotest.New(t, p)
		id := url.PathEscape(firstConversation(t, srv))
		for _, tt := range w.refusals {
			t.Run(tt.name, func(t *testing.T) {
				h := tt.header
				if h == nil {
					h = demoAuth(p)
				}
				resp, body := rawGet(t, srv, strings.ReplaceAll(tt.path, "{id}", id), h)
				require.Equal(t, tt.status, resp.StatusCode, "body: %s", body)
				assert.Contains(t, resp.Header.Get("Content-Type"), "json")
				tt.check(t, resp.Header, object(t, body))
				for _, hd := range w.headers {
					assert.NotEmpty(t, resp.Header.Get(hd), hd)
				}
			})
		}
	})
}
