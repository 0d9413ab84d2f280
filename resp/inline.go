package resp

// Inline commands: a line of space-separated arguments with quotes and
// escapes, as redis-cli and telnet users type them.

// splitInline splits the inline command buf[lo:hi] into arguments by Redis's
// sdssplitargs rules, unescaping in place (the output never outruns the
// input), and appends their spans.
func (r *Reader) splitInline(lo, hi int) error {
	b := r.buf
	p := lo
	for {
		for p < hi && isSpace(b[p]) {
			p++
		}
		if p >= hi {
			r.work += hi - lo
			return nil
		}
		tok, out := p, p
		inq, insq := false, false
	token:
		for {
			switch {
			case inq:
				if p >= hi {
					return errUnbalancedQuotes // unterminated quotes
				}
				c := b[p]
				switch {
				case c == '\\' && p+3 < hi && b[p+1] == 'x' && isHex(b[p+2]) && isHex(b[p+3]):
					b[out] = unhex(b[p+2])<<4 | unhex(b[p+3])
					out++
					p += 4
				case c == '\\' && p+1 < hi:
					p++
					switch c = b[p]; c {
					case 'n':
						c = '\n'
					case 'r':
						c = '\r'
					case 't':
						c = '\t'
					case 'b':
						c = '\b'
					case 'a':
						c = '\a'
					}
					b[out] = c
					out++
					p++
				case c == '"':
					// A closing quote must be followed by a space or
					// nothing at all.
					if p+1 < hi && !isSpace(b[p+1]) {
						return errUnbalancedQuotes
					}
					p++
					break token
				default:
					b[out] = c
					out++
					p++
				}
			case insq:
				if p >= hi {
					return errUnbalancedQuotes
				}
				c := b[p]
				switch {
				case c == '\\' && p+1 < hi && b[p+1] == '\'':
					b[out] = '\''
					out++
					p += 2
				case c == '\'':
					if p+1 < hi && !isSpace(b[p+1]) {
						return errUnbalancedQuotes
					}
					p++
					break token
				default:
					b[out] = c
					out++
					p++
				}
			default:
				if p >= hi {
					break token
				}
				c := b[p]
				p++
				switch c {
				case ' ', '\n', '\r', '\t':
					break token
				case '"':
					inq = true
				case '\'':
					insq = true
				default:
					b[out] = c
					out++
				}
			}
		}
		n := out - tok
		if len(r.spans) >= r.lim.MaxArgs || int64(n) > r.lim.MaxBulkLen {
			return errTooBigInline
		}
		if int64(n) > r.lim.MaxQueryLen-r.total {
			return errQueryLimit
		}
		r.total += int64(n)
		r.spans = append(r.spans, argSpan{tok - r.start, n})
	}
}

// isSpace reports whether c is a space in the C locale's isspace.
func isSpace(c byte) bool {
	return c == ' ' || c == '\t' || c == '\n' || c == '\v' || c == '\f' || c == '\r'
}

func isHex(c byte) bool {
	return '0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F'
}

func unhex(c byte) byte {
	switch {
	case c <= '9':
		return c - '0'
	case c >= 'a':
		return c - 'a' + 10
	default:
		return c - 'A' + 10
	}
}
