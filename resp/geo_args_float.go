package resp

import (
	"math"
	"strconv"
	"strings"
)

// parseRedisDouble parses a float argument as redis-server's
// getDoubleFromObject does: C's strtod must consume the whole argument,
// which may not be empty or start with white space; NaN is refused, and so
// is a number too large for a float64 or so small it rounds to zero
// (strtod's range error), while "inf", "infinity" and hexadecimal numbers
// ("0x10", "0x1.8p3") are accepted. strconv.ParseFloat alone differs: it
// takes "1e400" as infinity, wants a 'p' exponent after hexadecimal
// digits and allows underscores in them.
func parseRedisDouble(b []byte) (float64, bool) {
	s := string(b)
	if s == "" || strings.IndexByte(" \t\n\v\f\r", s[0]) >= 0 {
		return 0, false
	}
	body := s
	if body[0] == '+' || body[0] == '-' {
		body = body[1:]
	}
	switch strings.ToLower(body) {
	case "inf", "infinity":
		if s[0] == '-' {
			return math.Inf(-1), true
		}
		return math.Inf(1), true
	}
	hex := len(body) > 2 && body[0] == '0' && (body[1] == 'x' || body[1] == 'X')
	digit := isDecDigit
	expChar := byte('e')
	if hex {
		body, digit, expChar = body[2:], isHexDigit, 'p'
	}
	// The mantissa: digits, optionally a point and more digits, at least
	// one digit in all.
	i, nonZero, digits := 0, false, 0
	for ; i < len(body) && digit(body[i]); i++ {
		nonZero = nonZero || body[i] != '0'
		digits++
	}
	if i < len(body) && body[i] == '.' {
		for i++; i < len(body) && digit(body[i]); i++ {
			nonZero = nonZero || body[i] != '0'
			digits++
		}
	}
	if digits == 0 {
		return 0, false
	}
	// The exponent, decimal digits after 'e' (or 'p'), optionally signed.
	hasExp := false
	if i < len(body) && (body[i]|0x20) == expChar {
		j := i + 1
		if j < len(body) && (body[j] == '+' || body[j] == '-') {
			j++
		}
		k := j
		for k < len(body) && isDecDigit(body[k]) {
			k++
		}
		if k == j {
			return 0, false // strtod stops before the 'e': trailing bytes
		}
		i, hasExp = k, true
	}
	if i != len(body) {
		return 0, false
	}
	text := s
	if hex && !hasExp {
		text += "p0"
	}
	v, err := strconv.ParseFloat(text, 64)
	if math.IsInf(v, 0) || (err != nil && !math.IsInf(v, 0)) || (v == 0 && nonZero) {
		return 0, false
	}
	return v, true
}

func isDecDigit(c byte) bool { return c >= '0' && c <= '9' }

func isHexDigit(c byte) bool {
	return isDecDigit(c) || (c|0x20) >= 'a' && (c|0x20) <= 'f'
}
