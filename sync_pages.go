package convo

import (
	"iter"
)

// The sync engine's interface to the pager: the engine reads lists page by
// page and keeps, per conversation, where a list continues. It learns
// where a page stands from the pager itself (pageAt), never by decoding a
// Pager.Cursor, and it asks for the largest page a list documents when the
// caller sets no page size.

// pageAt is one page of a list as the sync engine reads it.
type pageAt[T any] struct {
	*Page[T]
	// token is the request token the page was fetched at: "" for the
	// first page, else the starting_after id, the server's cursor or the
	// page number (pagerParams.startToken takes it back).
	token string
	// after is the request token the list continues from just after the
	// page's last item: the last item's id (starting_after), the next
	// page's token, or, on the last page, token itself.
	after string
}

// pagesAt iterates over the list page by page like [Pager.Pages], telling
// where each page stands. After a page is yielded, [Pager.Cursor] points
// just after its last item.
func (p *Pager[T]) pagesAt() iter.Seq2[pageAt[T], error] {
	return func(yield func(pageAt[T], error) bool) {
		p.run(func(f *fetched[T], err error) bool {
			if err != nil {
				yield(pageAt[T]{}, err)
				return false
			}
			pa := pageAt[T]{Page: f.page, token: f.token, after: f.token}
			if n := len(f.page.Items); n > 0 {
				p.advance(f, n-1)
				pa.after = p.after(f, n-1).token
			} else {
				p.mu.Lock()
				p.moved = true
				p.mu.Unlock()
			}
			return yield(pa, nil)
		})
	}
}

// largestPage is the largest page size the endpoint documents; 0 when it
// takes no page size.
func (ep *listEndpoint[T]) largestPage() int {
	if ep.limitParam == "" {
		return 0
	}
	return ep.maxLimit
}

// MaxPageSize returns the largest page size the provider documents for
// the list of operation op ([OpListConversations], [OpListMessages] or
// [OpSearchMessages]): the value to set as a PageSize (or a search Limit)
// to read a list in the fewest requests. It returns 0 for a list that
// takes no page size (one page), for an operation the provider does not
// document, and for an operation that is not a list. [Client.Sync] asks
// for these sizes when its params set none.
func (p Provider) MaxPageSize(op Operation) int {
	if p.d == nil {
		return 0
	}
	switch op {
	case OpListConversations:
		return p.d.conversations.largestPage()
	case OpListMessages:
		return p.d.messages.largestPage()
	case OpSearchMessages:
		if p.d.search != nil {
			return p.d.search.endpoint.largestPage()
		}
	}
	return 0
}

// checkConversationParams refuses conversation list params that the list
// would refuse, before any request (the error its first step would
// yield), without making a pager: the filters, the page size and the
// cursor.
func (c *Client) checkConversationParams(p *ConversationListParams) error {
	d := c.provider.d
	q, err := encodeFilters(d.name, d.conversationFilters, p)
	if err != nil {
		return err
	}
	ep := &d.conversations
	if err := ep.checkPageSize(d.name, p.PageSize); err != nil {
		return err
	}
	if p.Cursor != "" {
		_, _, err = resumePosition(d.name, ep, fingerprint("", q.Encode()), p.Cursor, p.PageSize)
	}
	return err
}
