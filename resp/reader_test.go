package resp

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"math/rand"
	"runtime"
	"strconv"
	"strings"
	"testing"
	"testing/iotest"

	"github.com/tidwall/redcon"
)

// rdEncode returns cmds as canonical multibulk RESP.
func rdEncode(cmds ...[]string) []byte {
	var b []byte
	for _, c := range cmds {
		b = append(b, '*')
		b = strconv.AppendInt(b, int64(len(c)), 10)
		b = append(b, "\r\n"...)
		for _, a := range c {
			b = append(b, '$')
			b = strconv.AppendInt(b, int64(len(a)), 10)
			b = append(b, "\r\n"...)
			b = append(b, a...)
			b = append(b, "\r\n"...)
		}
	}
	return b
}

// rdReadAll reads commands, copying them, until ReadCommand fails.
func rdReadAll(r *Reader) ([][]string, error) {
	var cmds [][]string
	for {
		args, err := r.ReadCommand()
		if err != nil {
			return cmds, err
		}
		if len(args) == 0 {
			return cmds, errors.New("ReadCommand returned an empty command")
		}
		c := make([]string, len(args))
		for i, a := range args {
			c[i] = string(a)
		}
		cmds = append(cmds, c)
	}
}

// rdChunkReader returns data in random chunks of 1..max bytes.
type rdChunkReader struct {
	data []byte
	rng  *rand.Rand
	max  int
}

func (c *rdChunkReader) Read(p []byte) (int, error) {
	if len(c.data) == 0 {
		return 0, io.EOF
	}
	n := min(1+c.rng.Intn(c.max), len(p), len(c.data))
	copy(p, c.data[:n])
	c.data = c.data[n:]
	return n, nil
}

// rdFixedChunkReader returns data in chunks of exactly n bytes (the last may
// be shorter).
type rdFixedChunkReader struct {
	data []byte
	n    int
}

func (c *rdFixedChunkReader) Read(p []byte) (int, error) {
	if len(c.data) == 0 {
		return 0, io.EOF
	}
	n := min(c.n, len(p), len(c.data))
	copy(p, c.data[:n])
	c.data = c.data[n:]
	return n, nil
}

// rdReaders returns a set of rdReaders that deliver data with different read
// boundaries.
func rdReaders(data []byte) map[string]io.Reader {
	return map[string]io.Reader{
		"whole":     bytes.NewReader(data),
		"onebyte":   iotest.OneByteReader(bytes.NewReader(data)),
		"half":      iotest.HalfReader(bytes.NewReader(data)),
		"dataerr":   iotest.DataErrReader(bytes.NewReader(data)),
		"random7":   &rdChunkReader{data: data, rng: rand.New(rand.NewSource(1)), max: 7},
		"random100": &rdChunkReader{data: data, rng: rand.New(rand.NewSource(2)), max: 100},
		"random64k": &rdChunkReader{data: data, rng: rand.New(rand.NewSource(3)), max: 64 << 10},
	}
}

func rdEqual(a, b [][]string) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if len(a[i]) != len(b[i]) {
			return false
		}
		for j := range a[i] {
			if a[i][j] != b[i][j] {
				return false
			}
		}
	}
	return true
}

func rdErrText(err error) string {
	if err == nil {
		return "<nil>"
	}
	return err.Error()
}

func TestEncodeMatchesRedcon(t *testing.T) {
	cmd := []string{"SET", "key", "", strings.Repeat("v", 300)}
	var want []byte
	want = redcon.AppendArray(want, len(cmd))
	for _, a := range cmd {
		want = redcon.AppendBulkString(want, a)
	}
	if got := rdEncode(cmd); !bytes.Equal(got, want) {
		t.Fatalf("rdEncode = %q, redcon = %q", got, want)
	}
}

