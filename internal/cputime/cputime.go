// Package cputime reads the CPU time this process has used, for the
// benchmarks that report it beside their wall time. It is imported by
// tests alone.
package cputime

import "time"

// Since returns the CPU time (user and system) the process has used since
// start, a reading of Self.
func Since(start time.Duration) time.Duration { return Self() - start }
