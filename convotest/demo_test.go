package convotest_test

import (
	"context"
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
// generator that moves one value must be deliberate, with new digests
// (each provider's wire holds its own).
func TestDemoDatasetPinned(t *testing.T) {
	t.Parallel()
	for _, p := range convo.Providers() {
		want := wireOf(t, p).demoDigests
		require.NotEmpty(t, want, "%s: digests", p.Name())
		for seed, digest := range want {
			b, err := json.Marshal(convotest.DemoDataset(p, seed))
			require.NoError(t, err)
			sum := sha256.Sum256(b)
			assert.Equal(t, digest, hex.EncodeToString(sum[:]), "%s seed %d", p.Name(), seed)
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
	eachProvider(t, func(t *testing.T, p convo.Provider, w wire) {
		d := convotest.DemoDataset(p, 1)
		assert.True(t, reflect.DeepEqual(d, convotest.DemoDataset(p, 1)), "deterministic")
		assert.False(t, reflect.DeepEqual(d, convotest.DemoDataset(p, 2)), "seeded")
		assert.GreaterOrEqual(t, len(d.Conversations), 30)
		assert.GreaterOrEqual(t, d.MessageCount(), 250)

		dirs := map[convo.Direction]int{}
		seen := map[string]bool{}
		longest := 0
		for i, cd := range d.Conversations {
			cv := cd.Conversation
			assert.False(t, seen[cv.ID], "unique id %s", cv.ID)
			seen[cv.ID] = true
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
			if i > 0 && convotest.ListsByActivity(p) {
				assert.False(t, cv.LastMessageAt.After(d.Conversations[i-1].Conversation.LastMessageAt), "newest activity first")
			}
		}
		assert.Greater(t, dirs[convo.Inbound], 50)
		assert.Greater(t, dirs[convo.Outbound], 50)
		assert.Greater(t, longest, 50, "one conversation needs several default pages")
		w.demo(t, d)
	})
	assert.Empty(t, convotest.DemoDataset(convo.Provider{}, 1).Conversations)
}

// DemoEnv gives, for every provider, variables the provider declares,
// from which AuthFromEnv builds credentials the provider's server takes;
// the same variables with other values are refused.
func TestDemoEnv(t *testing.T) {
	t.Parallel()
	assert.Nil(t, convotest.DemoEnv(convo.Provider{}))
	for _, p := range convo.Providers() {
		env := convotest.DemoEnv(p)
		require.NotEmpty(t, env, p.Name())
		for k := range env {
			assert.Contains(t, p.CredentialEnv(), k, "%s: a declared credential variable", p.Name())
		}
		wrong := make(map[string]string, len(env))
		for k := range env {
			wrong[k] = "wrong-" + env[k]
		}
		srv := convotest.New(t, p)
		for _, tc := range []struct {
			env     map[string]string
			refused bool
		}{{env, false}, {wrong, true}} {
			auth, err := p.AuthFromEnv(func(k string) string { return tc.env[k] })
			require.NoError(t, err, p.Name())
			client, err := convo.NewClient(p, convo.WithBaseURL(srv.URL()), convo.WithAuth(auth))
			require.NoError(t, err)
			for _, err = range client.Conversations.List(context.Background(), nil).All() {
				break
			}
			if tc.refused {
				assert.ErrorIs(t, err, convo.ErrUnauthorized, "%s: other values", p.Name())
			} else {
				assert.NoError(t, err, "%s: the demo values", p.Name())
			}
		}
		env["changed"] = "x"
		assert.NotContains(t, convotest.DemoEnv(p), "changed", "%s: each call's map is its own", p.Name())
	}
}
