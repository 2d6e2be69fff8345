package convotest_test

import (
	"net/url"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/convokit/convo"
	"github.com/convokit/convo/convotest"
)

// TestConvotestStrictness sends each provider the requests its fake must
// refuse (its wire's refusals) and checks the status and the provider's
// error envelope.
func TestConvotestStrictness(t *testing.T) {
	t.Parallel()
	for _, p := range convo.Providers() {
		t.Run(p.Name(), func(t *testing.T) {
			w := wireOf(t, p)
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
}
