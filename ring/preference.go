package ring

import (
	"iter"
	"slices"
)

// Preference is a partition's preference list: its replicas (the first
// min(N, S) entries, primary first), then every other member in a fixed
// order derived from the partition, the extended list that a sloppy quorum
// walks when replicas are down. It is a small value (a ring pointer and a
// partition) that refers to the ring's tables: copying it and reading the
// replicas never allocate.
//
// Only the replicas are stored. The rest of the list is computed: the
// members in a rotation order (members sorted by the hash of their id)
// starting at a position derived from the partition, skipping the replicas.
// At costs O(1) for a replica and O(N log N) beyond; All walks the whole list
// in O(S·N). The tail spreads a failed node's partitions evenly over the
// others, like the replicas do, but it is not balanced exactly and is
// reshuffled by any membership change; it is meant for hinted handoff, whose
// hints name their intended replica.
type Preference struct {
	r *Ring
	p int
}

// PreferenceList returns partition p's preference list. It panics if p is
// out of range.
func (r *Ring) PreferenceList(p int) Preference {
	if p < 0 || p >= r.q {
		panic("ring: partition out of range")
	}
	return Preference{r: r, p: p}
}

// KeyPreferenceList returns the preference list of key's partition. It is
// the hot path of request routing: it hashes key once and does not allocate
// or retain key.
func (r *Ring) KeyPreferenceList(key []byte) Preference {
	return Preference{r: r, p: HashKey(key).Partition(r.q)}
}

// Partition returns the list's partition.
func (pl Preference) Partition() int { return pl.p }

// Len returns the length of the list: the number of members.
func (pl Preference) Len() int { return len(pl.r.ids) }

// Replicas returns the first min(N, S) entries: the partition's replicas,
// primary first. Read-only; it does not allocate.
func (pl Preference) Replicas() []string { return pl.r.Replicas(pl.p) }

// tailStart is the rotation position where the partition's tail begins.
func (r *Ring) tailStart(p int) int {
	return int(fmix64(partitionSalt(p)^0x5851f42d4c957f2d) % uint64(len(r.ids)))
}

// At returns the i-th entry of the list, 0 <= i < Len(); it panics
// otherwise.
func (pl Preference) At(i int) string {
	r := pl.r
	if i < 0 || i >= len(r.ids) {
		panic("ring: preference list index out of range")
	}
	if i < r.np {
		return r.replicas[pl.p*r.np+i]
	}
	s := len(r.ids)
	o := r.tailStart(pl.p)
	// Rotation offsets of the replicas from o, sorted.
	var d [MaxReplicas]int
	n := 0
	for _, h := range r.replicaIdx[pl.p*r.np : pl.p*r.np+r.np] {
		v := int(h) - o
		if v < 0 {
			v += s
		}
		j := n
		for j > 0 && d[j-1] > v {
			d[j] = d[j-1]
			j--
		}
		d[j] = v
		n++
	}
	// The (i-np)-th offset that is not a replica's.
	t := i - r.np
	for _, v := range d[:n] {
		if v <= t {
			t++
		}
	}
	return r.ids[(o+t)%s]
}

// All iterates over the whole list in order, yielding each position and
// node id.
func (pl Preference) All() iter.Seq2[int, string] {
	return func(yield func(int, string) bool) {
		r := pl.r
		row := r.replicaIdx[pl.p*r.np : pl.p*r.np+r.np]
		for i, h := range row {
			if !yield(i, r.ids[h]) {
				return
			}
		}
		s := len(r.ids)
		o := r.tailStart(pl.p)
		i := r.np
		for t := range s {
			h := int32((o + t) % s)
			if slices.Contains(row, h) {
				continue
			}
			if !yield(i, r.ids[h]) {
				return
			}
			i++
		}
	}
}

// AppendTo appends the whole list to dst and returns the extended slice.
func (pl Preference) AppendTo(dst []string) []string {
	for _, id := range pl.All() {
		dst = append(dst, id)
	}
	return dst
}
