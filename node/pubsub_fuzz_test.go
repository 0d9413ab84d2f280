package node

import (
	"bytes"
	"testing"
)

// FuzzDecodePublish: a peer's publish batch either decodes to what
// re-encodes to the same bytes, or is refused; never a panic.
func FuzzDecodePublish(f *testing.F) {
	f.Add(appendPublish(nil, publishMsg{sender: "node-1", incarnation: 7, seq: 1,
		msgs: []pubMsg{{channel: []byte("c"), message: []byte("m")}, {shard: true, channel: []byte("s"), message: nil}}}))
	f.Add(appendPublish(nil, publishMsg{}))
	f.Add([]byte{1, 'a', 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 2, 1, 'c', 0})
	f.Fuzz(func(t *testing.T, b []byte) {
		m, err := decodePublish(b)
		if err != nil {
			return
		}
		if got := appendPublish(nil, m); !bytes.Equal(got, b) {
			t.Fatalf("publish batch does not round-trip: %x -> %x", b, got)
		}
	})
}
