package ring

import (
	"math/rand/v2"
	"testing"
)

func TestHashKeyIsMD5(t *testing.T) {
	// MD5("") = d41d8cd98f00b204e9800998ecf8427e
	h := HashKey(nil)
	if h.Hi != 0xd41d8cd98f00b204 || h.Lo != 0xe9800998ecf8427e {
		t.Fatalf("HashKey(\"\") = %016x%016x", h.Hi, h.Lo)
	}
}

func TestPartition(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	for _, q := range []int{1, 2, 1024, 65536, 1 << 24} {
		if !ValidPartitions(q) {
			t.Fatalf("ValidPartitions(%d) = false", q)
		}
		for range 1000 {
			h := Hash{Hi: rng.Uint64(), Lo: rng.Uint64()}
			p := h.Partition(q)
			if p < 0 || p >= q {
				t.Fatalf("q=%d: partition %d out of range", q, p)
			}
			if h.Hi < PartitionStart(p, q) || (p+1 < q && h.Hi >= PartitionStart(p+1, q)) {
				t.Fatalf("q=%d: hash %016x outside partition %d's range", q, h.Hi, p)
			}
		}
		if (Hash{Hi: ^uint64(0)}).Partition(q) != q-1 || (Hash{}).Partition(q) != 0 {
			t.Fatalf("q=%d: ends of the space map to the wrong partitions", q)
		}
	}
	for _, q := range []int{0, 3, 1000, 1 << 25, -4} {
		if ValidPartitions(q) {
			t.Fatalf("ValidPartitions(%d) = true", q)
		}
	}
}
