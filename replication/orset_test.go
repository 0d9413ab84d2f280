package replication

import (
	"fmt"
	"maps"
	"math/rand/v2"
	"slices"
	"testing"
)

// A set as dynakv's front end keeps it (resp/sets.go): one key per member,
// each an Object whose live version means "present". SADD writes a version
// with the context its replica holds for the member (replacing tombstones
// it saw), SREM a tombstone with that context. This file checks, against a
// naive observed-remove set with unique tags (the reference twin), that
// the per-member objects give add-wins observed-remove semantics, that
// replicas converge whatever the order of merges, and that shipping only
// the members changed since the last exchange (a delta) ends in the same
// state as shipping the whole set.

// orsetReplica is one replica's set: member -> state.
type orsetReplica map[string]*Object

// orsetRef is the reference twin of one replica: per member, the add tags
// it has seen and the tags it has seen removed.
type orsetRef struct {
	added, removed map[string]map[int]bool
}

func (r orsetRef) present(m string) bool {
	for tag := range r.added[m] {
		if !r.removed[m][tag] {
			return true
		}
	}
	return false
}

func (r orsetRef) join(o orsetRef) {
	for m, tags := range o.added {
		for tag := range tags {
			note(r.added, m, tag)
		}
	}
	for m, tags := range o.removed {
		for tag := range tags {
			note(r.removed, m, tag)
		}
	}
}

func note(m map[string]map[int]bool, k string, tag int) {
	if m[k] == nil {
		m[k] = map[int]bool{}
	}
	m[k][tag] = true
}

type orsetModel struct {
	reps  []orsetReplica
	refs  []orsetRef
	dirty []map[int]map[string]bool // per replica, per peer: members changed since the last delta to it
	ctr   uint64
	tag   int
	now   int64
}

func newORSetModel(n int) *orsetModel {
	m := &orsetModel{}
	for range n {
		m.reps = append(m.reps, orsetReplica{})
		m.refs = append(m.refs, orsetRef{added: map[string]map[int]bool{}, removed: map[string]map[int]bool{}})
		m.dirty = append(m.dirty, map[int]map[string]bool{})
	}
	return m
}

func (m *orsetModel) touched(r int, member string) {
	for p := range m.reps {
		if p != r {
			if m.dirty[r][p] == nil {
				m.dirty[r][p] = map[string]bool{}
			}
			m.dirty[r][p][member] = true
		}
	}
}

func (m *orsetModel) add(r int, member string) {
	cur := m.reps[r][member]
	if cur.Newest(m.now) != nil {
		return // SADD of a present member writes nothing
	}
	m.ctr++
	m.now++
	m.reps[r][member] = cur.Apply(Dot{Actor: ActorID(r + 1), Counter: m.ctr}, m.now, Write{Context: cur.Context()}, 0)
	m.tag++
	note(m.refs[r].added, member, m.tag)
	m.touched(r, member)
}

func (m *orsetModel) remove(r int, member string) {
	cur := m.reps[r][member]
	if cur.Newest(m.now) == nil {
		return
	}
	m.ctr++
	m.now++
	m.reps[r][member] = cur.Apply(Dot{Actor: ActorID(r + 1), Counter: m.ctr}, m.now, Write{Context: cur.Context(), Tombstone: true}, 0)
	for tag := range m.refs[r].added[member] {
		note(m.refs[r].removed, member, tag)
	}
	m.touched(r, member)
}

// sync sends replica from's state to replica to: the members changed
// since the last delta (delta), or all of them.
func (m *orsetModel) sync(from, to int, delta bool) {
	members := slices.Collect(maps.Keys(m.reps[from]))
	if delta {
		members = slices.Collect(maps.Keys(m.dirty[from][to]))
	}
	for _, mb := range members {
		before := m.reps[to][mb]
		m.reps[to][mb] = before.Merge(m.reps[from][mb])
		if !before.Equal(m.reps[to][mb]) {
			m.touched(to, mb)
		}
	}
	delete(m.dirty[from], to)
	m.refs[to].join(m.refs[from])
}

func (m *orsetModel) members(r int) []string {
	var out []string
	for mb, o := range m.reps[r] {
		if o.Newest(m.now) != nil {
			out = append(out, mb)
		}
	}
	slices.Sort(out)
	return out
}

