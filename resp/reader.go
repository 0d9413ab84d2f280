package resp

import (
	"bytes"
	"errors"
	"io"
	"math"
)

// Reader tuning. None of these depend on what a client declares, only on what
// it has actually sent.
const (
	// defaultBufSize is the initial read buffer, and the size a grown buffer
	// shrinks back to once the big command that grew it is consumed.
	defaultBufSize = 16 << 10
	// minRead is the least free space handed to the underlying Read, unless
	// less than that completes the bulk argument being read.
	minRead = 4 << 10
	// maxRetainBuf is the largest read buffer kept between commands.
	maxRetainBuf = 1 << 20
	// maxRetainArgs is the most argument slots kept between commands.
	maxRetainArgs = 1 << 14
	// maxEmptyReads is how many (0, nil) reads in a row count as a broken
	// reader (as in bufio).
	maxEmptyReads = 100
	// maxUnauthArgs and maxUnauthBulk are Redis's limits for a client that
	// has not authenticated (networking.c, processMultibulkBuffer): a
	// command of more arguments, or an argument longer, is a protocol
	// error. Inline commands have no such limit there (MaxInlineLen bounds
	// them anyway).
	maxUnauthArgs = 10
	maxUnauthBulk = 16384
	// maxLenLimit bounds MaxBulkLen, MaxQueryLen and MaxInlineLen so that
	// offset arithmetic on the buffer cannot overflow an int.
	maxLenLimit = math.MaxInt / 4
)

// ProtocolError is a client error after which the stream cannot be
// resynchronised; the server replies "-ERR " + Error() and closes the
// connection. Msg never contains CR or LF.
type ProtocolError struct{ Msg string }

// Error returns "Protocol error: " followed by Msg, the text Redis sends.
func (e *ProtocolError) Error() string { return "Protocol error: " + e.Msg }

var (
	errTooBigInline     = &ProtocolError{"too big inline request"}
	errUnbalancedQuotes = &ProtocolError{"unbalanced quotes in request"}
	errTooBigMbulk      = &ProtocolError{"too big mbulk count string"}
	errInvalidMbulk     = &ProtocolError{"invalid multibulk length"}
	errTooBigBulk       = &ProtocolError{"too big bulk count string"}
	errInvalidBulk      = &ProtocolError{"invalid bulk length"}
	errQueryLimit       = &ProtocolError{"query buffer limit exceeded"}
	errUnauthMbulk      = &ProtocolError{"unauthenticated multibulk length"}
	errUnauthBulk       = &ProtocolError{"unauthenticated bulk length"}

	errBadReadCount = errors.New("resp: underlying reader returned an invalid count")
)

// expectedDollar is Redis's "expected '$', got '%c'" with CR and LF mapped to
// spaces, as Redis's addReplyErrorFormat does, so the reply stays one line.
func expectedDollar(c byte) *ProtocolError {
	if c == '\r' || c == '\n' {
		c = ' '
	}
	return &ProtocolError{"expected '$', got '" + string([]byte{c}) + "'"}
}

// readState is where the parser is inside the current command.
type readState uint8

const (
	stIdle     readState = iota // between commands
	stInline                    // looking for the '\n' ending an inline command
	stMbulk                     // looking for the '\r' ending "*<count>"
	stBulkLen                   // looking for the '\r' ending "$<len>"
	stBulkData                  // waiting for <len> bytes of data and two more
)

// argSpan locates one argument, relative to the start of its command.
type argSpan struct{ off, n int }

// Reader reads client commands, inline or multibulk, from a connection. It
// keeps its parse state across reads, so every input byte is examined a
// bounded number of times, and it grows its buffer only as bytes arrive. A
// Reader is not safe for concurrent use.
type Reader struct {
	rd  io.Reader
	lim Limits

	buf   []byte // buf[start:w] is read but not consumed
	start int    // start of the current (or next) command
	w     int    // end of the data read so far

	st    readState
	pos   int       // start of the current line or bulk data
	scan  int       // next byte to examine for a line terminator
	nargs int       // multibulk arguments still to read
	bulk  int       // length of the bulk argument being read
	total int64     // argument bytes of the current command so far
	spans []argSpan // arguments of the current command so far
	args  [][]byte

	unauth bool // the client has not authenticated: Redis's smaller limits apply

	rerr error // error from the underlying reader, reported when data runs out
	err  error // sticky error returned by ReadCommand

	work int // bytes scanned or copied; tests use it to check linearity
}

