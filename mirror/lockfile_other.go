//go:build !(linux || darwin || freebsd || netbsd || openbsd || dragonfly || windows)

package mirror

import "os"

// lockFile does not lock on this system: a second run of a SQLite sync is
// refused only when it commits (see sqliteDialect.lockSync).
func lockFile(string) (*os.File, bool, error) { return nil, false, nil }

// fileLocking reports whether lockFile locks on this system.
const fileLocking = false
