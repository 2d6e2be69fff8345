package convo

import (
	"errors"
	"go/ast"
	"go/parser"
	"go/token"
	"net/http"
	"net/url"
	"reflect"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestFiltersDeclared checks the declarations themselves, field by field of
// ConversationListParams (found by reflection, so that a field added later
// is covered): every filter field is declared by at least one provider
// (else no provider could send it, no command flag or sync name would know
// it), and every declaration is complete and agrees with the other
// providers' declarations of the same field. That each declared filter is
// sent and each undeclared one refused is TestFiltersSentOrRefused; that
// each enters a sync's default name is the mirror's
// TestDefaultNameHoldsEveryDeclaredFilter.
func TestFiltersDeclared(t *testing.T) {
	t.Parallel()
	flagName := regexp.MustCompile(`^[a-z][a-z0-9]*(-[a-z0-9]+)*$`)
	byField := map[string]Filter{}
	flagOf, keyOf := map[string]string{}, map[string]string{}
	for _, p := range Providers() {
		for _, f := range p.Filters() {
			field, ok := reflect.TypeOf(ConversationListParams{}).FieldByName(f.Field)
			require.True(t, ok, "%s declares %q, no field of ConversationListParams", p, f.Field)
			assert.False(t, pagingFields[field.Name], "%s: %s pages the list, it is no filter", p, f.Field)
			assert.NotEmpty(t, f.Param, "%s %s: wire name", p, f.Field)
			assert.Regexp(t, flagName, f.Flag, "%s %s: flag name", p, f.Field)
			assert.NotEmpty(t, f.Help, "%s %s: help", p, f.Field)
			assert.NotEmpty(t, f.NameKey, "%s %s: key in a sync's default name", p, f.Field)
			if first, seen := byField[f.Field]; seen {
				assert.Equal(t, first.Flag, f.Flag, "%s: one flag for %s across providers", p, f.Field)
				assert.Equal(t, first.Help, f.Help, "%s: one help text for %s across providers", p, f.Field)
				assert.Equal(t, first.NameKey, f.NameKey, "%s: one name key for %s across providers", p, f.Field)
				continue
			}
			byField[f.Field] = f
			if other, dup := flagOf[f.Flag]; dup {
				t.Errorf("flag %q is declared for both %s and %s", f.Flag, other, f.Field)
			}
			if other, dup := keyOf[f.NameKey]; dup {
				t.Errorf("name key %q is declared for both %s and %s", f.NameKey, other, f.Field)
			}
			flagOf[f.Flag], keyOf[f.NameKey] = f.Field, f.Field
		}
	}
	for _, field := range filterFields() {
		name := field.Name
		f, ok := byField[name]
		if !assert.True(t, ok, "ConversationListParams.%s is declared as a filter by no provider", name) {
			continue
		}
		var params ConversationListParams
		filterValue(t, reflect.ValueOf(&params).Elem().FieldByIndex(field.Index), &f)
		v, ok := f.Value(&params)
		assert.True(t, ok, "%s: Value sees the field set", name)
		assert.NotEmpty(t, v, name)
		_, ok = f.Value(&ConversationListParams{})
		assert.False(t, ok, "%s: Value sees the zero value as unset", name)
	}
}

// TestFilterValue checks the text of each kind of value.
func TestFilterValue(t *testing.T) {
	t.Parallel()
	no := false
	p := &ConversationListParams{
		Status: "open", OptedIn: &no,
		Since: time.Date(2026, 1, 2, 3, 4, 5, 500, time.FixedZone("", -3600)),
	}
	for field, want := range map[string]string{
		"Status": "open", "OptedIn": "false", "Since": "2026-01-02T04:04:05.0000005Z", "PageSize": "",
	} {
		got, ok := Filter{Field: field}.Value(p)
		assert.Equal(t, want != "", ok, field)
		assert.Equal(t, want, got, field)
	}
	p.PageSize = 20
	got, _ := Filter{Field: "PageSize"}.Value(p)
	assert.Equal(t, "20", got, "a field of another kind does not panic")
	_, ok := Filter{Field: "Status"}.Value(nil)
	assert.False(t, ok, "nil params")
	_, ok = Filter{Field: "NoSuchField"}.Value(p)
	assert.False(t, ok, "a field that does not exist")
}

// TestProviderFiltersIsACopy: what Filters returns cannot change what the
// provider sends or accepts.
func TestProviderFiltersIsACopy(t *testing.T) {
	t.Parallel()
	f := VantaxAI.Filters()
	require.NotEmpty(t, f)
	for i := range f {
		f[i].Param = "changed"
		if f[i].Values != nil {
			f[i].Values[0] = "changed"
		}
	}
	assert.NotEqual(t, "changed", VantaxAI.Filters()[0].Param)
	for _, g := range VantaxAI.Filters() {
		if g.Values != nil {
			assert.NotEqual(t, "changed", g.Values[0])
		}
	}
	assert.Nil(t, Vobiz.Filters(), "Vobiz documents no filter")
}

// TestFilterDocsFollowDeclarations: the comment of each filter field of
// ConversationListParams names every provider that declares the filter and
// every value it documents, and no provider that does not declare it, so
// that the documentation cannot drift from the declarations.
func TestFilterDocsFollowDeclarations(t *testing.T) {
	t.Parallel()
	fset := token.NewFileSet()
	f, err := parser.ParseFile(fset, "conversations.go", nil, parser.ParseComments)
	require.NoError(t, err)
	comments := map[string]string{}
	ast.Inspect(f, func(n ast.Node) bool {
		ts, ok := n.(*ast.TypeSpec)
		if !ok || ts.Name.Name != "ConversationListParams" {
			return true
		}
		for _, field := range ts.Type.(*ast.StructType).Fields.List {
			for _, name := range field.Names {
				comments[name.Name] = field.Comment.Text() + field.Doc.Text()
			}
		}
		return false
	})
	for _, field := range filterFields() {
		name := field.Name
		doc, ok := comments[name]
		require.True(t, ok, "ConversationListParams.%s has a comment", name)
		for _, p := range Providers() {
			decl := lookupFilter(p.Filters(), name)
			if decl == nil {
				assert.NotContains(t, doc, p.Title(), "%s's comment names %s, which does not declare it", name, p.Title())
				continue
			}
			assert.Contains(t, doc, p.Title(), "%s's comment names %s, which declares it", name, p.Title())
			for _, v := range decl.Values {
				assert.Contains(t, doc, v, "%s's comment names the value %q %s documents", name, v, p.Title())
			}
		}
	}
}

// filterFields returns the fields of ConversationListParams that filter the
// list, found by reflection so that a field added later is covered; the
// fields that page the list are the pager's tests' to cover.
func filterFields() []reflect.StructField {
	rt := reflect.TypeOf(ConversationListParams{})
	var fields []reflect.StructField
	for i := range rt.NumField() {
		if f := rt.Field(i); !pagingFields[f.Name] {
			fields = append(fields, f)
		}
	}
	return fields
}

// filterValue sets v, a field of ConversationListParams, to a value the
// provider accepts when it declares the filter (its first documented
// value for an enumerated one).
func filterValue(t *testing.T, v reflect.Value, spec *Filter) {
	t.Helper()
	switch v.Interface().(type) {
	case string:
		s := "value-" + strings.ToLower(v.Type().Name())
		if spec != nil && spec.Values != nil {
			s = spec.Values[0]
		}
		v.SetString(s)
	case time.Time:
		v.Set(reflect.ValueOf(time.Date(2026, 2, 3, 4, 5, 6, 0, time.UTC)))
	case *bool:
		b := false // set, though false: a *bool filter is sent whenever it is non-nil
		v.Set(reflect.ValueOf(&b))
	case int:
		v.SetInt(7)
	default:
		t.Fatalf("ConversationListParams has a field of a new type %s: teach this test a value for it", v.Type())
	}
}

// TestFiltersSentOrRefused sets each field of ConversationListParams (found
// by reflection, so that a field added later is covered) on every provider
// and checks that it is either sent as a query parameter or refused with
// ErrUnsupported before any request — never silently dropped.
func TestFiltersSentOrRefused(t *testing.T) {
	t.Parallel()
	for _, p := range Providers() {
		var queries []url.Values
		ft := &fakeTransport{script: func(_ int, req *http.Request) (*http.Response, error) {
			queries = append(queries, req.URL.Query())
			return fakeResponse(req, 200, strings.NewReader(emptyListBody(p))), nil
		}}
		c, err := NewClient(p, WithoutAuth(), WithBaseURL("https://api.example.test/v1"), WithHTTPClient(&http.Client{Transport: ft}))
		require.NoError(t, err)
		_, err = firstPage(c.Conversations.List(testContext(t), nil))
		require.NoError(t, err)
		baseline := queries[0]
		for _, field := range filterFields() {
			t.Run(p.Name()+"/"+field.Name, func(t *testing.T) {
				queries = nil
				var params ConversationListParams
				spec := lookupFilter(p.d.conversationFilters, field.Name)
				filterValue(t, reflect.ValueOf(&params).Elem().FieldByIndex(field.Index), spec)
				_, err := firstPage(c.Conversations.List(testContext(t), &params))
				if errors.Is(err, ErrUnsupported) {
					assert.Empty(t, queries, "refused before any request")
					assert.Contains(t, err.Error(), field.Name, "the error names the filter")
					assert.Nil(t, spec, "a declared filter is not refused")
					return
				}
				require.NoError(t, err, "neither sent nor refused")
				require.Len(t, queries, 1)
				sent := queries[0]
				added := 0
				for k := range sent {
					if _, ok := baseline[k]; !ok {
						added++
					}
				}
				assert.Equal(t, 1, added, "the filter is sent as exactly one parameter, not dropped: %v", sent)
				require.NotNil(t, spec)
				assert.NotEmpty(t, sent.Get(spec.Param), "sent under its declared name %q", spec.Param)
			})
		}
	}
}

// TestFiltersEncoding checks the wire form of each kind of filter value.
func TestFiltersEncoding(t *testing.T) {
	t.Parallel()
	yes := true
	q, err := encodeFilters("agentmessage", agentMessageDesc.conversationFilters, &ConversationListParams{
		PhoneNumberID: "pn 1", Since: time.Date(2026, 2, 3, 4, 5, 6, 0, time.FixedZone("", 3600)), OptedIn: &yes,
	})
	require.NoError(t, err)
	assert.Equal(t, url.Values{"phone_number_id": {"pn 1"}, "since": {"2026-02-03T04:05:06+01:00"}, "opted_in": {"true"}}, q)

	_, err = encodeFilters("vantaxai", vantaxDesc.conversationFilters, &ConversationListParams{Channel: "fax"})
	assert.ErrorIs(t, err, ErrInvalidParams)
	assert.Contains(t, err.Error(), "sms, whatsapp, facebook, instagram, email")

	_, err = encodeFilters("vobiz", vobizDesc.conversationFilters, &ConversationListParams{Status: "open"})
	assert.ErrorIs(t, err, ErrUnsupported)
}
