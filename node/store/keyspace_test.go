package store

import (
	"bytes"
	"crypto/md5"
	"encoding/binary"
	"testing"

	"github.com/dynakv/dynakv/ring"
)

// TestMigrateKeyspace: user keys starting with 0xFF, stored as they were
// before the internal keyspace, move to their escaped keys at the same
// position; other keys stay; a second run (after an interrupted one, or
// after the marker) moves nothing more.
func TestMigrateKeyspace(t *testing.T) {
	s := NewMem()
	old := [][]byte{{0xFF}, {0xFF, 'a'}, {0xFF, 0xFF, 'b'}}
	plain := []byte("plain")
	// Before the internal keyspace, a key's position was the MD5 of the
	// key as it is.
	oldHash := func(k []byte) ring.Hash {
		sum := md5.Sum(k)
		return ring.Hash{Hi: binary.BigEndian.Uint64(sum[:8]), Lo: binary.BigEndian.Uint64(sum[8:])}
	}
	for _, k := range append(old, plain) {
		if err := s.Apply(Op{Key: DataKey(oldHash(k), k), Value: k}); err != nil {
			t.Fatal(err)
		}
	}
	// An element key, written by this version, is no old key.
	el := ring.ElementKey('s', []byte("set"), []byte("m"))
	if err := s.Apply(Op{Key: DataKey(ring.HashKey(el), el), Value: []byte("element")}); err != nil {
		t.Fatal(err)
	}
	// Simulate an interrupted run: the first key already moved.
	ik := ring.InternalKey(old[0])
	if err := s.Apply(Op{Key: DataKey(ring.HashKey(ik), ik), Value: old[0]}, Op{Key: DataKey(oldHash(old[0]), old[0]), Delete: true}); err != nil {
		t.Fatal(err)
	}
	n, err := MigrateKeyspace(s)
	if err != nil || n != 2 {
		t.Fatalf("MigrateKeyspace moved %d: %v; want the 2 unmoved keys", n, err)
	}
	for _, k := range old {
		ik := ring.InternalKey(k)
		v, err := s.Get(DataKey(ring.HashKey(ik), ik))
		if err != nil || !bytes.Equal(v, k) {
			t.Fatalf("key %q: escaped copy %q, %v", k, v, err)
		}
		if ring.HashKey(ik) != oldHash(k) {
			t.Fatalf("key %q changed position", k)
		}
	}
	for _, k := range [][]byte{plain, el} {
		if _, err := s.Get(DataKey(ring.HashKey(k), k)); err != nil {
			t.Fatalf("key %q: %v", k, err)
		}
	}
	if n, err := MigrateKeyspace(s); n != 0 || err != nil {
		t.Fatalf("second run moved %d: %v", n, err)
	}
}