func TestReaderPipelined(t *testing.T) {
	rng := rand.New(rand.NewSource(42))
	var want [][]string
	var data []byte
	for i := range 500 {
		var cmd []string
		switch i % 5 {
		case 0:
			cmd = []string{"SET", fmt.Sprintf("key:%04d", i), strings.Repeat("x", rng.Intn(300))}
		case 1:
			cmd = []string{"GET", fmt.Sprintf("key:%04d", i)}
		case 2:
			cmd = []string{"PING"}
		case 3:
			// Binary-safe arguments: CRLF, NUL, quotes, '*' and '$'.
			cmd = []string{"SET", "k\r\n\x00", "*1\r\n$3\r\n\"'"}
		case 4:
			// Big values cross the 16 KiB buffer and force growth.
			cmd = []string{"SET", "big", strings.Repeat("abcdefgh", 1000+rng.Intn(10000))}
		}
		want = append(want, cmd)
		data = append(data, rdEncode(cmd)...)
		switch i % 7 {
		case 0:
			data = append(data, "*0\r\n"...)
		case 1:
			data = append(data, "*-1\r\n"...)
		case 2:
			data = append(data, "\r\n"...)
		case 3:
			data = append(data, "ECHO \"in line\"\r\n"...)
			want = append(want, []string{"ECHO", "in line"})
		}
	}
	for name, rd := range rdReaders(data) {
		t.Run(name, func(t *testing.T) {
			got, err := rdReadAll(NewReader(rd, DefaultLimits()))
			if err != io.EOF {
				t.Fatalf("err = %v, want io.EOF", err)
			}
			if !rdEqual(got, want) {
				t.Fatalf("got %d commands, want %d; they differ", len(got), len(want))
			}
		})
	}
}

