package convotest_test

import (
	"context"
	"fmt"
	"net/http"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/convokit/convo"
	"github.com/convokit/convo/convotest"
)

func TestConvotestRequestLog(t *testing.T) {
	t.Parallel()
	srv := convotest.NewServer(convo.Vobiz)
	defer srv.Close()
	c := mustClient(t, srv)
	id := firstConversation(t, srv)
	collect(t, c.Messages.List(context.Background(), id, &convo.MessageListParams{PageSize: 2}).Pages())
	rawGet(t, srv, "/conversations", http.Header{"X-Auth-Id": {convotest.DemoVobizAuthID}, "X-Auth-Token": {"leaked-secret"}})

	reqs := srv.Requests()
	require.GreaterOrEqual(t, len(reqs), 2)
	first := reqs[0]
	assert.Equal(t, 1, first.N)
	assert.Equal(t, http.MethodGet, first.Method)
	assert.Equal(t, "/api/v1/messaging/conversations/"+id+"/messages", first.Path)
	assert.Equal(t, "2", first.Query().Get("limit"))
	assert.True(t, first.Authorized)
	assert.Equal(t, http.StatusOK, first.Status)
	assert.Equal(t, convotest.FaultKind(0), first.Fault)

	last := reqs[len(reqs)-1]
	assert.False(t, last.Authorized)
	assert.Equal(t, http.StatusUnauthorized, last.Status)
	for _, r := range reqs {
		assert.Equal(t, "REDACTED", r.Header.Get("X-Auth-Token"))
		for k, vs := range r.Header {
			for _, v := range vs {
				assert.NotContains(t, v, convotest.DemoVobizAuthToken, k)
				assert.NotContains(t, v, "leaked-secret", k)
			}
		}
		assert.NotContains(t, fmt.Sprintf("%+v", r), convotest.DemoVobizAuthToken)
	}

	// The log is a copy.
	reqs[0].Header.Set("X-Auth-Token", "changed")
	assert.Equal(t, "REDACTED", srv.Requests()[0].Header.Get("X-Auth-Token"))
	srv.ResetRequests()
	assert.Empty(t, srv.Requests())
}
