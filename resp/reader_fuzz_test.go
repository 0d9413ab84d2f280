package resp

import (
	"bytes"
	"errors"
	"io"
	"math/rand"
	"strings"
	"testing"
)

// fuzzLimits are small so that the fuzzer reaches every limit.
var fuzzLimits = Limits{MaxBulkLen: 1 << 16, MaxArgs: 64, MaxInlineLen: 256, MaxQueryLen: 1 << 18}

// fuzzRead reads every command from r, copying them, and checks that each
// is within lim and that the error that ends the stream is one ReadCommand
// may return for in-memory input.
func fuzzRead(t *testing.T, r *Reader, lim Limits) ([][]string, error) {
	t.Helper()
	var cmds [][]string
	for {
		args, err := r.ReadCommand()
		if err != nil {
			var pe *ProtocolError
			if err != io.EOF && err != io.ErrUnexpectedEOF && !errors.As(err, &pe) {
				t.Fatalf("unexpected error type %T: %v", err, err)
			}
			if pe != nil && strings.ContainsAny(pe.Msg, "\r\n") {
				t.Fatalf("error message %q contains CR or LF", pe.Msg)
			}
			if _, again := r.ReadCommand(); again != err {
				t.Fatalf("error not sticky: %v, then %v", err, again)
			}
			return cmds, err
		}
		if len(args) == 0 || len(args) > lim.MaxArgs {
			t.Fatalf("command with %d arguments", len(args))
		}
		if r.Buffered() < 0 || r.Buffered() > len(r.buf) {
			t.Fatalf("Buffered() = %d", r.Buffered())
		}
		var total int64
		cmd := make([]string, len(args))
		for i, a := range args {
			if int64(len(a)) > lim.MaxBulkLen {
				t.Fatalf("argument of %d bytes", len(a))
			}
			if cap(a) != len(a) {
				t.Fatalf("argument cap %d > len %d", cap(a), len(a))
			}
			total += int64(len(a))
			cmd[i] = string(a)
		}
		if total > lim.MaxQueryLen {
			t.Fatalf("command of %d bytes", total)
		}
		cmds = append(cmds, cmd)
	}
}

func FuzzReader(f *testing.F) {
	seeds := []string{
		// Hostile inputs that break redcon.
		"*1\r\n$9223372036854775807\r\n",
		"*2147483647\r\n",
		"*1048577\r\n",
		"*1000000\r\n$3\r\nfoo\r\n$3\r\nbar\r\n",
		"*1\r\n$536870912\r\nxxxxxxxxxxxxxxxx",
		"*1\r\n$-9223372036854775808\r\n",
		"*99999999999999999999\r\n",
		// Normal commands, pipelined, with empty commands between.
		string(rdEncode([]string{"SET", "key:0001", strings.Repeat("v", 100)}, []string{"GET", "key:0001"})),
		"*0\r\n*-1\r\n\r\n*1\r\n$4\r\nPING\r\n*1\r\n$0\r\n\r\n",
		"*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$5\r\nva\r\nl\r\n",
		"*1\rX$3\rYfooXY",
		// Inline commands with every quoting rule.
		"PING\r\nPING\n  SET  a \t  b  \r\n",
		"SET a \"b c\" '\\'d\\'' \"\\x41\\x4g\\n\\r\\t\\b\\a\\\\\\\"\\z\"\r\n",
		"foo\"bar\" baz'qux' \"\" ''\n",
		"\"a\"b\n",
		"'abc\n",
		"\"abc\\\"\n",
		"\va\fb\rc\x00d\n",
		// Errors.
		"*x\r\n",
		"*1\r\nX\r\n",
		"*1\r\n\r\n",
		"*1\r\n$x\r\n",
		"*1\r\n$65537\r\n",
		"*65\r\n",
		strings.Repeat("a", 300),
		"*" + strings.Repeat("1", 300),
		"*1\r\n$" + strings.Repeat("1", 300),
		strings.Repeat("a ", 70) + "\n",
		// Before AUTH (odd seeds): Redis's smaller limits.
		"*11\r\n",
		"*1\r\n$16385\r\n",
		"*10\r\n$1\r\na\r\n",
	}
	for i, s := range seeds {
		f.Add([]byte(s), uint8(i))
	}
	f.Fuzz(func(t *testing.T, data []byte, seed uint8) {
		lim := fuzzLimits
		// Odd seeds read as a client that has not authenticated.
		unauth := seed%2 == 1
		r := NewReader(bytes.NewReader(data), lim)
		r.RequireAuth(unauth)
		cmds, err := fuzzRead(t, r, lim)
		if unauth && firstIsMultibulk(data) && len(cmds) > 0 {
			// The first command is a multibulk one: within the limits.
			if len(cmds[0]) > maxUnauthArgs {
				t.Fatalf("unauthenticated command of %d arguments", len(cmds[0]))
			}
			for _, a := range cmds[0] {
				if len(a) > maxUnauthBulk {
					t.Fatalf("unauthenticated argument of %d bytes", len(a))
				}
			}
		}

		// Linear work and bounded memory, whatever the input.
		if r.work > 8*len(data)+64 {
			t.Fatalf("work %d for %d bytes", r.work, len(data))
		}
		if len(r.buf) > defaultBufSize+2*len(data)+2*minRead {
			t.Fatalf("buffer %d for %d bytes", len(r.buf), len(data))
		}

		// Read boundaries change nothing.
		cr := &rdChunkReader{data: data, rng: rand.New(rand.NewSource(int64(seed))), max: 1 + int(seed)%17}
		r2 := NewReader(cr, lim)
		r2.RequireAuth(unauth)
		cmds2, err2 := fuzzRead(t, r2, lim)
		if !rdEqual(cmds, cmds2) || err.Error() != err2.Error() {
			t.Fatalf("chunked read differs:\nwhole:   %q, %v\nchunked: %q, %v", cmds, err, cmds2, err2)
		}

		// The commands, re-encoded canonically, read back the same (as an
		// authenticated client: inline commands have no argument limit
		// before AUTH, and re-encoded they are multibulk).
		enc := rdEncode(cmds...)
		cmds3, err3 := fuzzRead(t, NewReader(bytes.NewReader(enc), lim), lim)
		if err3 != io.EOF || !rdEqual(cmds, cmds3) {
			t.Fatalf("re-encoded read differs:\nfirst:  %q\nsecond: %q, %v", cmds, cmds3, err3)
		}
	})
}

// firstIsMultibulk reports whether data starts with a multibulk header of a
// positive count, so the first command read from it is that one.
func firstIsMultibulk(data []byte) bool {
	i := bytes.IndexByte(data, '\r')
	if len(data) == 0 || data[0] != '*' || i < 0 {
		return false
	}
	n, ok := string2ll(data[1:i])
	return ok && n > 0
}
