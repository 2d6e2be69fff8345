package convotest_test

import (
	"testing"

	"github.com/stretchr/testify/assert"
)

func vobizCode(code, field string) func(*testing.T, map[string]any) {
	return func(t *testing.T, b map[string]any) {
		assert.Equal(t, "error", b["status"])
		assert.Equal(t, code, at(t, b, "error", "code"))
		assert.NotEmpty(t, at(t, b, "error", "message"))
		assert.NotEmpty(t, b["requestId"])
		assert.NotEmpty(t, b["timestamp"])
		if field != "" {
			assert.Contains(t, at(t, b, "error", "details"), field)
		}
	}
}
