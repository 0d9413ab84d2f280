//go:build race

package ring

// raceEnabled scales the largest tests down under the race detector, which
// slows the replay about tenfold.
const raceEnabled = true
