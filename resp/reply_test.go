package resp

import "testing"

// TestReplyEncoding checks every encoder in both protocol versions.
func TestReplyEncoding(t *testing.T) {
	for _, tc := range []struct {
		name         string
		write        func(r *Reply)
		resp2, resp3 string
	}{
		{"OK", func(r *Reply) { r.OK() }, "+OK\r\n", "+OK\r\n"},
		{"Simple", func(r *Reply) { r.Simple("PONG") }, "+PONG\r\n", "+PONG\r\n"},
		{"Error", func(r *Reply) { r.Error("ERR bad") }, "-ERR bad\r\n", "-ERR bad\r\n"},
		{"Error with line breaks", func(r *Reply) { r.Error("ERR a\r\nb\nc") }, "-ERR a  b c\r\n", "-ERR a  b c\r\n"},
		{"Int", func(r *Reply) { r.Int(-42) }, ":-42\r\n", ":-42\r\n"},
		{"Bulk", func(r *Reply) { r.Bulk([]byte("a\r\nb")) }, "$4\r\na\r\nb\r\n", "$4\r\na\r\nb\r\n"},
		{"empty Bulk", func(r *Reply) { r.Bulk(nil) }, "$0\r\n\r\n", "$0\r\n\r\n"},
		{"BulkString", func(r *Reply) { r.BulkString("hi") }, "$2\r\nhi\r\n", "$2\r\nhi\r\n"},
		{"BulkInt", func(r *Reply) { r.BulkInt(123) }, "$3\r\n123\r\n", "$3\r\n123\r\n"},
		{"Null", func(r *Reply) { r.Null() }, "$-1\r\n", "_\r\n"},
		{"NullArray", func(r *Reply) { r.NullArray() }, "*-1\r\n", "_\r\n"},
		{"Array", func(r *Reply) { r.Array(2); r.Int(1); r.Int(2) }, "*2\r\n:1\r\n:2\r\n", "*2\r\n:1\r\n:2\r\n"},
		{"Map", func(r *Reply) { r.Map(1); r.BulkString("k"); r.Int(1) }, "*2\r\n$1\r\nk\r\n:1\r\n", "%1\r\n$1\r\nk\r\n:1\r\n"},
		{"Set", func(r *Reply) { r.Set(1); r.Simple("x") }, "*1\r\n+x\r\n", "~1\r\n+x\r\n"},
		{"Verbatim", func(r *Reply) { r.Verbatim("a:1\r\n") }, "$5\r\na:1\r\n\r\n", "=9\r\ntxt:a:1\r\n\r\n"},
		{"Bool true", func(r *Reply) { r.Bool(true) }, ":1\r\n", "#t\r\n"},
		{"Bool false", func(r *Reply) { r.Bool(false) }, ":0\r\n", "#f\r\n"},
	} {
		for proto, want := range map[int]string{2: tc.resp2, 3: tc.resp3} {
			r := Reply{proto: proto}
			r.Simple("before")
			r.Reset()
			tc.write(&r)
			if got := string(r.Bytes()); got != want {
				t.Errorf("%s, RESP%d: %q, want %q", tc.name, proto, got, want)
			}
		}
	}
}
