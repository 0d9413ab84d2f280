// Package poll is how the project's tests wait for something to happen:
// they poll a condition with a deadline, never sleep for a guessed time.
package poll

import (
	"testing"
	"time"
)

// maxInterval bounds the pause between two checks; the first checks come
// quickly (from 1 ms, doubling), so in-process conditions are seen at once
// and a slow end-to-end one is not checked more than 50 times a second.
const maxInterval = 20 * time.Millisecond

// Until calls cond until it returns true and returns how long that took;
// if it has not returned true within d, Until fails t with what it was
// waiting for. It may be called from the test's goroutine only (it calls
// t.Fatalf).
func Until(t testing.TB, d time.Duration, what string, cond func() bool) time.Duration {
	t.Helper()
	start := time.Now()
	deadline := start.Add(d)
	interval := time.Millisecond
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %v waiting for %s", d, what)
		}
		time.Sleep(interval) // the pause between checks, not synchronisation
		interval = min(2*interval, maxInterval)
	}
	return time.Since(start)
}
