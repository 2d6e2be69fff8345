package main

import (
	"bytes"
	"context"
	"fmt"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/convokit/convo"
	"github.com/convokit/convo/convotest"
)

// demoKeys are the credentials the fake of each provider takes.
func demoKeys(p convo.Provider) []string {
	switch p {
	case convo.Vobiz:
		return []string{"VOBIZ_AUTH_ID=" + convotest.DemoVobizAuthID, "VOBIZ_AUTH_TOKEN=" + convotest.DemoVobizAuthToken}
	case convo.VantaxAI:
		return []string{"VANTAXAI_API_KEY=" + convotest.DemoVantaxAIKey}
	case convo.Rentalot:
		return []string{"RENTALOT_API_KEY=" + convotest.DemoRentalotKey}
	}
	return []string{"AGENTMESSAGE_API_KEY=" + convotest.DemoAgentMessageKey}
}

// runTTY runs the command line in this process with the extra
// environment and a terminal stderr (progress and summary), bounded in
// time.
func runTTY(t *testing.T, extra []string, args ...string) result {
	t.Helper()
	vars := map[string]string{}
	for _, kv := range extra {
		k, v, _ := strings.Cut(kv, "=")
		vars[k] = v
	}
	var stdout, stderr bytes.Buffer
	e := &env{stdout: &stdout, stderr: &stderr, stderrTTY: true, getenv: func(k string) string { return vars[k] }, args: append([]string{"convo"}, args...)}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	code := run(ctx, e, args)
	require.NoError(t, ctx.Err())
	return result{code: code, stdout: stdout.String(), stderr: stderr.String()}
}

// --retention removes from the mirror the bodies of exactly the messages
// sent longer ago than it, and says how many in the summary.
func TestCLISyncRetention(t *testing.T) {
	t.Parallel()
	now := time.Now().UTC()
	d := convotest.NewDataset()
	var msgs []convo.Message
	for i := 10; i >= 1; i-- { // 10 to 1 days old, less an hour
		msgs = append(msgs, convo.Message{ID: fmt.Sprintf("m%02d", i), Direction: convo.Inbound, Body: "hello", SentAt: now.Add(-time.Duration(i)*24*time.Hour + time.Hour)})
	}
	d.AddConversation(convo.Conversation{ID: "c1", ContactID: "ct_1", Channel: "sms", Status: "open", LastMessageAt: msgs[9].SentAt}, msgs...)
	srv := convotest.NewServer(convo.VantaxAI, convotest.WithData(d))
	defer srv.Close()
	env := demoKeys(convo.VantaxAI)
	path := filepath.Join(t.TempDir(), "inbox.db")
	args := []string{"sync", "--provider", "vantaxai", "--base-url", srv.URL(), "--db", path}
	r := runTTY(t, env, append(args, "--retention", "7d")...)
	require.Equal(t, 0, r.code, r.stderr)
	bodies := func() []string {
		db := mirrorDB{driver: "sqlite", dsn: "file:" + path}.open(t)
		rows, err := db.Query("SELECT id || ' ' || coalesce(body, 'NULL') || ' ' || (redacted_at IS NOT NULL) FROM messages ORDER BY id")
		require.NoError(t, err)
		defer rows.Close()
		var out []string
		for rows.Next() {
			var s string
			require.NoError(t, rows.Scan(&s))
			out = append(out, s)
		}
		require.NoError(t, rows.Err())
		return out
	}
	want := func(days int) []string {
		var out []string
		for i := 1; i <= 10; i++ {
			if i > days {
				out = append(out, fmt.Sprintf("m%02d NULL 1", i))
			} else {
				out = append(out, fmt.Sprintf("m%02d hello 0", i))
			}
		}
		return out
	}
	assert.Equal(t, want(7), bodies())
	r = runTTY(t, env, append(args, "--retention", "3d")...)
	require.Equal(t, 0, r.code, r.stderr)
	assert.Equal(t, want(3), bodies())
	assert.Contains(t, r.stderr, ", 4 message bodies removed for --retention by this run")
	r = runTTY(t, env, args...)
	require.Equal(t, 0, r.code, r.stderr)
	assert.Equal(t, want(3), bodies(), "without --retention, removed bodies stay removed")
}
