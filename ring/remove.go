package ring

import "slices"

// This file applies a removal to the replay, and the repairs that follow
// any event (primary roles, heavy nodes): see doc.go.

func (st *replay) remove(x int32) {
	i, _ := slices.BinarySearch(st.live, x)
	st.live = slices.Delete(st.live, i, i+1)
	st.wsum -= st.w[x]
	switch s := len(st.live); {
	case s == 0:
		for _, l := range st.list {
			for len(l[x]) > 0 {
				st.unplace(l[x][0])
			}
		}
		st.layers = 0
	case s < st.n:
		// Every node holds every partition: x's primaries go to the
		// others by exchanging roles, then x's slot is closed up by the
		// node of the last layer.
		freed := slices.Clone(st.list[0][x])
		slices.Sort(freed)
		clear(st.done)
		u := st.levelOthersCap(x, len(freed), false, true, true)
		taken := make([]bool, st.q)
		cand := slices.Clone(st.cand)
		for j, y := range cand {
			if u[j] == 0 {
				continue
			}
			keep := func(s int32) bool { return !taken[int(s)/st.n] }
			for _, ps := range st.best(y, freed, u[j], keep) {
				p := int(ps.s) / st.n
				taken[p] = true
				st.swapLayers(p, 0, st.layerOf(p, y))
			}
		}
		last := st.layers - 1
		for p := range st.q {
			st.swapLayers(p, st.layerOf(p, x), last)
			st.unplace(int32(p*st.n + last))
		}
		st.layers--
	default:
		st.giveFrom(x, true)
		if st.layers > 1 {
			st.poolTargets()
			st.giveFrom(x, false)
			st.fillHeavy()
		}
	}
}

// giveFrom hands the removed node x's slots of the primary or pool layers
// to the others, one slot at a time in ascending order: each goes to the
// node of smallest excess (ties to the smaller index) among those that do
// not hold the partition and, for pool slots, are below their cap. There is
// always one when at least N members remain.
func (st *replay) giveFrom(x int32, primary bool) {
	freed := slices.Clone(st.list[kindIdx(primary)][x])
	slices.Sort(freed)
	for _, s := range freed {
		st.unplace(s)
	}
	for _, s := range freed {
		p := int(s) / st.n
		best, bestEx := int32(-1), int64(0)
		for _, y := range st.live {
			if st.layerOf(p, y) >= 0 {
				continue
			}
			if e := st.excess(y, primary); best < 0 || e < bestEx {
				best, bestEx = y, e
			}
		}
		st.place(s, best)
	}
}

// fillHeavy gives every heavy node (total ideal Q) the partitions
// it does not hold, each from the pool holder of largest excess that is
// not itself heavy. A removal needs it when it makes a node heavy: the
// only case where responsibilities move between remaining nodes.
func (st *replay) fillHeavy() {
	st.totalTargets()
	for _, d := range st.live {
		st.heavy[d] = st.totCapped[d]
	}
	for _, d := range st.live {
		if !st.totCapped[d] || int(st.k[d]+st.pool[d]) == st.q {
			continue
		}
		for p := range st.q {
			if st.layerOf(p, d) >= 0 {
				continue
			}
			if r := st.poolDonor(p); r >= 0 {
				s := int32(p*st.n + r)
				st.unplace(s)
				st.place(s, d)
			}
		}
	}
	clear(st.heavy)
}

// poolDonor returns the pool layer of partition p whose node gives up its
// slot when a heavy primary keeps the partition: the node of largest pool
// excess that is not heavy (ties to the smaller index), or -1.
func (st *replay) poolDonor(p int) int {
	best, bestR := int32(-1), -1
	for r := 1; r < st.layers; r++ {
		y := st.slot[p*st.n+r]
		if st.heavy[y] {
			continue
		}
		if best < 0 || st.poolExcess(y) > st.poolExcess(best) || st.poolExcess(y) == st.poolExcess(best) && y < best {
			best, bestR = y, r
		}
	}
	return bestR
}

// fixPrimaries restores the primary balance after an event where leveling
// alone could not: a node above the ceiling of its ideal hands a primary
// role down a chain of co-holders to one below its ideal, and a node below
// the floor takes one up a chain from one above (see rolePath), by
// exchanging layers within partitions (no data moves). Nodes are visited
// in index order.
func (st *replay) fixPrimaries() {
	for _, d := range st.live {
		for st.primaryExcess(d) >= st.wsum {
			if !st.shedPrimary(d) {
				break
			}
		}
	}
	for _, d := range st.live {
		for st.primaryExcess(d) <= -st.wsum {
			if !st.gainPrimary(d) {
				break
			}
		}
	}
}

func (st *replay) sortedSlots(d int32, primary bool) []int32 {
	out := slices.Clone(st.list[kindIdx(primary)][d])
	slices.Sort(out)
	return out
}

func (st *replay) shedPrimary(d int32) bool {
	return st.rolePath(d, true)
}

func (st *replay) gainPrimary(d int32) bool {
	return st.rolePath(d, false)
}

// rolePath moves one primary role away from d (shed) or to d (!shed) along
// the shortest chain of role exchanges within partitions. Shedding, an
// edge a -> b means a is primary of a partition p that b holds in another
// layer, and the chain ends at a node below its ideal (excess < 0), which
// gains a role; every node on the way keeps its count. Gaining, an edge
// a -> b means a holds a partition b is primary of, and the chain ends at
// a node above its ideal. Breadth first; nodes' partitions in ascending
// order, co-holders in layer order. No data moves.
func (st *replay) rolePath(d int32, shed bool) bool {
	type edge struct {
		prev int32
		p    int
	}
	parent := map[int32]edge{d: {-1, -1}}
	queue := []int32{d}
	for len(queue) > 0 {
		a := queue[0]
		queue = queue[1:]
		for _, s := range st.sortedSlots(a, shed) {
			p := int(s) / st.n
			var nexts []int32
			if shed {
				nexts = st.slot[p*st.n+1 : p*st.n+st.layers]
			} else {
				nexts = st.slot[p*st.n : p*st.n+1]
			}
			for _, b := range nexts {
				if _, seen := parent[b]; seen {
					continue
				}
				parent[b] = edge{a, p}
				e := st.primaryExcess(b)
				if (shed && e < 0) || (!shed && e > 0) {
					for c := b; parent[c].prev >= 0; c = parent[c].prev {
						ed := parent[c]
						// At ed.p, exchange the roles of ed.prev and c.
						st.swapLayers(ed.p, st.layerOf(ed.p, ed.prev), st.layerOf(ed.p, c))
					}
					return true
				}
				queue = append(queue, b)
			}
		}
	}
	return false
}
