package resp

import (
	"strconv"
	"strings"

	"github.com/tidwall/redcon"
)

// Reply buffers the replies of one connection in the protocol version the
// client chose with HELLO (RESP2 until then). Encoders are redcon's
// allocation-free Append* functions, with the RESP3 types (null, map, set,
// double, verbatim) added here. A Reply belongs to one connection goroutine.
type Reply struct {
	b     []byte
	proto int
}

// Bytes returns the buffered replies.
func (r *Reply) Bytes() []byte { return r.b }

// Reset empties the buffer, keeping its storage.
func (r *Reply) Reset() { r.b = r.b[:0] }

// OK appends +OK.
func (r *Reply) OK() { r.b = redcon.AppendOK(r.b) }

// Simple appends a simple string.
func (r *Reply) Simple(s string) { r.b = redcon.AppendString(r.b, s) }

// Error appends an error; msg starts with its code ("ERR ...", "NOAUTH ...").
// Line breaks are replaced by spaces, as Redis does.
func (r *Reply) Error(msg string) {
	if strings.ContainsAny(msg, "\r\n") {
		msg = strings.NewReplacer("\r", " ", "\n", " ").Replace(msg)
	}
	r.b = append(r.b, '-')
	r.b = append(r.b, msg...)
	r.b = append(r.b, '\r', '\n')
}

// Int appends an integer.
func (r *Reply) Int(n int64) { r.b = redcon.AppendInt(r.b, n) }

// Bulk appends a bulk string.
func (r *Reply) Bulk(b []byte) { r.b = redcon.AppendBulk(r.b, b) }

// BulkString appends a bulk string.
func (r *Reply) BulkString(s string) { r.b = redcon.AppendBulkString(r.b, s) }

// BulkInt appends an integer as a bulk string.
func (r *Reply) BulkInt(n int64) { r.b = redcon.AppendBulkInt(r.b, n) }

// Null appends the null bulk string ($-1 in RESP2, _ in RESP3).
func (r *Reply) Null() {
	if r.proto == 3 {
		r.b = append(r.b, '_', '\r', '\n')
		return
	}
	r.b = append(r.b, '$', '-', '1', '\r', '\n')
}

// NullArray appends the null array (*-1 in RESP2, _ in RESP3).
func (r *Reply) NullArray() {
	if r.proto == 3 {
		r.b = append(r.b, '_', '\r', '\n')
		return
	}
	r.b = append(r.b, '*', '-', '1', '\r', '\n')
}

// Array appends an array header of n elements.
func (r *Reply) Array(n int) { r.b = redcon.AppendArray(r.b, n) }

// Map appends a map header of n key/value pairs (a flat array of 2n
// elements in RESP2).
func (r *Reply) Map(n int) {
	if r.proto == 3 {
		r.b = append(r.b, '%')
		r.b = strconv.AppendInt(r.b, int64(n), 10)
		r.b = append(r.b, '\r', '\n')
		return
	}
	r.Array(2 * n)
}

// Set appends a set header of n elements (an array in RESP2).
func (r *Reply) Set(n int) {
	if r.proto == 3 {
		r.b = append(r.b, '~')
		r.b = strconv.AppendInt(r.b, int64(n), 10)
		r.b = append(r.b, '\r', '\n')
		return
	}
	r.Array(n)
}

// Verbatim appends text as a verbatim string of format "txt" in RESP3 and a
// bulk string in RESP2, as Redis does for INFO and CLIENT INFO.
func (r *Reply) Verbatim(text string) {
	if r.proto == 3 {
		r.b = append(r.b, '=')
		r.b = strconv.AppendInt(r.b, int64(len(text)+4), 10)
		r.b = append(r.b, "\r\ntxt:"...)
		r.b = append(r.b, text...)
		r.b = append(r.b, '\r', '\n')
		return
	}
	r.BulkString(text)
}

// Bool appends a boolean (an integer 0/1 in RESP2).
func (r *Reply) Bool(v bool) {
	if r.proto == 3 {
		if v {
			r.b = append(r.b, "#t\r\n"...)
		} else {
			r.b = append(r.b, "#f\r\n"...)
		}
		return
	}
	if v {
		r.Int(1)
	} else {
		r.Int(0)
	}
}
