package convo

import (
	"encoding/json"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// keys returns the top-level keys of v's JSON form.
func keys(t *testing.T, v any) map[string]json.RawMessage {
	t.Helper()
	b, err := json.Marshal(v)
	require.NoError(t, err)
	var m map[string]json.RawMessage
	require.NoError(t, json.Unmarshal(b, &m))
	return m
}

// TestModelsOmitZero checks that zero times and counts are left out of the
// models' JSON (omitzero, which needs Go 1.24: built with an older Go the
// keys appear with zero values).
func TestModelsOmitZero(t *testing.T) {
	t.Parallel()
	conv := keys(t, Conversation{ID: "c1"})
	for _, k := range []string{"last_message_at", "created_at", "started_at", "expires_at", "updated_at",
		"unread_count", "message_count", "is_billable", "last_message_body_redacted_at"} {
		assert.NotContains(t, conv, k)
	}
	assert.Contains(t, conv, "id")

	msg := keys(t, Message{ID: "m1", Body: "hello"})
	for _, k := range []string{"sent_at", "created_at", "segment_count", "redacted_at"} {
		assert.NotContains(t, msg, k)
	}
	res := keys(t, SearchResult{MessageID: "m1"})
	assert.NotContains(t, res, "sent_at")

	// Set, they are there.
	at := time.Date(2026, 3, 17, 14, 30, 0, 0, time.UTC)
	msg = keys(t, Message{ID: "m1", SentAt: at, SegmentCount: 2, RedactedAt: at})
	assert.JSONEq(t, `"2026-03-17T14:30:00Z"`, string(msg["sent_at"]))
	assert.JSONEq(t, `2`, string(msg["segment_count"]))
	assert.Contains(t, msg, "redacted_at")
}
