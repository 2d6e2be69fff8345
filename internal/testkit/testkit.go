// Package testkit holds the helpers that the tests of convo and of
// convotest share: both run on convotest, from two packages that cannot
// see each other's test files.
package testkit

import (
	"cmp"
	"slices"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/convokit/convo/convotest"
)

// Collect collects what an iteration yields; every error fails the test.
func Collect[T any](t testing.TB, seq func(yield func(T, error) bool)) []T {
	t.Helper()
	var out []T
	for v, err := range seq {
		require.NoError(t, err)
		out = append(out, v)
	}
	return out
}

// Longest returns the conversation of d with the most messages, the first
// of them when several have as many.
func Longest(d *convotest.Dataset) convotest.ConversationData {
	return slices.MaxFunc(d.Conversations, func(a, b convotest.ConversationData) int {
		return cmp.Compare(len(a.Messages), len(b.Messages))
	})
}
