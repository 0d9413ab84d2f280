package replication

import (
	"bytes"
	"context"
	"fmt"
	"math/rand/v2"
	"slices"
	"sort"
	"testing"
	"time"
)

// zprefix is the element prefix of the sorted set the index tests use: an
// element key is zprefix followed by its member (the coordinator does not
// interpret keys).
const zprefix = "z/"

// ReadIndex implements IndexReader for the test replica naively: the index
// of the elements under q.Prefix, computed at each call from their states
// (node/replica keeps it in its store).
func (m *memReplica) ReadIndex(ctx context.Context, q IndexQuery) (IndexResult, error) {
	var res IndexResult
	if err := m.gate(ctx); err != nil {
		return res, err
	}
	m.mu.Lock()
	var es []IndexEntry
	for k, o := range m.data {
		if !bytes.HasPrefix([]byte(k), q.Prefix) {
			continue
		}
		f, live := ScoreOf(o)
		sk := SortKey(f, []byte(k)[len(q.Prefix):])
		if live && (q.Start == nil || bytes.Compare(sk, q.Start) >= 0) && (q.End == nil || bytes.Compare(sk, q.End) < 0) {
			es = append(es, IndexEntry{Sort: sk, Key: []byte(k), Obj: o})
		}
	}
	m.mu.Unlock()
	sort.Slice(es, func(i, j int) bool { return bytes.Compare(es[i].Sort, es[j].Sort) < 0 })
	if q.Reverse {
		slices.Reverse(es)
	}
	for _, e := range es {
		switch {
		case res.Skipped < q.Skip:
			res.Skipped++
			res.Digest ^= IndexDigest(e.Sort, Digest(e.Key, e.Obj))
			res.Last = e.Sort
		case len(res.Entries) >= q.Limit:
			res.More = true
			return res, nil
		default:
			res.Entries = append(res.Entries, e)
		}
	}
	return res, nil
}

// TestWalkIndexSettlesDisagreeingReplicas: three replicas hold diverging
// versions of a sorted set's members (scores moved, members removed,
// counters, concurrent writes); every walk through the coordinator (R=2:
// this node's replica and the next) at any batch size, bounds, offset
// and direction answers what the merge of the two readers' states says,
// in order, each member once, and counts agree; afterwards the stale
// reader has been repaired.
func TestWalkIndexSettlesDisagreeingReplicas(t *testing.T) {
	rng := rand.New(rand.NewPCG(11, 12))
	for trial := range 100 {
		reps := []*memReplica{newMem("r0"), newMem("r1"), newMem("r2")}
		coord, err := NewCoordinator(Config{
			Local:  reps[0],
			Router: RouterFunc(func([]byte) []Replica { return []Replica{reps[0], reps[1], reps[2]} }),
			Actor:  1, N: 3, R: 2, W: 1, Timeout: time.Second,
			Now: func() time.Time { return time.Unix(0, 0) },
		})
		if err != nil {
			t.Fatal(err)
		}
		// Each member's history on a source state, parts of which
		// reach each replica.
		for i := range 12 {
			key := fmt.Sprintf("%sm%02d", zprefix, i)
			var o *Object
			for w := range 1 + rng.IntN(4) {
				var wr Write
				switch rng.IntN(5) {
				case 0:
					wr = Write{Context: o.Context(), Tombstone: true}
				case 1:
					wr = Write{Increment: fmt.Appendf(nil, "%d", rng.IntN(5)-2)}
				default:
					wr = Write{Context: o.Context(), Value: FormatScore(float64(rng.IntN(7)))}
				}
				o = o.Apply(Dot{Actor: ActorID(1 + rng.IntN(3)), Counter: uint64(w + 1 + 10*i)}, int64(w+1), wr, 10)
				for _, r := range reps {
					if rng.IntN(3) > 0 {
						r.Merge(context.Background(), []byte(key), o)
					}
				}
			}
		}
		// What the readers' merge says.
		var want [][]byte
		for i := range 12 {
			key := fmt.Sprintf("%sm%02d", zprefix, i)
			o := reps[0].data[key].Merge(reps[1].data[key])
			if f, ok := ScoreOf(o); ok {
				want = append(want, SortKey(f, []byte(key)[len(zprefix):]))
			}
		}
		sort.Slice(want, func(i, j int) bool { return bytes.Compare(want[i], want[j]) < 0 })
		for range 10 {
			w := IndexWalk{RouteKey: []byte("z"), Prefix: []byte(zprefix), Reverse: rng.IntN(2) == 0,
				Skip: int64(rng.IntN(4)), Batch: 1 + rng.IntN(4)}
			exp := slices.Clone(want)
			if rng.IntN(2) == 0 {
				lo, hi := SortKey(float64(rng.IntN(4)), nil), SortKey(float64(3+rng.IntN(5)), nil)
				w.Start, w.End = lo, hi
				exp = slices.DeleteFunc(exp, func(p []byte) bool { return bytes.Compare(p, lo) < 0 || bytes.Compare(p, hi) >= 0 })
			}
			if w.Reverse {
				slices.Reverse(exp)
			}
			skipped := min(int(w.Skip), len(exp))
			exp = exp[skipped:]
			var got [][]byte
			n, err := coord.WalkIndex(context.Background(), w, func(sk, key []byte, o *Object) bool {
				got = append(got, sk)
				return true
			})
			if err != nil {
				t.Fatal(err)
			}
			if n != int64(skipped) || !slices.EqualFunc(got, exp, bytes.Equal) {
				for i, r := range reps[:2] {
					res, _ := r.ReadIndex(context.Background(), IndexQuery{Prefix: []byte(zprefix), Limit: 100})
					var ps []string
					for _, e := range res.Entries {
						f, m, _ := SplitSortKey(e.Sort)
						ps = append(ps, fmt.Sprintf("%s@%v", m, f))
					}
					t.Logf("r%d: %v", i, ps)
				}
				t.Fatalf("trial %d, walk %+v: skipped %d, got %q\nwant skipped %d, %q", trial, w, n, got, skipped, exp)
			}
			cw := w
			cw.Skip = 0
			count, err := coord.CountIndex(context.Background(), cw)
			if err != nil || count != int64(len(exp)+skipped) {
				t.Fatalf("trial %d: CountIndex = %d, %v; want %d", trial, count, err, len(exp)+skipped)
			}
		}
		coord.Close() // waits for the read repairs
		for k, o := range reps[0].data {
			if m := o.Merge(reps[1].data[k]); !m.Equal(reps[1].data[k]) && bytes.HasPrefix([]byte(k), []byte(zprefix)) {
				if _, live := ScoreOf(m); live {
					t.Fatalf("trial %d: %s not repaired on r1", trial, k)
				}
			}
		}
	}
}

