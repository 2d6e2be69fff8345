//go:build race

package convo

// raceEnabled reports whether the tests run with the race detector.
const raceEnabled = true