// NewReader returns a Reader that reads commands from r within lim (zero
// fields take their defaults).
func NewReader(r io.Reader, lim Limits) *Reader {
	return &Reader{
		rd:  r,
		lim: lim.sanitize(),
		buf: make([]byte, defaultBufSize),
	}
}

// RequireAuth sets whether the client still has to authenticate. While it
// has, a multibulk command of more than 10 arguments or with an argument of
// more than 16384 bytes is a protocol error ("unauthenticated multibulk
// length", "unauthenticated bulk length"), as in Redis. The server sets it
// before each ReadCommand; it applies to headers not yet parsed.
func (r *Reader) RequireAuth(on bool) { r.unauth = on }

// Buffered returns the number of bytes already read from the connection but
// not yet consumed (the server flushes replies when it is 0: pipelining).
// Bytes of a command that has only partly arrived count as buffered; empty
// commands (blank inline lines, "*0", "*-1") that follow a command and have
// fully arrived are consumed with it and do not.
func (r *Reader) Buffered() int { return r.w - r.start }

// Cap returns the size of the reader's buffer.
func (r *Reader) Cap() int { return cap(r.buf) }

// ReadCommand returns the next non-empty command's arguments. The slices
// alias the reader's buffer and stay valid only until the next call. It
// returns io.EOF at a clean end, io.ErrUnexpectedEOF if the stream ends
// inside a command, a *ProtocolError if the client broke the protocol or a
// limit, and any other error from the underlying reader as is. Once it has
// returned an error, it returns the same error on every later call.
func (r *Reader) ReadCommand() ([][]byte, error) {
	if r.err != nil {
		return nil, r.err
	}
	r.release()
	for {
		done, err := r.parse()
		if err != nil {
			r.err = err
			return nil, err
		}
		if done {
			r.skipEmpty()
			return r.args, nil
		}
		if r.rerr != nil {
			err := r.rerr
			if err == io.EOF && (r.st != stIdle || r.start < r.w) {
				err = io.ErrUnexpectedEOF
			}
			r.err = err
			return nil, err
		}
		r.fill()
	}
}

// release runs when the previous command's arguments become invalid: it
// drops storage that a big command grew, so an idle connection holds little.
func (r *Reader) release() {
	if cap(r.args) > maxRetainArgs {
		r.args = nil
	}
	if cap(r.spans) > maxRetainArgs {
		r.spans = nil
	}
	if r.start == r.w {
		r.start, r.w = 0, 0
	}
	if len(r.buf) > maxRetainBuf && r.w-r.start <= defaultBufSize/2 {
		r.shift(make([]byte, defaultBufSize))
	}
}

