package replication

import (
	"fmt"
	"maps"
	"math/rand/v2"
	"slices"
	"testing"
)

// A hash as the front end keeps it (resp/hashes.go): one key per field,
// each an Object; HSET writes a value with the context its replica holds
// for the field (replacing what it saw), HDEL a tombstone with that
// context. The reference twin is a map of multi-value registers with
// unique tags: a write or delete removes the tags its replica has seen, a
// write adds its own; a field's values are its tags not removed. Replicas
// exchange all fields or only those changed since the last exchange.

type mvRef struct {
	vals    map[string]map[int]string // field -> tag -> value
	removed map[string]map[int]bool
}

func (r mvRef) values(f string) []string {
	var out []string
	for tag, v := range r.vals[f] {
		if !r.removed[f][tag] {
			out = append(out, v)
		}
	}
	slices.Sort(out)
	return out
}

type hashModel struct {
	reps  []map[string]*Object
	refs  []mvRef
	dirty []map[int]map[string]bool
	ctr   uint64
	tag   int
	now   int64
}

func newHashModel(n int) *hashModel {
	m := &hashModel{}
	for range n {
		m.reps = append(m.reps, map[string]*Object{})
		m.refs = append(m.refs, mvRef{vals: map[string]map[int]string{}, removed: map[string]map[int]bool{}})
		m.dirty = append(m.dirty, map[int]map[string]bool{})
	}
	return m
}

func (m *hashModel) touched(r int, f string) {
	for p := range m.reps {
		if p != r {
			if m.dirty[r][p] == nil {
				m.dirty[r][p] = map[string]bool{}
			}
			m.dirty[r][p][f] = true
		}
	}
}

// write is an HSET (del false) or an HDEL of field f at replica r.
func (m *hashModel) write(r int, f, v string, del bool) {
	cur := m.reps[r][f]
	if del && cur.Newest(m.now) == nil {
		return // HDEL of an absent field writes nothing
	}
	m.ctr++
	m.now++
	m.reps[r][f] = cur.Apply(Dot{Actor: ActorID(r + 1), Counter: m.ctr}, m.now, Write{Context: cur.Context(), Value: []byte(v), Tombstone: del}, 0)
	ref := m.refs[r]
	for tag := range ref.vals[f] {
		if ref.removed[f] == nil {
			ref.removed[f] = map[int]bool{}
		}
		ref.removed[f][tag] = true
	}
	if !del {
		m.tag++
		if ref.vals[f] == nil {
			ref.vals[f] = map[int]string{}
		}
		ref.vals[f][m.tag] = v
	}
	m.touched(r, f)
}

func (m *hashModel) sync(from, to int, delta bool) {
	fields := slices.Collect(maps.Keys(m.reps[from]))
	if delta {
		fields = slices.Collect(maps.Keys(m.dirty[from][to]))
	}
	for _, f := range fields {
		before := m.reps[to][f]
		m.reps[to][f] = before.Merge(m.reps[from][f])
		if !before.Equal(m.reps[to][f]) {
			m.touched(to, f)
		}
	}
	delete(m.dirty[from], to)
	src, dst := m.refs[from], m.refs[to]
	for f, tags := range src.vals {
		for tag, v := range tags {
			if dst.vals[f] == nil {
				dst.vals[f] = map[int]string{}
			}
			dst.vals[f][tag] = v
		}
	}
	for f, tags := range src.removed {
		for tag := range tags {
			if dst.removed[f] == nil {
				dst.removed[f] = map[int]bool{}
			}
			dst.removed[f][tag] = true
		}
	}
}

// values returns field f's live values at replica r, sorted.
func (m *hashModel) values(r int, f string) []string {
	var out []string
	for _, s := range m.reps[r][f].Live(m.now) {
		out = append(out, string(s.Value))
	}
	slices.Sort(out)
	return out
}

// TestHashFieldsMatchReference: random HSETs, HDELs and exchanges on three
// replicas; every replica's field values are the reference's multi-values
// at every step (so a concurrent HSET survives an HDEL that did not see
// it, and concurrent HSETs are all kept), deltas end where full exchanges
// do, and after healing all replicas hold one state.
func TestHashFieldsMatchReference(t *testing.T) {
	for seed := range uint64(300) {
		full, delta := newHashModel(3), newHashModel(3)
		rng := rand.New(rand.NewPCG(seed, 11))
		for step := range 250 {
			r, f := rng.IntN(3), fmt.Sprint("f", rng.IntN(5))
			switch op := rng.IntN(10); {
			case op < 5:
				v := fmt.Sprint("v", step)
				full.write(r, f, v, false)
				delta.write(r, f, v, false)
			case op < 7:
				full.write(r, f, "", true)
				delta.write(r, f, "", true)
			default:
				to := (r + 1 + rng.IntN(2)) % 3
				full.sync(r, to, false)
				delta.sync(r, to, true)
			}
			for i := range 3 {
				for fi := range 5 {
					f := fmt.Sprint("f", fi)
					got, want := full.values(i, f), full.refs[i].values(f)
					if !slices.Equal(got, want) {
						t.Fatalf("seed %d step %d: replica %d field %s holds %q, the reference %q", seed, step, i, f, got, want)
					}
					if d := delta.values(i, f); !slices.Equal(d, got) {
						t.Fatalf("seed %d step %d: replica %d field %s after deltas %q, after full exchanges %q", seed, step, i, f, d, got)
					}
				}
			}
		}
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
		for f, o := range full.reps[0] {
			for i := 1; i < 3; i++ {
				if !o.Equal(full.reps[i][f]) || !o.Equal(delta.reps[i][f]) {
					t.Fatalf("seed %d: field %s differs between replicas after healing", seed, f)
				}
			}
		}
	}
}
