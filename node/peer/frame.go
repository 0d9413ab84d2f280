package peer

import (
	"bufio"
	"encoding/binary"
	"fmt"
	"io"
)

const (
	// lenPrefixLen is the size of a frame's length prefix.
	lenPrefixLen = 4
	// frameHeaderLen is the part of a frame counted by the length prefix
	// besides the payload: the uint64 request id and the op/status byte.
	frameHeaderLen = 9
	// readChunk is the first allocation for a large payload; the buffer
	// then doubles each time it fills, so memory follows what has arrived
	// rather than what the length prefix announced.
	readChunk = 1 << 20
)

// Response statuses, carried in the op/status byte of a response frame.
const (
	statusOK    byte = 0
	statusError byte = 1
)

// frame is one decoded frame. kind is the op code in a request and the
// status in a response.
type frame struct {
	id      uint64
	kind    byte
	payload []byte
}

// readFrame reads one frame from r. A declared payload larger than max (or
// a length below the 9-byte header) is reported as an error wrapping
// errProtocol and ErrFrameTooLarge (or errProtocol alone) without reading
// further. io.EOF means r ended cleanly between frames; a frame cut short
// yields io.ErrUnexpectedEOF.
//
// The payload is a fresh slice owned by the caller (nil when empty). Large
// payloads are read in chunks: the buffer starts at 1 MiB and doubles only
// once it is full, so at any time readFrame holds at most about twice the
// bytes that have actually arrived.
func readFrame(r *bufio.Reader, max int) (frame, error) {
	hdr, err := r.Peek(lenPrefixLen)
	if err != nil {
		return frame{}, eofErr(len(hdr), err)
	}
	n := binary.BigEndian.Uint32(hdr)
	if n < frameHeaderLen {
		return frame{}, fmt.Errorf("%w: frame length %d below the %d-byte header", errProtocol, n, frameHeaderLen)
	}
	size := uint64(n) - frameHeaderLen
	if size > uint64(max) {
		return frame{}, fmt.Errorf("%w: %w: payload of %d bytes, limit %d", errProtocol, ErrFrameTooLarge, size, max)
	}
	hdr, err = r.Peek(lenPrefixLen + frameHeaderLen)
	if err != nil {
		return frame{}, eofErr(1, err)
	}
	f := frame{
		id:   binary.BigEndian.Uint64(hdr[lenPrefixLen:]),
		kind: hdr[lenPrefixLen+8],
	}
	if _, err := r.Discard(lenPrefixLen + frameHeaderLen); err != nil {
		return frame{}, eofErr(1, err)
	}
	if f.payload, err = readPayload(r, int(size)); err != nil {
		return frame{}, eofErr(1, err)
	}
	return f, nil
}

// readPayload reads exactly n bytes, growing its buffer geometrically from
// readChunk as the bytes arrive.
func readPayload(r io.Reader, n int) ([]byte, error) {
	if n == 0 {
		return nil, nil
	}
	buf := make([]byte, min(n, readChunk))
	got := 0
	for {
		m, err := io.ReadFull(r, buf[got:])
		got += m
		if err != nil {
			return nil, err
		}
		if got == n {
			return buf, nil
		}
		grown := make([]byte, min(n, 2*len(buf)))
		copy(grown, buf)
		buf = grown
	}
}

// eofErr turns io.EOF after `got` bytes of a frame into io.ErrUnexpectedEOF.
func eofErr(got int, err error) error {
	if err == io.EOF && got > 0 {
		return io.ErrUnexpectedEOF
	}
	return err
}

// writeFrame appends one frame to w without flushing. The caller checks
// len(payload) against its limit; payloads are written straight through,
// not copied, when they exceed w's free buffer.
func writeFrame(w *bufio.Writer, id uint64, kind byte, payload []byte) error {
	b := w.AvailableBuffer()
	b = binary.BigEndian.AppendUint32(b, uint32(frameHeaderLen+len(payload)))
	b = binary.BigEndian.AppendUint64(b, id)
	b = append(b, kind)
	if _, err := w.Write(b); err != nil {
		return err
	}
	_, err := w.Write(payload)
	return err
}
