package convotest

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/convokit/convo"
)

// TestFakesFollowTheRegistry: every provider of convo's registry has its
// fake, in the registry's order, with a dialect and demo data; a provider
// added to convo without one fails here, not in a user's test.
func TestFakesFollowTheRegistry(t *testing.T) {
	t.Parallel()
	require.Len(t, fakes, len(convo.Providers()))
	for i, p := range convo.Providers() {
		f := fakes[i]
		assert.Equal(t, p, f.provider, "fakes[%d]", i)
		assert.NotNil(t, f.api, p.Name())
		assert.NotNil(t, f.demo, p.Name())
		for _, h := range f.credentialHeaders {
			assert.Contains(t, credentialHeaders, h, "%s: redacted in the request log", p.Name())
		}
	}
}
