package convo

import (
	"errors"
	"fmt"
	"net/url"
	"reflect"
	"slices"
	"strings"
	"sync"
	"time"
	"unsafe"

	"github.com/goccy/go-json"
	"github.com/google/go-querystring/query"
)

// Provider identifies one of the supported conversation APIs and carries
// everything that differs between them: base URL, paths, query parameter
// names, pagination style, envelope, field mapping. Use the package variables
// [Vobiz], [VantaxAI], [Rentalot] and [AgentMessage]; the zero Provider is
// rejected by [NewClient].
type Provider struct{ d *providerDesc }

// The supported providers.
var (
	// Vobiz is the Vobiz WhatsApp Conversations API at
	// https://api.vobiz.ai/api/v1/messaging: X-Auth-ID/X-Auth-Token or a
	// bearer JWT; opaque cursor pagination.
	Vobiz = Provider{&vobizDesc}
	// VantaxAI is the VantaxAI Conversations API at
	// https://api.vantaxai.com/v1: bearer API key; starting_after pagination.
	VantaxAI = Provider{&vantaxDesc}
	// Rentalot is the Rentalot (AI leasing agent) API at
	// https://rentalot.ai/api/v1: bearer API key; page number pagination;
	// message search.
	Rentalot = Provider{&rentalotDesc}
	// AgentMessage is the AgentMessage SMS API at https://api.agentmsg.io/v1:
	// bearer API key; opaque cursor pagination.
	AgentMessage = Provider{&agentMessageDesc}
)

// Providers returns the supported providers, in a fixed order.
func Providers() []Provider { return []Provider{Vobiz, VantaxAI, Rentalot, AgentMessage} }

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

// Name returns the provider's short name: "vobiz", "vantaxai", "rentalot" or
// "agentmessage"; "" for the zero Provider.
func (p Provider) Name() string {
	if p.d == nil {
		return ""
	}
	return p.d.name
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

// providerDesc is the data that describes one provider. The client, the
// pager and the error decoder read it; nothing else knows a provider.
type providerDesc struct {
	name    string
	baseURL string

	conversations listEndpoint[Conversation]
	// conversationFilters are the conversation list filters the provider
	// documents: an allow-list. Every other ConversationListParams field
	// that is set is refused with ErrUnsupported (encodeFilters).
	conversationFilters []filterSpec
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
	resource     string              // names the resource in cursors and errors
	path         func(string) string // escaped path; the argument is the escaped scope id
	style        pagingStyle         // how it moves from page to page (paging.go)
	limitParam   string              // query name of the page size; "" when the endpoint has none
	minLimit     int
	maxLimit     int
	defaultLimit int
	decode       func(body []byte, scope string) (rawPage[T], error)
	id           func(*T) string
}

// checkPageSize refuses a page size the endpoint does not document; 0 means
// the provider's default. An endpoint without a page size ignores it.
func (ep *listEndpoint[T]) checkPageSize(provider string, n int) error {
	switch {
	case ep.limitParam != "" && n != 0 && (n < ep.minLimit || n > ep.maxLimit):
		return invalidParams("%s %s: page size %d is outside %d..%d", provider, ep.resource, n, ep.minLimit, ep.maxLimit)
	case n < 0:
		return invalidParams("%s %s: negative page size %d", provider, ep.resource, n)
	}
	return nil
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

// stringArena copies the strings one model keeps out of the body into a
// single allocation instead of one each: add sizes it, own copies. A string
// it returns shares that allocation with the model's other strings, so a
// caller who keeps only one of them keeps the few bytes of all of them.
// Bytes once returned are never written again (append only writes past
// them), so an arena sized too small is still correct: it grows into a new
// allocation and the strings already returned stay where they are.
type stringArena struct {
	size int
	buf  []byte
}

// add counts s in the size of the one allocation.
func (a *stringArena) add(s string) { a.size += len(s) }

// own returns a copy of s in the arena.
func (a *stringArena) own(s string) string {
	if s == "" {
		return ""
	}
	if a.buf == nil {
		a.buf = make([]byte, 0, max(a.size, len(s)))
	}
	start := len(a.buf)
	a.buf = append(a.buf, s...)
	return unsafe.String(unsafe.SliceData(a.buf[start:]), len(s))
}

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

// dataObject decodes the {"data":{…}} envelope of one object (VantaxAI adds
// "success") and maps it.
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
			return out, errors.New(`"success" is false`)
		}
		if env.Data == nil {
			return out, errors.New(`response has no "data" object`)
		}
		conv(env.Data, "", &out)
		return out, nil
	}
}

