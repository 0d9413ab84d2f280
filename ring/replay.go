package ring

// This file replays the membership history: the ring is built by applying
// every join and removal, in generation order, as an incremental step on N
// layers of Q slots (see doc.go). Node indexes are positions in the records
// sorted by (id hash, id): every tie is broken in that order.

// replay is the state of the ring during the replay.
type replay struct {
	q, n   int
	layers int // active layers: min(N, live members)

	seed []uint64 // per record: HashKey(id).Hi
	w    []int64  // per record: weight
	live []int32  // current members, ascending
	wsum int64    // their total weight

	// slot[p*n+r] is the node in layer r of partition p (layer 0 is the
	// primary), -1 when empty. list[0][d] holds node d's layer-0 slots and
	// list[1][d] its other slots, in any order;
	// and pos[s] is slot s's position in its node's list.
	slot []int32
	pos  []int32
	list [2][][]int32
	k    []int32 // layer-0 slots (primaries) per node
	pool []int32 // slots in layers >= 1 per node

	// Pool targets of the current event (see poolTargets).
	capped  []bool
	poolNum []int64
	poolDen int64

	// Total targets of the current event (see totalTargets).
	totCapped []bool
	totNum    []int64
	totDen    int64

	// Scratch.
	cand  []int32
	ex    []int64
	capa  []int64
	sel   []prefSlot
	done  []bool
	heavy []bool
	from  map[int]int32 // during takeFor: donor of each partition x took

	// During takeFor, mark[p] tells whether the joiner markNode holds p.
	markNode int32
	mark     []bool
}

// prefSlot is a slot and a node's preference for its partition.
type prefSlot struct {
	pref uint64
	s    int32
}

// prefer is node d's preference for partition p (larger is better): the
// rendezvous hash of the pair, distinct for distinct partitions.
func (st *replay) prefer(d int32, p int) uint64 {
	return pairHash(st.seed[d], partitionSalt(p))
}

func newReplay(q, n int, recs []Member) *replay {
	s := len(recs)
	st := &replay{q: q, n: n}
	st.seed = make([]uint64, s)
	st.w = make([]int64, s)
	for i, m := range recs {
		st.seed[i] = HashKey([]byte(m.ID)).Hi
		st.w[i] = int64(m.Weight)
	}
	st.slot = make([]int32, q*n)
	for i := range st.slot {
		st.slot[i] = -1
	}
	st.pos = make([]int32, q*n)
	st.list[0] = make([][]int32, s)
	st.list[1] = make([][]int32, s)
	st.k = make([]int32, s)
	st.pool = make([]int32, s)
	st.capped = make([]bool, s)
	st.poolNum = make([]int64, s)
	st.totCapped = make([]bool, s)
	st.totNum = make([]int64, s)
	st.done = make([]bool, s)
	st.heavy = make([]bool, s)
	st.markNode = -1
	st.mark = make([]bool, q)
	return st
}

// place puts node d into the empty slot s.
func (st *replay) place(s int32, d int32) {
	if d == st.markNode {
		st.mark[int(s)/st.n] = true
	}
	st.slot[s] = d
	k := st.kindOf(s)
	st.pos[s] = int32(len(st.list[k][d]))
	st.list[k][d] = append(st.list[k][d], s)
	st.count(s, d, 1)
}

// unplace empties slot s.
func (st *replay) unplace(s int32) {
	d := st.slot[s]
	if d == st.markNode {
		st.mark[int(s)/st.n] = false
	}
	k := st.kindOf(s)
	l := st.list[k][d]
	i := st.pos[s]
	last := l[len(l)-1]
	l[i] = last
	st.pos[last] = i
	st.list[k][d] = l[:len(l)-1]
	st.slot[s] = -1
	st.count(s, d, -1)
}

func (st *replay) count(s int32, d int32, delta int32) {
	if int(s)%st.n == 0 {
		st.k[d] += delta
	} else {
		st.pool[d] += delta
	}
}

// swapLayers exchanges the nodes of layers r1 and r2 of partition p: a
// change of roles within the partition that moves no data.
func (st *replay) swapLayers(p, r1, r2 int) {
	if r1 == r2 {
		return
	}
	s1, s2 := int32(p*st.n+r1), int32(p*st.n+r2)
	d1, d2 := st.slot[s1], st.slot[s2]
	st.unplace(s1)
	st.unplace(s2)
	st.place(s1, d2)
	st.place(s2, d1)
}

// kindOf is 0 for a layer-0 slot, 1 for the others.
func (st *replay) kindOf(s int32) int {
	if int(s)%st.n == 0 {
		return 0
	}
	return 1
}

// kindIdx is kindOf for a phase: 0 for the primary layer.
func kindIdx(primary bool) int {
	if primary {
		return 0
	}
	return 1
}

// layerOf returns the layer of node d in partition p, or -1.
func (st *replay) layerOf(p int, d int32) int {
	row := st.slot[p*st.n : p*st.n+st.layers]
	for r, h := range row {
		if h == d {
			return r
		}
	}
	return -1
}

// apply runs one event.
func (st *replay) apply(ev event) {
	clear(st.done)
	if ev.remove {
		st.remove(ev.node)
	} else {
		st.join(ev.node)
	}
	st.fixPrimaries()
}
