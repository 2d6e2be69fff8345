//go:build !(linux || darwin || freebsd || netbsd || openbsd || dragonfly || windows)

package mirror

import "os"

// tryLock does not lock on this system, and lockFile is not called: a
// second run of a SQLite sync is refused only when it commits (see
// sqliteDialect.lockSync).
func tryLock(*os.File) (bool, error) { return false, nil }

// fileLocking reports whether lockFile locks on this system.
const fileLocking = false
