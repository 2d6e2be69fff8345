package convotest_test

import (
	"context"
	"net/http"
	"strconv"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/convokit/convo"
	"github.com/convokit/convo/convotest"
)

func TestConvotestWithSeed(t *testing.T) {
	t.Parallel()
	a := convotest.NewServer(convo.VantaxAI, convotest.WithSeed(5))
	defer a.Close()
	b := convotest.NewServer(convo.VantaxAI)
	defer b.Close()
	assert.Equal(t, convotest.DemoDataset(convo.VantaxAI, 5), a.Dataset())
	assert.Equal(t, convotest.DemoDataset(convo.VantaxAI, convotest.DefaultSeed), b.Dataset())
}

// TestConvotestWithRateLimit checks that WithRateLimit changes the limit
// Rentalot's headers report, or turns them off, and that a client pacing to
// the headers follows it.
func TestConvotestWithRateLimit(t *testing.T) {
	t.Parallel()
	headers := func(t *testing.T, p convo.Provider, opts ...convotest.Option) []http.Header {
		t.Helper()
		srv := convotest.NewServer(p, opts...)
		defer srv.Close()
		var out []http.Header
		for range 3 {
			resp, body := rawGet(t, srv, "/conversations", demoAuth(p))
			require.Equal(t, 200, resp.StatusCode, "%s", body)
			out = append(out, resp.Header)
		}
		return out
	}
	for i, h := range headers(t, convo.Rentalot, convotest.WithRateLimit(100_000)) {
		assert.Equal(t, "100000", h.Get("X-RateLimit-Limit"))
		assert.Equal(t, strconv.Itoa(100_000-1-i), h.Get("X-RateLimit-Remaining"))
		assert.NotEmpty(t, h.Get("X-RateLimit-Reset"))
	}
	for _, h := range headers(t, convo.Rentalot, convotest.WithRateLimit(0)) {
		assert.Equal(t, "120", h.Get("X-RateLimit-Limit"), "0 keeps the provider's limit")
	}
	for _, h := range headers(t, convo.Rentalot, convotest.WithRateLimit(-1)) {
		for _, k := range []string{"X-RateLimit-Limit", "X-RateLimit-Remaining", "X-RateLimit-Reset", "X-RateLimit-Resource"} {
			assert.Empty(t, h.Get(k), k)
		}
	}
	for _, h := range headers(t, convo.VantaxAI, convotest.WithRateLimit(50)) {
		assert.Empty(t, h.Get("X-RateLimit-Limit"), "a provider without rate-limit headers gets none")
	}

	// A client that waits at most a millisecond for a used-up window: with
	// a limit of 2 the third request is refused before it is sent; without
	// headers it is not.
	get := func(opts ...convotest.Option) []error {
		srv := convotest.NewServer(convo.Rentalot, opts...)
		defer srv.Close()
		c, err := srv.Client(convo.WithMaxPacingWait(time.Millisecond))
		require.NoError(t, err)
		var errs []error
		for range 3 {
			var err error
			for _, err = range c.Conversations.List(context.Background(), &convo.ConversationListParams{PageSize: 1}).Pages() {
				break // the first page: one request
			}
			errs = append(errs, err)
		}
		return errs
	}
	errs := get(convotest.WithRateLimit(2))
	require.NoError(t, errs[0])
	require.NoError(t, errs[1])
	var pe *convo.PacingError
	assert.ErrorAs(t, errs[2], &pe)
	for _, err := range get(convotest.WithRateLimit(-1)) {
		assert.NoError(t, err)
	}
}
