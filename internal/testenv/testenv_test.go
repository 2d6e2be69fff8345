package testenv

import (
	"testing"

	"github.com/stretchr/testify/assert"

	"github.com/convokit/convo"
)

// TestWithoutConvoVariables: a child process inherits none of convo's
// variables, whichever provider of the registry they belong to, and every
// other variable as it is.
func TestWithoutConvoVariables(t *testing.T) {
	t.Parallel()
	var env []string
	for _, p := range convo.Providers() {
		for _, name := range p.CredentialEnv() {
			env = append(env, name+"=x")
			assert.Empty(t, WithoutConvoVariables([]string{name + "=x"}), "a test child process does not inherit %s", name)
		}
	}
	env = append(env, "CONVO_PROVIDER=rentalot", "CONVO_BASE_URL=http://127.0.0.1:1", "VANTAXAI_SUB_ACCOUNT_ID=sub_1")
	kept := []string{"PATH=/usr/bin", "HOME=/root", "GOFLAGS=-mod=mod", "X=CONVO_PROVIDER=vobiz", "MY_VOBIZ_TOKEN=y", "EMPTY="}
	assert.Equal(t, kept, WithoutConvoVariables(append(env, kept...)))
}
