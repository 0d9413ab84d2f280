package resp

// globMatch reports whether s matches the glob pattern p with Redis's rules
// (util.c stringmatchlen): * any run, ? one byte, [abc], [^abc], [a-z],
// and \ escaping the next byte. nocase folds ASCII case. It is iterative on
// '*' with backtracking bounded by the pattern's stars, so hostile patterns
// cannot make it exponential.
func globMatch(p, s []byte, nocase bool) bool {
	// pi/si: current positions; starP/starS: where to resume after the
	// last '*' (classic wildcard matching with one backtrack point).
	pi, si := 0, 0
	starP, starS := -1, 0
	for si < len(s) {
		if pi < len(p) {
			switch p[pi] {
			case '*':
				for pi < len(p) && p[pi] == '*' {
					pi++
				}
				if pi == len(p) {
					return true
				}
				starP, starS = pi, si
				continue
			case '?':
				pi++
				si++
				continue
			case '[':
				if n, ok := matchClass(p[pi:], s[si], nocase); n > 0 && ok {
					pi += n
					si++
					continue
				}
			case '\\':
				if pi+1 < len(p) {
					if eqByte(p[pi+1], s[si], nocase) {
						pi += 2
						si++
						continue
					}
				} else if eqByte('\\', s[si], nocase) {
					pi++
					si++
					continue
				}
			default:
				if eqByte(p[pi], s[si], nocase) {
					pi++
					si++
					continue
				}
			}
		}
		if starP < 0 {
			return false
		}
		starS++
		pi, si = starP, starS
	}
	for pi < len(p) && p[pi] == '*' {
		pi++
	}
	return pi == len(p)
}

// matchClass matches one byte against the class starting at p[0] == '['. It
// returns the class's length in the pattern and whether ch matched. An
// unterminated class runs to the end of the pattern, as in Redis.
func matchClass(p []byte, ch byte, nocase bool) (int, bool) {
	i := 1
	not := false
	if i < len(p) && p[i] == '^' {
		not = true
		i++
	}
	match := false
	for i < len(p) && p[i] != ']' {
		switch {
		case p[i] == '\\' && i+1 < len(p):
			i++
			if eqByte(p[i], ch, nocase) {
				match = true
			}
		case i+2 < len(p) && p[i+1] == '-' && p[i+2] != ']':
			lo, hi := p[i], p[i+2]
			if lo > hi {
				lo, hi = hi, lo
			}
			c := ch
			if nocase {
				lo, hi, c = lower(lo), lower(hi), lower(c)
			}
			if c >= lo && c <= hi {
				match = true
			}
			i += 2
		default:
			if eqByte(p[i], ch, nocase) {
				match = true
			}
		}
		i++
	}
	if i < len(p) {
		i++ // the closing ']'
	}
	if not {
		match = !match
	}
	return i, match
}

func eqByte(a, b byte, nocase bool) bool {
	if nocase {
		return lower(a) == lower(b)
	}
	return a == b
}

func lower(b byte) byte {
	if 'A' <= b && b <= 'Z' {
		return b + 'a' - 'A'
	}
	return b
}
