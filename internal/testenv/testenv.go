// Package testenv gives the child processes of convo's tests (the command,
// the examples) an environment without convo's own variables, so that
// they see only what their test gives them. It reads the provider
// registry, so a new provider's variables are left out with no line here;
// package testproc, which convo's own tests import, cannot import convo.
package testenv

import (
	"slices"
	"strings"

	"github.com/convokit/convo"
)

// convoVariables are the prefixes of the variables convo's command and
// examples read: their own (CONVO_) and, for each provider, the prefix of
// its credential variables (VOBIZ_ of VOBIZ_AUTH_ID), which covers its
// other settings too (VANTAXAI_SUB_ACCOUNT_ID).
var convoVariables = func() []string {
	prefixes := []string{"CONVO_"}
	for _, p := range convo.Providers() {
		for _, name := range p.CredentialEnv() {
			prefix, _, _ := strings.Cut(name, "_")
			prefixes = append(prefixes, prefix+"_")
		}
	}
	return prefixes
}()

// WithoutConvoVariables returns env without the variables convo's command
// and examples read, for a child process that should see only what its
// test gives it.
func WithoutConvoVariables(env []string) []string {
	var out []string
	for _, kv := range env {
		k, _, _ := strings.Cut(kv, "=")
		if !slices.ContainsFunc(convoVariables, func(p string) bool { return strings.HasPrefix(k, p) }) {
			out = append(out, kv)
		}
	}
	return out
}