func TestReaderInline(t *testing.T) {
	tests := []struct {
		in   string
		want [][]string
		err  string
	}{
		{in: "PING\r\n", want: [][]string{{"PING"}}},
		{in: "PING\n", want: [][]string{{"PING"}}},
		{in: "  SET  a \t  b  \r\n", want: [][]string{{"SET", "a", "b"}}},
		{in: "a\rb\r\n", want: [][]string{{"a", "b"}}},
		{in: "\va\fb\r\n", want: [][]string{{"a\fb"}}}, // \v \f skip as blanks but do not end a token
		{in: "SET a \"b c\"\r\n", want: [][]string{{"SET", "a", "b c"}}},
		{in: `"\x41\x4a\x4B\x00"` + "\n", want: [][]string{{"AJK\x00"}}},
		{in: `"\x4g" "\x4" "\x"` + "\n", want: [][]string{{"x4g", "x4", "x"}}},
		{in: `"\n\r\t\b\a\\\"\z\'"` + "\n", want: [][]string{{"\n\r\t\b\a\\\"z'"}}},
		{in: `'it\'s' 'a\nb' 'a\\b' 'q"q'` + "\n", want: [][]string{{"it's", `a\nb`, `a\\b`, `q"q`}}},
		{in: `"" a '' b` + "\n", want: [][]string{{"", "a", "", "b"}}},
		{in: `foo"bar" baz'qux'` + "\n", want: [][]string{{"foobar", "bazqux"}}},
		{in: "\"a\"\tb\r\n", want: [][]string{{"a", "b"}}},
		{in: "\"a\"\vb\r\n", want: [][]string{{"a", "b"}}},
		{in: "\"a\"\r\n", want: [][]string{{"a"}}},
		{in: "a\x00b\n", want: [][]string{{"a\x00b"}}},
		{in: "$3\r\n", want: [][]string{{"$3"}}},
		{in: "\r\n\n   \r\n\t\nPING\r\n", want: [][]string{{"PING"}}},
		{in: "PING\r\nPING", want: [][]string{{"PING"}}, err: io.ErrUnexpectedEOF.Error()},
		{in: "PING\r\n   ", want: [][]string{{"PING"}}, err: io.ErrUnexpectedEOF.Error()},
		{in: "\"a\"b\n", err: "Protocol error: unbalanced quotes in request"},
		{in: "'a'b\n", err: "Protocol error: unbalanced quotes in request"},
		{in: "a\"b\"c\n", err: "Protocol error: unbalanced quotes in request"},
		{in: "\"abc\n", err: "Protocol error: unbalanced quotes in request"},
		{in: "'abc\r\n", err: "Protocol error: unbalanced quotes in request"},
		{in: `"abc\"` + "\n", err: "Protocol error: unbalanced quotes in request"},
		{in: `'abc\'` + "\n", err: "Protocol error: unbalanced quotes in request"},
		{in: `"\` + "\n", err: "Protocol error: unbalanced quotes in request"},
		{in: "PING\r\n\"x\n", want: [][]string{{"PING"}}, err: "Protocol error: unbalanced quotes in request"},
	}
	for _, tt := range tests {
		for name, rd := range rdReaders([]byte(tt.in)) {
			got, err := rdReadAll(NewReader(rd, DefaultLimits()))
			wantErr := tt.err
			if wantErr == "" {
				wantErr = io.EOF.Error()
			}
			if rdErrText(err) != wantErr || !rdEqual(got, tt.want) {
				t.Errorf("%s %q: got %q, %v; want %q, %s", name, tt.in, got, err, tt.want, wantErr)
			}
		}
	}
}

func TestReaderErrors(t *testing.T) {
	big := func(prefix string, n int, c byte) string { return prefix + strings.Repeat(string(c), n) }
	small := Limits{MaxBulkLen: 10, MaxArgs: 3, MaxInlineLen: 16, MaxQueryLen: 12}
	tests := []struct {
		in   string
		lim  Limits
		want [][]string
		err  string
	}{
		{in: "*x\r\n", err: "invalid multibulk length"},
		{in: "*\r\n", err: "invalid multibulk length"},
		{in: "*+1\r\n", err: "invalid multibulk length"},
		{in: "* 1\r\n", err: "invalid multibulk length"},
		{in: "*1 \r\n", err: "invalid multibulk length"},
		{in: "*01\r\n", err: "invalid multibulk length"},
		{in: "*-0\r\n", err: "invalid multibulk length"},
		{in: "*--1\r\n", err: "invalid multibulk length"},
		{in: "*1048577\r\n", err: "invalid multibulk length"},
		{in: "*2147483647\r\n", err: "invalid multibulk length"},
		{in: "*9223372036854775808\r\n", err: "invalid multibulk length"},
		{in: "*99999999999999999999\r\n", err: "invalid multibulk length"},
		{in: "*4\r\n", lim: small, err: "invalid multibulk length"},
		{in: "*1\r\nX\r\n", err: "expected '$', got 'X'"},
		{in: "*1\r\n\r\n", err: "expected '$', got ' '"},
		{in: "*1\r\n\n\r\n", err: "expected '$', got ' '"},
		{in: "*2\r\n$1\r\na\r\n*1\r\n", err: "expected '$', got '*'"},
		{in: "*1\r\n$x\r\n", err: "invalid bulk length"},
		{in: "*1\r\n$\r\n", err: "invalid bulk length"},
		{in: "*1\r\n$-1\r\n", err: "invalid bulk length"},
		{in: "*1\r\n$+1\r\n", err: "invalid bulk length"},
		{in: "*1\r\n$01\r\n", err: "invalid bulk length"},
		{in: "*1\r\n$9223372036854775807\r\n", err: "invalid bulk length"},
		{in: "*1\r\n$9223372036854775808\r\n", err: "invalid bulk length"},
		{in: "*1\r\n$18446744073709551616\r\n", err: "invalid bulk length"},
		{in: "*1\r\n$536870913\r\n", err: "invalid bulk length"},
		{in: "*1\r\n$11\r\n", lim: small, err: "invalid bulk length"},
		{in: "*2\r\n$10\r\n0123456789\r\n$3\r\n", lim: small, err: "query buffer limit exceeded"},
		{in: "*2\r\n$10\r\n0123456789\r\n$2\r\nab\r\n", lim: small, want: [][]string{{"0123456789", "ab"}}},
		{in: "a b c d\n", lim: small, err: "too big inline request"},
		{in: "abcdefghijk\n", lim: small, err: "too big inline request"},
		{in: "abcdefghij klm\n", lim: small, err: "query buffer limit exceeded"},
		{in: big("*", 65536, '1'), err: "too big mbulk count string"},
		{in: big("*", 65535, '1'), err: io.ErrUnexpectedEOF.Error()},
		{in: big("*", 65535, '1') + "\r\n", err: "invalid multibulk length"},
		{in: big("*1\r\n$", 65536, '1'), err: "too big bulk count string"},
		{in: big("*1\r\n$", 65535, '1'), err: io.ErrUnexpectedEOF.Error()},
		{in: big("", 65537, 'a'), err: "too big inline request"},
		{in: big("", 65536, 'a'), err: io.ErrUnexpectedEOF.Error()},
		{in: big("", 65536, 'a') + "\n", want: [][]string{{strings.Repeat("a", 65536)}}},
		{in: big("", 65536, 'a') + "b\n", err: "too big inline request"},
		{in: big("", 16, 'a') + "\n", lim: Limits{MaxInlineLen: 16}, want: [][]string{{strings.Repeat("a", 16)}}},
		{in: big("", 16, 'a') + "\r\n", lim: Limits{MaxInlineLen: 16}, err: "too big inline request"},
		{in: "*1234567890123456\r\n", lim: Limits{MaxInlineLen: 16}, err: "too big mbulk count string"},
		{in: "*1\r\n$1234567890123456\r\n", lim: Limits{MaxInlineLen: 16}, err: "too big bulk count string"},
		{in: "*1\r\n$123456789012345\r\n", lim: Limits{MaxInlineLen: 16}, err: "invalid bulk length"},
		{in: "*123456789012345\r\n", lim: Limits{MaxInlineLen: 16}, err: "invalid multibulk length"},
		{in: "*1\r\n$3\r\nfoo", err: io.ErrUnexpectedEOF.Error()},
		{in: "*1\r\n$3\r\nfoo\r", err: io.ErrUnexpectedEOF.Error()},
		{in: "*1\r\n$3\r", err: io.ErrUnexpectedEOF.Error()},
		{in: "*1\r", err: io.ErrUnexpectedEOF.Error()},
		{in: "*", err: io.ErrUnexpectedEOF.Error()},
		// Redis skips the byte after '\r' and the two after the data
		// without looking at them.
		{in: "*1\rX$3\rYfooXY", want: [][]string{{"foo"}}},
		{in: "*1\r\n$0\r\n\r\n", want: [][]string{{""}}},
		{in: "*0\r\n*-1\r\n*-9223372036854775808\r\n*1\r\n$1\r\na\r\n*0\r\n", want: [][]string{{"a"}}},
		{in: "PING\r\n*x\r\n", want: [][]string{{"PING"}}, err: "invalid multibulk length"},
	}
	for _, tt := range tests {
		wantErr := tt.err
		switch wantErr {
		case "":
			wantErr = io.EOF.Error()
		case io.ErrUnexpectedEOF.Error():
		default:
			wantErr = "Protocol error: " + wantErr
		}
		for name, rd := range rdReaders([]byte(tt.in)) {
			r := NewReader(rd, tt.lim)
			got, err := rdReadAll(r)
			if rdErrText(err) != wantErr || !rdEqual(got, tt.want) {
				in := tt.in
				if len(in) > 40 {
					in = in[:40] + "..."
				}
				t.Errorf("%s %q: got %q, %v; want %q, %s", name, in, got, err, tt.want, wantErr)
				continue
			}
			var pe *ProtocolError
			if errors.As(err, &pe) != strings.HasPrefix(wantErr, "Protocol error: ") {
				t.Errorf("%s %q: error %T, want *ProtocolError: %v", name, tt.in, err, errors.As(err, &pe))
			}
			if _, again := r.ReadCommand(); again != err {
				t.Errorf("%s %q: second ReadCommand error %v, want the same %v", name, tt.in, again, err)
			}
		}
	}
}

func TestString2ll(t *testing.T) {
	tests := []struct {
		in string
		n  int64
		ok bool
	}{
		{"0", 0, true},
		{"1", 1, true},
		{"-1", -1, true},
		{"1234567890", 1234567890, true},
		{"9223372036854775807", 9223372036854775807, true},
		{"-9223372036854775808", -9223372036854775808, true},
		{"9223372036854775808", 0, false},
		{"-9223372036854775809", 0, false},
		{"18446744073709551615", 0, false},
		{"18446744073709551616", 0, false},
		{"99999999999999999999", 0, false},
		{"00000000000000000001", 0, false},
		{"", 0, false},
		{"-", 0, false},
		{"-0", 0, false},
		{"01", 0, false},
		{"+1", 0, false},
		{" 1", 0, false},
		{"1 ", 0, false},
		{"1a", 0, false},
		{"1\x00", 0, false},
	}
	for _, tt := range tests {
		n, ok := string2ll([]byte(tt.in))
		if n != tt.n || ok != tt.ok {
			t.Errorf("string2ll(%q) = %d, %v; want %d, %v", tt.in, n, ok, tt.n, tt.ok)
		}
	}
}

func TestProtocolErrorText(t *testing.T) {
	err := error(&ProtocolError{Msg: "invalid bulk length"})
	if got := err.Error(); got != "Protocol error: invalid bulk length" {
		t.Fatalf("Error() = %q", got)
	}
	for c := range 256 {
		e := expectedDollar(byte(c))
		if strings.ContainsAny(e.Msg, "\r\n") {
			t.Fatalf("expectedDollar(%q) = %q contains CR or LF", byte(c), e.Msg)
		}
	}
}

func TestReaderDefaultLimits(t *testing.T) {
	d := DefaultLimits()
	if d.MaxBulkLen != 512<<20 || d.MaxArgs != 1<<20 || d.MaxInlineLen != 64<<10 || d.MaxQueryLen != 1<<30 {
		t.Fatalf("DefaultLimits() = %+v", d)
	}
	if got := (Limits{}).sanitize(); got != d {
		t.Fatalf("zero Limits sanitize to %+v, want defaults", got)
	}
	if got := (Limits{MaxBulkLen: -1, MaxArgs: -1, MaxInlineLen: -1, MaxQueryLen: -1}).sanitize(); got != d {
		t.Fatalf("negative Limits sanitize to %+v, want defaults", got)
	}
	huge := Limits{MaxBulkLen: 1<<63 - 1, MaxArgs: 1<<63 - 1, MaxInlineLen: 1<<63 - 1, MaxQueryLen: 1<<63 - 1}
	// With limits too big to represent, lengths must still not overflow.
	r := NewReader(strings.NewReader("*1\r\n$9223372036854775807\r\n*1\r\n$2305843009213693951\r\n"), huge)
	if _, err := r.ReadCommand(); rdErrText(err) != "Protocol error: invalid bulk length" {
		t.Fatalf("huge limits: err = %v", err)
	}
}

func TestReaderBuffered(t *testing.T) {
	ping := "*1\r\n$4\r\nPING\r\n"
	tests := []struct {
		in   string
		want []int // Buffered after each command
	}{
		{in: ping + ping + ping, want: []int{28, 14, 0}},
		{in: ping + "*0\r\n\r\n  \n*-1\r\n" + ping + "*0\r\n", want: []int{18, 0}},
		{in: "PING\r\nPING\nPING\r\n\r\n", want: []int{13, 8, 0}},
		{in: ping + "*0\r\n*2\r\n$3\r\nGET", want: []int{11}},
		{in: ping + "*0\r", want: []int{3}},
		{in: ping + "*x\r\n", want: []int{4}},
	}
	for _, tt := range tests {
		r := NewReader(strings.NewReader(tt.in), DefaultLimits())
		if n := r.Buffered(); n != 0 {
			t.Fatalf("%q: Buffered before reading = %d", tt.in, n)
		}
		for i, want := range tt.want {
			if _, err := r.ReadCommand(); err != nil {
				t.Fatalf("%q: command %d: %v", tt.in, i, err)
			}
			if got := r.Buffered(); got != want {
				t.Errorf("%q: Buffered after command %d = %d, want %d", tt.in, i, got, want)
			}
		}
	}
}

func TestArgsAliasAndCapacity(t *testing.T) {
	r := NewReader(strings.NewReader(string(rdEncode([]string{"SET", "k", "v"}))+"SET \"a\\x41\" b\r\n"), DefaultLimits())
	args, err := r.ReadCommand()
	if err != nil {
		t.Fatal(err)
	}
	for i, a := range args {
		if cap(a) != len(a) {
			t.Errorf("arg %d: cap %d > len %d, append would clobber the buffer", i, cap(a), len(a))
		}
	}
	_ = append(args[0], 'X')
	if string(args[1]) != "k" {
		t.Fatalf("append to an arg clobbered the next: %q", args[1])
	}
	args, err = r.ReadCommand()
	if err != nil || len(args) != 3 || string(args[1]) != "aA" || string(args[2]) != "b" {
		t.Fatalf("inline after multibulk: %q, %v", args, err)
	}
}

var rdErrBoom = errors.New("boom")

func TestReaderReadErrors(t *testing.T) {
	// An error mid-command is returned as is, and stays.
	rd := io.MultiReader(strings.NewReader("*2\r\n$3\r\nGET\r\n$3\r\nk"), iotest.ErrReader(rdErrBoom))
	r := NewReader(rd, DefaultLimits())
	if _, err := r.ReadCommand(); err != rdErrBoom {
		t.Fatalf("err = %v, want rdErrBoom", err)
	}
	if _, err := r.ReadCommand(); err != rdErrBoom {
		t.Fatalf("second err = %v, want rdErrBoom", err)
	}
	// An error between commands is returned as is, after the commands.
	rd = io.MultiReader(strings.NewReader("PING\r\n"), iotest.ErrReader(rdErrBoom))
	got, err := rdReadAll(NewReader(rd, DefaultLimits()))
	if err != rdErrBoom || len(got) != 1 {
		t.Fatalf("got %q, %v", got, err)
	}
	// A timeout error from the connection is passed through.
	got, err = rdReadAll(NewReader(iotest.TimeoutReader(strings.NewReader("PING\r\n")), DefaultLimits()))
	if err != iotest.ErrTimeout || len(got) != 1 {
		t.Fatalf("got %q, %v", got, err)
	}
	// A reader that makes no progress is reported, not spun on.
	if _, err := NewReader(rdZeroReader{}, DefaultLimits()).ReadCommand(); err != io.ErrNoProgress {
		t.Fatalf("err = %v, want io.ErrNoProgress", err)
	}
	// So is one that returns a count it cannot have read.
	if _, err := NewReader(rdBadReader{}, DefaultLimits()).ReadCommand(); err != errBadReadCount {
		t.Fatalf("err = %v, want errBadReadCount", err)
	}
	// Empty input is a clean EOF.
	if _, err := NewReader(strings.NewReader(""), DefaultLimits()).ReadCommand(); err != io.EOF {
		t.Fatalf("err = %v, want io.EOF", err)
	}
}

type rdZeroReader struct{}

func (rdZeroReader) Read([]byte) (int, error) { return 0, nil }

type rdBadReader struct{}

func (rdBadReader) Read(p []byte) (int, error) { return len(p) + 1, nil }

// rdFailReader fails the test's expectations if it is read: the data before it
// must have been enough to decide.
type rdFailReader struct{}

func (rdFailReader) Read([]byte) (int, error) { return 0, errors.New("read past the header") }

// rdHeapGrowth reports the bytes allocated while f runs.
func rdHeapGrowth(f func()) uint64 {
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	f()
	runtime.ReadMemStats(&after)
	return after.TotalAlloc - before.TotalAlloc
}

// Regression: redcon panics with an integer overflow on this input.
func TestHostileBulkLenOverflow(t *testing.T) {
	for _, in := range []string{
		"*1\r\n$9223372036854775807\r\n",
		"*1\r\n$9223372036854775806\r\n",
		"*1\r\n$-9223372036854775808\r\n",
		"*9223372036854775807\r\n",
	} {
		r := NewReader(io.MultiReader(strings.NewReader(in), rdFailReader{}), DefaultLimits())
		_, err := r.ReadCommand()
		var pe *ProtocolError
		if !errors.As(err, &pe) || !strings.HasPrefix(pe.Msg, "invalid") {
			t.Errorf("%q: err = %v, want a ProtocolError", in, err)
		}
	}
}

// Regression: redcon spins on huge counts and would allocate for them.
func TestHostileMultibulkCount(t *testing.T) {
	for _, in := range []string{"*2147483647\r\n", "*1048577\r\n"} {
		// The error must come from the header alone, without reading on.
		r := NewReader(io.MultiReader(strings.NewReader(in), rdFailReader{}), DefaultLimits())
		if _, err := r.ReadCommand(); rdErrText(err) != "Protocol error: invalid multibulk length" {
			t.Errorf("%q: err = %v", in, err)
		}
	}

	data := []byte("*1000000\r\n")
	for range 10 {
		data = append(data, "$3\r\nfoo\r\n"...)
	}
	var err error
	var r *Reader
	grew := rdHeapGrowth(func() {
		r = NewReader(bytes.NewReader(data), DefaultLimits())
		_, err = r.ReadCommand()
	})
	if err != io.ErrUnexpectedEOF {
		t.Fatalf("err = %v, want io.ErrUnexpectedEOF", err)
	}
	if grew > 8<<20 {
		t.Fatalf("allocated %d bytes for a 1M-argument header and 10 arguments", grew)
	}
	t.Logf("allocated %d bytes for a 1M-argument header and 10 arguments", grew)
	if cap(r.spans) > 1024 {
		t.Fatalf("argument storage preallocated to %d", cap(r.spans))
	}
}

// Regression: a declared length must not be allocated before the bytes arrive.
func TestHostileBulkLen(t *testing.T) {
	const sent = 1 << 20
	data := append([]byte("*1\r\n$536870912\r\n"), bytes.Repeat([]byte("x"), sent)...)
	for name, chunk := range map[string]int{"1400": 1400, "64k": 64 << 10, "whole": len(data)} {
		var err error
		var r *Reader
		grew := rdHeapGrowth(func() {
			r = NewReader(&rdFixedChunkReader{data: data, n: chunk}, DefaultLimits())
			_, err = r.ReadCommand()
		})
		if err != io.ErrUnexpectedEOF {
			t.Fatalf("%s: err = %v, want io.ErrUnexpectedEOF", name, err)
		}
		// Doubling from 16 KiB allocates at most 2x + 2x/2 + ... = 4x in
		// total, and the final buffer holds at most 2x.
		if grew > 8<<20 {
			t.Errorf("%s: allocated %d bytes for %d sent", name, grew, sent)
		}
		t.Logf("%s: allocated %d bytes in total, buffer %d, for %d sent", name, grew, len(r.buf), len(data))
		if len(r.buf) > 2*len(data)+minRead {
			t.Errorf("%s: buffer %d for %d sent", name, len(r.buf), len(data))
		}
	}
}

// A value exactly as big as declared gets a buffer sized to it in the last
// step, not double.
func TestBigValueBufferIsTight(t *testing.T) {
	val := strings.Repeat("v", 3<<20+12345)
	data := rdEncode([]string{"SET", "k", val})
	r := NewReader(&rdFixedChunkReader{data: data, n: 64 << 10}, DefaultLimits())
	args, err := r.ReadCommand()
	if err != nil || len(args) != 3 || string(args[2]) != val {
		t.Fatalf("err = %v", err)
	}
	if len(r.buf) > len(data)+minRead {
		t.Fatalf("buffer %d for a %d-byte command", len(r.buf), len(data))
	}
	if _, err := r.ReadCommand(); err != io.EOF {
		t.Fatalf("err = %v", err)
	}
	if len(r.buf) != defaultBufSize {
		t.Fatalf("buffer not shrunk after the big command: %d", len(r.buf))
	}
}

// The reader's work (bytes scanned plus bytes copied) must be linear in the
// input however the input is chunked: no reparsing on each read.
func TestReaderLinearWork(t *testing.T) {
	many := []byte("*1000000\r\n")
	for range 1000000 {
		many = append(many, "$1\r\nx\r\n"...)
	}
	manyBig := []byte("*1000\r\n")
	for range 1000 {
		manyBig = append(manyBig, "$5000\r\n"...)
		manyBig = append(manyBig, strings.Repeat("y", 5000)...)
		manyBig = append(manyBig, "\r\n"...)
	}
	bigVal := rdEncode([]string{"SET", "k", strings.Repeat("z", 8<<20)})
	longInline := []byte(strings.Repeat("a ", 32000) + "\r\n")
	var pipelined []byte
	for i := range 20000 {
		pipelined = append(pipelined, rdEncode([]string{"SET", "key:" + strconv.Itoa(i), strings.Repeat("v", i%700)})...)
	}
	inputs := map[string][]byte{
		"1M args":       many,
		"1000x5000":     manyBig,
		"8MiB value":    bigVal,
		"64KiB inline":  longInline,
		"pipelined SET": pipelined,
	}
	for name, data := range inputs {
		for _, chunk := range []int{1, 7, 1400, 64 << 10} {
			if chunk == 1 && len(data) > 2<<20 {
				continue // slow only because of the 1-byte reads themselves
			}
			r := NewReader(&rdFixedChunkReader{data: data, n: chunk}, DefaultLimits())
			n := 0
			for {
				_, err := r.ReadCommand()
				if err == io.EOF {
					break
				}
				if err != nil {
					t.Fatalf("%s/%d: %v", name, chunk, err)
				}
				n++
			}
			if n == 0 {
				t.Fatalf("%s/%d: no commands", name, chunk)
			}
			if r.work > 4*len(data) {
				t.Errorf("%s/%d: work %d for %d input bytes", name, chunk, r.work, len(data))
			}
		}
	}
}

// Steady-state pipelined parsing allocates nothing.
func TestPipelinedNoAllocs(t *testing.T) {
	var data []byte
	for i := range 100 {
		data = append(data, rdEncode([]string{"SET", fmt.Sprintf("key:%04d", i), strings.Repeat("v", 100)})...)
	}
	data = append(data, "GET \"key:0001\"\r\n"...)
	rd := &rdLoopReader{data: data}
	r := NewReader(rd, DefaultLimits())
	for range 1000 { // warm up
		if _, err := r.ReadCommand(); err != nil {
			t.Fatal(err)
		}
	}
	allocs := testing.AllocsPerRun(10000, func() {
		if _, err := r.ReadCommand(); err != nil {
			t.Fatal(err)
		}
	})
	if allocs != 0 {
		t.Fatalf("%v allocations per command", allocs)
	}
}

// rdLoopReader returns data over and over, in 16 KiB-ish reads.
type rdLoopReader struct {
	data []byte
	off  int
}

func (l *rdLoopReader) Read(p []byte) (int, error) {
	n := 0
	for n < len(p) {
		c := copy(p[n:], l.data[l.off:])
		n += c
		l.off = (l.off + c) % len(l.data)
	}
	return n, nil
}

func BenchmarkPipelinedSET(b *testing.B) {
	var data []byte
	for i := range 1000 {
		data = append(data, rdEncode([]string{"SET", fmt.Sprintf("key:%04d", i), strings.Repeat("v", 100)})...)
	}
	b.Run("dynakv", func(b *testing.B) {
		r := NewReader(&rdLoopReader{data: data}, DefaultLimits())
		b.SetBytes(int64(len(data) / 1000))
		b.ReportAllocs()
		for b.Loop() {
			if _, err := r.ReadCommand(); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("redcon", func(b *testing.B) {
		r := redcon.NewReader(&rdLoopReader{data: data})
		b.SetBytes(int64(len(data) / 1000))
		b.ReportAllocs()
		for b.Loop() {
			if _, err := r.ReadCommand(); err != nil {
				b.Fatal(err)
			}
		}
	})
}

func BenchmarkInline(b *testing.B) {
	data := bytes.Repeat([]byte("SET key:0001 \"hello world\\x21\" EX 100\r\n"), 1000)
	r := NewReader(&rdLoopReader{data: data}, DefaultLimits())
	b.SetBytes(int64(len(data) / 1000))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := r.ReadCommand(); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkHugeMultibulk reads one 1M-argument command delivered in
// 1400-byte reads: with reparsing on every read this is quadratic.
func BenchmarkHugeMultibulk(b *testing.B) {
	data := []byte("*1000000\r\n")
	for range 1000000 {
		data = append(data, "$1\r\nx\r\n"...)
	}
	b.SetBytes(int64(len(data)))
	b.ReportAllocs()
	for b.Loop() {
		r := NewReader(&rdFixedChunkReader{data: data, n: 1400}, DefaultLimits())
		args, err := r.ReadCommand()
		if err != nil || len(args) != 1000000 {
			b.Fatal(err)
		}
	}
}
