package resp

import (
	"bytes"
	"encoding/binary"
	"math"
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/dynakv/dynakv/replication"
)

// level builds one id level.
func level(d, actor, counter uint64) []byte {
	out := binary.BigEndian.AppendUint64(nil, d)
	out = binary.BigEndian.AppendUint64(out, actor)
	return binary.BigEndian.AppendUint64(out, counter)
}

// edgeID returns a random id of 1-3 levels whose digits and actors are
// drawn from the values where allocation is hardest (0, 1, the top). As
// every allocated id, it ends with a writer's level: a digit above 0 and
// an actor that is not 0 (the levels before may be anything, copied).
func edgeID(rng *rand.Rand) []byte {
	digits := []uint64{0, 1, 2, 3, idStep, 1 << 63, math.MaxUint64 - 1, math.MaxUint64}
	var out []byte
	for range rng.IntN(3) {
		out = append(out, level(digits[rng.IntN(len(digits))], uint64(rng.IntN(3)), uint64(rng.IntN(3)))...)
	}
	return append(out, level(digits[1+rng.IntN(len(digits)-1)], uint64(1+rng.IntN(2)), uint64(rng.IntN(3)))...)
}

// TestIDBetweenProperty: for any two ids a < b (and the open ends), an
// allocation with any bias lands strictly between them, is a whole number
// of levels, and ends with the writer's actor and counter.
func TestIDBetweenProperty(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	for i := range 200000 {
		a, b := edgeID(rng), edgeID(rng)
		switch c := bytes.Compare(a, b); {
		case c == 0:
			continue
		case c > 0:
			a, b = b, a
		}
		if i%7 == 0 {
			a = nil
		}
		if i%11 == 0 {
			b = nil
		}
		bias := idBias(rng.IntN(3))
		id, err := idBetween(a, b, bias, 77, uint64(i+1))
		if err != nil {
			t.Fatalf("idBetween(%x, %x, %d): %v", a, b, bias, err)
		}
		if bytes.Compare(a, id) >= 0 || (b != nil && bytes.Compare(id, b) >= 0) {
			t.Fatalf("idBetween(%x, %x, %d) = %x, not strictly between", a, b, bias, id)
		}
		if len(id)%idLevel != 0 || binary.BigEndian.Uint64(id[len(id)-16:]) != 77 || binary.BigEndian.Uint64(id[len(id)-8:]) != uint64(i+1) {
			t.Fatalf("idBetween(%x, %x) = %x: not levels ending with the writer", a, b, id)
		}
	}
	// Out of order or malformed bounds are refused, never answered wrongly.
	if _, err := idBetween(level(5, 1, 1), level(5, 1, 1), idMiddle, 1, 1); err == nil {
		t.Fatal("equal bounds accepted")
	}
	if _, err := idBetween(level(6, 1, 1), level(5, 1, 1), idMiddle, 1, 1); err == nil {
		t.Fatal("reversed bounds accepted")
	}
}

// TestIDPushesStayShort: billions of pushes at either end fit the first
// level, so ids stay one level (24 bytes) long; repeated inserts at one
// place grow them slowly (a level per 64 halvings).
func TestIDPushesStayShort(t *testing.T) {
	first, err := idBetween(nil, nil, idAfter, 1, 1)
	if err != nil {
		t.Fatal(err)
	}
	// 2^31 pushes at each end leave the first level: the distance to each
	// end of the digit range is 2^63, the step 2^32.
	last, head := first, first
	for i := range uint64(100000) {
		if last, err = idBetween(last, nil, idAfter, 1, i+2); err != nil || len(last) != idLevel {
			t.Fatalf("RPUSH %d: %x %v", i, last, err)
		}
		if head, err = idBetween(nil, head, idBefore, 1, i+2); err != nil || len(head) != idLevel {
			t.Fatalf("LPUSH %d: %x %v", i, head, err)
		}
	}
	if got := binary.BigEndian.Uint64(last) - binary.BigEndian.Uint64(first); got != 100000*idStep {
		t.Fatalf("RPUSH step: %d", got)
	}
	// Inserting always right after first: each halves the gap.
	lo, hi := first, last
	for i := range 1000 {
		id, err := idBetween(lo, hi, idMiddle, 2, uint64(i+1))
		if err != nil {
			t.Fatal(err)
		}
		hi = id
	}
	if len(hi) > 20*idLevel {
		t.Fatalf("1000 inserts at one place: %d bytes", len(hi))
	}
}

// listReplica is one replica of a list in the convergence model: its
// items' states by id, its actor, and the counter it mints dots with.
type listReplica struct {
	items   map[string]*replication.Object
	actor   replication.ActorID
	counter uint64
}

