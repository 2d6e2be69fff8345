package convotest_test

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
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
