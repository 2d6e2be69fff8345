//go:build windows

package mirror

import (
	"errors"
	"os"

	"golang.org/x/sys/windows"
)

// tryLock locks f with LockFileEx, without waiting; busy when another
// holds the lock. The lock covers a byte range past any content: the
// holder's description stays readable by the others.
func tryLock(f *os.File) (busy bool, err error) {
	err = windows.LockFileEx(windows.Handle(f.Fd()), windows.LOCKFILE_EXCLUSIVE_LOCK|windows.LOCKFILE_FAIL_IMMEDIATELY, 0, 1, 0x80000000, &windows.Overlapped{OffsetHigh: 0x7fffffff})
	if errors.Is(err, windows.ERROR_LOCK_VIOLATION) {
		return true, nil
	}
	return false, err
}

// fileLocking reports whether lockFile locks on this system.
const fileLocking = true
