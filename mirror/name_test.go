package mirror

import (
	"net/url"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/convokit/convo"
)

// twoValues sets field (a filter) of two params to two different values the
// provider accepts: the two ends of a sync whose names must differ.
func twoValues(t *testing.T, f convo.Filter) (a, b convo.ConversationListParams) {
	t.Helper()
	va := reflect.ValueOf(&a).Elem().FieldByName(f.Field)
	vb := reflect.ValueOf(&b).Elem().FieldByName(f.Field)
	require.True(t, va.IsValid(), "declared filter %s is a field of ConversationListParams", f.Field)
	switch va.Interface().(type) {
	case string:
		x, y := "value-a", "value-b"
		if len(f.Values) >= 2 {
			x, y = f.Values[0], f.Values[1]
		} else if len(f.Values) == 1 {
			t.Fatalf("%s: an enumerated filter with one value cannot tell two syncs apart", f.Field)
		}
		va.SetString(x)
		vb.SetString(y)
	case time.Time:
		va.Set(reflect.ValueOf(time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)))
		vb.Set(reflect.ValueOf(time.Date(2026, 1, 2, 3, 4, 5, 500, time.UTC)))
	case *bool:
		yes, no := true, false
		va.Set(reflect.ValueOf(&yes))
		vb.Set(reflect.ValueOf(&no))
	default:
		t.Fatalf("ConversationListParams.%s is of a new type %s: teach this test two values of it", f.Field, va.Type())
	}
	return a, b
}

// TestDefaultNameHoldsEveryDeclaredFilter: every filter a provider declares enters
// a sync's default name under its key, so that two syncs that differ in
// that filter alone keep two states (one state for both would lose the
// data of one of them). The filters come from the declarations, so a
// filter declared later is covered.
func TestDefaultNameHoldsEveryDeclaredFilter(t *testing.T) {
	t.Parallel()
	for _, p := range convo.Providers() {
		for _, f := range p.Filters() {
			t.Run(p.Name()+"/"+f.Field, func(t *testing.T) {
				require.NotEmpty(t, f.NameKey, "the filter declares its key in the default name")
				a, b := twoValues(t, f)
				na, nb := DefaultName(p, &a), DefaultName(p, &b)
				assert.NotEqual(t, na, nb, "syncs with other %s values share no state", f.Field)
				value, ok := f.Value(&a)
				require.True(t, ok)
				assert.Equal(t, p.Name()+"?"+url.Values{f.NameKey: {value}}.Encode(), na)
			})
		}
	}
}

// TestDefaultNameFormat pins the names of syncs made by earlier versions:
// a state is found again by its name, so the form of every filter in it
// must not change.
func TestDefaultNameFormat(t *testing.T) {
	t.Parallel()
	no := false
	all := &convo.ConversationListParams{
		PageSize: 50, Cursor: "ignored",
		Status: "open", Channel: "sms", ContactID: "ct 1", SubAccountID: "sub_1",
		PhoneNumberID: "pn_1", ContactNumber: "+15550001111",
		Since: time.Date(2026, 1, 2, 3, 4, 5, 500_000_000, time.FixedZone("", 3600)), OptedIn: &no,
	}
	assert.Equal(t, "rentalot?channel=sms&contact_id=ct+1&contact_number=%2B15550001111&opted_in=false&phone_number_id=pn_1"+
		"&since=2026-01-02T02%3A04%3A05.5Z&status=open&sub_account_id=sub_1", DefaultName(convo.Rentalot, all))
}

func TestDefaultName(t *testing.T) {
	t.Parallel()
	yes := true
	assert.Equal(t, "vobiz", DefaultName(convo.Vobiz, nil))
	assert.Equal(t, "agentmessage?opted_in=true&phone_number_id=pn_1&since=2026-01-02T03%3A04%3A05Z",
		DefaultName(convo.AgentMessage, &convo.ConversationListParams{PhoneNumberID: "pn_1", OptedIn: &yes, PageSize: 50,
			Since: time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)}))
	assert.True(t, strings.HasPrefix(DefaultName(convo.VantaxAI, &convo.ConversationListParams{Status: "open", Channel: "sms"}), "vantaxai?channel=sms&status=open"))
}

// Every conversation filter is part of the default sync name, so that
// two syncs that differ in one filter only never share a state (one would
// lose the other's data): each filter field of ConversationListParams,
// set alone, gives a name of its own, also a field added later.
func TestDefaultNameHoldsEveryParamsField(t *testing.T) {
	t.Parallel()
	notFilters := map[string]bool{"PageSize": true, "Cursor": true}
	yes := true
	typ := reflect.TypeOf(convo.ConversationListParams{})
	names := map[string]string{DefaultName(convo.Rentalot, nil): "no filter"}
	for i := range typ.NumField() {
		f := typ.Field(i)
		if notFilters[f.Name] {
			continue
		}
		var p convo.ConversationListParams
		v := reflect.ValueOf(&p).Elem().Field(i)
		switch f.Type {
		case reflect.TypeOf(""):
			v.SetString("x1")
		case reflect.TypeOf(time.Time{}):
			v.Set(reflect.ValueOf(time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)))
		case reflect.TypeOf(&yes):
			v.Set(reflect.ValueOf(&yes))
		default:
			t.Fatalf("filter %s of type %s: teach this test its value", f.Name, f.Type)
		}
		name := DefaultName(convo.Rentalot, &p)
		prev, dup := names[name]
		assert.False(t, dup, "filter %s gives the name %q of %s", f.Name, name, prev)
		names[name] = f.Name
	}
	// Rentalot's contact filter, the case that lost data: two syncs, one
	// name each.
	a := DefaultName(convo.Rentalot, &convo.ConversationListParams{ContactID: "ct_1"})
	b := DefaultName(convo.Rentalot, &convo.ConversationListParams{ContactID: "ct_2"})
	assert.NotEqual(t, a, b)
	assert.Equal(t, "rentalot?contact_id=ct_1", a)
}
