package node

import (
	"bytes"
	"context"
	"github.com/dynakv/dynakv/node/peer"
	"testing"

	"github.com/dynakv/dynakv/antientropy"
	"github.com/dynakv/dynakv/conf"
	"github.com/dynakv/dynakv/node/replica"
	"github.com/dynakv/dynakv/node/store"
	"github.com/dynakv/dynakv/replication"
	"github.com/dynakv/dynakv/replication/codec"
)

// FuzzDecodePeer feeds arbitrary bytes to every peer message decoder and to
// the request handler of a live node: nothing may panic, unknown operations
// are refused, and whatever a decoder accepts must re-encode to the same
// bytes.
func FuzzDecodePeer(f *testing.F) {
	var o *replication.Object
	o = o.Apply(replication.Dot{Actor: 1, Counter: 1}, 1, replication.Write{Value: []byte("v")}, 10)
	f.Add(opMerge, appendKeyObject(nil, "", []byte("k"), o))
	f.Add(opHint, appendKeyObject(nil, "node-2", []byte("k"), o))
	f.Add(opRead, codec.AppendBytes(nil, []byte("k")))
	f.Add(opCoordinate, appendCoordinate(nil, coordinateMsg{key: []byte("k"), check: true, basis: o.Context(), w: 2,
		write: replication.Write{Context: o.Context(), Value: []byte("x"), ExpireAt: 5}}))
	f.Add(opCoordinate, appendCoordinate(nil, coordinateMsg{key: []byte("k"), w: 2, write: replication.Write{Context: o.Context(), Type: 's'}}))
	f.Add(opCoordinate, appendCoordinate(nil, coordinateMsg{key: []byte("k"), write: replication.Write{Tombstone: true, Type: 'h'}}))
	f.Add(opDeliverHints, appendKeyObjects(nil, []replica.Hinted{{Key: []byte("a"), Obj: o}, {Key: []byte("b"), Obj: o}}))
	f.Add(opReadRange, appendRange(nil, rangeMsg{from: 1, to: 1 << 40, limit: 10}))
	f.Add(opKeyCount, []byte(nil))
	f.Add(opReadKeys, appendKeysMsg(nil, keysMsg{pos: 7, start: []byte("a"), end: []byte("b"), limit: 3}))
	f.Add(opReadKeys, appendKeysMsg(nil, keysMsg{pos: 7, limit: 3}))
	f.Add(opReadKeys, appendKeysMsg(nil, keysMsg{pos: 7, start: []byte("a"), limit: 3, reverse: true}))
	f.Add(opAERoots, appendParts(nil, []int{0, 3, 15}))
	f.Add(opAEBranches, appendParts(nil, []int{1}))
	f.Add(opAELeaves, appendRefs(nil, []antientropy.Ref{{P: 1, I: 2}, {P: 15, I: 31}}))
	f.Add(opAEKeys, appendRefs(nil, []antientropy.Ref{{P: 0, I: 1023}}))
	f.Add(opReadMany, appendKeys(nil, [][]byte{[]byte("a"), []byte("b")}))
	f.Add(opAEBucketKeys, appendBucketRefs(nil, []antientropy.BucketRef{{Ref: antientropy.Ref{P: 1, I: 2}, B: 3}}))
	f.Add(byte(0), appendLeafKeys(nil, []antientropy.LeafKeys{{Keys: []antientropy.KeyHash{{Key: []byte("k"), Hash: 7}}}, {Buckets: make([]uint64, antientropy.LeafBuckets)}}))
	f.Add(byte(0), appendHashLists(nil, [][]uint64{{1, 2}, {}}))
	f.Add(byte(0), appendKeyHashLists(nil, [][]antientropy.KeyHash{{{Key: []byte("k"), Hash: 7}}, nil}))
	f.Add(opReadIndex, appendIndexQuery(nil, replication.IndexQuery{Pos: 7, Prefix: []byte("p"), Start: []byte{}, Reverse: true, Skip: 5, Limit: 10}))
	f.Add(byte(0), appendIndexResult(nil, replication.IndexResult{Skipped: 2, Digest: 9, Last: []byte("l"),
		Entries: []replication.IndexEntry{{Sort: []byte("s"), Key: []byte("k"), Obj: o}}, More: true}))
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
		if ms, err := decodeKeyObjects(b); err == nil {
			hs := make([]replica.Hinted, len(ms))
			for i, m := range ms {
				hs[i] = replica.Hinted{Key: m.key, Obj: m.obj}
			}
			if got := appendKeyObjects(nil, hs); !bytes.Equal(got, b) {
				t.Fatalf("handoff message does not round-trip: %x -> %x", b, got)
			}
		}
		if m, err := decodeRange(b); err == nil {
			if got := appendRange(nil, m); !bytes.Equal(got, b) {
				t.Fatalf("range message does not round-trip")
			}
		}
		if m, err := decodeKeysMsg(b); err == nil {
			if got := appendKeysMsg(nil, m); !bytes.Equal(got, b) {
				t.Fatalf("keys message does not round-trip")
			}
		}
		if q, err := decodeIndexQuery(b); err == nil {
			if got := appendIndexQuery(nil, q); !bytes.Equal(got, b) {
				t.Fatalf("index query does not round-trip")
			}
		}
		if res, err := decodeIndexResult(b); err == nil {
			if got := appendIndexResult(nil, res); !bytes.Equal(got, b) {
				t.Fatalf("index result does not round-trip")
			}
		}
		if keys, next, done, err := decodeRangeResult(b); err == nil {
			if got := appendRangeResult(nil, keys, next, done); !bytes.Equal(got, b) {
				t.Fatalf("range result does not round-trip")
			}
		}
		if ps, err := decodeParts(b, 1<<24); err == nil {
			if got := appendParts(nil, ps); !bytes.Equal(got, b) {
				t.Fatalf("partition list does not round-trip")
			}
		}
		if rs, err := decodeRefs(b, 1<<24, 1<<10); err == nil {
			if got := appendRefs(nil, rs); !bytes.Equal(got, b) {
				t.Fatalf("ref list does not round-trip")
			}
		}
		if hs, err := decodeHashes(b); err == nil {
			if got := appendHashes(nil, hs); !bytes.Equal(got, b) {
				t.Fatalf("hash list does not round-trip")
			}
		}
		if ls, err := decodeHashLists(b); err == nil {
			if got := appendHashLists(nil, ls); !bytes.Equal(got, b) {
				t.Fatalf("hash lists do not round-trip")
			}
		}
		if ls, err := decodeKeyHashLists(b); err == nil {
			if got := appendKeyHashLists(nil, ls); !bytes.Equal(got, b) {
				t.Fatalf("key hash lists do not round-trip")
			}
		}
		if ls, err := decodeLeafKeys(b); err == nil {
			if got := appendLeafKeys(nil, ls); !bytes.Equal(got, b) {
				t.Fatalf("leaf keys do not round-trip")
			}
		}
		if rs, err := decodeBucketRefs(b, 1<<24, 1<<10); err == nil {
			if got := appendBucketRefs(nil, rs); !bytes.Equal(got, b) {
				t.Fatalf("bucket refs do not round-trip")
			}
		}
		if ks, err := decodeKeys(b); err == nil {
			if got := appendKeys(nil, ks); !bytes.Equal(got, b) {
				t.Fatalf("key list does not round-trip")
			}
		}
		if err := remoteErr(&peer.RemoteError{Code: op, Msg: string(b)}); err == nil {
			t.Fatal("a peer's error mapped to nil")
		}
		_, err := mc.cluster.handle(context.Background(), op, bytes.Clone(b))
		if known := int(op) < len(service) && service[op].serve != nil; !known && err == nil {
			t.Fatalf("unknown operation %d served", op)
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
	cfg.NodeID = "fuzz" // build takes the id Open would read from the data directory
	nd, err := build(cfg.Resolve(), quiet, store.NewMem(), knobs{})
	if err != nil {
		f.Fatal(err)
	}
	f.Cleanup(func() { nd.Close() })
	if err := nd.cluster.rebuildTrees(context.Background()); err != nil { // so exchange requests are served
		f.Fatal(err)
	}
	return nd
}
