package convo

import (
	"go/ast"
	"go/parser"
	"go/token"
	"reflect"
	"regexp"
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
// TestDefaultNameHoldsEveryFilter.
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
	rt := reflect.TypeOf(ConversationListParams{})
	for i := range rt.NumField() {
		name := rt.Field(i).Name
		if pagingFields[name] {
			continue
		}
		f, ok := byField[name]
		if !assert.True(t, ok, "ConversationListParams.%s is declared as a filter by no provider", name) {
			continue
		}
		var params ConversationListParams
		filterValue(t, reflect.ValueOf(&params).Elem().Field(i), &f)
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
	rt := reflect.TypeOf(ConversationListParams{})
	for i := range rt.NumField() {
		name := rt.Field(i).Name
		if pagingFields[name] {
			continue
		}
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
