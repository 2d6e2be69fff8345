package convo_test

import (
	"encoding/json"
	"os/exec"
	"path/filepath"
	"slices"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// modules are the repository's modules, by directory: the SDK at the root,
// the mirror and the command.
var modules = map[string]string{
	".":         "github.com/convokit/convo",
	"mirror":    "github.com/convokit/convo/mirror",
	"cmd/convo": "github.com/convokit/convo/cmd/convo",
}

// modFile is what `go mod edit -json` and `go work edit -json` print.
type modFile struct {
	Module  struct{ Path string }
	Go      string
	Require []struct {
		Path, Version string
		Indirect      bool
	}
	Use     []struct{ DiskPath string }
	Replace []struct {
		Old, New struct{ Path, Version string }
	}
}

// editJSON runs `go <mod|work> edit -json file` and decodes its output.
func editJSON(t *testing.T, kind, file string) modFile {
	t.Helper()
	out, err := exec.Command("go", kind, "edit", "-json", file).Output()
	require.NoError(t, err, "go %s edit -json %s", kind, file)
	var m modFile
	require.NoError(t, json.Unmarshal(out, &m))
	return m
}

// The SDK's module requires only what its packages need to run and the
// test libraries the project has chosen: a user importing the SDK gets no
// database driver, no CLI library and no terminal package in their module
// graph. No go.mod has a replace (go install …@version refuses one).
func TestModulesRequirements(t *testing.T) {
	t.Parallel()
	direct := map[string]bool{
		// what the SDK's packages import
		"github.com/goccy/go-json":              true,
		"github.com/google/go-querystring":      true,
		"github.com/hashicorp/go-retryablehttp": true,
		"golang.org/x/time":                     true,
		// the chosen test libraries
		"github.com/stretchr/testify": true,
		"gopkg.in/h2non/gock.v1":      true,
		"go.uber.org/goleak":          true,
	}
	root := editJSON(t, "mod", "go.mod")
	assert.Equal(t, modules["."], root.Module.Path)
	for _, r := range root.Require {
		if !r.Indirect {
			assert.True(t, direct[r.Path], "the root go.mod requires %s", r.Path)
		}
	}
	for dir, path := range modules {
		m := editJSON(t, "mod", filepath.Join(dir, "go.mod"))
		assert.Equal(t, path, m.Module.Path, dir)
		assert.Equal(t, root.Go, m.Go, "%s/go.mod's go line", dir)
		assert.Empty(t, m.Replace, "%s/go.mod has a replace", dir)
	}
	for _, r := range editJSON(t, "mod", "mirror/go.mod").Require {
		assert.NotContains(t, []string{"github.com/spf13/cobra", "golang.org/x/term", "github.com/mattn/go-runewidth"}, r.Path, "mirror requires a CLI module")
	}
}

// go.work uses the three modules, and each member that another requires is
// replaced, at exactly the version required, by its directory.
func TestModulesWorkspace(t *testing.T) {
	t.Parallel()
	w := editJSON(t, "work", "go.work")
	var use []string
	for _, u := range w.Use {
		use = append(use, filepath.Clean(u.DiskPath))
	}
	var dirs []string
	for dir := range modules {
		dirs = append(dirs, dir)
	}
	slices.Sort(use)
	slices.Sort(dirs)
	assert.Equal(t, dirs, use, "go.work's use directives")
	replaced := map[string]string{}
	for _, r := range w.Replace {
		replaced[r.Old.Path+"@"+r.Old.Version] = filepath.Clean(r.New.Path)
	}
	dirOf := map[string]string{}
	for dir, path := range modules {
		dirOf[path] = dir
	}
	for dir := range modules {
		for _, r := range editJSON(t, "mod", filepath.Join(dir, "go.mod")).Require {
			if member, ok := dirOf[r.Path]; ok {
				assert.Equal(t, member, replaced[r.Path+"@"+r.Version], "%s requires %s %s: go.work replaces it by %s", dir, r.Path, r.Version, member)
			}
		}
	}
}