// parse advances the state machine over the buffered bytes. It reports true
// when a command is complete (its arguments are in r.args), and false with a
// nil error when it needs more data.
func (r *Reader) parse() (bool, error) {
	for {
		switch r.st {
		case stIdle:
			if r.start == r.w {
				return false, nil
			}
			r.pos, r.scan = r.start, r.start
			r.spans = r.spans[:0]
			r.total = 0
			if r.buf[r.start] == '*' {
				r.st = stMbulk
			} else {
				r.st = stInline
			}

		case stInline:
			nl, ok, err := r.findLine('\n', errTooBigInline)
			if !ok {
				return false, err
			}
			end := nl
			if end > r.pos && r.buf[end-1] == '\r' {
				end--
			}
			if err := r.splitInline(r.pos, end); err != nil {
				return false, err
			}
			if len(r.spans) == 0 {
				r.start = nl + 1
				r.st = stIdle
				continue
			}
			r.complete(nl + 1)
			return true, nil

		case stMbulk:
			cr, ok, err := r.findLine('\r', errTooBigMbulk)
			if !ok {
				return false, err
			}
			n, valid := string2ll(r.buf[r.pos+1 : cr])
			if !valid || n > int64(r.lim.MaxArgs) {
				return false, errInvalidMbulk
			}
			if n > maxUnauthArgs && r.unauth {
				return false, errUnauthMbulk
			}
			r.pos = cr + 2 // Redis skips the byte after '\r' unchecked
			if n <= 0 {
				r.start = r.pos // Redis ignores "*0" and "*-1"
				r.st = stIdle
				continue
			}
			r.nargs = int(n)
			r.scan = r.pos
			r.st = stBulkLen

		case stBulkLen:
			cr, ok, err := r.findLine('\r', errTooBigBulk)
			if !ok {
				return false, err
			}
			if c := r.buf[r.pos]; c != '$' {
				return false, expectedDollar(c)
			}
			n, valid := string2ll(r.buf[r.pos+1 : cr])
			if !valid || n < 0 || n > r.lim.MaxBulkLen {
				return false, errInvalidBulk
			}
			if n > maxUnauthBulk && r.unauth {
				return false, errUnauthBulk
			}
			if n > r.lim.MaxQueryLen-r.total {
				return false, errQueryLimit
			}
			r.total += n
			r.bulk = int(n)
			r.pos = cr + 2
			r.st = stBulkData

		case stBulkData:
			if r.w-r.pos < r.bulk+2 {
				return false, nil
			}
			r.spans = append(r.spans, argSpan{r.pos - r.start, r.bulk})
			r.pos += r.bulk + 2 // Redis skips the two bytes after the data unchecked
			r.nargs--
			if r.nargs > 0 {
				r.scan = r.pos
				r.st = stBulkLen
				continue
			}
			r.complete(r.pos)
			return true, nil
		}
	}
}

// findLine looks for the terminator c of the line starting at r.pos,
// resuming where the previous call stopped. For '\r' the byte after it must
// have arrived too (Redis skips it without checking it is '\n'). A line whose
// terminator is not within its first MaxInlineLen+1 bytes is an error,
// tooBig; Redis errs once more than that many bytes are buffered without one.
func (r *Reader) findLine(c byte, tooBig error) (int, bool, error) {
	lim := r.pos + r.lim.MaxInlineLen + 1 // exclusive bound on the terminator's index
	end := min(lim, r.w)
	if r.scan < end {
		if i := bytes.IndexByte(r.buf[r.scan:end], c); i >= 0 {
			r.work += i + 1
			r.scan += i
			if c == '\r' && r.scan+1 >= r.w {
				return 0, false, nil
			}
			return r.scan, true, nil
		}
		r.work += end - r.scan
		r.scan = end
	}
	if r.w >= lim {
		return 0, false, tooBig
	}
	return 0, false, nil
}

// complete turns the spans of the command that ends at end into r.args and
// consumes it.
func (r *Reader) complete(end int) {
	base := r.start
	args := r.args[:0]
	if cap(args) < len(r.spans) {
		args = make([][]byte, 0, len(r.spans))
	}
	for _, s := range r.spans {
		a, b := base+s.off, base+s.off+s.n
		args = append(args, r.buf[a:b:b])
	}
	r.args = args
	r.start = end
	r.st = stIdle
}

// skipEmpty consumes the empty commands (blank inline lines, "*0", "*-1")
// that have fully arrived after the command just completed, so Buffered does
// not report bytes that will never produce a command. It stops, without
// consuming, at anything else; the parser handles that on the next call.
func (r *Reader) skipEmpty() {
	for r.start < r.w {
		b := r.buf[r.start:r.w]
		if b[0] == '*' {
			// A valid count has at most 20 characters (see string2ll).
			i := bytes.IndexByte(b[:min(len(b), 22)], '\r')
			if i < 0 || i+1 >= len(b) || i > r.lim.MaxInlineLen {
				return
			}
			if n, ok := string2ll(b[1:i]); !ok || n > 0 {
				return
			}
			r.start += i + 2
			continue
		}
		i := 0
		for i < len(b) && i <= r.lim.MaxInlineLen && b[i] != '\n' && isSpace(b[i]) {
			i++
		}
		if i >= len(b) || i > r.lim.MaxInlineLen || b[i] != '\n' {
			return
		}
		r.work += i + 1
		r.start += i + 1
	}
}

