//go:build windows

package mirror

import (
	"errors"
	"os"

	"golang.org/x/sys/windows"
)

// lockFile takes an exclusive lock on the file at path (created if
// missing) without waiting: LockFileEx, held by the open handle, so that
// it conflicts with any other holder, in this process or another, and ends
// with the process that holds it however that process ends. It returns
// the open file, whose Close releases the lock, or busy when another
// holds it.
func lockFile(path string) (f *os.File, busy bool, err error) {
	f, err = os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o644)
	if err != nil {
		return nil, false, err
	}
	// The lock covers a byte range past any content: the holder's
	// description stays readable by the others.
	err = windows.LockFileEx(windows.Handle(f.Fd()), windows.LOCKFILE_EXCLUSIVE_LOCK|windows.LOCKFILE_FAIL_IMMEDIATELY, 0, 1, 0x80000000, &windows.Overlapped{OffsetHigh: 0x7fffffff})
	if err != nil {
		f.Close()
		if errors.Is(err, windows.ERROR_LOCK_VIOLATION) {
			return nil, true, nil
		}
		return nil, false, err
	}
	return f, false, nil
}

// fileLocking reports whether lockFile locks on this system.
const fileLocking = true
