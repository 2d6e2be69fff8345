package main

import (
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/convokit/convo"
)

// With no --page-size, export and sync ask for the largest page each list
// documents.
func TestCLILargestPages(t *testing.T) {
	t.Parallel()
	eachProvider(t, func(t *testing.T, p convo.Provider) {
		srv, env := fakeOf(t, p)
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
