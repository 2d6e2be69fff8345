package convo

import (
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/goccy/go-json"
)

// Provider identifies one of the supported conversation APIs and carries
// everything that differs between them: base URL, paths, query parameter
// names, pagination style, envelope, field mapping. Use the package
// variables that [Providers] lists, each documented with its API; the zero
// Provider is rejected by [NewClient].
type Provider struct{ d *providerDesc }

// Providers returns the supported providers, in a fixed order. This list is
// the registry: each provider is declared in its own file
// (provider_<name>.go) and listed here once; help texts, documentation
// tables and tests read it.
func Providers() []Provider { return []Provider{Vobiz, VantaxAI, Rentalot, AgentMessage} }

// providerList names every provider, as name gives it, in a sentence: "a,
// b, c or d".
func providerList(name func(Provider) string) string {
	var b strings.Builder
	all := Providers()
	for i, p := range all {
		switch {
		case i == 0:
		case i == len(all)-1:
			b.WriteString(" or ")
		default:
			b.WriteString(", ")
		}
		b.WriteString(name(p))
	}
	return b.String()
}

// ProviderByName returns the provider whose [Provider.Name] is name
// (case-insensitive).
func ProviderByName(name string) (Provider, bool) {
	for _, p := range Providers() {
		if strings.EqualFold(p.Name(), name) {
			return p, true
		}
	}
	return Provider{}, false
}

// Name returns the provider's short name, in lower case ("vantaxai"), as
// a command line or a configuration names it; "" for the zero Provider.
func (p Provider) Name() string {
	if p.d == nil {
		return ""
	}
	return p.d.name
}

// Title returns the provider's name as the provider spells it, which is
// also the name of its variable in this package ("VantaxAI"); "" for the
// zero Provider.
func (p Provider) Title() string {
	if p.d == nil {
		return ""
	}
	return p.d.title
}

// Docs returns where the provider documents its API: the address of its
// reference, or its title where the reference has no public address.
func (p Provider) Docs() string {
	if p.d == nil {
		return ""
	}
	return p.d.docs
}

// String returns [Provider.Name].
func (p Provider) String() string { return p.Name() }

// DefaultBaseURL returns the base URL the provider documents.
func (p Provider) DefaultBaseURL() string {
	if p.d == nil {
		return ""
	}
	return p.d.baseURL
}

// Operation names an operation a provider may document, for
// [Provider.Supports].
type Operation string

// The operations of the SDK.
const (
	OpListConversations Operation = "conversations.list" // ConversationService.List
	OpGetConversation   Operation = "conversations.get"  // ConversationService.Get
	OpListMessages      Operation = "messages.list"      // MessageService.List
	OpSearchMessages    Operation = "search.messages"    // SearchService.Messages
)

// Operations returns every operation, in the order of the constants.
func Operations() []Operation {
	return []Operation{OpListConversations, OpGetConversation, OpListMessages, OpSearchMessages}
}

// ParseOperation returns the operation named name ("conversations.get"),
// or an error wrapping [ErrInvalidParams] for a name that is none: the way
// to check a name that comes from configuration or a user.
func ParseOperation(name string) (Operation, error) {
	for _, op := range Operations() {
		if string(op) == name {
			return op, nil
		}
	}
	return "", fmt.Errorf("%w: unknown operation %q (want one of %v)", ErrInvalidParams, name, Operations())
}

// Supports reports whether the provider documents the operation op (one of
// the Op constants); an operation it does not document returns an error
// wrapping [ErrUnsupported] when called. An op that is none of the
// constants is a programming error, not a "no": Supports panics, naming
// it. Use [ParseOperation] for a name that is not a constant.
func (p Provider) Supports(op Operation) bool {
	switch op {
	case OpListConversations, OpListMessages:
		return p.d != nil
	case OpGetConversation:
		return p.d != nil && p.d.getConversation != nil
	case OpSearchMessages:
		return p.d != nil && p.d.search != nil
	}
	panic(fmt.Sprintf("convo: Provider.Supports: unknown operation %q (want one of %v)", string(op), Operations()))
}

// PageSizeRange returns the page sizes the provider documents for the list
// of operation op ([OpListConversations], [OpListMessages] or
// [OpSearchMessages], whose page size is SearchParams.Limit): the smallest,
// the largest and the one it uses when none is given. All three are 0 for
// a list that takes no page size, for an
// operation the provider does not document, and for one that is not a
// list.
func (p Provider) PageSizeRange(op Operation) (min, max, def int) {
	if p.d == nil {
		return 0, 0, 0
	}
	var lo, hi, d int
	switch op {
	case OpListConversations:
		lo, hi, d = p.d.conversations.minLimit, p.d.conversations.maxLimit, p.d.conversations.defaultLimit
	case OpListMessages:
		lo, hi, d = p.d.messages.minLimit, p.d.messages.maxLimit, p.d.messages.defaultLimit
	case OpSearchMessages:
		if s := p.d.search; s != nil {
			lo, hi, d = s.endpoint.minLimit, s.endpoint.maxLimit, s.endpoint.defaultLimit
		}
	}
	return lo, hi, d
}

