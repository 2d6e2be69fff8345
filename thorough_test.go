package convo

import "testing"

// RaceEnabled reports whether the tests run with the race detector.
const RaceEnabled = raceEnabled

// Thorough reports whether the tests run at their full size: neither under
// -short (the quick loop) nor under the race detector, which makes each
// request and decode several times slower and is there for interleavings,
// not volume. The tests whose strength is volume (long lists, many rounds,
// every mutation of every fixture) run a fraction of it otherwise; CI runs
// them in full in its step with the oldest supported Go, which has no
// -race.
func Thorough() bool { return !testing.Short() && !raceEnabled }
