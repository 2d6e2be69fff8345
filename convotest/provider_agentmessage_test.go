package convotest_test

import (
	"testing"

	"github.com/stretchr/testify/assert"
)

func agentErr(code, field string) func(*testing.T, map[string]any) {
	return func(t *testing.T, b map[string]any) {
		assert.Equal(t, false, b["success"])
		assert.Equal(t, code, at(t, b, "error", "code"))
		assert.NotEmpty(t, at(t, b, "error", "request_id"))
		if field == "" {
			assert.NotContains(t, at(t, b, "error"), "details")
			return
		}
		assert.Contains(t, at(t, b, "error", "details"), field)
	}
}
