package main

import (
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/convokit/convo"
)

// TestCLIExportIncremental runs the same export against a fake whose data
// changes between runs: each run appends exactly what is new (the changed
// conversations' records and their new messages), a run with nothing new
// appends nothing, and --restart writes the whole export afresh.
func TestCLIExportIncremental(t *testing.T) {
	t.Parallel()
	eachProvider(t, func(t *testing.T, p convo.Provider) {
		srv, env := fakeOf(t, p)
		out := filepath.Join(t.TempDir(), "export.jsonl")
		args := []string{"export", "--provider", p.Name(), "--base-url", srv.URL(), "--out", out}
		export := func() string {
			t.Helper()
			r := convoRun(t, env, args...)
			require.Equal(t, 0, r.code, r.stderr)
			return readFile(t, out)
		}

		first := export()
		checkExport(t, p, out)

		// Nothing new: nothing appended.
		assert.Equal(t, first, export())

		// New messages in two conversations and a new conversation.
		d := srv.Dataset()
		at := time.Date(2031, 1, 1, 0, 0, 0, 0, time.UTC)
		changed := []string{d.Conversations[3].Conversation.ID, d.Conversations[len(d.Conversations)-1].Conversation.ID}
		var added []string
		for i, id := range changed {
			for j := range 3 {
				m := convo.Message{ID: id + "-new-" + string(rune('a'+j)), Direction: convo.Inbound, Body: "new", SentAt: at.Add(time.Duration(i*3+j) * time.Second)}
				require.NoError(t, srv.AddMessages(id, m))
				added = append(added, m.ID)
			}
		}
		conv := convo.Conversation{ID: "conv-new", ContactID: "contact-new", ContactNumber: "+15550009999", Channel: "sms", Status: "open", CreatedAt: at}
		if p == convo.Rentalot {
			conv.Status = "active"
		}
		require.NoError(t, srv.AddConversation(conv, convo.Message{ID: "conv-new-1", Direction: convo.Inbound, Body: "hello", SentAt: at.Add(time.Minute)}))
		added = append(added, "conv-new-1")

		second := export()
		require.True(t, strings.HasPrefix(second, first), "the earlier lines are kept as they were")
		tail := jsonLines[exportLine](t, second[len(first):])
		var convs, updates, msgs []string
		for _, l := range tail {
			switch l.Kind {
			case "conversation":
				convs = append(convs, l.ConversationID)
			case "conversation_update":
				updates = append(updates, l.ConversationID)
			case "message":
				msgs = append(msgs, l.Message.ID)
			default:
				t.Errorf("a line of kind %q", l.Kind)
			}
		}
		assert.Equal(t, []string{"conv-new"}, convs, "the new conversation's record")
		assert.ElementsMatch(t, changed, updates, "the changed conversations' records, once each, as updates of their earlier lines")
		assert.ElementsMatch(t, added, msgs, "exactly the new messages")

		assert.Equal(t, second, export(), "nothing new again: nothing appended")

		// --restart: the whole export afresh, of the data as it is now.
		r := convoRun(t, env, append(args, "--restart")...)
		require.Equal(t, 0, r.code, r.stderr)
		lines := jsonLines[exportLine](t, readFile(t, out))
		now := srv.Dataset()
		assert.Len(t, lines, len(now.Conversations)+now.MessageCount())
		_, err := os.Stat(out + ".checkpoint")
		assert.NoError(t, err)
	})
}

func TestCLIExportHelpSaysHowToStartAfresh(t *testing.T) {
	t.Parallel()
	r := convoRun(t, nil, "export", "--help")
	require.Equal(t, 0, r.code)
	assert.Contains(t, r.stdout, "appends only what is new")
	assert.Contains(t, r.stdout, "To start afresh instead, pass --restart")
}

// checkExport asserts that the export file holds the dataset exactly once:
// each conversation once, before its messages, and each conversation's
// messages once each, in provider order.
func checkExport(t *testing.T, p convo.Provider, path string) {
	t.Helper()
	b, err := os.ReadFile(path)
	require.NoError(t, err)
	lines := jsonLines[exportLine](t, string(b))
	seen := map[string]int{}
	msgs := map[string][]string{}
	for _, l := range lines {
		switch l.Kind {
		case "conversation":
			require.NotNil(t, l.Conversation)
			assert.Equal(t, l.ConversationID, l.Conversation.ID)
			seen[l.ConversationID]++
		case "message":
			require.NotNil(t, l.Message)
			assert.Equal(t, 1, seen[l.ConversationID], "conversation line before its messages")
			msgs[l.ConversationID] = append(msgs[l.ConversationID], l.Message.ID)
		default:
			t.Fatalf("unknown kind %q", l.Kind)
		}
	}
	d := demoData(p)
	for _, c := range d.Conversations {
		id := c.Conversation.ID
		assert.Equal(t, 1, seen[id], "conversation %s exactly once", id)
		want := wantMessages(p, c)
		if len(want) == 0 {
			want = nil
		}
		assert.Equal(t, want, msgs[id], "messages of %s exactly once, in order", id)
	}
	assert.Len(t, seen, len(d.Conversations))
	assert.Len(t, lines, len(d.Conversations)+d.MessageCount())
}

