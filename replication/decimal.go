package replication

import (
	"bytes"
	"math"
	"math/big"
	"strconv"
	"strings"
)

// Decimal numbers of counters: a counter's value and its contributions are
// decimal strings, integers while every part is an integer and the sum fits
// in 64 bits, else exact decimals with no exponent (INCRBYFLOAT writes its
// increment as the shortest decimal that reads back to the same float64).

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
// Non-integers add exactly, as decimals: a contribution is an actor's
// running sum, and a value is such sums less what a write observed of
// them, so float64 rounding in each sum would show in the difference
// (1.23 added to a sum of 7.49 and the 7.49 taken off again gave
// 1.2300000000000004).
func AddDecimal(a, b []byte) []byte {
	x, xerr := strconv.ParseInt(string(a), 10, 64)
	y, yerr := strconv.ParseInt(string(b), 10, 64)
	if xerr == nil && yerr == nil {
		if s := x + y; (s > x) == (y > 0) {
			return strconv.AppendInt(nil, s, 10)
		}
	}
	x1, xs := parseExact(a)
	y1, ys := parseExact(b)
	return formatExact(x1.Add(x1, y1), max(xs, ys))
}

// SubDecimal returns a-b, as AddDecimal adds.
func SubDecimal(a, b []byte) []byte {
	if y, err := strconv.ParseInt(string(b), 10, 64); err == nil && y != math.MinInt64 {
		return AddDecimal(a, strconv.AppendInt(nil, -y, 10))
	}
	x1, xs := parseExact(a)
	y1, ys := parseExact(b)
	return formatExact(x1.Sub(x1, y1), max(xs, ys))
}

// maxExact is the longest plain decimal parseExact takes as it is: longer
// than any FormatFloat result (at most 330 bytes or so), short enough
// that big arithmetic on it is cheap.
const maxExact = 400

// parseExact returns b as an exact rational and its number of decimal
// places. A plain decimal ("-12.5") is taken as written; anything else (an
// exponent, a hexadecimal float, a very long number) as the float64 it
// reads as, written as FormatFloat writes it; no number is 0.
func parseExact(b []byte) (*big.Rat, int) {
	if len(b) > maxExact || !plainDecimal(b) {
		b = FormatFloat(parseFloat(b))
	}
	r, ok := new(big.Rat).SetString(string(b))
	if !ok {
		return new(big.Rat), 0
	}
	places := 0
	if i := bytes.IndexByte(b, '.'); i >= 0 {
		places = len(b) - i - 1
	}
	return r, places
}

// plainDecimal reports whether b is an optional sign, digits and an
// optional fraction, with no exponent.
func plainDecimal(b []byte) bool {
	if len(b) > 0 && (b[0] == '-' || b[0] == '+') {
		b = b[1:]
	}
	digits, dot := 0, false
	for _, c := range b {
		switch {
		case c >= '0' && c <= '9':
			digits++
		case c == '.' && !dot:
			dot = true
		default:
			return false
		}
	}
	return digits > 0
}

// formatExact writes r, which has at most places decimal places, without
// an exponent or trailing zeros ("10.5", "3", "0.0001").
func formatExact(r *big.Rat, places int) []byte {
	s := r.FloatString(places)
	if strings.Contains(s, ".") {
		s = strings.TrimRight(strings.TrimRight(s, "0"), ".")
	}
	if s == "-0" {
		s = "0"
	}
	return []byte(s)
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
