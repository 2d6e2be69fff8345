package convotest

import (
	"net/http"
	"time"

	"github.com/convokit/convo"
)

// api is one provider's dialect: authentication, envelopes, paging and
// error shapes. The server core (routing, faults, the request log) is
// written once; each provider_<name>.go file implements this interface
// and declares its fake in fakes.
type api interface {
	// auth returns the demo credentials as an Authenticator.
	auth() convo.Authenticator
	// authorized reports whether h carries valid demo credentials.
	authorized(h http.Header) bool
	// unauthorized describes why h was refused.
	unauthorized(h http.Header) *apiError
	// renderError turns an error into the provider's status and envelope.
	renderError(n int, e *apiError) (status int, contentType string, body any)
	// decorate adds the provider's per-response headers to answer n.
	decorate(n int, h http.Header)
	// rateLimit returns the limit reported in X-RateLimit-* headers, 0 when
	// the provider sends none.
	rateLimit() (limit int, resource string)
	// listsByActivity reports whether the provider lists conversations
	// newest activity first, so that new activity moves a conversation.
	listsByActivity() bool
	// conversationChanged applies the provider's documented effects of an
	// in-place change of a conversation's record from was to c (change.go)
	// at the server's clock now.
	conversationChanged(c, was *convo.Conversation, now time.Time)
	// messageChanged applies the provider's documented effects of an
	// in-place change of message m of c (newest: it is c's newest
	// message); false when the provider documents no such change (a
	// redaction where there is no retention window).
	messageChanged(c *ConversationData, m *convo.Message, newest bool) bool

	listConversations(rawQuery string) (any, *apiError)
	// getConversation and search report ok=false when the provider does
	// not document the operation (the route is then not found).
	getConversation(id, rawQuery string) (body any, err *apiError, ok bool)
	listMessages(conversationID, rawQuery string) (any, *apiError)
	search(rawQuery string) (body any, err *apiError, ok bool)
}

// fake is one provider's part of the fake, declared in its
// provider_<name>.go file next to the dialect and the demo data it names.
type fake struct {
	provider convo.Provider
	// api returns the provider's dialect for server s.
	api func(s *Server) api
	// demo draws the provider's demo data from g (see DemoDataset).
	demo func(g *gen) *Dataset
	// credentialHeaders are the headers, besides Authorization, that
	// carry the provider's credentials: the request log redacts them.
	credentialHeaders []string
	// demoEnv gives the demo credentials in the credential environment
	// variables the provider declares (see DemoEnv).
	demoEnv map[string]string
}

// fakes is the registry: one fake for each of convo.Providers().
var fakes = []fake{vobizFake, vantaxFake, rentalotFake, agentMessageFake}

// fakeOf returns the fake of provider p; false for the zero Provider.
func fakeOf(p convo.Provider) (fake, bool) {
	for _, f := range fakes {
		if f.provider == p {
			return f, true
		}
	}
	return fake{}, false
}
