package convo

import (
	"context"
	"net/url"
	"strings"
	"time"
	"unicode/utf8"
)

// SearchService searches message content. Get it from [Client.Search].
type SearchService struct{ c *Client }

// SearchParams is a message search.
type SearchParams struct {
	Query string // required; at most the length the provider documents
	Limit int    // maximum results; 0 = provider default (Provider.PageSizeRange with OpSearchMessages)
}

// SearchResult is one message matching a search.
type SearchResult struct {
	MessageID      string    `json:"message_id,omitempty"`
	ConversationID string    `json:"conversation_id,omitempty"`
	Content        string    `json:"content,omitempty"`
	Direction      Direction `json:"direction,omitempty"`
	Channel        string    `json:"channel,omitempty"`
	SentAt         time.Time `json:"sent_at,omitzero"`       // zero when the provider sends null
	ContactName    string    `json:"contact_name,omitempty"` // empty when the provider sends null

	// Unreadable lists the fields the server sent in a form convo could not
	// read (a timestamp in no known format); each is left zero. nil when
	// every field was read. See [UnreadableField].
	Unreadable []UnreadableField `json:"unreadable,omitempty"`
}

func searchResultID(r *SearchResult) string { return r.MessageID }

// Messages returns a pager over the messages whose content matches
// p.Query, as the provider's search documents it (the doc of its variable
// says how).
//
// A provider that documents no search ([Provider.Supports] with
// [OpSearchMessages]) makes the first step of the iteration yield an error
// wrapping [ErrUnsupported]. An empty or overlong query, or a Limit out of
// range, wraps [ErrInvalidParams].
func (s *SearchService) Messages(ctx context.Context, p *SearchParams) *Pager[SearchResult] {
	d := s.c.provider.d
	if p == nil {
		p = &SearchParams{}
	}
	spec := d.search
	if spec == nil {
		ep := &listEndpoint[SearchResult]{resource: "search", id: searchResultID}
		return newPager(ctx, s.c, pagerParams[SearchResult]{ep: ep, err: unsupported(d.name, "a message search")})
	}
	var err error
	switch n := utf8.RuneCountInString(p.Query); {
	case strings.TrimSpace(p.Query) == "":
		err = invalidField("Query", "%s search: empty query", d.name)
	case n > spec.maxQueryLength:
		err = invalidField("Query", "%s search: query of %d characters is longer than %d", d.name, n, spec.maxQueryLength)
	}
	q := url.Values{spec.queryParam: {p.Query}}
	return newPager(ctx, s.c, pagerParams[SearchResult]{ep: &spec.endpoint, filters: q, pageSize: p.Limit, err: err})
}
