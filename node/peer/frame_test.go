package peer

import (
	"bufio"
	"bytes"
	"encoding/binary"
	"errors"
	"io"
	"runtime"
	"testing"
)

// encodeFrame returns the wire form of one frame.
func encodeFrame(id uint64, kind byte, payload []byte) []byte {
	var buf bytes.Buffer
	w := bufio.NewWriter(&buf)
	if err := writeFrame(w, id, kind, payload); err != nil {
		panic(err)
	}
	if err := w.Flush(); err != nil {
		panic(err)
	}
	return buf.Bytes()
}

func TestFrameRoundTrip(t *testing.T) {
	var stream []byte
	want := []frame{
		{id: 0, kind: 0},
		{id: 1, kind: 255, payload: []byte("x")},
		{id: 1<<64 - 1, kind: 7, payload: bytes.Repeat([]byte("ab"), 40<<10)},
		{id: 42, kind: statusError, payload: make([]byte, readChunk*3+5)}, // grows twice
	}
	for _, f := range want {
		stream = append(stream, encodeFrame(f.id, f.kind, f.payload)...)
	}
	r := bufio.NewReaderSize(bytes.NewReader(stream), 16)
	for i, w := range want {
		got, err := readFrame(r, DefaultMaxFrame)
		if err != nil {
			t.Fatalf("frame %d: %v", i, err)
		}
		if got.id != w.id || got.kind != w.kind || !bytes.Equal(got.payload, w.payload) {
			t.Errorf("frame %d: got id %d kind %d %d bytes; want id %d kind %d %d bytes", i, got.id, got.kind, len(got.payload), w.id, w.kind, len(w.payload))
		}
	}
	if _, err := readFrame(r, DefaultMaxFrame); err != io.EOF {
		t.Errorf("after the last frame: %v, want io.EOF", err)
	}
}

func TestReadFrameErrors(t *testing.T) {
	frameOf := func(length uint32, rest ...byte) []byte {
		return append(binary.BigEndian.AppendUint32(nil, length), rest...)
	}
	valid := encodeFrame(9, 1, []byte("hello"))
	for _, tc := range []struct {
		name string
		in   []byte
		max  int
		want error
	}{
		{"empty", nil, 10, io.EOF},
		{"partial length", []byte{0, 0}, 10, io.ErrUnexpectedEOF},
		{"length below header", frameOf(8), 10, errProtocol},
		{"zero length", frameOf(0), 10, errProtocol},
		{"over max", frameOf(9 + 11), 10, ErrFrameTooLarge},
		{"max uint32", frameOf(1<<32 - 1), DefaultMaxFrame, ErrFrameTooLarge},
		{"partial header", frameOf(9, 1, 2, 3), 10, io.ErrUnexpectedEOF},
		{"partial payload", valid[:len(valid)-1], 10, io.ErrUnexpectedEOF},
		{"at max", valid, 5, nil},
		{"one over max", valid, 4, ErrFrameTooLarge},
	} {
		_, err := readFrame(bufio.NewReader(bytes.NewReader(tc.in)), tc.max)
		if tc.want == nil && err != nil || tc.want != nil && !errors.Is(err, tc.want) {
			t.Errorf("%s: readFrame() = %v, want %v", tc.name, err, tc.want)
		}
	}
}

// TestReadFrameMemoryBound checks that a frame announcing 500 MB but
// carrying only a little costs memory in proportion to what was sent.
func TestReadFrameMemoryBound(t *testing.T) {
	for _, sent := range []int{10, 3 << 20} {
		in := binary.BigEndian.AppendUint32(nil, 500<<20+frameHeaderLen)
		in = append(in, make([]byte, 9+sent)...)
		var before, after runtime.MemStats
		runtime.ReadMemStats(&before)
		_, err := readFrame(bufio.NewReader(bytes.NewReader(in)), DefaultMaxFrame)
		runtime.ReadMemStats(&after)
		if err != io.ErrUnexpectedEOF {
			t.Fatalf("readFrame() = %v, want io.ErrUnexpectedEOF", err)
		}
		if limit := uint64(4*sent + 2*readChunk); after.TotalAlloc-before.TotalAlloc > limit {
			t.Errorf("sent %d bytes of a 500 MB frame: allocated %d bytes, limit %d", sent, after.TotalAlloc-before.TotalAlloc, limit)
		}
	}
}

// FuzzReadFrame reads frames from arbitrary bytes. It checks that
// readFrame does not panic, that it allocates in proportion to the input
// rather than to declared lengths, and that the frames it returns encode
// back to exactly the bytes they were read from. It also checks that a
// frame built from the input survives writeFrame then readFrame.
func FuzzReadFrame(f *testing.F) {
	f.Add([]byte{}, false)
	f.Add(encodeFrame(1, 2, []byte("payload")), false)
	f.Add(append(encodeFrame(1, 0, nil), encodeFrame(2, 1, []byte("err"))...), true)
	f.Add(binary.BigEndian.AppendUint32(nil, 500<<20), false)
	f.Add(binary.BigEndian.AppendUint32(nil, 8), false)
	f.Add(append(binary.BigEndian.AppendUint32(nil, 9+300), make([]byte, 100)...), true)
	f.Fuzz(func(t *testing.T, data []byte, small bool) {
		max := DefaultMaxFrame
		if small {
			max = 256
		}
		var before, after runtime.MemStats
		runtime.ReadMemStats(&before)
		r := bufio.NewReaderSize(bytes.NewReader(data), 16)
		var frames []frame
		var err error
		for {
			var fr frame
			if fr, err = readFrame(r, max); err != nil {
				break
			}
			if len(fr.payload) > max {
				t.Fatalf("payload of %d bytes over the limit %d", len(fr.payload), max)
			}
			frames = append(frames, fr)
		}
		runtime.ReadMemStats(&after)
		if limit := uint64(4*len(data) + 2*readChunk + 64<<10); after.TotalAlloc-before.TotalAlloc > limit {
			t.Fatalf("%d input bytes: allocated %d bytes, limit %d", len(data), after.TotalAlloc-before.TotalAlloc, limit)
		}
		if err != io.EOF && err != io.ErrUnexpectedEOF && !errors.Is(err, errProtocol) {
			t.Fatalf("unexpected error %v", err)
		}

		var encoded []byte
		for _, fr := range frames {
			encoded = append(encoded, encodeFrame(fr.id, fr.kind, fr.payload)...)
		}
		if !bytes.HasPrefix(data, encoded) {
			t.Fatalf("frames do not re-encode to their input")
		}
		if err == io.EOF && len(encoded) != len(data) {
			t.Fatalf("io.EOF with %d bytes unread", len(data)-len(encoded))
		}

		if len(data) <= max {
			var id uint64
			if len(data) >= 8 {
				id = binary.LittleEndian.Uint64(data)
			}
			kind := byte(len(data))
			got, err := readFrame(bufio.NewReader(bytes.NewReader(encodeFrame(id, kind, data))), max)
			if err != nil || got.id != id || got.kind != kind || !bytes.Equal(got.payload, data) {
				t.Fatalf("round trip of a valid frame: %v", err)
			}
		}
	})
}
