package convotest

import (
	"fmt"
	"net/url"
	"sort"
	"strconv"
	"strings"
)

// params is a parsed query string that admits only documented parameters.
type params struct{ v url.Values }

// parseParams refuses a malformed query string, a parameter that is not in
// allowed, and a parameter given more than once.
func parseParams(raw string, allowed ...string) (params, *apiError) {
	v, err := url.ParseQuery(raw)
	if err != nil {
		return params{}, &apiError{kind: errMalformed, message: "malformed query string",
			details: []fieldError{{"query", "malformed query string"}}}
	}
	keys := make([]string, 0, len(v))
	for k := range v {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		known := false
		for _, a := range allowed {
			known = known || k == a
		}
		if !known {
			return params{}, malformed(k, "unknown query parameter")
		}
		if len(v[k]) > 1 {
			return params{}, malformed(k, "given more than once")
		}
	}
	return params{v}, nil
}

func (p params) has(name string) bool { _, ok := p.v[name]; return ok }

func (p params) str(name string) string { return p.v.Get(name) }

// integer reads an integer parameter: def when absent, an error when not an
// integer (malformed) or outside lo..hi (invalid).
func (p params) integer(name string, def, lo, hi int) (int, *apiError) {
	if !p.has(name) {
		return def, nil
	}
	n, err := strconv.Atoi(p.str(name))
	if err != nil {
		return 0, malformed(name, "must be an integer")
	}
	if n < lo || n > hi {
		return 0, invalid(name, fmt.Sprintf("must be between %d and %d", lo, hi))
	}
	return n, nil
}

// enum reads a parameter restricted to allowed values; "" when absent.
func (p params) enum(name string, allowed ...string) (string, *apiError) {
	v := p.str(name)
	if !p.has(name) {
		return "", nil
	}
	for _, a := range allowed {
		if v == a {
			return v, nil
		}
	}
	return "", invalid(name, "must be one of "+strings.Join(allowed, ", "))
}
