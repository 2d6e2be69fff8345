//go:build unix

package cputime

import (
	"testing"
	"time"
)

// Work on the CPU shows in the reading; the reading never goes back.
func TestSince(t *testing.T) {
	start := Self()
	deadline := time.Now().Add(5 * time.Second)
	x := 0
	for Since(start) < 20*time.Millisecond && time.Now().Before(deadline) {
		for i := range 1_000_000 {
			x += i
		}
	}
	_ = x
	if d := Since(start); d < 20*time.Millisecond {
		t.Fatalf("5 s of busy work read as %v of CPU time", d)
	}
	if Self() < start {
		t.Fatal("the CPU time went back")
	}
}
