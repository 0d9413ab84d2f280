package node

import (
	"context"
	"fmt"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/dynakv/dynakv/crdt"
	"github.com/dynakv/dynakv/internal/poll"
	"github.com/dynakv/dynakv/replication"
)

// incr adds delta to key's counter through via, at write quorum w.
func (mc *memCluster) incr(via, key string, delta int64, w int) error {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	_, err := mc.nodes[via].coord.Update(ctx, []byte(key), func(*replication.Object) (*replication.Write, error) {
		return &replication.Write{Increment: strconv.AppendInt(nil, delta, 10)}, nil
	}, replication.WriteOptions{W: w})
	return err
}

// converged waits until every home of key holds value in its own copy,
// reading at R = N so read repair carries what one lacks.
func (mc *memCluster) converged(key, want string) {
	mc.t.Helper()
	homes := mc.homes(key)
	poll.Until(mc.t, 10*time.Second, "every home of "+key+" at "+want, func() bool {
		if _, err := mc.get(mc.ids[0], key, len(homes)); err != nil {
			return false
		}
		for _, h := range homes {
			if value(mc.own(h, key)) != want {
				return false
			}
		}
		return true
	})
}

// TestClusterCountersKeepEveryIncrement: increments through every node,
// concurrent, then on both sides of a partition, are each counted once
// after the partition heals (a coordinator's increments live in one
// contribution of its own, so none replaces another's); a SET that read
// the key replaces what it saw, and an increment it did not see stays on
// top of it.
func TestClusterCountersKeepEveryIncrement(t *testing.T) {
	mc := newMemCluster(t, 3, 2, 2, "a", "b", "c", "d")
	const key = "hits"
	var want atomic.Int64
	var wg sync.WaitGroup
	for i, id := range mc.ids {
		wg.Go(func() {
			for j := range 25 {
				d := int64(i*100 + j + 1)
				if err := mc.incr(id, key, d, 2); err != nil {
					t.Errorf("INCRBY %d through %s: %v", d, id, err)
					continue
				}
				want.Add(d)
			}
		})
	}
	wg.Wait()
	mc.converged(key, fmt.Sprint(want.Load()))
	if o := mc.own(mc.homes(key)[0], key); o.Len() > len(mc.ids) {
		t.Errorf("%d siblings for %d coordinators: contributions are not one per coordinator", o.Len(), len(mc.ids))
	}

	// A partition: every side keeps counting.
	homes := mc.homes(key)
	mc.net.Partition([]string{peerAddrOf(homes[0])}, []string{peerAddrOf(homes[1]), peerAddrOf(homes[2])})
	for range 10 {
		if err := mc.incr(homes[0], key, 1, 1); err != nil {
			t.Fatalf("INCR on the lone side: %v", err)
		}
		if err := mc.incr(homes[1], key, 2, 2); err != nil {
			t.Fatalf("INCR on the majority side: %v", err)
		}
	}
	mc.net.Heal()
	want.Add(30)
	mc.converged(key, fmt.Sprint(want.Load()))

	// A SET that read the key replaces it; an increment concurrent with it
	// (on the other side of a partition) stays on top.
	mc.net.Partition([]string{peerAddrOf(homes[0])}, []string{peerAddrOf(homes[1]), peerAddrOf(homes[2])})
	if err := mc.set(homes[1], key, "1000", 2); err != nil {
		t.Fatal(err)
	}
	if err := mc.incr(homes[0], key, 7, 1); err != nil {
		t.Fatal(err)
	}
	mc.net.Heal()
	mc.converged(key, "1007")
	// Now seen by everyone: a SET replaces all of it.
	if err := mc.set(homes[2], key, "5", 2); err != nil {
		t.Fatal(err)
	}
	mc.converged(key, "5")
}

// TestClusterHyperLogLogUnionsConcurrentAdds: adds on both sides of a
// partition are all in the sketch once it heals (the siblings' union).
func TestClusterHyperLogLogUnionsConcurrentAdds(t *testing.T) {
	mc := newMemCluster(t, 3, 2, 2, "a", "b", "c")
	const key = "uniques"
	homes := mc.homes(key)
	add := func(via string, from, to, w int) {
		t.Helper()
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		defer cancel()
		_, err := mc.nodes[via].coord.Update(ctx, []byte(key), func(cur *replication.Object) (*replication.Write, error) {
			h := &crdt.HLL{}
			for _, s := range cur.Live(0) {
				part, err := crdt.DecodeHLL(s.Value)
				if err != nil {
					return nil, err
				}
				h.Merge(part)
			}
			for i := from; i < to; i++ {
				h.Add([]byte(fmt.Sprint("u", i)))
			}
			return &replication.Write{Context: cur.Context(), Value: h.AppendBinary(nil), HLL: true}, nil
		}, replication.WriteOptions{W: w})
		if err != nil {
			t.Fatal(err)
		}
	}
	mc.net.Partition([]string{peerAddrOf(homes[0])}, []string{peerAddrOf(homes[1]), peerAddrOf(homes[2])})
	add(homes[0], 0, 600, 1)
	add(homes[1], 400, 1000, 2)
	mc.net.Heal()
	var want crdt.HLL
	for i := range 1000 {
		want.Add([]byte(fmt.Sprint("u", i)))
	}
	poll.Until(t, 10*time.Second, "the union on every home", func() bool {
		if _, err := mc.get(mc.ids[0], key, 3); err != nil {
			return false
		}
		for _, h := range homes {
			got := &crdt.HLL{}
			for _, s := range mc.own(h, key).Live(0) {
				part, _ := crdt.DecodeHLL(s.Value)
				got.Merge(part)
			}
			if !got.Equal(&want) {
				return false
			}
		}
		return true
	})
}
