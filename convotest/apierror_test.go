package convotest_test

import (
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/convokit/convo"
	"github.com/convokit/convo/convotest"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestConvotestStrictness(t *testing.T) {
	t.Parallel()
	bad := http.Header{"Authorization": {"Bearer am_live_wrong"}}
	none := http.Header{}
	tests := map[convo.Provider][]errorCase{
		convo.Vobiz: {
			{"unknown param", "/conversations/{id}/messages?foo=1", nil, 400, vobizCode("VALIDATION_ERROR", "foo")},
			{"undocumented limit on conversations", "/conversations?limit=10", nil, 400, vobizCode("VALIDATION_ERROR", "limit")},
			{"limit 0", "/conversations/{id}/messages?limit=0", nil, 400, vobizCode("VALIDATION_ERROR", "limit")},
			{"limit 101", "/conversations/{id}/messages?limit=101", nil, 400, vobizCode("VALIDATION_ERROR", "limit")},
			{"limit not a number", "/conversations/{id}/messages?limit=ten", nil, 400, vobizCode("VALIDATION_ERROR", "limit")},
			{"repeated limit", "/conversations/{id}/messages?limit=5&limit=6", nil, 400, vobizCode("VALIDATION_ERROR", "limit")},
			{"bad cursor", "/conversations/{id}/messages?cursor=eyJpZCI6Im1zZzAwMSJ9", nil, 400, vobizCode("VALIDATION_ERROR", "cursor")},
			{"unknown conversation", "/conversations/nope/messages", nil, 404, vobizCode("NOT_FOUND", "")},
			{"no such route", "/conversations/{id}", nil, 404, vobizCode("NOT_FOUND", "")},
			{"no credentials", "/conversations", none, 401, vobizCode("INVALID_CREDENTIALS", "")},
			{"wrong token", "/conversations", http.Header{"X-Auth-Id": {convotest.DemoVobizAuthID}, "X-Auth-Token": {"nope"}}, 401, vobizCode("INVALID_CREDENTIALS", "")},
			{"id without token", "/conversations", http.Header{"X-Auth-Id": {convotest.DemoVobizAuthID}}, 401, vobizCode("INVALID_CREDENTIALS", "")},
			{"wrong JWT", "/conversations", http.Header{"Authorization": {"Bearer eyJ.wrong"}}, 401, vobizCode("INVALID_CREDENTIALS", "")},
		},
		convo.VantaxAI: {
			{"unknown param", "/conversations?foo=1", nil, 422, vantaxErr("foo")},
			{"limit 0", "/conversations?limit=0", nil, 422, vantaxErr("limit")},
			{"limit 101", "/conversations/{id}/messages?limit=101", nil, 422, vantaxErr("limit")},
			{"channel", "/conversations?channel=fax", nil, 422, vantaxErr("channel")},
			{"status", "/conversations?status=archived", nil, 422, vantaxErr("status")},
			{"bad starting_after", "/conversations?starting_after=conv_nope", nil, 422, vantaxErr("starting_after")},
			{"param on get", "/conversations/{id}?expand=messages", nil, 422, vantaxErr("expand")},
			{"unknown conversation", "/conversations/conv_nope", nil, 404, vantaxErr("")},
			{"unknown conversation messages", "/conversations/conv_nope/messages", nil, 404, vantaxErr("")},
			{"no credentials", "/conversations", none, 401, vantaxErr("")},
			{"wrong key", "/conversations", http.Header{"Authorization": {"Bearer vx_live_wrong"}}, 401, vantaxErr("")},
			{"wrong x-api-key", "/conversations", http.Header{"X-Api-Key": {"vx_live_wrong"}}, 401, vantaxErr("")},
		},
		convo.Rentalot: {
			{"unknown param", "/conversations?foo=1", nil, 422, rentalotErr("validation_error", "foo")},
			{"limit 101", "/conversations?limit=101", nil, 422, rentalotErr("validation_error", "limit")},
			{"page 0", "/conversations/{id}/messages?page=0", nil, 422, rentalotErr("validation_error", "page")},
			{"status", "/conversations?status=open", nil, 422, rentalotErr("validation_error", "status")},
			{"search without query", "/conversations/search", nil, 422, rentalotErr("validation_error", "query")},
			{"search empty query", "/conversations/search?query=", nil, 422, rentalotErr("validation_error", "query")},
			{"search long query", "/conversations/search?query=" + strings.Repeat("é", 501), nil, 422, rentalotErr("validation_error", "query")},
			{"search limit 51", "/conversations/search?query=bed&limit=51", nil, 422, rentalotErr("validation_error", "limit")},
			{"search unknown param", "/conversations/search?query=bed&page=2", nil, 422, rentalotErr("validation_error", "page")},
			{"no credentials", "/conversations", none, 401, rentalotErr("unauthorized", "")},
			{"wrong key", "/conversations", http.Header{"Authorization": {"Bearer ra_wrong"}}, 401, rentalotErr("unauthorized", "")},
			{"unknown conversation", "/conversations/00000000-0000-4000-8000-000000000000", nil, 404, func(t *testing.T, b map[string]any) {
				assert.Equal(t, float64(404), b["status"])
				assert.Equal(t, "Not Found", b["title"])
				assert.NotEmpty(t, b["type"])
				assert.NotEmpty(t, b["detail"])
			}},
		},
		convo.AgentMessage: {
			{"unknown param", "/conversations?foo=1", nil, 400, agentErr("INVALID_INPUT", "foo")},
			{"limit not a number", "/conversations?limit=x", nil, 400, agentErr("INVALID_INPUT", "limit")},
			{"limit 201", "/conversations?limit=201", nil, 422, agentErr("VALIDATION_FAILED", "limit")},
			{"limit 0", "/conversations/{id}/messages?limit=0", nil, 422, agentErr("VALIDATION_FAILED", "limit")},
			{"since", "/conversations?since=yesterday", nil, 400, agentErr("INVALID_INPUT", "since")},
			{"opted_in", "/conversations?opted_in=maybe", nil, 400, agentErr("INVALID_INPUT", "opted_in")},
			{"bad cursor", "/conversations?cursor=AQID", nil, 400, agentErr("INVALID_INPUT", "cursor")},
			{"unknown conversation", "/conversations/AAAAAAAAAAAAAAAA/messages", nil, 404, agentErr("NOT_FOUND", "")},
			{"get is undocumented", "/conversations/{id}", nil, 404, agentErr("NOT_FOUND", "")},
			{"no credentials", "/conversations", none, 401, agentErr("UNAUTHORIZED", "")},
			{"wrong key", "/conversations", bad, 401, agentErr("UNAUTHORIZED", "")},
		},
	}
	for _, p := range convo.Providers() {
		t.Run(p.Name(), func(t *testing.T) {
			srv := convotest.NewServer(p)
			defer srv.Close()
			id := url.PathEscape(firstConversation(t, srv))
			for _, tt := range tests[p] {
				t.Run(tt.name, func(t *testing.T) {
					h := tt.header
					if h == nil {
						h = demoAuth(p)
					}
					resp, body := rawGet(t, srv, strings.ReplaceAll(tt.path, "{id}", id), h)
					require.Equal(t, tt.status, resp.StatusCode, "body: %s", body)
					assert.Contains(t, resp.Header.Get("Content-Type"), "json")
					tt.check(t, object(t, body))
					if p == convo.AgentMessage {
						assert.Equal(t, at(t, object(t, body), "error", "request_id"), resp.Header.Get("X-Request-Id"))
					}
				})
			}
		})
	}
}
