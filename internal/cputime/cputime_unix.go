//go:build unix

package cputime

import (
	"syscall"
	"time"
)

// Self returns the CPU time (user and system) the process has used so far.
func Self() time.Duration {
	var r syscall.Rusage
	if syscall.Getrusage(syscall.RUSAGE_SELF, &r) != nil {
		return 0
	}
	return time.Duration(r.Utime.Nano() + r.Stime.Nano())
}
