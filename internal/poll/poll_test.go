package poll

import (
	"testing"
	"time"
)

func TestUntil(t *testing.T) {
	n := 0
	took := Until(t, 5*time.Second, "the third check", func() bool { n++; return n == 3 })
	if n != 3 || took <= 0 {
		t.Fatalf("checked %d times in %v", n, took)
	}
}

type fatalRecorder struct {
	testing.TB
	msg string
}

func (f *fatalRecorder) Helper() {}
func (f *fatalRecorder) Fatalf(format string, args ...any) {
	f.msg = format
	panic(f)
}

func TestUntilTimesOut(t *testing.T) {
	rec := &fatalRecorder{TB: t}
	defer func() {
		if r := recover(); r != rec || rec.msg == "" {
			t.Fatalf("Until did not fail the test: %v", r)
		}
	}()
	Until(rec, 10*time.Millisecond, "never", func() bool { return false })
}
