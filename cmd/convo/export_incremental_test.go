package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/convokit/convo"
	"github.com/convokit/convo/convotest"
)

// TestCLIExportIncremental runs the same export against a fake whose data
// changes between runs: each run appends exactly what is new (the changed
// conversations' records and their new messages), a run with nothing new
// appends nothing, and --restart writes the whole export afresh.
func TestCLIExportIncremental(t *testing.T) {
	t.Parallel()
	keys := map[string]string{
		"vobiz":        "VOBIZ_AUTH_ID=" + convotest.DemoVobizAuthID,
		"vantaxai":     "VANTAXAI_API_KEY=" + convotest.DemoVantaxAIKey,
		"rentalot":     "RENTALOT_API_KEY=" + convotest.DemoRentalotKey,
		"agentmessage": "AGENTMESSAGE_API_KEY=" + convotest.DemoAgentMessageKey,
	}
	for _, p := range convo.Providers() {
		t.Run(p.Name(), func(t *testing.T) {
			t.Parallel()
			srv := convotest.NewServer(p)
			defer srv.Close()
			env := []string{keys[p.Name()]}
			if p == convo.Vobiz {
				env = append(env, "VOBIZ_AUTH_TOKEN="+convotest.DemoVobizAuthToken)
			}
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
}

func TestCLIExportHelpSaysHowToStartAfresh(t *testing.T) {
	t.Parallel()
	r := convoRun(t, nil, "export", "--help")
	require.Equal(t, 0, r.code)
	assert.Contains(t, r.stdout, "appends only what is new")
	assert.Contains(t, r.stdout, "To start afresh instead, pass --restart")
}
