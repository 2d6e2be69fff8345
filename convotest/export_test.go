package convotest

import (
	"net/http"

	"github.com/convokit/convo"
)

// DemoAuth returns the raw headers of the demo credentials of p's fake,
// for the tests that send requests by hand; nil for a provider with none.
func DemoAuth(p convo.Provider) http.Header {
	f, ok := fakeOf(p)
	if !ok {
		return nil
	}
	req, err := http.NewRequest(http.MethodGet, "http://127.0.0.1/", nil)
	if err != nil {
		panic(err)
	}
	if err := f.api(nil).auth().Authenticate(req); err != nil {
		panic(err)
	}
	return req.Header
}

// ListsByActivity reports whether p's fake lists conversations newest
// activity first, so that new activity moves a conversation.
func ListsByActivity(p convo.Provider) bool {
	f, ok := fakeOf(p)
	return ok && f.api(nil).listsByActivity()
}
