package main

import (
	"fmt"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/convokit/convo"
)

func TestExportProgressOnTerminal(t *testing.T) {
	t.Parallel()
	out := filepath.Join(t.TempDir(), "export.jsonl")
	r := runInProcess(t, false, true, "export", "--demo", "--provider", "rentalot", "--out", out)
	require.Equal(t, 0, r.code, r.stderr)
	d := demoData(convo.Rentalot)
	total := len(d.Conversations)
	// The last progress line, and the summary.
	assert.Regexp(t, fmt.Sprintf(`\r\x1b\[K%d/%d conversations, %d messages, \d+ msg/s, \d+s\n`, total, total, d.MessageCount()), r.stderr)
	assert.Contains(t, r.stderr, fmt.Sprintf("exported %d conversations and %d messages", total, d.MessageCount()))
	checkExport(t, convo.Rentalot, out)

	// A provider without a total shows the count alone.
	out = filepath.Join(t.TempDir(), "export.jsonl")
	r = runInProcess(t, false, true, "export", "--demo", "--provider", "agentmessage", "--out", out)
	require.Equal(t, 0, r.code, r.stderr)
	assert.Regexp(t, fmt.Sprintf(`\r\x1b\[K%d conversations, %d messages`, len(demoData(convo.AgentMessage).Conversations), demoData(convo.AgentMessage).MessageCount()), r.stderr)
}

// On a terminal, sync shows its progress and a summary.
func TestSyncProgressOnTerminal(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "inbox.db")
	r := runInProcess(t, false, true, "sync", "--demo", "--provider", "rentalot", "--db", path)
	require.Equal(t, 0, r.code, r.stderr)
	n := demoData(convo.Rentalot).MessageCount()
	assert.Regexp(t, fmt.Sprintf(`\r\x1b\[K%d messages delivered, \d+ rows written, \d+ msg/s, \d+s\n`, n), r.stderr)
	assert.Contains(t, r.stderr, fmt.Sprintf("is up to date: %d conversations and %d messages inserted, 0 conversations and 0 messages changed in place by this run\n", len(demoData(convo.Rentalot).Conversations), n))
}
