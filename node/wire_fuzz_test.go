package node

import (
	"bytes"
	"context"
	"testing"

	"github.com/dynakv/dynakv/conf"
	"github.com/dynakv/dynakv/replication"
)

// FuzzDecodePeer feeds arbitrary bytes to every peer message decoder and to
// the request handler of a live node: nothing may panic, and whatever a
// decoder accepts must re-encode to the same bytes.
func FuzzDecodePeer(f *testing.F) {
	var o *replication.Object
	o = o.Apply(replication.Dot{Actor: 1, Counter: 1}, 1, replication.Write{Value: []byte("v")}, 10)
	f.Add(opMerge, appendKeyObject(nil, "", []byte("k"), o))
	f.Add(opHint, appendKeyObject(nil, "node-2", []byte("k"), o))
	f.Add(opRead, appendBytes(nil, []byte("k")))
	f.Add(opCoordinate, appendCoordinate(nil, coordinateMsg{key: []byte("k"), check: true, basis: o.Context(), w: 2,
		write: replication.Write{Context: o.Context(), Value: []byte("x"), ExpireAt: 5}}))
	f.Add(opHandoff, appendHandoff(nil, []Hinted{{Key: []byte("a"), Obj: o}, {Key: []byte("b"), Obj: o}}))
	f.Add(opReadRange, appendRange(nil, rangeMsg{from: 1, to: 1 << 40, limit: 10}))
	f.Add(opKeyCount, []byte(nil))
	f.Add(byte(99), []byte{1, 2, 3})

	mc := newFuzzNode(f)
	f.Fuzz(func(t *testing.T, op byte, b []byte) {
		if m, err := decodeKeyObject(b); err == nil {
			if got := appendKeyObject(nil, m.owner, m.key, m.obj); !bytes.Equal(got, b) {
				t.Fatalf("key/object message does not round-trip: %x -> %x", b, got)
			}
		}
		if m, err := decodeCoordinate(b); err == nil {
			if got := appendCoordinate(nil, m); !bytes.Equal(got, b) {
				t.Fatalf("coordinate message does not round-trip: %x -> %x", b, got)
			}
		}
		if ms, err := decodeHandoff(b); err == nil {
			hs := make([]Hinted, len(ms))
			for i, m := range ms {
				hs[i] = Hinted{Key: m.key, Obj: m.obj}
			}
			if got := appendHandoff(nil, hs); !bytes.Equal(got, b) {
				t.Fatalf("handoff message does not round-trip: %x -> %x", b, got)
			}
		}
		if m, err := decodeRange(b); err == nil {
			if got := appendRange(nil, m); !bytes.Equal(got, b) {
				t.Fatalf("range message does not round-trip")
			}
		}
		if keys, next, done, err := decodeRangeResult(b); err == nil {
			if got := appendRangeResult(nil, keys, next, done); !bytes.Equal(got, b) {
				t.Fatalf("range result does not round-trip")
			}
		}
		_, _ = splitResponse(b)
		resp, err := mc.cluster.handle(context.Background(), op, bytes.Clone(b))
		if err != nil || len(resp) == 0 {
			t.Fatalf("handle returned %v, %q: want a response with a status", err, resp)
		}
	})
}

// newFuzzNode builds a single in-memory node whose handler the fuzzer
// drives.
func newFuzzNode(f *testing.F) *Node {
	f.Helper()
	cfg := conf.Default()
	cfg.Listen, cfg.GossipListen = "127.0.0.1:0", "127.0.0.1:0"
	cfg.DataDir = f.TempDir()
	cfg.Partitions = 16
	nd, err := build(cfg.Resolve(), quiet, NewMemStore())
	if err != nil {
		f.Fatal(err)
	}
	f.Cleanup(func() { nd.Close() })
	return nd
}
