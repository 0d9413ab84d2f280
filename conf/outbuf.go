package conf

import (
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"
)

// OutputBufferLimit is Redis's client-output-buffer-limit for normal
// clients: a client whose replies waiting to be written reach Hard bytes
// is closed at once, one that stays at or over Soft bytes for more than
// SoftSeconds is closed then. Zero disables a limit.
type OutputBufferLimit struct {
	Hard, Soft  int64
	SoftSeconds time.Duration
}

// ParseOutputBufferLimit parses Redis's form of client-output-buffer-limit:
// one or more groups "<class> <hard> <soft> <soft-seconds>", class normal,
// replica (or slave) or pubsub, sizes with Redis's units (b, k = 1000,
// kb = 1024, m, mb, g, gb; case-insensitive), soft-seconds a whole number.
// It returns the normal class's limit (zero if not given): dynakv has no
// replica or pubsub clients, so those classes are checked and ignored.
func ParseOutputBufferLimit(s string) (OutputBufferLimit, error) {
	f := strings.Fields(s)
	if len(f) == 0 || len(f)%4 != 0 {
		return OutputBufferLimit{}, fmt.Errorf("must be groups of <class> <hard> <soft> <soft-seconds> such as \"normal 256mb 64mb 60\", got %q", s)
	}
	var out OutputBufferLimit
	for i := 0; i < len(f); i += 4 {
		class := strings.ToLower(f[i])
		switch class {
		case "normal", "replica", "slave", "pubsub":
		default:
			return OutputBufferLimit{}, fmt.Errorf("invalid client class %q (want normal, replica or pubsub)", f[i])
		}
		hard, err1 := ParseMemory(f[i+1])
		soft, err2 := ParseMemory(f[i+2])
		secs, err3 := strconv.ParseInt(f[i+3], 10, 64)
		if err1 != nil || err2 != nil || err3 != nil || secs < 0 || secs > math.MaxInt64/int64(time.Second) {
			return OutputBufferLimit{}, fmt.Errorf("error in hard, soft or soft-seconds of class %s: %q %q %q (sizes like 256mb, seconds a whole number)", class, f[i+1], f[i+2], f[i+3])
		}
		if class == "normal" {
			out = OutputBufferLimit{Hard: hard, Soft: soft, SoftSeconds: time.Duration(secs) * time.Second}
		}
	}
	return out, nil
}

// memUnits are Redis's memory units (util.c, memtoull).
var memUnits = map[string]int64{
	"": 1, "b": 1,
	"k": 1000, "kb": 1024,
	"m": 1000 * 1000, "mb": 1 << 20,
	"g": 1000 * 1000 * 1000, "gb": 1 << 30,
}

// ParseMemory parses a size as Redis's memtoull does: decimal digits and an
// optional unit (b, k, kb, m, mb, g, gb; case-insensitive). Unlike Redis it
// refuses an empty number and a size over math.MaxInt64.
func ParseMemory(s string) (int64, error) {
	i := 0
	for i < len(s) && s[i] >= '0' && s[i] <= '9' {
		i++
	}
	mul, ok := memUnits[strings.ToLower(s[i:])]
	if !ok || i == 0 {
		return 0, fmt.Errorf("invalid size %q", s)
	}
	n, err := strconv.ParseInt(s[:i], 10, 64)
	if err != nil || n > math.MaxInt64/mul {
		return 0, fmt.Errorf("size %q out of range", s)
	}
	return n * mul, nil
}

// OutputBufferLimit returns the parsed client_output_buffer_limit (zero if
// it does not parse; Validate reports that).
func (c Config) OutputBufferLimit() OutputBufferLimit {
	l, _ := ParseOutputBufferLimit(c.ClientOutputBufferLimit)
	return l
}