func (m *orsetModel) refMembers(r int) []string {
	var out []string
	for mb := range m.refs[r].added {
		if m.refs[r].present(mb) {
			out = append(out, mb)
		}
	}
	slices.Sort(out)
	return out
}

// run plays the same random schedule of adds, removes and exchanges on
// a model with full-state exchanges and one with deltas.
func runORSet(t *testing.T, seed uint64) {
	full, delta := newORSetModel(3), newORSetModel(3)
	rng := rand.New(rand.NewPCG(seed, 7))
	for range 300 {
		r, mb := rng.IntN(3), fmt.Sprint("m", rng.IntN(8))
		switch op := rng.IntN(10); {
		case op < 4:
			full.add(r, mb)
			delta.add(r, mb)
		case op < 7:
			full.remove(r, mb)
			delta.remove(r, mb)
		default:
			to := (r + 1 + rng.IntN(2)) % 3
			full.sync(r, to, false)
			delta.sync(r, to, true)
		}
		for i := range 3 {
			if got, want := full.members(i), full.refMembers(i); !slices.Equal(got, want) {
				t.Fatalf("seed %d: replica %d holds %q, the observed-remove set %q", seed, i, got, want)
			}
			if got, want := delta.members(i), full.members(i); !slices.Equal(got, want) {
				t.Fatalf("seed %d: replica %d after deltas holds %q, after full exchanges %q", seed, i, got, want)
			}
		}
	}
	// Heal: exchange in both directions until quiet; every replica holds
	// one state, the same with deltas.
	for range 2 {
		for from := range 3 {
			for to := range 3 {
				if from != to {
					full.sync(from, to, false)
					delta.sync(from, to, true)
				}
			}
		}
	}
	for i := 1; i < 3; i++ {
		if !slices.Equal(full.members(i), full.members(0)) || !slices.Equal(delta.members(i), full.members(0)) {
			t.Fatalf("seed %d: replicas did not converge: %q %q %q", seed, full.members(0), full.members(i), delta.members(i))
		}
		for mb, o := range full.reps[0] {
			if !o.Equal(full.reps[i][mb]) || !o.Equal(delta.reps[i][mb]) {
				t.Fatalf("seed %d: member %s differs between replicas after healing", seed, mb)
			}
		}
	}
}

func TestORSetMatchesReference(t *testing.T) {
	for seed := range uint64(300) {
		runORSet(t, seed)
	}
}

// TestORSetAddWins: an add concurrent with a remove of the same member
// survives it; a remove that saw the add removes it.
func TestORSetAddWins(t *testing.T) {
	m := newORSetModel(2)
	m.add(0, "x")
	m.sync(0, 1, false)
	m.remove(1, "x") // saw the first add
	m.add(0, "y")
	m.remove(0, "x")
	m.add(0, "x") // concurrent with replica 1's remove of the first add... and a new tag
	m.sync(1, 0, false)
	m.sync(0, 1, false)
	for r := range 2 {
		if got := m.members(r); !slices.Equal(got, []string{"x", "y"}) {
			t.Fatalf("replica %d holds %q, want [x y]: the re-add wins over the remove that did not see it", r, got)
		}
	}
	m.remove(1, "x")
	m.sync(1, 0, true)
	if got := m.members(0); !slices.Equal(got, []string{"y"}) {
		t.Fatalf("after a remove that saw every add: %q", got)
	}
}

// TestMemberMergeLaws: the per-member merge is commutative, associative
// and idempotent on states the schedule produces.
func TestMemberMergeLaws(t *testing.T) {
	for seed := range uint64(100) {
		m := newORSetModel(3)
		rng := rand.New(rand.NewPCG(seed, 9))
		for range 60 {
			r, mb := rng.IntN(3), fmt.Sprint("m", rng.IntN(3))
			switch rng.IntN(3) {
			case 0:
				m.add(r, mb)
			case 1:
				m.remove(r, mb)
			default:
				m.sync(r, (r+1)%3, rng.IntN(2) == 0)
			}
		}
		for mb := range m.reps[0] {
			a, b, c := m.reps[0][mb], m.reps[1][mb], m.reps[2][mb]
			if !a.Merge(b).Equal(b.Merge(a)) || !a.Merge(b.Merge(c)).Equal(a.Merge(b).Merge(c)) || !a.Merge(a).Equal(a) {
				t.Fatalf("seed %d: merge laws fail for member %s", seed, mb)
			}
		}
	}
}