// providerDesc is the data that describes one provider. The client, the
// pager and the error decoder read it; nothing else knows a provider.
type providerDesc struct {
	name    string // Provider.Name
	title   string // Provider.Title
	docs    string // Provider.Docs
	baseURL string

	credentials credentialSpec // how a program reads them from the environment

	conversations listEndpoint[Conversation]
	// conversationFilters are the conversation list filters the provider
	// documents: an allow-list. Every other ConversationListParams field
	// that is set is refused with ErrUnsupported (encodeFilters).
	conversationFilters []Filter
	// getConversation is GET /conversations/{id}; nil when undocumented.
	getConversation *objectEndpoint[Conversation]

	messages listEndpoint[Message]

	search *searchSpec // nil when undocumented

	change changeSpec // what shows new activity, for incremental sync
}

// changeSpec is what a provider's conversation list shows of new activity
// and how its message lists run (PROVIDERS.md, "Order and change"); an
// incremental [Client.Sync] reads it.
type changeSpec struct {
	// byActivity: the conversation list runs newest activity first, so an
	// incremental walk stops at the first conversation whose ordering
	// activity is older than its window.
	byActivity bool
	// activity returns a conversation's last-activity time (zero when
	// unknown) and whether that is the field the list is ordered by; nil
	// when the provider shows no activity (every known conversation is then
	// re-read from its newest messages).
	activity func(*Conversation) (at time.Time, ordering bool)
	// signals returns the other fields that move with activity (counts):
	// a conversation whose activity and signals are unchanged is not re-read.
	signals func(*Conversation) []int64
	// since: the list takes ConversationListParams.Since, so an
	// incremental walk asks only for the conversations of its window.
	since bool
	// newestFirst: message pages run from the newest message to older ones.
	newestFirst bool
}

type searchSpec struct {
	endpoint       listEndpoint[SearchResult]
	queryParam     string
	maxQueryLength int // in characters
}

// objectEndpoint describes an operation that answers one object.
type objectEndpoint[T any] struct {
	path   func(escapedID string) string
	decode func(body []byte) (T, error)
}

// listEndpoint describes one list operation of one provider.
type listEndpoint[T any] struct {
	resource string              // names the resource in cursors and errors
	path     func(string) string // escaped path; the argument is the escaped scope id
	style    pagingStyle         // how it moves from page to page (paging.go)
	pageLimits
	decode func(body []byte, scope string) (rawPage[T], error)
	id     func(*T) string
}

// pageLimits are the page size a list documents: its query parameter and
// range, and the size the provider uses when none is sent.
type pageLimits struct {
	limitParam                       string // query name of the page size; "" when the endpoint has none
	minLimit, maxLimit, defaultLimit int
}

// limit is the page size every provider documents for its lists: the
// parameter "limit", from 1 to max, def when it is not sent.
func limit(max, def int) pageLimits {
	return pageLimits{limitParam: "limit", minLimit: 1, maxLimit: max, defaultLimit: def}
}

// conversationList is a provider's conversation list: GET /conversations,
// in the provider's paging style, page size and envelope.
func conversationList(style pagingStyle, limits pageLimits, decode func([]byte, string) (rawPage[Conversation], error)) listEndpoint[Conversation] {
	return listEndpoint[Conversation]{resource: "conversations", path: conversationsPath, style: style, pageLimits: limits, decode: decode, id: conversationID}
}

// messageList is a provider's message list: GET
// /conversations/{id}/messages, in the provider's paging style, page size
// and envelope.
func messageList(style pagingStyle, limits pageLimits, decode func([]byte, string) (rawPage[Message], error)) listEndpoint[Message] {
	return listEndpoint[Message]{resource: "messages", path: messagesPath, style: style, pageLimits: limits, decode: decode, id: messageID}
}

// The paths every provider documents, relative to its base URL.

func conversationsPath(string) string { return "/conversations" }

func conversationPath(escapedID string) string { return "/conversations/" + escapedID }

func messagesPath(escapedID string) string { return "/conversations/" + escapedID + "/messages" }

// lastMessageActivity is the activity of a list ordered by the time of the
// last message: that time, which orders the list when it is known.
func lastMessageActivity(c *Conversation) (time.Time, bool) {
	return c.LastMessageAt, !c.LastMessageAt.IsZero()
}

