package resp

import (
	"regexp"
	"testing"
	"time"
)

// TestCommandTimeOnBackendClock: a command's duration in INFO
// commandstats is measured on the clock its start was read from, the
// backend's. It was measured from the backend's reading to the process
// clock, which is garbage whenever the two differ (here, a test clock
// years behind; usec came out in the tens of trillions).
func TestCommandTimeOnBackendClock(t *testing.T) {
	e := newTestEnv(t)
	c := e.dial()
	e.backend.setHook(func(op string, key []byte) {
		if string(key) == "slow" {
			e.clock.Advance(1500 * time.Microsecond)
		}
	})
	runRaw(t, c, []rawCase{
		{cmd("GET", "fast"), nullBulk},
		{cmd("GET", "slow"), nullBulk},
		{cmd("EXISTS", "fast"), integer(0)},
	})
	stats := infoFields(t, c, "commandstats")
	stat := regexp.MustCompile(`^calls=(\d+),usec=(\d+),usec_per_call=([0-9.]+),`)
	for name, want := range map[string][3]string{
		"cmdstat_get":    {"2", "1500", "750.00"},
		"cmdstat_exists": {"1", "0", "0.00"},
	} {
		m := stat.FindStringSubmatch(stats[name])
		if m == nil || m[1] != want[0] || m[2] != want[1] || m[3] != want[2] {
			t.Errorf("%s = %q, want calls=%s,usec=%s,usec_per_call=%s", name, stats[name], want[0], want[1], want[2])
		}
	}
}
