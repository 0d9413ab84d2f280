package replication

import (
	"math"
	"strconv"
)

// Decimal numbers of counters: a counter's value and its contributions are
// decimal strings, integers while every part is an integer and the sum fits
// in 64 bits, else floating point (INCRBYFLOAT), formatted as the shortest
// decimal that reads back to the same float64, with no exponent.

// IsDecimal reports whether b is an integer or a finite float a counter can
// add to.
func IsDecimal(b []byte) bool {
	if _, err := strconv.ParseInt(string(b), 10, 64); err == nil {
		return true
	}
	f, err := strconv.ParseFloat(string(b), 64)
	return err == nil && !math.IsInf(f, 0) && !math.IsNaN(f)
}

// AddDecimal returns a+b. A part that is no number counts as 0 (a counter's
// contributions are written by Increment, which only writes numbers).
func AddDecimal(a, b []byte) []byte {
	x, xerr := strconv.ParseInt(string(a), 10, 64)
	y, yerr := strconv.ParseInt(string(b), 10, 64)
	if xerr == nil && yerr == nil {
		if s := x + y; (s > x) == (y > 0) {
			return strconv.AppendInt(nil, s, 10)
		}
	}
	return FormatFloat(parseFloat(a) + parseFloat(b))
}

// SubDecimal returns a-b, as AddDecimal adds.
func SubDecimal(a, b []byte) []byte {
	if y, err := strconv.ParseInt(string(b), 10, 64); err == nil && y != math.MinInt64 {
		return AddDecimal(a, strconv.AppendInt(nil, -y, 10))
	}
	return FormatFloat(parseFloat(a) - parseFloat(b))
}

func parseFloat(b []byte) float64 {
	f, err := strconv.ParseFloat(string(b), 64)
	if err != nil || math.IsInf(f, 0) || math.IsNaN(f) {
		return 0
	}
	return f
}

// FormatFloat formats f as counters and INCRBYFLOAT write it: the shortest
// decimal that reads back to f, without an exponent ("10.5", "3", "0.0001").
func FormatFloat(f float64) []byte {
	return strconv.AppendFloat(nil, f, 'f', -1, 64)
}
