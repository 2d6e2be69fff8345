package main

import (
	"fmt"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/convokit/convo"
	"github.com/convokit/convo/convotest"
)

// changeRecords changes, on the fake, the status of every other
// conversation (a change no activity field shows, but Rentalot's
// updatedAt) and the record of two messages of one conversation (a
// delivery status and metadata; AgentMessage: a redaction), and returns
// the ids of the conversations whose record changed, of the changed
// messages, and of their conversation.
func changeRecords(t *testing.T, srv *convotest.Server) (convs, msgs []string, msgConv string) {
	t.Helper()
	data := srv.Dataset()
	for i, c := range data.Conversations {
		if i%2 == 0 {
			continue
		}
		require.NoError(t, srv.ChangeConversation(c.Conversation.ID, func(c *convo.Conversation) {
			c.Status += "-changed"
			c.Consent = &convo.Consent{OptedIn: c.Consent == nil || !c.Consent.OptedIn}
		}))
		convs = append(convs, c.Conversation.ID)
	}
	c := data.Conversations[0]
	for _, m := range []convo.Message{c.Messages[0], c.Messages[len(c.Messages)-1]} {
		if srv.Provider() == convo.AgentMessage {
			require.NoError(t, srv.RedactMessage(c.Conversation.ID, m.ID, time.Date(2026, 6, 1, 0, 0, 0, 0, time.UTC)))
		} else {
			require.NoError(t, srv.ChangeMessage(c.Conversation.ID, m.ID, func(m *convo.Message) {
				m.Status = map[bool]string{true: "delivered", false: "read"}[m.Status == "read"]
				m.Metadata = []byte(`{"seen":true}`)
			}))
		}
		msgs = append(msgs, m.ID)
	}
	if srv.Provider() == convo.AgentMessage {
		convs = append(convs, c.Conversation.ID) // its preview became [redacted]
	}
	return convs, msgs, c.Conversation.ID
}

// kill -9 during a refresh, then a rerun: the mirror equals a full sync of
// the changed data, row for row.
func TestCLISyncKillDuringRefresh(t *testing.T) {
	if testing.Short() {
		t.Skip("kills and resumes a refresh of the built command; runs without -short")
	}
	t.Parallel()
	for _, mdb := range mirrorDBs(t) {
		for _, p := range []convo.Provider{convo.Vobiz, convo.AgentMessage} {
			t.Run(mdb.name+"/"+p.Name(), func(t *testing.T) {
				srv := convotest.NewServer(p, convotest.WithLatency(20*time.Millisecond))
				defer srv.Close()
				mdb, app := mdb.named(t)
				env := demoKeys(p)
				args := []string{"sync", "--provider", p.Name(), "--base-url", srv.URL(), "--db", mdb.arg, "--page-size", "10", "--batch-rows", "15",
					"--name", "refresh-" + p.Name(), "--recheck", "3650d"}
				r := convoRun(t, env, args...)
				require.Equal(t, 0, r.code, r.stderr)

				changeRecords(t, srv)
				truth := filepath.Join(t.TempDir(), "truth.db")
				r = convoRun(t, env, "sync", "--provider", p.Name(), "--base-url", srv.URL(), "--db", truth)
				require.Equal(t, 0, r.code, r.stderr)
				want := readMirror(t, mirrorDB{driver: "sqlite", dsn: "file:" + truth}.open(t), p)

				refresh := append(args, "--refresh", "0", "-v")
				seen := 0
				cmd, wait := startCmd(t, env, refresh, func(line string) bool {
					if strings.Contains(line, "msg=attempt") {
						seen++
					}
					return seen >= 6
				})
				require.NoError(t, cmd.Process.Kill())
				r = wait()
				require.NotEqual(t, 0, r.code)
				require.Contains(t, r.stderr, "this run refreshes", "the kill came during the refresh")
				db := mdb.open(t)
				awaitSessionsGone(t, db, app)
				assert.NotEqual(t, want, readMirror(t, db, p), "the kill came before the refresh completed")

				r = convoRun(t, env, refresh...)
				require.Equal(t, 0, r.code, r.stderr)
				assert.Equal(t, want, readMirror(t, db, p))
			})
		}
	}
}