func TestCLIExport(t *testing.T) {
	t.Parallel()
	for _, p := range convo.Providers() {
		t.Run(p.Name(), func(t *testing.T) {
			out := filepath.Join(t.TempDir(), "export.jsonl")
			r := convoRun(t, nil, "export", "--demo", "--provider", p.Name(), "--out", out)
			require.Equal(t, 0, r.code, r.stderr)
			assert.Empty(t, r.stderr, "silent when stderr is not a terminal")
			assert.Empty(t, r.stdout)
			checkExport(t, p, out)
			assertDoneCheckpoint(t, out+".checkpoint")
		})
	}
}

// assertDoneCheckpoint asserts that a finished export kept its checkpoint,
// done, for the next run to append what is new.
func assertDoneCheckpoint(t *testing.T, path string) {
	t.Helper()
	cp, err := convo.LoadCheckpoint(path)
	require.NoError(t, err, "a completed export keeps its checkpoint")
	assert.True(t, cp.Done())
}

// startExport starts an export with the demo server slowed down and
// returns once it has logged n request attempts, with the running command
// and a function that waits for it to end.
func startExport(t *testing.T, args []string, n int) (*exec.Cmd, func() result) {
	t.Helper()
	// 100 ms a request: a signal sent after the n-th leaves the rest of
	// the run (each test stops it well before the end: 15 or more
	// requests) a second or more, which even a loaded machine does not
	// take to deliver it; and the writer has time to catch up.
	seen := 0
	return startCmd(t, []string{"CONVO_DEMO_LATENCY=100ms"}, args, func(line string) bool {
		if strings.Contains(line, attemptMark) {
			seen++
		}
		return seen >= n
	})
}

func TestCLIExportInterruptAndResume(t *testing.T) {
	if testing.Short() {
		t.Skip("interrupts and resumes exports of the built command; runs without -short")
	}
	t.Parallel()
	for _, p := range convo.Providers() {
		t.Run(p.Name(), func(t *testing.T) {
			dir := t.TempDir()
			out := filepath.Join(dir, "export.jsonl")
			cpPath := filepath.Join(dir, "export.checkpoint")
			args := []string{"export", "--demo", "--provider", p.Name(), "--out", out, "--checkpoint", cpPath, "-v", "--page-size", "10"}

			cmd, wait := startExport(t, args, 25)
			require.NoError(t, cmd.Process.Signal(syscall.SIGINT))
			r := wait()
			require.Equal(t, 130, r.code, r.stderr)
			assert.Contains(t, r.stderr, "interrupted after")
			assert.Contains(t, r.stderr, "to resume, run the same command again")
			require.FileExists(t, cpPath)
			resumeInterruptedExport(t, p, out, cpPath, args)
		})
	}
}

// resumeInterruptedExport checks an export interrupted midway (its
// checkpoint covers exactly the file written so far), appends what a crash
// could leave after the checkpoint (lines it does not cover, the last one
// cut off), and runs args again: the export completes with every line once.
func resumeInterruptedExport(t *testing.T, p convo.Provider, out, cpPath string, args []string) {
	t.Helper()
	cp, err := convo.LoadCheckpoint(cpPath)
	require.NoError(t, err)
	assert.False(t, cp.Done())
	var meta exportMeta
	require.NoError(t, json.Unmarshal(cp.Meta(), &meta))
	st, err := os.Stat(out)
	require.NoError(t, err)
	assert.Equal(t, meta.Offset, st.Size(), "the checkpoint covers exactly the file")
	partial := strings.Count(readFile(t, out), "\n")
	d := demoData(p)
	assert.Positive(t, partial, "some lines were written before the interruption")
	assert.Less(t, partial, len(d.Conversations)+d.MessageCount(), "the interruption came midway")

	f, err := os.OpenFile(out, os.O_WRONLY|os.O_APPEND, 0)
	require.NoError(t, err)
	_, err = f.WriteString(`{"kind":"message","conversation_id":"x","message":{"ID":"dup"}}` + "\n" + `{"kind":"mess`)
	require.NoError(t, err)
	require.NoError(t, f.Close())

	r := convoRun(t, nil, args...)
	require.Equal(t, 0, r.code, r.stderr)
	checkExport(t, p, out)
	assertDoneCheckpoint(t, cpPath)
}