// TestWalkIndexSkipComparesStates: two readers whose indexes hold a
// member at the same position, each through an increment the other has
// not seen (their merge puts it elsewhere), do not agree on a skip: the
// digest covers the elements' states, not only their positions, so the
// walk settles what lies before the offset itself.
func TestWalkIndexSkipComparesStates(t *testing.T) {
	reps := []*memReplica{newMem("r0"), newMem("r1")}
	coord, err := NewCoordinator(Config{
		Local:  reps[0],
		Router: RouterFunc(func([]byte) []Replica { return []Replica{reps[0], reps[1]} }),
		Actor:  1, N: 2, R: 2, W: 1, Timeout: time.Second,
		Now: func() time.Time { return time.Unix(0, 0) },
	})
	if err != nil {
		t.Fatal(err)
	}
	defer coord.Close()
	put := func(member string, o *Object, to ...int) {
		for _, i := range to {
			reps[i].Merge(context.Background(), []byte(zprefix+member), o)
		}
	}
	var x *Object
	x = x.Apply(Dot{Actor: 1, Counter: 1}, 1, Write{Value: []byte("2")}, 10)
	put("x", x, 0, 1)
	put("x", x.Apply(Dot{Actor: 2, Counter: 1}, 2, Write{Increment: []byte("1")}, 10), 0) // 3 on r0
	put("x", x.Apply(Dot{Actor: 3, Counter: 1}, 3, Write{Increment: []byte("1")}, 10), 1) // 3 on r1
	var y *Object
	y = y.Apply(Dot{Actor: 1, Counter: 2}, 1, Write{Value: []byte("3.5")}, 10)
	put("y", y, 0, 1)
	// Merged, x scores 4: y (3.5) comes first, then x.
	var got []string
	n, err := coord.WalkIndex(context.Background(), IndexWalk{RouteKey: []byte("z"), Prefix: []byte(zprefix), Skip: 1, Batch: 4},
		func(sk, _ []byte, _ *Object) bool {
			_, m, _ := SplitSortKey(sk)
			got = append(got, string(m))
			return true
		})
	if err != nil || n != 1 || !slices.Equal(got, []string{"x"}) {
		t.Fatalf("WalkIndex skip 1 = %v (skipped %d, %v); want [x] after y", got, n, err)
	}
}
