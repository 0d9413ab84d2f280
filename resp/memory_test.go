package resp

import (
	"strconv"
	"strings"
	"testing"
)

// TestMemoryUsage: MEMORY USAGE answers a key's stored bytes on this
// replica, a collection's elements included (sampled and scaled, or all
// with SAMPLES 0), with Redis's errors.
func TestMemoryUsage(t *testing.T) {
	e := newTestEnv(t)
	c := e.dial()
	value := strings.Repeat("v", 1000)
	args := []string{"HSET", "h"}
	for i := range 100 {
		args = append(args, "field"+strconv.Itoa(i), value)
	}
	runRaw(t, c, []rawCase{
		{cmd("SET", "s", value), okReply},
		{args, integer(100)},
		{cmd("MEMORY", "USAGE", "missing"), nullBulk},
		{cmd("MEMORY", "USAGE", "s", "SAMPLES"), errReply("ERR syntax error")},
		{cmd("MEMORY", "USAGE", "s", "SAMPLES", "-1"), errReply("ERR syntax error")},
		{cmd("MEMORY", "USAGE", "s", "SAMPLES", "x"), errReply("ERR value is not an integer or out of range")},
		{cmd("MEMORY", "USAGE", "s", "FOO"), errReply("ERR syntax error")},
		{cmd("MEMORY", "USAGE"), errReply("ERR wrong number of arguments for 'memory|usage' command")},
		{cmd("MEMORY", "NOSUCH"), errReply("ERR unknown subcommand 'NOSUCH'. Try MEMORY HELP.")},
	})
	usage := func(args ...string) int64 {
		n, ok := decode(t, c.do(args...)).(int64)
		if !ok {
			t.Fatalf("%q did not answer an integer", args)
		}
		return n
	}
	if n := usage("MEMORY", "USAGE", "s"); n < 1001 || n > 1200 {
		t.Errorf("MEMORY USAGE of a 1000-byte string = %d", n)
	}
	all, sampled := usage("MEMORY", "USAGE", "h", "SAMPLES", "0"), usage("MEMORY", "USAGE", "h")
	if all < 100*1000 || all > 100*1200 || sampled < 100*1000 || sampled > 100*1200 {
		t.Errorf("MEMORY USAGE of 100 fields of 1000 bytes = %d (all), %d (sampled)", all, sampled)
	}
}
