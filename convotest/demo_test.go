package convotest_test

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"reflect"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/convokit/convo"
	"github.com/convokit/convo/convotest"
)

// TestDemoDatasetPinned: the demo data of each provider and seed is
// exactly what it was when these digests were taken. Tests, examples and
// benchmarks read it (counts, ids, a page boundary); a change of the
// generator that moves one value must be deliberate, with new digests.
func TestDemoDatasetPinned(t *testing.T) {
	t.Parallel()
	want := map[string]map[int64]string{
		"vobiz": {
			1:  "1dd1d1235769d1476a9d0b6ba68ce3754a9873b8fb9a781f696611bb61de21bb",
			2:  "4a3f3b362ec97ae728c235f25b0ac2a1a68202d8c3dfb21249dd5ad672f6543a",
			42: "943bd6ad13746145dec3195ab0f63bc69b65a7db860165e1582f790ac6ff6107",
		},
		"vantaxai": {
			1:  "38710f88a6166207697922922aa3f46333038df5716ce43ca375e041ef0cfd0a",
			2:  "1f5a1bbba2bf8fc35f63ae1dddd196086a5a4f220b86147e9278c82b3de51913",
			42: "8ee4197594c90bc7e38a58b442abadab9619f414bd7f93e66ac0bcd4a90706a1",
		},
		"rentalot": {
			1:  "1937dd2be013cef803b49c08c4f610a1b2d99797143652e3dddadb6c83fc8039",
			2:  "f537c4f2665ec38ffe4e5745800274a72a5e5b7662dbe540ab948dea28f5136b",
			42: "95badbab4fe4734c936e62d45c546fa3069087b177c26e8627c8a492889ec5f2",
		},
		"agentmessage": {
			1:  "ec35ab9bc4c709fb3b77b2616405f0546d208426d783092fe1ccbd64c9423667",
			2:  "7df3fb75045f8712ddc3e055febe0e8d0f428200e74e1d8778bd88f6044d3b06",
			42: "0987a5c7bb43ca84c092c70d88a8d91761dc525014a983b67d8b4e2360489e47",
		},
	}
	for _, p := range convo.Providers() {
		for _, seed := range []int64{convotest.DefaultSeed, 2, 42} {
			b, err := json.Marshal(convotest.DemoDataset(p, seed))
			require.NoError(t, err)
			sum := sha256.Sum256(b)
			got := hex.EncodeToString(sum[:])
			assert.Equal(t, want[p.Name()][seed], got, "%s seed %d", p.Name(), seed)
		}
	}
}

// The default seed's data is made once and copied: each call returns a
// dataset of its own, equal to a fresh one, that a test may change.
func TestConvotestDemoDatasetDefaultSeedIsACopy(t *testing.T) {
	t.Parallel()
	for _, p := range convo.Providers() {
		first := convotest.DemoDataset(p, convotest.DefaultSeed)
		want := convotest.DemoDataset(p, convotest.DefaultSeed)
		require.True(t, reflect.DeepEqual(first, want), "%s: deterministic", p.Name())
		first.Conversations[0].Conversation.ID = "changed"
		first.Conversations[0].Messages[0].Body = "changed"
		first.Conversations = first.Conversations[1:]
		again := convotest.DemoDataset(p, convotest.DefaultSeed)
		assert.True(t, reflect.DeepEqual(want, again), "%s: a change to one copy is not in the next", p.Name())
		assert.Equal(t, want.MessageCount(), convotest.New(t, p).Dataset().MessageCount(), "%s: a server's data", p.Name())
	}
}

func TestConvotestDemoDataset(t *testing.T) {
	t.Parallel()
	for _, p := range convo.Providers() {
		t.Run(p.Name(), func(t *testing.T) {
			d := convotest.DemoDataset(p, 1)
			assert.True(t, reflect.DeepEqual(d, convotest.DemoDataset(p, 1)), "deterministic")
			assert.False(t, reflect.DeepEqual(d, convotest.DemoDataset(p, 2)), "seeded")
			assert.GreaterOrEqual(t, len(d.Conversations), 30)
			assert.GreaterOrEqual(t, d.MessageCount(), 250)

			dirs := map[convo.Direction]int{}
			channels, statuses, seen := map[string]bool{}, map[string]bool{}, map[string]bool{}
			longest := 0
			for i, cd := range d.Conversations {
				cv := cd.Conversation
				assert.False(t, seen[cv.ID], "unique id %s", cv.ID)
				seen[cv.ID] = true
				channels[cv.Channel] = true
				statuses[cv.Status] = true
				longest = max(longest, len(cd.Messages))
				require.NotEmpty(t, cd.Messages)
				for j, m := range cd.Messages {
					dirs[m.Direction]++
					assert.False(t, seen[m.ID], "unique id %s", m.ID)
					seen[m.ID] = true
					if j > 0 {
						assert.False(t, m.SentAt.Before(cd.Messages[j-1].SentAt), "chronological")
					}
				}
				if i > 0 && p != convo.Vobiz {
					assert.False(t, cv.LastMessageAt.After(d.Conversations[i-1].Conversation.LastMessageAt), "newest activity first")
				}
			}
			assert.Greater(t, dirs[convo.Inbound], 50)
			assert.Greater(t, dirs[convo.Outbound], 50)
			assert.Greater(t, longest, 50, "one conversation needs several default pages")
			switch p {
			case convo.Vobiz:
				assert.Len(t, statuses, 2)
				types := map[string]bool{}
				noConv := 0
				for _, cd := range d.Conversations {
					for _, m := range cd.Messages {
						types[m.Type] = true
						var content map[string]any
						require.NoError(t, json.Unmarshal([]byte(m.Content), &content), m.Content)
						assert.Equal(t, m.Body, content["body"])
						if m.ConversationID == "" {
							noConv++
						}
					}
				}
				assert.Subset(t, keys(types), []string{"text", "image", "document", "template"})
				assert.Greater(t, noConv, 0, "some messages lack conversation_id")
			case convo.VantaxAI:
				assert.Len(t, channels, 5)
				assert.Len(t, statuses, 3)
			case convo.Rentalot:
				assert.Len(t, statuses, 2)
				assert.Len(t, channels, 4)
			case convo.AgentMessage:
				redacted, nullConsent, optedOut := 0, 0, 0
				for _, cd := range d.Conversations {
					cv := cd.Conversation
					assert.Regexp(t, `^[A-Za-z0-9_-]{16}$`, cv.ID, "base64url")
					if cv.LastMessagePreview == "[redacted]" {
						redacted++
						assert.False(t, cv.LastMessageBodyRedactedAt.IsZero())
						for _, m := range cd.Messages {
							assert.Empty(t, m.Body)
							assert.False(t, m.RedactedAt.IsZero())
						}
					}
					switch {
					case cv.Consent == nil:
						nullConsent++
					case !cv.Consent.OptedIn:
						optedOut++
					}
				}
				assert.Greater(t, redacted, 3)
				assert.Less(t, redacted, len(d.Conversations)/2)
				assert.Greater(t, nullConsent, 0)
				assert.Greater(t, optedOut, 0)
			}
		})
	}
	assert.Empty(t, convotest.DemoDataset(convo.Provider{}, 1).Conversations)
}
