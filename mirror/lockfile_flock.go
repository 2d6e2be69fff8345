//go:build linux || darwin || freebsd || netbsd || openbsd || dragonfly

package mirror

import (
	"errors"
	"os"
	"syscall"
)

// lockFile takes an exclusive lock on the file at path (created if
// missing) without waiting: flock(2), held by the open file, so that it
// conflicts with any other holder, in this process or another, and ends
// with the process that holds it however that process ends. It returns
// the open file, whose Close releases the lock, or busy when another
// holds it.
func lockFile(path string) (f *os.File, busy bool, err error) {
	f, err = os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o644)
	if err != nil {
		return nil, false, err
	}
	for {
		err = syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB)
		if !errors.Is(err, syscall.EINTR) {
			break
		}
	}
	if err != nil {
		f.Close()
		if errors.Is(err, syscall.EWOULDBLOCK) {
			return nil, true, nil
		}
		return nil, false, err
	}
	return f, false, nil
}

// fileLocking reports whether lockFile locks on this system.
const fileLocking = true