// -v says when a run refreshes; the summary counts the rows changed in
// place; the rows are the truth after it.
func TestCLISyncRefreshVerboseAndSummary(t *testing.T) {
	t.Parallel()
	for _, p := range []convo.Provider{convo.VantaxAI, convo.AgentMessage} {
		t.Run(p.Name(), func(t *testing.T) {
			t.Parallel()
			srv := convotest.NewServer(p)
			defer srv.Close()
			env := demoKeys(p)
			path := filepath.Join(t.TempDir(), "inbox.db")
			args := []string{"sync", "--provider", p.Name(), "--base-url", srv.URL(), "--db", path, "--recheck", "3650d", "-v"}
			r := runTTY(t, env, args...)
			require.Equal(t, 0, r.code, r.stderr)
			assert.NotContains(t, r.stderr, "refreshes", "a full sync is no refresh")

			r = runTTY(t, env, args...)
			require.Equal(t, 0, r.code, r.stderr)
			assert.NotContains(t, r.stderr, "refreshes", "the last refresh (the full sync) is not an hour old")
			assert.Contains(t, r.stderr, "0 conversations and 0 messages inserted, 0 conversations and 0 messages changed in place by this run")

			convs, msgs, _ := changeRecords(t, srv)
			r = runTTY(t, env, append(args, "--refresh", "0")...)
			require.Equal(t, 0, r.code, r.stderr)
			assert.Regexp(t, `convo: this run refreshes \(last at 20\d\d-[0-9-]+T[0-9:]+Z\): it reads the whole conversation list again, and rechecks the messages sent within 87600h0m0s\n`, r.stderr)
			assert.Contains(t, r.stderr, fmt.Sprintf("0 conversations and 0 messages inserted, %d conversations and %d messages changed in place by this run", len(convs), len(msgs)))

			truth := filepath.Join(t.TempDir(), "truth.db")
			r = convoRun(t, env, "sync", "--provider", p.Name(), "--base-url", srv.URL(), "--db", truth)
			require.Equal(t, 0, r.code, r.stderr)
			assert.Equal(t, readMirror(t, mirrorDB{driver: "sqlite", dsn: "file:" + truth}.open(t), p),
				readMirror(t, mirrorDB{driver: "sqlite", dsn: "file:" + path}.open(t), p))
		})
	}
}

// With no --page-size, export and sync ask for the largest page each list
// documents.
func TestCLILargestPages(t *testing.T) {
	t.Parallel()
	for _, p := range convo.Providers() {
		t.Run(p.Name(), func(t *testing.T) {
			t.Parallel()
			srv := convotest.NewServer(p)
			defer srv.Close()
			env := demoKeys(p)
			dir := t.TempDir()
			for _, args := range [][]string{
				{"export", "--out", filepath.Join(dir, "x.jsonl")},
				{"sync", "--db", filepath.Join(dir, "x.db")},
			} {
				srv.ResetRequests()
				r := convoRun(t, env, append(args, "--provider", p.Name(), "--base-url", srv.URL())...)
				require.Equal(t, 0, r.code, r.stderr)
				lists := 0
				for _, req := range srv.Requests() {
					want := p.MaxPageSize(convo.OpListConversations)
					if strings.HasSuffix(req.Path, "/messages") {
						want = p.MaxPageSize(convo.OpListMessages)
					}
					got := req.Query().Get("limit")
					if want == 0 {
						assert.Empty(t, got, "%s %s", args[0], req.Path)
						continue
					}
					assert.Equal(t, strconv.Itoa(want), got, "%s %s", args[0], req.Path)
					lists++
				}
				assert.NotZero(t, lists)
			}
		})
	}
}

// After records change, an export run that refreshes appends each changed
// conversation and message exported before as a line of an update kind,
// with its current record, and nothing else.
func TestCLIExportRefreshReplaces(t *testing.T) {
	t.Parallel()
	for _, p := range convo.Providers() {
		t.Run(p.Name(), func(t *testing.T) {
			t.Parallel()
			srv := convotest.NewServer(p)
			defer srv.Close()
			env := demoKeys(p)
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
}