// live returns the replica's live items in list order.
func (r *listReplica) live() (ids []string) {
	for id, o := range r.items {
		if o.Newest(0) != nil {
			ids = append(ids, id)
		}
	}
	slices.Sort(ids)
	return ids
}

func (r *listReplica) apply(id string, w replication.Write) replication.Dot {
	r.counter++
	d := replication.Dot{Actor: r.actor, Counter: r.counter}
	r.items[id] = r.items[id].Apply(d, int64(r.counter)*1e6, w, 0)
	return d
}

func (r *listReplica) merge(o *listReplica) {
	for id, obj := range o.items {
		r.items[id] = r.items[id].Merge(obj)
	}
}

// TestListSequenceConverges: random inserts (at either end and between
// items), deletes and value updates on several replicas, with merges in
// random orders between them, end with one sequence on every replica after
// a full exchange; every insert is in it unless a delete that saw it took
// it out (a write the delete did not see survives it), and each item holds
// the newest surviving value.
func TestListSequenceConverges(t *testing.T) {
	for seed := range uint64(300) {
		rng := rand.New(rand.NewPCG(seed, 7))
		n := 2 + rng.IntN(3)
		reps := make([]*listReplica, n)
		for i := range reps {
			reps[i] = &listReplica{items: map[string]*replication.Object{}, actor: replication.ActorID(i + 1)}
		}
		type write struct {
			dot   replication.Dot
			value string
		}
		writes := map[string][]write{}              // id -> every write of it
		removed := map[string][]replication.Clock{} // id -> what each delete saw
		var idCounter uint64
		for step := range 40 + rng.IntN(120) {
			r := reps[rng.IntN(n)]
			ids := r.live()
			switch x := rng.IntN(10); {
			case x < 5 || len(ids) == 0: // insert
				p := rng.IntN(len(ids) + 1)
				var a, b []byte
				bias := idMiddle
				switch {
				case p == len(ids) && rng.IntN(2) == 0:
					bias = idAfter
				case p == 0 && rng.IntN(2) == 0:
					bias = idBefore
				}
				if p > 0 {
					a = []byte(ids[p-1])
				}
				if p < len(ids) {
					b = []byte(ids[p])
				}
				idCounter++
				id, err := idBetween(a, b, bias, uint64(r.actor), idCounter)
				if err != nil {
					t.Fatalf("seed %d: %v", seed, err)
				}
				v := string(rune('a'+step%26)) + string(rune('0'+step/26))
				d := r.apply(string(id), replication.Write{Value: []byte(v)})
				writes[string(id)] = append(writes[string(id)], write{d, v})
			case x < 7: // delete what the replica sees
				id := ids[rng.IntN(len(ids))]
				ctx := r.items[id].Context()
				r.apply(id, replication.Write{Context: ctx, Tombstone: true})
				removed[id] = append(removed[id], ctx)
			case x < 8: // LSET: a new version replacing what it read
				id := ids[rng.IntN(len(ids))]
				v := "set" + string(rune('a'+step%26))
				d := r.apply(id, replication.Write{Context: r.items[id].Context(), Value: []byte(v)})
				writes[id] = append(writes[id], write{d, v})
			default:
				r.merge(reps[rng.IntN(n)])
			}
		}
		for range 2 {
			for _, i := range rng.Perm(n) {
				for _, j := range rng.Perm(n) {
					reps[i].merge(reps[j])
				}
			}
		}
		want := reps[0].live()
		for i, r := range reps[1:] {
			if got := r.live(); !slices.Equal(got, want) {
				t.Fatalf("seed %d: replica %d has %d items in another order than replica 0's %d", seed, i+1, len(got), len(want))
			}
		}
		// The model: an item is present while one of its writes was seen
		// by no delete (an update that replaced a write saw it, but its
		// own version then stands for it).
		var model []string
		for id, ws := range writes {
			survives := false
			for _, w := range ws {
				covered := false
				for _, c := range removed[id] {
					covered = covered || c.Covers(w.dot)
				}
				survives = survives || !covered
			}
			if survives {
				model = append(model, id)
			}
		}
		slices.Sort(model)
		if !slices.Equal(model, want) {
			t.Fatalf("seed %d: %d items present, the model has %d", seed, len(want), len(model))
		}
		for _, r := range reps {
			for _, id := range want {
				if !bytes.Equal(r.items[id].Newest(0).Value, reps[0].items[id].Newest(0).Value) {
					t.Fatalf("seed %d: item values differ", seed)
				}
			}
		}
	}
}
