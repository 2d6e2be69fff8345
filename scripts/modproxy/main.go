// Command modproxy lays out module versions as a file-based module proxy
// (GOPROXY=file://DIR) serves them: for each module, DIR/<escaped
// path>/@v/list, VERSION.info, VERSION.mod and VERSION.zip, the zip made
// by golang.org/x/mod/zip from the module's directory, as `go mod
// download` would find it in a published release.
//
// Usage:
//
//	modproxy -dir DIR -version VERSION PATH=MODULEDIR...
package main

import (
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"golang.org/x/mod/modfile"
	"golang.org/x/mod/module"
	"golang.org/x/mod/semver"
	"golang.org/x/mod/zip"
)

func main() {
	dir := flag.String("dir", "", "the proxy's directory")
	version := flag.String("version", "", "the version of every module")
	flag.Parse()
	if err := run(*dir, *version, flag.Args()); err != nil {
		fmt.Fprintln(os.Stderr, "modproxy:", err)
		os.Exit(1)
	}
}

func run(dir, version string, mods []string) error {
	if dir == "" || len(mods) == 0 {
		return errors.New("usage: modproxy -dir DIR -version VERSION PATH=MODULEDIR [PATH=MODULEDIR ...] (a module path and its directory each)")
	}
	if !semver.IsValid(version) || semver.Canonical(version) != version {
		return fmt.Errorf("version %q is not a canonical semantic version", version)
	}
	for _, m := range mods {
		path, src, ok := strings.Cut(m, "=")
		if !ok {
			return fmt.Errorf("%q: want PATH=MODULEDIR", m)
		}
		if err := add(dir, module.Version{Path: path, Version: version}, src); err != nil {
			return fmt.Errorf("%s: %w", path, err)
		}
	}
	return nil
}

// add writes the files of one module version into the proxy at dir.
func add(dir string, mv module.Version, src string) error {
	gomod, err := os.ReadFile(filepath.Join(src, "go.mod"))
	if err != nil {
		return err
	}
	f, err := modfile.ParseLax("go.mod", gomod, nil)
	if err != nil {
		return err
	}
	if f.Module == nil || f.Module.Mod.Path != mv.Path {
		return fmt.Errorf("%s/go.mod is not module %s", src, mv.Path)
	}
	if len(f.Replace) > 0 {
		return fmt.Errorf("%s/go.mod has a replace, which go install refuses", src)
	}
	escaped, err := module.EscapePath(mv.Path)
	if err != nil {
		return err
	}
	vdir := filepath.Join(dir, filepath.FromSlash(escaped), "@v")
	if err := os.MkdirAll(vdir, 0o755); err != nil {
		return err
	}
	info, err := json.Marshal(struct {
		Version string
		Time    time.Time
	}{mv.Version, time.Now().UTC().Truncate(time.Second)})
	if err != nil {
		return err
	}
	files := map[string][]byte{
		"list":               []byte(mv.Version + "\n"),
		mv.Version + ".info": info,
		mv.Version + ".mod":  gomod,
	}
	for name, data := range files {
		if err := os.WriteFile(filepath.Join(vdir, name), data, 0o644); err != nil {
			return err
		}
	}
	z, err := os.Create(filepath.Join(vdir, mv.Version+".zip"))
	if err != nil {
		return err
	}
	if err := zip.CreateFromDir(z, mv, src); err != nil {
		z.Close()
		return err
	}
	return z.Close()
}
