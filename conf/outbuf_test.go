package conf

import (
	"math"
	"strconv"
	"strings"
	"testing"
	"time"
)

func TestParseMemory(t *testing.T) {
	for in, want := range map[string]int64{
		"0": 0, "42": 42, "42b": 42, "42B": 42,
		"1k": 1000, "1kb": 1024, "1KB": 1024, "1Kb": 1024,
		"2m": 2000000, "2mb": 2 << 20, "3g": 3000000000, "3gb": 3 << 30,
		"9223372036854775807": math.MaxInt64, "8589934591gb": 8589934591 << 30,
	} {
		if got, err := ParseMemory(in); err != nil || got != want {
			t.Errorf("ParseMemory(%q) = %d, %v; want %d", in, got, err, want)
		}
	}
	for _, in := range []string{"", "mb", "-1", "+1", "1.5gb", "1 mb", "1tb", "1kbb", " 1", "9223372036854775808", "8589934592gb", "0x10"} {
		if got, err := ParseMemory(in); err == nil {
			t.Errorf("ParseMemory(%q) = %d, want an error", in, got)
		}
	}
}

func TestParseOutputBufferLimit(t *testing.T) {
	for in, want := range map[string]OutputBufferLimit{
		"normal 256mb 64mb 60":  {256 << 20, 64 << 20, 60 * time.Second},
		"NORMAL 0 0 0":          {},
		"  normal  1gb 1k  5  ": {1 << 30, 1000, 5 * time.Second},
		// Redis's full default line: only the normal class applies.
		"normal 0 0 0 slave 268435456 67108864 60 pubsub 33554432 8388608 60": {},
		"replica 256mb 64mb 60 normal 10mb 5mb 1":                             {10 << 20, 5 << 20, time.Second},
		"pubsub 32mb 8mb 60": {},
		// The last group of a class wins, as in Redis.
		"normal 1 1 1 normal 2 2 2": {2, 2, 2 * time.Second},
	} {
		if got, err := ParseOutputBufferLimit(in); err != nil || got != want {
			t.Errorf("ParseOutputBufferLimit(%q) = %+v, %v; want %+v", in, got, err, want)
		}
	}
	for _, in := range []string{"", "normal", "normal 1 1", "normal 1 1 1 pubsub", "master 0 0 0", "client 0 0 0",
		"normal -1 0 0", "normal 0 -1 0", "normal 0 0 -1", "normal 0 0 1.5", "normal 0 0 1s", "normal 1tb 0 0",
		"normal 0 0 9223372036854775807"} {
		if got, err := ParseOutputBufferLimit(in); err == nil {
			t.Errorf("ParseOutputBufferLimit(%q) = %+v, want an error", in, got)
		}
	}
	if got := Default().OutputBufferLimit(); got != (OutputBufferLimit{256 << 20, 64 << 20, time.Minute}) {
		t.Errorf("default client_output_buffer_limit = %+v", got)
	}
}

// FuzzParseOutputBufferLimit: any input either parses to non-negative
// limits that print back to the same limits, or is refused; never a panic.
func FuzzParseOutputBufferLimit(f *testing.F) {
	for _, s := range []string{"normal 256mb 64mb 60", "normal 0 0 0 slave 268435456 67108864 60 pubsub 33554432 8388608 60",
		"normal 1kb 1K 1", "normal 9223372036854775807 0 0", "normal 8589934591gb 1g 0", "pubsub -1 0 0", "normal mb mb 1"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		l, err := ParseOutputBufferLimit(s)
		if err != nil {
			if l != (OutputBufferLimit{}) {
				t.Fatalf("%q: error %v with limit %+v", s, err, l)
			}
			return
		}
		if l.Hard < 0 || l.Soft < 0 || l.SoftSeconds < 0 || l.SoftSeconds%time.Second != 0 {
			t.Fatalf("%q: %+v", s, l)
		}
		again := strings.Join([]string{"normal", strconv.FormatInt(l.Hard, 10), strconv.FormatInt(l.Soft, 10), strconv.FormatInt(int64(l.SoftSeconds/time.Second), 10)}, " ")
		if l2, err := ParseOutputBufferLimit(again); err != nil || l2 != l {
			t.Fatalf("%q: %+v printed as %q parses to %+v, %v", s, l, again, l2, err)
		}
	})
}
