package replication

import (
	"strings"
	"testing"
)

// TestDecimalArithmetic: sums and differences of non-integers are exact,
// so a running sum less what was observed of it gives back the increment;
// integers stay integers; what is no number counts as 0.
func TestDecimalArithmetic(t *testing.T) {
	for _, tc := range []struct {
		op   string
		a, b string
		want string
	}{
		{"+", "7.49", "1.23", "8.72"},
		{"-", "8.72", "7.49", "1.23"},
		{"+", "0.1", "0.2", "0.3"},
		{"-", "240518168652.6", "240518168652.5", "0.1"},
		{"+", "34359738368", "0.1", "34359738368.1"},
		{"+", "1.5", "-1.5", "0"},
		{"-", "0.5", "0.75", "-0.25"},
		{"+", "5", "-7", "-2"},
		{"+", "9223372036854775807", "1", "9223372036854775808"},
		{"-", "-9223372036854775808", "1", "-9223372036854775809"},
		{"+", "1e3", "0.5", "1000.5"},
		{"+", ".5", "5.", "5.5"},
		{"+", "+2.5", "1", "3.5"},
		{"+", "abc", "1.5", "1.5"},
		{"+", "inf", "1.5", "1.5"},
		{"+", "0x1p-2", "0.5", "0.75"},
		{"+", "1e-5", "0", "0.00001"},
		{"+", "1e-100000000", "0.5", "0.5"},                  // read as a float64: no 10^100000000
		{"+", "0.5", "1" + strings.Repeat("0", 1000), "0.5"}, // too long: read as a float64 (+Inf: 0)
	} {
		f := AddDecimal
		if tc.op == "-" {
			f = SubDecimal
		}
		if got := string(f([]byte(tc.a), []byte(tc.b))); got != tc.want {
			t.Errorf("%s %s %s = %s, want %s", tc.a, tc.op, tc.b, got, tc.want)
		}
	}
	// A running sum of many float increments, less an observed part of
	// it, is exactly the increments after that part.
	sum := []byte("0")
	for range 1000 {
		sum = AddDecimal(sum, []byte("0.1"))
	}
	observed := sum
	for range 3 {
		sum = AddDecimal(sum, []byte("1.23"))
	}
	if got := string(SubDecimal(sum, observed)); got != "3.69" || string(observed) != "100" {
		t.Fatalf("running sum %s, observed %s, difference %s", sum, observed, got)
	}
}
