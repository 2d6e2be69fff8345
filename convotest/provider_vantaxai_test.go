package convotest_test

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func vantaxErr(field string) func(*testing.T, map[string]any) {
	return func(t *testing.T, b map[string]any) {
		assert.Equal(t, false, b["success"])
		assert.NotEmpty(t, b["message"])
		if field == "" {
			assert.NotContains(t, b, "errors")
			return
		}
		errs, ok := b["errors"].([]any)
		require.True(t, ok, "errors array")
		require.Len(t, errs, 1)
		assert.Equal(t, field, at(t, errs[0], "field"))
		assert.NotEmpty(t, at(t, errs[0], "message"))
	}
}