// fill reads more data, first making room for it. A read error is kept in
// r.rerr and reported once the buffered bytes are used up.
func (r *Reader) fill() {
	if r.start == r.w {
		r.start, r.w, r.pos, r.scan = 0, 0, 0, 0
	}
	need := minRead
	if r.st == stBulkData {
		need = min(need, r.pos+r.bulk+2-r.w)
	}
	if len(r.buf)-r.w < need {
		r.makeRoom(need)
	}
	for range maxEmptyReads {
		n, err := r.rd.Read(r.buf[r.w:])
		if n < 0 || n > len(r.buf)-r.w {
			r.rerr = errBadReadCount
			return
		}
		r.w += n
		if err != nil {
			r.rerr = err
			return
		}
		if n > 0 {
			return
		}
	}
	r.rerr = io.ErrNoProgress
}

// makeRoom ensures at least need free bytes after r.w, by moving the current
// command to the front of the buffer or by moving it to a bigger one.
//
// Only the current, incomplete command is live when this runs, and the buffer
// is moved to the front at most once per command, so each byte is slid at
// most once. Growth at least doubles, except for a final step sized exactly
// to a bulk argument that is at least half the old buffer; either way the
// copying is linear in the input. Growth is driven by bytes that have
// arrived: the buffer is at most about twice the live bytes, whatever length
// the client declared.
func (r *Reader) makeRoom(need int) {
	live := r.w - r.start
	want := live + need
	if want <= len(r.buf) {
		r.shift(r.buf)
		return
	}
	newCap := max(2*len(r.buf), want)
	if r.st == stBulkData && r.bulk >= len(r.buf)/2 {
		// full >= want, because need is at most what the argument lacks.
		if full := r.pos + r.bulk + 2 - r.start; full < newCap {
			newCap = full
		}
	}
	r.shift(make([]byte, newCap))
}

// shift copies the unconsumed bytes to the front of dst, which becomes the
// buffer, and rebases every position. Spans are relative to r.start and do
// not change.
func (r *Reader) shift(dst []byte) {
	if len(dst) != len(r.buf) {
		// The old buffer is garbage now; stale argument slices, valid only
		// until this call, must not keep it alive.
		clear(r.args[:cap(r.args)])
	}
	d := r.start
	n := copy(dst, r.buf[r.start:r.w])
	r.work += n
	r.buf = dst
	r.start = 0
	r.w = n
	r.pos = max(r.pos-d, 0)
	r.scan = max(r.scan-d, 0)
}

// string2ll parses b as Redis's function of that name does: an optional '-', then digits
// with no leading zero (except "0" itself), nothing else, within 20
// characters and without overflowing an int64.
func string2ll(b []byte) (int64, bool) {
	if len(b) == 0 || len(b) >= 21 {
		return 0, false
	}
	if len(b) == 1 && b[0] == '0' {
		return 0, true
	}
	i, neg := 0, false
	if b[0] == '-' {
		neg = true
		i++
		if i == len(b) {
			return 0, false
		}
	}
	if b[i] < '1' || b[i] > '9' {
		return 0, false
	}
	v := uint64(b[i] - '0')
	for i++; i < len(b); i++ {
		c := b[i]
		if c < '0' || c > '9' {
			return 0, false
		}
		d := uint64(c - '0')
		if v > math.MaxUint64/10 {
			return 0, false
		}
		v *= 10
		if v > math.MaxUint64-d {
			return 0, false
		}
		v += d
	}
	if neg {
		if v > 1<<63 {
			return 0, false
		}
		return int64(-v), true
	}
	if v > math.MaxInt64 {
		return 0, false
	}
	return int64(v), true
}
