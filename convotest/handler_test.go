package convotest_test

import (
	"context"
	"fmt"
	"net/http"
	"sync/atomic"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/convokit/convo"
	"github.com/convokit/convo/convotest"
)

// TestConvotestNewCleanup checks that New closes the server when the test
// ends.
func TestConvotestNewCleanup(t *testing.T) {
	t.Parallel()
	var url string
	t.Run("inner", func(t *testing.T) {
		srv := convotest.New(t, convo.Rentalot)
		url = srv.URL()
		resp, _ := rawGet(t, srv, "/conversations", demoAuth(convo.Rentalot))
		assert.Equal(t, http.StatusOK, resp.StatusCode)
	})
	_, err := rawClient.Get(url + "/conversations")
	assert.Error(t, err, "closed when the subtest ended")
}

// New takes what users pass it: a *testing.T, a *testing.B, a *testing.F
// or a testing.TB, and the server of one given as a testing.TB is closed
// when that test ends too.
func TestConvotestNewTakesTestingTB(t *testing.T) {
	t.Parallel()
	_ = func(b *testing.B, f *testing.F) {
		convotest.New(b, convo.Vobiz)
		convotest.New(f, convo.Vobiz)
	}
	var url string
	t.Run("inner", func(t *testing.T) {
		var tb testing.TB = t
		url = convotest.New(tb, convo.Rentalot).URL()
	})
	_, err := rawClient.Get(url + "/conversations")
	assert.Error(t, err, "closed when the subtest ended")
}

func TestConvotestWithHandler(t *testing.T) {
	t.Parallel()
	var calls atomic.Int32
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		calls.Add(1)
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusOK)
		fmt.Fprintf(w, `{"data":[{"id":"m1","conversationId":%q,"direction":"inbound","content":"from the handler %s"}],"pagination":{"page":1,"limit":20}}`,
			"special", r.URL.Query().Get("page"))
	})
	srv := convotest.New(t, convo.Rentalot,
		convotest.WithHandler("/conversations/special/messages", h),
		convotest.WithFaults(convotest.Fault{Kind: convotest.FaultStatus, Status: 503, Path: "/conversations/special/messages", Nth: 2}))
	c, err := srv.Client(convo.WithMaxRetries(0))
	require.NoError(t, err)
	var bodies []string
	for m, err := range c.Messages.List(context.Background(), "special", nil).All() {
		require.NoError(t, err)
		bodies = append(bodies, m.Body)
	}
	assert.Equal(t, []string{"from the handler 1"}, bodies)
	assert.EqualValues(t, 1, calls.Load())

	// Other paths keep the fake's own answers.
	n := 0
	for _, err := range c.Conversations.List(context.Background(), nil).All() {
		require.NoError(t, err)
		n++
	}
	assert.Equal(t, len(srv.Dataset().Conversations), n)

	// A fault that fires answers instead of the handler.
	var got error
	for _, err := range c.Messages.List(context.Background(), "special", nil).All() {
		got = err
	}
	assert.ErrorIs(t, got, convo.ErrServer)
	assert.EqualValues(t, 1, calls.Load())

	reqs := srv.Requests()
	require.NotEmpty(t, reqs)
	assert.Equal(t, "/api/v1/conversations/special/messages", reqs[0].Path)
	assert.Equal(t, http.StatusOK, reqs[0].Status, "the handler's status is logged")

	assert.Panics(t, func() { convotest.NewServer(convo.Rentalot, convotest.WithHandler("[", h)) })
	assert.Panics(t, func() { convotest.NewServer(convo.Rentalot, convotest.WithHandler("/x", nil)) })
}
