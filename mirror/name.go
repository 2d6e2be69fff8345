package mirror

import (
	"net/url"

	"github.com/convokit/convo"
)

// DefaultName is the name of a sync of provider p with filters f: the
// provider's name, followed by the filters set as a query string, such as
// "vantaxai?channel=sms&status=open".
func DefaultName(p convo.Provider, f *convo.ConversationListParams) string {
	q := filterQuery(f)
	if q == "" {
		return p.Name()
	}
	return p.Name() + "?" + q
}

// filterQuery encodes the filters of f (not its page size or cursor),
// sorted, so that the same filters always give the same string: each set
// filter under its declared NameKey, whichever provider declares it (a
// field has one key), with its value as [convo.Filter.Value] gives it.
func filterQuery(f *convo.ConversationListParams) string {
	v := url.Values{}
	for _, p := range convo.Providers() {
		for _, flt := range p.Filters() {
			if s, ok := flt.Value(f); ok {
				v.Set(flt.NameKey, s)
			}
		}
	}
	return v.Encode()
}
