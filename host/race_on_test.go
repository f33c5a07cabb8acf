//go:build race

package host

// raceEnabled reports that the tests run with the race detector.
const raceEnabled = true
