package resp

import (
	"cmp"
	"sync"

	"github.com/dynakv/dynakv/replication"
	"github.com/dynakv/dynakv/ring"
)

// Writes of many elements at once: the members of an SADD or SREM, the
// fields of an HSET or HDEL, the elements a DEL deletes.

// dropElements deletes the elements of the given types of key that this
// coordinator reads: the versions it reads of each, so an element added
// concurrently survives. It deletes them a batch at a time as it walks
// them, so a collection of any size is deleted in bounded memory.
func (c *Conn) dropElements(key []byte, types []byte) error {
	for _, t := range types {
		var (
			keys [][]byte
			werr error
		)
		flush := func() {
			werr = parallel(len(keys), func(i int) error {
				_, err := c.rawUpdate(keys[i], removeElement(c.nowMs(), nil))
				return err
			})
			keys = keys[:0]
		}
		err := c.eachElement(key, t, 0, replication.MaxKeysBatch, func(member []byte, _ uint64, _ *replication.Sibling) bool {
			if keys = append(keys, ring.ElementKey(t, key, member)); len(keys) == dropBatch {
				flush()
			}
			return werr == nil
		})
		if err == nil && werr == nil && len(keys) > 0 {
			flush()
		}
		if err = cmp.Or(err, werr); err != nil {
			return err
		}
	}
	return nil
}

// dropBatch is how many elements dropElements holds before deleting them
// (a variable for tests).
var dropBatch = 1024

// elementWrites bounds the element updates one command runs at once: the
// members of an SADD, the fields of an HSET, the elements a DEL deletes
// are independent keys, so they replicate side by side rather than one
// round trip after another.
const elementWrites = 16

// parallel calls fn(0..n-1), up to elementWrites at a time (inline when
// n is 1), and returns the first error once all calls returned.
func parallel(n int, fn func(i int) error) error {
	if n == 1 {
		return fn(0)
	}
	var (
		wg    sync.WaitGroup
		mu    sync.Mutex
		first error
	)
	sem := make(chan struct{}, elementWrites)
	for i := range n {
		sem <- struct{}{}
		wg.Go(func() {
			defer func() { <-sem }()
			if err := fn(i); err != nil {
				mu.Lock()
				if first == nil {
					first = err
				}
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	return first
}

// unique returns the distinct byte strings of bs, in their first order.
func unique(bs [][]byte) [][]byte {
	seen := make(map[string]bool, len(bs))
	out := bs[:0:0]
	for _, b := range bs {
		if !seen[string(b)] {
			seen[string(b)] = true
			out = append(out, b)
		}
	}
	return out
}

// removeElement is the write that deletes an element it reads live; it
// sets *removed to whether it does (the update may run more than once: a
// forwarded write that met a conflict is redone on the fresh state, and
// the last run counts).
func removeElement(nowMs int64, removed *bool) func(cur *replication.Object) (*replication.Write, error) {
	return func(cur *replication.Object) (*replication.Write, error) {
		live := cur.Newest(nowMs) != nil
		if removed != nil {
			*removed = live // the last read decides (a forwarded write may read again)
		}
		if !live {
			return nil, nil
		}
		return deleteWrite(cur), nil
	}
}