// checkPageSize refuses a page size the endpoint does not document; 0 means
// the provider's default. An endpoint without a page size ignores it.
func (ep *listEndpoint[T]) checkPageSize(provider string, n int) error {
	switch {
	case ep.limitParam != "" && n != 0 && (n < ep.minLimit || n > ep.maxLimit):
		return invalidField(ep.pageSizeField(), "%s %s: page size %d is outside %d..%d", provider, ep.resource, n, ep.minLimit, ep.maxLimit)
	case n < 0:
		return invalidField(ep.pageSizeField(), "%s %s: negative page size %d", provider, ep.resource, n)
	}
	return nil
}

// pageSizeField is the params field that sets the endpoint's page size:
// SearchParams.Limit for a search, PageSize for the other lists.
func (ep *listEndpoint[T]) pageSizeField() string {
	if ep.resource == "search" {
		return "Limit"
	}
	return "PageSize"
}

// rawPage is one decoded page before the pager applies the paging rules.
type rawPage[T any] struct {
	items      []T
	more       *bool  // has_more, when sent
	next       string // next cursor (pagingCursor), when sent
	page       int    // page number the server reports (pagingPageNumber)
	limit      int    // page size the server reports
	totalPages *int   // number of pages, when reported
	total      *int   // number of items, when reported and reliable
}

// decodeJSON is the one place bodies are decoded, by github.com/goccy/go-json
// (BENCHMARKS.md says why): the values, the errors and the strictness of
// encoding/json, about four times faster.
//
// Strings are not copied: a decoded string refers to body, whose buffer is
// reused for the next response. Every mapping from a wire type to a model
// therefore copies the strings it keeps (own, ownDirection, ownOf), and the
// model never shares memory with the body (TestModelsOwnTheirMemory).
func decodeJSON(body []byte, v any) error {
	return json.UnmarshalWithOption(body, v, json.DecodeNoCopyString())
}

// decodeFunc is the signature of decodeJSON. The page decoders take it as a
// parameter so that the differential tests can run each of them with
// encoding/json as well.
type decodeFunc func(body []byte, v any) error

// own returns a copy of a string decoded from a body, which the model may
// keep after the body's buffer is reused.
func own(s string) string { return strings.Clone(s) }

// ownDirection returns the direction without an allocation for the two
// documented values.
func ownDirection(s string) Direction {
	switch s {
	case "inbound":
		return Inbound
	case "outbound":
		return Outbound
	}
	return Direction(own(s))
}

// ownOf returns the constant among known that equals s (no allocation for
// the documented values of an enumerated field), else a copy of s.
func ownOf(s string, known ...string) string {
	for _, k := range known {
		if s == k {
			return k
		}
	}
	return own(s)
}

// ownOr returns a copy of s, or fallback (a string the model already owns)
// when s is empty.
func ownOr(s, fallback string) string {
	if s == "" {
		return fallback
	}
	return own(s)
}

// ownAll copies a decoded slice of strings; nil stays nil and [] stays
// empty, as encoding/json decodes them.
func ownAll(v []string) []string {
	if v == nil {
		return nil
	}
	out := make([]string, len(v))
	for i, s := range v {
		out[i] = own(s)
	}
	return out
}

// errNoItems reports an envelope without its item array: decoding it as an
// empty page would lose data silently.
func errNoItems(key string) error {
	return fmt.Errorf("response has no %q array", key)
}

// errSuccessFalse refuses an envelope whose "success" is false: the body
// says the request failed, whatever its status.
var errSuccessFalse = errors.New(`"success" is false`)

// successList is the part of a list envelope that says "success" and holds
// the items under "data"; the provider's envelope embeds it beside its
// paging member.
type successList[W any] struct {
	Success *bool `json:"success"`
	Data    []W   `json:"data"`
}

// check refuses an envelope that says it failed or holds no item array.
func (e *successList[W]) check() error {
	if e.Success != nil && !*e.Success {
		return errSuccessFalse
	}
	if e.Data == nil {
		return errNoItems("data")
	}
	return nil
}

// dataObject decodes the {"data":{…}} envelope of one object (with or
// without "success") and maps it.
func dataObject[W, T any](decode decodeFunc, conv func(*W, string, *T)) func([]byte) (T, error) {
	return func(body []byte) (T, error) {
		var out T
		var env struct {
			Success *bool `json:"success"`
			Data    *W    `json:"data"`
		}
		if err := decode(body, &env); err != nil {
			return out, err
		}
		if env.Success != nil && !*env.Success {
			return out, errSuccessFalse
		}
		if env.Data == nil {
			return out, errors.New(`response has no "data" object`)
		}
		conv(env.Data, "", &out)
		return out, nil
	}
}

// mapItems converts wire items to models.
func mapItems[W, T any](wire []W, scope string, conv func(*W, string, *T)) []T {
	out := make([]T, len(wire))
	for i := range wire {
		conv(&wire[i], scope, &out[i])
	}
	return out
}
