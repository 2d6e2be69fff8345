package main

import (
	"os/exec"
	"slices"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// The command links convotest for --demo, and with it neither package
// testing nor anything of the tests.
func TestCommandDoesNotLinkTesting(t *testing.T) {
	t.Parallel()
	out, err := exec.Command("go", "list", "-deps", ".").Output()
	require.NoError(t, err)
	deps := strings.Fields(string(out))
	require.Contains(t, deps, "github.com/convokit/convo/convotest", "the command links the fake for --demo")
	for _, banned := range []string{"testing", "github.com/stretchr/testify/assert", "gopkg.in/h2non/gock.v1", "github.com/convokit/convo/internal/testproc"} {
		assert.False(t, slices.Contains(deps, banned), "the command links %s", banned)
	}
}
