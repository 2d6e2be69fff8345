package convo

import (
	"bytes"
	"encoding/json"
	"fmt"
	"reflect"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// ownCase is one list of one provider with the wire type of its items:
// TestEveryModelStringOwned builds an item from the wire type alone.
type ownCase struct {
	provider Provider
	resource string
	wire     any // a zero wire item
	decode   func(body []byte) (any, error)
}

func listOwnCase[T any](p Provider, ep *listEndpoint[T], wire any) ownCase {
	return ownCase{p, ep.resource, wire, func(body []byte) (any, error) {
		page, err := ep.decode(body, "conv_scope")
		return page.items, err
	}}
}

// ownCases lists every list of every provider. TestEveryModelStringOwned
// fails for a list missing here.
var ownCases = []ownCase{
	listOwnCase(Vobiz, &vobizDesc.conversations, vobizWireConversation{}),
	listOwnCase(Vobiz, &vobizDesc.messages, vobizWireMessage{}),
	listOwnCase(VantaxAI, &vantaxDesc.conversations, vantaxWireConversation{}),
	listOwnCase(VantaxAI, &vantaxDesc.messages, vantaxWireMessage{}),
	listOwnCase(Rentalot, &rentalotDesc.conversations, rentalotWireConversation{}),
	listOwnCase(Rentalot, &rentalotDesc.messages, rentalotWireMessage{}),
	listOwnCase(Rentalot, &rentalotDesc.search.endpoint, rentalotWireSearchResult{}),
	listOwnCase(AgentMessage, &agentMessageDesc.conversations, agentMessageWireConversation{}),
	listOwnCase(AgentMessage, &agentMessageDesc.messages, agentMessageWireMessage{}),
}

// wireValue is a JSON value for a field of type t with every string set,
// each to a value of its own (n counts them): the strings are not any
// documented enumeration value or timestamp, so every mapping takes the
// path that must copy them (an unknown status, an unreadable time kept as
// text). A field of a type this does not know fails the test.
func wireValue(t *testing.T, typ reflect.Type, n *int) any {
	t.Helper()
	if typ == reflect.TypeOf(json.RawMessage(nil)) {
		*n++
		return map[string]string{"key": fmt.Sprintf("raw-%d-é", *n)}
	}
	switch typ.Kind() {
	case reflect.String:
		*n++
		return fmt.Sprintf("text-%d-é", *n)
	case reflect.Bool:
		return true
	case reflect.Int, reflect.Int64, reflect.Float64:
		return 3
	case reflect.Pointer:
		return wireValue(t, typ.Elem(), n)
	case reflect.Slice:
		return []any{wireValue(t, typ.Elem(), n), wireValue(t, typ.Elem(), n)}
	case reflect.Map:
		return map[string]any{"key": wireValue(t, typ.Elem(), n)}
	case reflect.Struct:
		obj := map[string]any{}
		for i := range typ.NumField() {
			f := typ.Field(i)
			name, _, _ := strings.Cut(f.Tag.Get("json"), ",")
			if name == "-" || !f.IsExported() {
				continue
			}
			obj[name] = wireValue(t, f.Type, n)
		}
		return obj
	}
	t.Fatalf("wire field of type %s: teach wireValue a value for it", typ)
	return nil
}

// stringPaths records, under path, every non-empty string reachable from v
// (fields, elements, map keys and values, through pointers).
func stringPaths(v reflect.Value, path string, out map[string]bool) {
	switch v.Kind() {
	case reflect.String:
		if v.Len() > 0 {
			out[path] = true
		}
	case reflect.Pointer, reflect.Interface:
		if !v.IsNil() {
			stringPaths(v.Elem(), path, out)
		}
	case reflect.Slice, reflect.Array:
		if v.Type().Elem().Kind() == reflect.Uint8 {
			return // json.RawMessage: a copy made by its UnmarshalJSON
		}
		for i := range v.Len() {
			stringPaths(v.Index(i), path+"[]", out)
		}
	case reflect.Map:
		for it := v.MapRange(); it.Next(); {
			stringPaths(it.Key(), path+"{key}", out)
			stringPaths(it.Value(), path+"{}", out)
		}
	case reflect.Struct:
		for i := range v.NumField() {
			if v.Type().Field(i).IsExported() {
				stringPaths(v.Field(i), path+"."+v.Type().Field(i).Name, out)
			}
		}
	}
}

// TestEveryModelStringOwned guards the decoder's no-copy strings
// (decodeJSON): a model string that was not copied out of the body by the
// mapping (own) would change when the body's pooled buffer is reused. For
// every list of every provider it builds an item from the wire type by
// reflection, every field set (so a wire field added later is covered
// without touching the test), decodes it, overwrites the body, and checks
// every string of every model unchanged against a decoding of an untouched
// copy. It also checks that the items fill every string field of each
// model somewhere, so that no model field escapes the check.
func TestEveryModelStringOwned(t *testing.T) {
	t.Parallel()
	covered := map[string]bool{}
	for _, p := range Providers() {
		lists := []string{"conversations", "messages"}
		if p.Supports(OpSearchMessages) {
			lists = append(lists, "search")
		}
		for _, res := range lists {
			assert.True(t, containsFunc(ownCases, func(c ownCase) bool { return c.provider == p && c.resource == res }),
				"%s %s: add the list to ownCases", p, res)
		}
	}
	for _, c := range ownCases {
		t.Run(c.provider.Name()+"/"+c.resource, func(t *testing.T) {
			var n int
			item, err := json.Marshal(wireValue(t, reflect.TypeOf(c.wire), &n))
			require.NoError(t, err)
			body := []byte(strings.Replace(emptyListBody(c.provider), "[]", "["+string(item)+"]", 1))
			want, err := c.decode(bytes.Clone(body))
			require.NoError(t, err)
			got, err := c.decode(body)
			require.NoError(t, err)
			for i := range body {
				body[i] = '#'
			}
			assert.Equal(t, want, got, "a model string changed when the body's buffer was overwritten: a mapping kept it without own")
			model := reflect.ValueOf(got).Index(0)
			paths := map[string]bool{}
			stringPaths(model, model.Type().Name(), paths)
			assert.NotEmpty(t, paths)
			for path := range paths {
				covered[path] = true
			}
		})
	}
	// Every string field of every model is filled by some provider's item.
	for _, m := range []any{Conversation{}, Message{}, SearchResult{}} {
		rt := reflect.TypeOf(m)
		for i := range rt.NumField() {
			f := rt.Field(i)
			if f.Type.Kind() != reflect.String && !hasString(f.Type) {
				continue
			}
			found := false
			for path := range covered {
				found = found || strings.HasPrefix(path, rt.Name()+"."+f.Name)
			}
			assert.True(t, found, "%s.%s holds strings that no provider's item fills: the check above does not see it", rt.Name(), f.Name)
		}
	}
}

// hasString reports whether a value of type t can hold a string other than
// in raw JSON bytes.
func hasString(t reflect.Type) bool {
	switch t.Kind() {
	case reflect.String:
		return true
	case reflect.Pointer, reflect.Slice, reflect.Array:
		return t.Elem().Kind() != reflect.Uint8 && hasString(t.Elem())
	case reflect.Map:
		return hasString(t.Key()) || hasString(t.Elem())
	case reflect.Struct:
		for i := range t.NumField() {
			if t.Field(i).IsExported() && hasString(t.Field(i).Type) {
				return true
			}
		}
	}
	return false
}

func containsFunc[T any](s []T, f func(T) bool) bool {
	for _, v := range s {
		if f(v) {
			return true
		}
	}
	return false
}