// An interrupted export leaves a checkpoint that covers exactly the file;
// lines a crash could leave after it (the last one cut off) are cut by
// the resumed export, which completes the file exactly.
func TestCLIExportInterruptAndResumeInProcess(t *testing.T) {
	t.Parallel()
	eachProvider(t, func(t *testing.T, p convo.Provider) {
		dir := t.TempDir()
		out := filepath.Join(dir, "export.jsonl")
		cpPath := filepath.Join(dir, "export.checkpoint")
		args := []string{"export", "--demo", "--provider", p.Name(), "--out", out, "--checkpoint", cpPath, "-v", "--page-size", "10"}

		r := runInterrupted(t, []string{"CONVO_DEMO_LATENCY=5ms"}, 25, nil, args...)
		require.Equal(t, exitInterrupted, r.code, r.stderr)
		assert.Contains(t, r.stderr, "interrupted after")
		assert.Contains(t, r.stderr, "to resume, run the same command again")
		resumeInterruptedExport(t, p, out, cpPath, args)
	})
}

// TestCLIExportRedactedAt checks that an exported AgentMessage message
// carries a redacted_at key only when the retention window removed its body
// (a consumer testing for the key must not take every message as redacted).
func TestCLIExportRedactedAt(t *testing.T) {
	t.Parallel()
	out := filepath.Join(t.TempDir(), "export.jsonl")
	r := convoRun(t, nil, "export", "--demo", "--provider", "agentmessage", "--out", out)
	require.Equal(t, 0, r.code, r.stderr)
	var redacted, kept int
	for _, l := range jsonLines[map[string]json.RawMessage](t, readFile(t, out)) {
		var kind string
		require.NoError(t, json.Unmarshal(l["kind"], &kind))
		if kind != "message" {
			continue
		}
		var msg map[string]any
		require.NoError(t, json.Unmarshal(l["message"], &msg))
		_, hasKey := msg["redacted_at"]
		body, _ := msg["body"].(string)
		if body != "" {
			kept++
			assert.False(t, hasKey, "a message with its body has no redacted_at: %v", msg)
		} else {
			redacted++
			assert.True(t, hasKey, "a message without its body says when it was redacted: %v", msg)
		}
	}
	assert.Positive(t, kept)
	assert.Positive(t, redacted, "the demo data holds redacted messages")
}

// After records change, an export run that refreshes appends each changed
// conversation and message exported before as a line of an update kind,
// with its current record, and nothing else.
func TestCLIExportRefreshReplaces(t *testing.T) {
	t.Parallel()
	eachProvider(t, func(t *testing.T, p convo.Provider) {
		srv, env := fakeOf(t, p)
		out := filepath.Join(t.TempDir(), "export.jsonl")
		args := []string{"export", "--provider", p.Name(), "--base-url", srv.URL(), "--out", out, "--recheck", "3650d"}
		r := convoRun(t, env, args...)
		require.Equal(t, 0, r.code, r.stderr)
		first := readFile(t, out)

		convs, msgs, msgConv := changeRecords(t, srv)
		if !slices.Contains(convs, msgConv) {
			convs = append(convs, msgConv) // it comes again with its changed messages, its record with them
		}
		r = convoRun(t, env, append(args, "--refresh", "0")...)
		require.Equal(t, 0, r.code, r.stderr)
		second := readFile(t, out)
		require.True(t, strings.HasPrefix(second, first), "the earlier lines are kept")
		// The truth: a full export of the data as it is now.
		full := filepath.Join(t.TempDir(), "full.jsonl")
		r = convoRun(t, env, "export", "--provider", p.Name(), "--base-url", srv.URL(), "--out", full)
		require.Equal(t, 0, r.code, r.stderr)
		truth := map[string]exportLine{}
		for _, l := range jsonLines[exportLine](t, readFile(t, full)) {
			if l.Message != nil {
				truth[l.Message.ID] = l
			} else {
				truth[l.ConversationID] = l
			}
		}
		var gotConvs, gotMsgs []string
		for _, l := range jsonLines[exportLine](t, second[len(first):]) {
			switch l.Kind {
			case "conversation_update":
				gotConvs = append(gotConvs, l.ConversationID)
				assert.Equal(t, truth[l.ConversationID].Conversation, l.Conversation, "the current record")
			case "message_update":
				gotMsgs = append(gotMsgs, l.Message.ID)
				assert.Equal(t, truth[l.Message.ID].Message, l.Message, "the current record")
			default:
				t.Errorf("a line of kind %q", l.Kind)
			}
		}
		assert.ElementsMatch(t, convs, gotConvs)
		assert.ElementsMatch(t, msgs, gotMsgs)

		r = convoRun(t, env, args...)
		require.Equal(t, 0, r.code, r.stderr)
		assert.Equal(t, second, readFile(t, out), "no change, no refresh due: nothing appended")
	})
}
