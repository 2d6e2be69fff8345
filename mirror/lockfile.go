package mirror

import "os"

// lockFile takes an exclusive lock on the file at path (created if
// missing) without waiting, by the system's lock (tryLock), held by the
// open file, so that it conflicts with any other holder, in this process
// or another, and ends with the process that holds it however that
// process ends. It returns the open file, whose Close releases the lock,
// or busy when another holds it. It is called only where fileLocking
// holds.
func lockFile(path string) (f *os.File, busy bool, err error) {
	f, err = os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o644)
	if err != nil {
		return nil, false, err
	}
	if busy, err = tryLock(f); busy || err != nil {
		f.Close()
		return nil, busy, err
	}
	return f, false, nil
}