// wireItems reuses, from one page to the next, the slices a page's items are
// decoded into, so that decoding a page does not grow a new slice of wire
// items element by element: every page decoder decodes through decode and
// maps through models, which gives the slice back. A wire item lives only
// until it is mapped (its strings refer to the body, see decodeJSON); a
// slice is zeroed when it is given back, so nothing of one page is ever seen
// in the next. It is safe for concurrent use.
type wireItems[W any] struct{ pool sync.Pool }

// maxPooledItems bounds the slices kept for reuse: a server that sends a
// page far larger than any documented limit does not pin its memory.
const maxPooledItems = 1000

// decode decodes body into env, whose item array is the field items points
// to, into a reused slice. An array that decodes to no item is decoded again
// into a nil slice: only then does an absent or null array (nil) differ from
// an empty one.
func (w *wireItems[W]) decode(decode decodeFunc, body []byte, env any, items *[]W) error {
	if p, ok := w.pool.Get().(*[]W); ok {
		*items = (*p)[:0]
	}
	err := decode(body, env)
	if err == nil && len(*items) == 0 {
		*items = nil
		err = decode(body, env)
	}
	return err
}

// models converts a page's wire items to models (see mapItems) and gives
// their slice back, zeroed, for the next page.
func models[W, T any](w *wireItems[W], items []W, scope string, conv func(*W, string, *T)) []T {
	out := mapItems(items, scope, conv)
	if c := cap(items); c > 0 && c <= maxPooledItems {
		items = items[:c]
		clear(items)
		w.pool.Put(&items)
	}
	return out
}

// mapItems converts wire items to models.
func mapItems[W, T any](wire []W, scope string, conv func(*W, string, *T)) []T {
	out := make([]T, len(wire))
	for i := range wire {
		conv(&wire[i], scope, &out[i])
	}
	return out
}

// filterSpec declares one [ConversationListParams] field that a provider
// documents as a conversation list filter.
type filterSpec struct {
	field  string   // the ConversationListParams field
	param  string   // the query parameter it is sent as
	values []string // the documented values of an enumerated filter; nil: any
}

// pagingFields are the ConversationListParams fields that page the list
// instead of filtering it; the pager sends them.
var pagingFields = map[string]bool{"PageSize": true, "Cursor": true}

// encodeFilters is the one encoder of conversation list filters. Every set
// field of p (found by reflection, so a field added later is covered) must
// be declared in specs: it is then sent under its declared name, in
// go-querystring's form (RFC 3339 for times, true/false for booleans);
// otherwise the list is refused with ErrUnsupported before any request. A
// filter is never silently dropped.
func encodeFilters(provider string, specs []filterSpec, p *ConversationListParams) (url.Values, error) {
	rv := reflect.ValueOf(p).Elem()
	rt := rv.Type()
	var set []*filterSpec
	for i := range rt.NumField() {
		name := rt.Field(i).Name
		if pagingFields[name] || rv.Field(i).IsZero() {
			continue
		}
		spec := lookupFilter(specs, name)
		if spec == nil {
			return nil, unsupported(provider, "the conversation filter "+name)
		}
		set = append(set, spec)
	}
	if len(set) == 0 {
		return nil, nil
	}
	encoded, err := query.Values(p) // keyed by field name
	if err != nil {
		return nil, invalidParams("%s: conversation filters: %v", provider, err)
	}
	out := make(url.Values, len(set))
	for _, spec := range set {
		v := encoded.Get(spec.field)
		if spec.values != nil && !slices.Contains(spec.values, v) {
			return nil, invalidParams("%s: %s %q is not one of %s", provider, spec.field, v, strings.Join(spec.values, ", "))
		}
		out.Set(spec.param, v)
	}
	return out, nil
}

func lookupFilter(specs []filterSpec, field string) *filterSpec {
	for i := range specs {
		if specs[i].field == field {
			return &specs[i]
		}
	}
	return nil
}
