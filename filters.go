package convo

import (
	"fmt"
	"net/url"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/google/go-querystring/query"
)

// Filter describes one conversation list filter a provider documents: a
// field of [ConversationListParams] and how each consumer spells it. It is
// the one declaration of the filter: the SDK sends the field under Param
// and refuses every field no Filter declares; a command makes its flag from
// Flag and Help; a mirror names a sync's state with NameKey and
// [Filter.Value]. A field declared by several providers has the same Flag,
// NameKey and Help in each.
type Filter struct {
	// Field is the name of the ConversationListParams field: "ContactID".
	Field string
	// Param is the query parameter the provider reads it from: "contactId".
	Param string
	// Values are the documented values of an enumerated filter, in the
	// provider's order; nil when any value is accepted. Another value is
	// refused with [ErrInvalidParams] before any request.
	Values []string
	// Flag is the name of the command-line flag that sets it, without its
	// dashes: "contact-id".
	Flag string
	// Help says what the filter keeps, for a flag's help: "only this
	// contact's conversations". A word in backquotes names the flag's
	// value, as [flag.UnquoteUsage] reads it.
	Help string
	// NameKey is the key under which the filter enters the default name of
	// a sync's state ("contact_id"), so that syncs with other filters never
	// share one: the value is [Filter.Value].
	NameKey string
}

// Filters returns the conversation list filters the provider documents, in
// a fixed order; nil for a provider that documents none. Setting
// any other field of [ConversationListParams] but PageSize and Cursor makes
// the list fail with [ErrUnsupported]. The slice is the caller's.
func (p Provider) Filters() []Filter {
	if p.d == nil || len(p.d.conversationFilters) == 0 {
		return nil
	}
	out := slices.Clone(p.d.conversationFilters)
	for i := range out {
		out[i].Values = slices.Clone(out[i].Values)
	}
	return out
}

// Value returns the value params sets for the filter, as text: a string as
// it is, a time in UTC as RFC 3339 with its fraction of a second, a
// boolean as true or false, anything else as [fmt.Sprint] prints it. ok is false when the field is unset (its zero
// value, a nil pointer) or params is nil. It is the form a sync's default
// name holds, not the wire form (which [ConversationService.List] chooses
// per provider).
func (f Filter) Value(params *ConversationListParams) (value string, ok bool) {
	if params == nil {
		return "", false
	}
	v := reflect.ValueOf(params).Elem().FieldByName(f.Field)
	if !v.IsValid() || v.IsZero() {
		return "", false
	}
	if v.Kind() == reflect.Pointer {
		v = v.Elem()
	}
	switch x := v.Interface().(type) {
	case string:
		return x, true
	case time.Time:
		return x.UTC().Format(time.RFC3339Nano), true
	case bool:
		return strconv.FormatBool(x), true
	default:
		return fmt.Sprint(x), true
	}
}

// pagingFields are the ConversationListParams fields that page the list
// instead of filtering it; the pager sends them.
var pagingFields = map[string]bool{"PageSize": true, "Cursor": true}

// encodeFilters is the one encoder of conversation list filters. Every set
// field of p (found by reflection, so a field added later is covered) must
// be declared in filters: it is then sent under its declared name, in
// go-querystring's form (RFC 3339 for times, true/false for booleans);
// otherwise the list is refused with ErrUnsupported before any request. A
// filter is never silently dropped.
func encodeFilters(provider string, filters []Filter, p *ConversationListParams) (url.Values, error) {
	rv := reflect.ValueOf(p).Elem()
	rt := rv.Type()
	var set []*Filter
	for i := range rt.NumField() {
		name := rt.Field(i).Name
		if pagingFields[name] || rv.Field(i).IsZero() {
			continue
		}
		f := lookupFilter(filters, name)
		if f == nil {
			return nil, unsupportedField(provider, name, "the conversation filter "+name)
		}
		set = append(set, f)
	}
	if len(set) == 0 {
		return nil, nil
	}
	encoded, err := query.Values(p) // keyed by field name
	if err != nil {
		return nil, invalidParams("%s: conversation filters: %v", provider, err)
	}
	out := make(url.Values, len(set))
	for _, f := range set {
		v := encoded.Get(f.Field)
		if f.Values != nil && !slices.Contains(f.Values, v) {
			return nil, invalidField(f.Field, "%s: %s %q is not one of %s", provider, f.Field, v, strings.Join(f.Values, ", "))
		}
		out.Set(f.Param, v)
	}
	return out, nil
}

func lookupFilter(filters []Filter, field string) *Filter {
	for i := range filters {
		if filters[i].Field == field {
			return &filters[i]
		}
	}
	return nil
}
