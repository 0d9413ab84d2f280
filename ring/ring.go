package ring

import (
	"cmp"
	"fmt"
	"slices"
	"strings"
)

// Ring maps partitions to the nodes that hold them. It is immutable once
// built and safe for concurrent use; slices it returns point into its
// internal tables and must not be modified.
type Ring struct {
	q, n, np int
	members  []Member // current members, sorted by id
	ids      []string // by node index: nodes sorted by the hash of their id
	index    map[string]int32

	// replicas[p*np : p*np+np] are partition p's replicas, primary first;
	// replicaIdx holds the same as node indexes.
	replicas   []string
	replicaIdx []int32

	// primaries[primOff[i]:primOff[i+1]] are node i's primary partitions,
	// ascending.
	primaries []int
	primOff   []int32

	repLoad []int32 // replica responsibilities per node
	version uint64
	size    int
}

// New builds the ring of q partitions (ValidPartitions(q)) with n replicas
// per partition from the membership records: every member that ever
// joined, removed ones included (their tombstones). The ring is the replay
// of the history the records describe (see the package documentation), so
// it depends only on q, n and the set of records: not on their order in
// members, nor on the order in which a node learnt them. New does not
// retain members.
func New(q, n int, members []Member) (*Ring, error) {
	if !ValidPartitions(q) {
		return nil, fmt.Errorf("%w: %d", ErrBadPartitions, q)
	}
	if n < 1 || n > MaxReplicas {
		return nil, fmt.Errorf("%w: %d, want 1..%d", ErrBadReplicas, n, MaxReplicas)
	}
	recs, err := canonicalMembers(members)
	if err != nil {
		return nil, err
	}
	evs := events(recs)
	peak, live := 0, 0
	for _, ev := range evs {
		if ev.remove {
			live--
		} else {
			live++
		}
		peak = max(peak, live)
	}
	if int64(q)*int64(len(recs)) > MaxWork || int64(q)*int64(min(n, peak)) > MaxTable {
		return nil, fmt.Errorf("%w: %d partitions x %d records", ErrTooLarge, q, len(recs))
	}
	// Internally records are ordered by the hash of their id: every tie
	// is broken in that order, which is independent of the other records.
	byHash := slices.Clone(recs)
	seed := func(m Member) uint64 { return HashKey([]byte(m.ID)).Hi }
	slices.SortFunc(byHash, func(a, c Member) int {
		if sa, sc := seed(a), seed(c); sa != sc {
			return cmp.Compare(sa, sc)
		}
		return strings.Compare(a.ID, c.ID)
	})
	st := newReplay(q, min(n, peak), byHash)
	for _, ev := range events(byHash) {
		st.apply(ev)
	}
	return st.ring(n, recs, byHash), nil
}

// ring turns the replay's final state into the lookup tables.
func (st *replay) ring(n int, recs, byHash []Member) *Ring {
	q, np := st.q, st.layers
	r := &Ring{q: q, n: n, np: np}
	for _, m := range recs {
		if m.Removed == 0 {
			r.members = append(r.members, m)
		}
	}
	s := len(st.live)
	compact := make([]int32, len(byHash))
	r.ids = make([]string, s)
	r.index = make(map[string]int32, s)
	for i, d := range st.live {
		compact[d] = int32(i)
		r.ids[i] = byHash[d].ID
		r.index[byHash[d].ID] = int32(i)
	}
	r.replicaIdx = make([]int32, q*np)
	r.replicas = make([]string, q*np)
	r.repLoad = make([]int32, s)
	r.primOff = make([]int32, s+1)
	for p := range q {
		for j := range np {
			i := compact[st.slot[p*st.n+j]]
			r.replicaIdx[p*np+j] = i
			r.replicas[p*np+j] = r.ids[i]
			r.repLoad[i]++
		}
		r.primOff[r.replicaIdx[p*np]+1]++
	}
	for i := range s {
		r.primOff[i+1] += r.primOff[i]
	}
	r.primaries = make([]int, q)
	fill := slices.Clone(r.primOff[:s])
	for p := range q {
		i := r.replicaIdx[p*np]
		r.primaries[fill[i]] = p
		fill[i]++
	}
	enc := appendCanonical(nil, q, n, recs)
	r.version, r.size = versionOf(enc), len(enc)
	return r
}

// Q returns the number of partitions.
func (r *Ring) Q() int { return r.q }

// N returns the configured replica count. A partition has
// min(N, len(Members())) replicas: see Replicas.
func (r *Ring) N() int { return r.n }

// Members returns a copy of the current members (the records that are not
// removed), sorted by id.
func (r *Ring) Members() []Member { return slices.Clone(r.members) }

// Len returns the number of members.
func (r *Ring) Len() int { return len(r.members) }

// Version returns a hash of the ring's inputs (the placement algorithm's
// version, Q, N and every record, tombstones included, sorted by id: ids,
// weights and generations): equal inputs, equal rings,
// equal versions. Nodes compare versions to find out cheaply whether they
// agree on the ring.
func (r *Ring) Version() uint64 { return r.version }

// Size returns the size in bytes of the ring's metadata: the canonical
// encoding of Q, N and the records, which is all that has to be gossiped or
// persisted for any node to rebuild the identical ring. The lookup tables
// are derived from it (see TableSize).
func (r *Ring) Size() int { return r.size }

// TableSize returns an estimate of the memory, in bytes, of the ring's
// derived lookup tables.
func (r *Ring) TableSize() int {
	const strHeader, idx = 16, 4
	n := len(r.replicas)*(strHeader+idx) + len(r.primaries)*8 + len(r.primOff)*idx
	n += len(r.ids) * strHeader
	for _, id := range r.ids {
		n += len(id)
	}
	return n
}

// PartitionOf returns the partition of key: HashKey(key).Partition(Q()).
func (r *Ring) PartitionOf(key []byte) int {
	return HashKey(key).Partition(r.q)
}

// Owner returns the primary of partition p: the first node of its
// preference list. It panics if p is out of range.
func (r *Ring) Owner(p int) string {
	return r.replicas[p*r.np]
}

// Replicas returns the replicas of partition p: its first min(N, S) distinct
// nodes, primary first. The slice is the ring's own storage: read-only. It
// does not allocate and panics if p is out of range.
func (r *Ring) Replicas(p int) []string {
	i := p * r.np
	return r.replicas[i : i+r.np : i+r.np]
}

// Partitions returns the partitions whose primary is node id, ascending, or
// nil if id is not a member. The slice is the ring's own storage: read-only.
func (r *Ring) Partitions(id string) []int {
	i, ok := r.index[id]
	if !ok {
		return nil
	}
	return r.primaries[r.primOff[i]:r.primOff[i+1]:r.primOff[i+1]]
}

// Holds reports whether node id is one of partition p's replicas.
func (r *Ring) Holds(id string, p int) bool {
	i, ok := r.index[id]
	if !ok || p < 0 || p >= r.q {
		return false
	}
	return slices.Contains(r.replicaIdx[p*r.np:p*r.np+r.np], i)
}

// Load returns how many partitions node id is primary of and how many it
// holds (its replica responsibilities).
func (r *Ring) Load(id string) (primaries, replicas int) {
	i, ok := r.index[id]
	if !ok {
		return 0, 0
	}
	return int(r.primOff[i+1] - r.primOff[i]), int(r.repLoad[i])
}
