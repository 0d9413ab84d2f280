package store

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"math/rand/v2"
	"testing"

	"github.com/dynakv/dynakv/ring"
)

func TestShardedStore(t *testing.T) {
	testStore(t, func(t *testing.T) Store {
		s, err := NewSharded(NewMem(), NewMem(), NewMem(), NewMem())
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { s.Close() })
		return s
	})
}

func TestShardedStoreNeedsPowerOfTwo(t *testing.T) {
	if _, err := NewSharded(NewMem(), NewMem(), NewMem()); err == nil {
		t.Fatal("3 shards accepted")
	}
	if _, err := NewSharded(); err == nil {
		t.Fatal("0 shards accepted")
	}
}

// TestShardedStoreMatchesOneStore applies the same random ops (data keys
// across every shard, metadata, hints) to a sharded store and to one
// MemStore, and checks that every Get and every ranged Iterate agrees.
func TestShardedStoreMatchesOneStore(t *testing.T) {
	for _, n := range []int{1, 2, 4, 8} {
		t.Run(fmt.Sprint(n, " shards"), func(t *testing.T) {
			parts := make([]Store, n)
			for i := range parts {
				if i%2 == 0 {
					parts[i] = NewMem()
				} else {
					ldb, err := OpenLevelDB(t.TempDir(), DefaultLevelDBOptions())
					if err != nil {
						t.Fatal(err)
					}
					parts[i] = ldb
				}
			}
			sh, err := NewSharded(parts...)
			if err != nil {
				t.Fatal(err)
			}
			defer sh.Close()
			ref := NewMem()
			defer ref.Close()
			rng := rand.New(rand.NewPCG(uint64(n), 1))
			var keys [][]byte
			for i := range 400 {
				var k []byte
				switch rng.IntN(6) {
				case 0:
					k = MetaKey(fmt.Sprint("meta", i))
				case 1:
					k = append([]byte{HintPrefix}, fmt.Sprint("hint", i)...)
				case 2: // a score index key: positioned as data keys are
					uk := fmt.Appendf(nil, "zset:%d", i)
					k = append(positionBound(IndexPrefix, ring.HashKey(uk).Hi), uk...)
				default:
					uk := fmt.Appendf(nil, "user:%d", i)
					k = DataKey(ring.HashKey(uk), uk)
				}
				keys = append(keys, k)
			}
			for range 1500 {
				batch := make([]Op, 1+rng.IntN(3))
				for j := range batch {
					batch[j] = Op{Key: keys[rng.IntN(len(keys))], Value: fmt.Appendf(nil, "v%d", rng.Uint32()), Delete: rng.IntN(5) == 0}
				}
				if err := sh.Apply(batch...); err != nil {
					t.Fatal(err)
				}
				if err := ref.Apply(batch...); err != nil {
					t.Fatal(err)
				}
			}
			for _, k := range keys {
				a, errA := sh.Get(k)
				b, errB := ref.Get(k)
				if (errA == nil) != (errB == nil) || !bytes.Equal(a, b) {
					t.Fatalf("Get(%q): sharded %q %v, one store %q %v", k, a, errA, b, errB)
				}
			}
			// Index keys live in their position's shard, beside the data.
			for _, k := range keys {
				if k[0] == IndexPrefix && n > 1 && sh.ShardOf(k) != sh.ShardOf(DataBound(binary.BigEndian.Uint64(k[1:9]))) {
					t.Fatalf("index key %q in shard %d, its position's data in another", k, sh.ShardOf(k))
				}
			}
			var reverse bool
			collect := func(s Store, lo, hi []byte, limit int) []string {
				var out []string
				iter := s.Iterate
				if reverse {
					iter = s.IterateReverse
				}
				if err := iter(lo, hi, func(k, v []byte) bool {
					out = append(out, string(k)+"="+string(v))
					return limit == 0 || len(out) < limit
				}); err != nil {
					t.Fatal(err)
				}
				return out
			}
			for range 200 {
				var lo, hi []byte
				if rng.IntN(4) > 0 {
					lo = keys[rng.IntN(len(keys))]
				}
				if rng.IntN(4) > 0 {
					hi = keys[rng.IntN(len(keys))]
				}
				limit := rng.IntN(3) * rng.IntN(50)
				reverse = rng.IntN(2) == 0
				got, want := collect(sh, lo, hi, limit), collect(ref, lo, hi, limit)
				if fmt.Sprint(got) != fmt.Sprint(want) {
					t.Fatalf("Iterate(%q, %q, limit %d, reverse %v):\n sharded  %d keys\n one store %d keys", lo, hi, limit, reverse, len(got), len(want))
				}
			}
		})
	}
}

// Meta entries are mirrored in every shard, and RestoreMeta brings a lost
// shard 0's back from a mirror (each shard's layout marker stays its own).
func TestShardedMirrorsMeta(t *testing.T) {
	parts := []Store{NewMem(), NewMem(), NewMem(), NewMem()}
	sh, err := NewSharded(parts...)
	if err != nil {
		t.Fatal(err)
	}
	defer sh.Close()
	for i, p := range parts {
		if err := WriteShardLayout(p, ShardLayout{Shards: 4, Index: i, ID: 9}); err != nil {
			t.Fatal(err)
		}
	}
	uk := []byte("user")
	mustApply(t, sh, Op{Key: MetaKey("a"), Value: []byte("1")}, Op{Key: DataKey(ring.HashKey(uk), uk), Value: []byte("d")})
	mustApply(t, sh, Op{Key: MetaKey("b"), Value: []byte("2")})
	mustApply(t, sh, Op{Key: MetaKey("b"), Delete: true})
	for i, p := range parts {
		wantValue(t, p, string(MetaKey("a")), "1")
		if _, err := p.Get(MetaKey("b")); !errors.Is(err, ErrNotFound) {
			t.Fatalf("shard %d: deleted meta entry b: %v", i, err)
		}
	}
	lost := NewMem() // shard 0 recreated empty
	defer lost.Close()
	if err := WriteShardLayout(lost, ShardLayout{Shards: 4, Index: 0, ID: 9}); err != nil {
		t.Fatal(err)
	}
	n, err := RestoreMeta(lost, parts[2])
	if err != nil || n != 1 {
		t.Fatalf("RestoreMeta: %d entries, %v; want 1", n, err)
	}
	wantValue(t, lost, string(MetaKey("a")), "1")
	if l, _, _ := ReadShardLayout(lost); l.Index != 0 {
		t.Fatalf("RestoreMeta overwrote the layout marker: %v", l)
	}
}
