package convotest_test

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/convokit/convo"
	"github.com/convokit/convo/convotest"
)

func TestConvotestURLAndBasePath(t *testing.T) {
	t.Parallel()
	for _, p := range convo.Providers() {
		t.Run(p.Name(), func(t *testing.T) {
			srv := convotest.NewServer(p)
			defer srv.Close()
			u, err := url.Parse(srv.URL())
			require.NoError(t, err)
			base, err := url.Parse(p.DefaultBaseURL())
			require.NoError(t, err)
			assert.Equal(t, base.Path, u.Path)
			assert.Equal(t, "127.0.0.1", u.Hostname())
			assert.Equal(t, p, srv.Provider())

			resp, body := rawGet(t, srv, "/conversations", demoAuth(p))
			assert.Equal(t, http.StatusOK, resp.StatusCode, "body: %s", body)

			// Outside the base path nothing is served.
			req, err := http.NewRequest(http.MethodGet, strings.TrimSuffix(srv.URL(), base.Path)+"/conversations", nil)
			require.NoError(t, err)
			req.Header = demoAuth(p)
			r2, err := rawClient.Do(req)
			require.NoError(t, err)
			r2.Body.Close()
			assert.Equal(t, http.StatusNotFound, r2.StatusCode)
		})
	}
}

func TestConvotestConcurrentUse(t *testing.T) {
	t.Parallel()
	srv := convotest.NewServer(convo.AgentMessage, convotest.WithFaultRate(0.2, 7, convotest.FaultServerError))
	defer srv.Close()
	c := mustClient(t, srv, convo.WithRetryWait(time.Millisecond, 2*time.Millisecond), convo.WithMaxRetries(10))
	d := srv.Dataset()
	var wg sync.WaitGroup
	errs := make(chan error, 8)
	for g := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			cd := d.Conversations[g]
			n := 0
			for _, err := range c.Messages.List(context.Background(), cd.Conversation.ID, &convo.MessageListParams{PageSize: 3}).All() {
				if err != nil {
					errs <- err
					return
				}
				n++
			}
			if n != len(cd.Messages) {
				errs <- fmt.Errorf("%s: %d messages, want %d", cd.Conversation.ID, n, len(cd.Messages))
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	reqs := srv.Requests()
	seen := map[int]bool{}
	for _, r := range reqs {
		assert.False(t, seen[r.N], "arrival numbers are unique")
		seen[r.N] = true
	}
	assert.Len(t, seen, len(reqs))
}

func TestConvotestNewServerPanicsOnZeroProvider(t *testing.T) {
	t.Parallel()
	assert.Panics(t, func() { convotest.NewServer(convo.Provider{}) })
}
