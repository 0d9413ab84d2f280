package ring

import (
	"cmp"
	"slices"
)

// This file applies a join to the replay: see doc.go.

func (st *replay) join(x int32) {
	i, _ := slices.BinarySearch(st.live, x)
	st.live = slices.Insert(st.live, i, x)
	st.wsum += st.w[x]
	switch s := len(st.live) - 1; {
	case s == 0:
		st.layers = 1
		for p := range st.q {
			st.place(int32(p*st.n), x)
		}
	case s < st.n:
		// Every node holds every partition: x fills a new layer, then
		// takes its primaries by exchanging roles with the donors.
		r := st.layers
		st.layers++
		for p := range st.q {
			st.place(int32(p*st.n+r), x)
		}
		want := roundDiv(int64(st.q)*st.w[x], st.wsum)
		u := st.levelOthers(x, int(want), true, true)
		cand := slices.Clone(st.cand)
		for j, d := range cand {
			if u[j] == 0 {
				continue
			}
			keepAll := func(int32) bool { return true }
			for _, ps := range st.best(x, st.list[0][d], u[j], keepAll) {
				p := int(ps.s) / st.n
				st.swapLayers(p, 0, st.layerOf(p, x))
			}
		}
	default:
		st.totalTargets()
		if st.layers > 1 && st.totCapped[x] {
			st.heavyJoin(x)
			break
		}
		if st.layers > 1 {
			// Heavy nodes (pool ideal at its cap: they should hold every
			// partition) that hold every partition keep doing so.
			st.poolTargets()
			for _, d := range st.live {
				st.heavy[d] = d != x && st.capped[d] && int(st.k[d]+st.pool[d]) == st.q
			}
		}
		want := roundDiv(int64(st.q)*st.w[x], st.wsum)
		st.takeFor(x, int(want), true)
		if st.layers > 1 {
			st.poolTargets()
			for _, d := range st.live {
				st.heavy[d] = d != x && st.capped[d] && int(st.k[d]+st.pool[d]) == st.q
			}
			if st.capped[x] {
				st.takeAll(x)
			} else {
				v := roundDiv(st.poolNum[x], st.poolDen)
				st.takeFor(x, int(min(v, int64(st.q)-int64(st.k[x]))), false)
			}
		}
		clear(st.heavy)
	}
}

// excess is node d's primary or pool excess.
func (st *replay) excess(d int32, primary bool) int64 {
	if primary {
		return st.primaryExcess(d)
	}
	return st.poolExcess(d)
}

// levelOthers levels m units of the primary or pool layers over the live
// nodes other than x and not marked done (see level); st.cand holds the
// candidates, parallel to the result. Taking, a node's capacity is its
// load in those layers; giving, the partitions it does not hold.
func (st *replay) levelOthers(x int32, m int, take, primary bool) []int {
	return st.levelOthersCap(x, m, take, primary, false)
}

// levelOthersCap is levelOthers; with roles, a node may receive up to
// Q - k primary roles (every node holds every partition).
func (st *replay) levelOthersCap(x int32, m int, take, primary, roles bool) []int {
	st.cand, st.ex, st.capa = st.cand[:0], st.ex[:0], st.capa[:0]
	for _, d := range st.live {
		if d == x || st.done[d] {
			continue
		}
		st.cand = append(st.cand, d)
		st.ex = append(st.ex, st.excess(d, primary))
		var c int64
		switch {
		case take && primary:
			c = int64(st.k[d])
		case take && st.capped[d]:
			c = max(0, int64(st.pool[d])-(int64(st.q)-int64(st.k[d])))
		case take:
			c = int64(st.pool[d])
		case roles:
			c = int64(st.q) - int64(st.k[d])
		default:
			c = int64(st.q) - int64(st.k[d]) - int64(st.pool[d])
		}
		st.capa = append(st.capa, c)
	}
	den := st.wsum
	if !primary {
		den = st.poolDen
	}
	u, _ := level(m, st.cand, st.ex, st.capa, den, take)
	return u
}

// best returns the slots of slots that pass keep, node x's u most preferred
// partitions first (fewer if there are not enough).
func (st *replay) best(x int32, slots []int32, u int, keep func(int32) bool) []prefSlot {
	st.sel = st.sel[:0]
	if keep == nil {
		for _, s := range slots {
			if p := int(s) / st.n; !st.mark[p] {
				st.sel = append(st.sel, prefSlot{st.prefer(x, p), s})
			}
		}
	} else {
		for _, s := range slots {
			if keep(s) {
				st.sel = append(st.sel, prefSlot{st.prefer(x, int(s)/st.n), s})
			}
		}
	}
	if u >= len(st.sel) {
		slices.SortFunc(st.sel, func(a, b prefSlot) int { return cmp.Compare(b.pref, a.pref) })
		return st.sel
	}
	if u == 1 {
		b := 0
		for i, c := range st.sel {
			if c.pref > st.sel[b].pref {
				b = i
			}
		}
		st.sel[0] = st.sel[b]
		return st.sel[:1]
	}
	selectTop(st.sel, u)
	top := st.sel[:u]
	slices.SortFunc(top, func(a, b prefSlot) int { return cmp.Compare(b.pref, a.pref) })
	return top
}

// selectTop reorders xs so that its first u entries are the u of largest
// pref (all prefs distinct), in some order: quickselect with a
// median-of-three pivot.
func selectTop(xs []prefSlot, u int) {
	lo, hi := 0, len(xs)-1
	for lo < hi {
		mid := lo + (hi-lo)/2
		a, b, c := xs[lo].pref, xs[mid].pref, xs[hi].pref
		pivot := max(min(a, b), min(max(a, b), c))
		i, j := lo, hi
		for i <= j {
			for xs[i].pref > pivot {
				i++
			}
			for xs[j].pref < pivot {
				j--
			}
			if i <= j {
				xs[i], xs[j] = xs[j], xs[i]
				i++
				j--
			}
		}
		switch {
		case u-1 <= j:
			hi = j
		case u-1 >= i:
			lo = i
		default:
			return
		}
	}
}

// inLayers reports whether slot s is in the primary layer (primary) or in
// the pool layers (!primary).
func (st *replay) inLayers(s int32, primary bool) bool {
	return (int(s)%st.n == 0) == primary
}

// takeFor moves m slots of the primary or pool layers to the joiner x: the
// units are leveled over the other nodes (most over their ideal first) and
// each donor gives the slots of its partitions that x prefers among those
// x does not hold yet. A donor that has too few such partitions is
// exhausted and the rest of the units are leveled again over the others.
func (st *replay) takeFor(x int32, m int, primary bool) {
	clear(st.done)
	st.from = map[int]int32{}
	st.markNode = x
	for _, l := range st.list {
		for _, s := range l[x] {
			st.mark[int(s)/st.n] = true
		}
	}
	defer func() {
		for _, l := range st.list {
			for _, s := range l[x] {
				st.mark[int(s)/st.n] = false
			}
		}
		st.from, st.markNode = nil, -1
	}()
	for m > 0 {
		u := st.levelOthers(x, m, true, primary)
		cand := slices.Clone(st.cand)
		moved := 0
		for j, d := range cand {
			if u[j] == 0 {
				continue
			}
			var keep func(int32) bool // nil: partitions x does not hold
			if st.heavy[d] {
				keep = func(s int32) bool {
					p := int(s) / st.n
					return !st.mark[p] && st.poolDonor(p) >= 0
				}
			}
			got := st.best(x, st.list[kindIdx(primary)][d], u[j], keep)
			n := len(got)
			for _, ps := range got {
				p := int(ps.s) / st.n
				if !st.heavy[d] {
					st.unplace(ps.s)
					st.place(ps.s, x)
					st.from[p] = d
					continue
				}
				// A heavy donor keeps the partition: x takes the pool
				// slot of another holder and the primary role from d.
				r := st.poolDonor(p)
				s := int32(p*st.n + r)
				st.unplace(s)
				st.place(s, x)
				st.swapLayers(p, 0, r)
			}
			for n < u[j] && !st.heavy[d] && st.augment(x, d, primary) {
				n++
			}
			moved += n
			if n < u[j] {
				st.done[d] = true
			}
		}
		if moved == 0 {
			return
		}
		m -= moved
	}
}

// augment lets donor d give x one more slot when all of d's partitions are
// already x's: it searches, breadth first, for a chain d -> b1 -> ... -> z
// where each node holds (in the same layers) a partition that x took from
// the next one in this event, and z holds a partition x does not; then
// each takes over the previous one's partition and z gives its free one.
// Only x gains, and every donor but d gives as many slots as before.
// Donors are visited in BFS order, partitions in ascending order. Heavy
// donors (which keep their partitions) take no part.
func (st *replay) augment(x, d int32, primary bool) bool {
	type edge struct {
		prev int32
		p    int
	}
	parent := map[int32]edge{d: {-1, -1}}
	queue := []int32{d}
	for len(queue) > 0 {
		a := queue[0]
		queue = queue[1:]
		for _, s := range st.sortedSlots(a, primary) {
			p := int(s) / st.n
			if st.layerOf(p, x) < 0 {
				// Found: z = a gives p; walk back.
				st.unplace(s)
				st.place(s, x)
				st.from[p] = a
				for b := a; parent[b].prev >= 0; b = parent[b].prev {
					e := parent[b]
					xs := int32(e.p*st.n + st.layerOf(e.p, x))
					st.unplace(xs)
					st.place(xs, b)
					as := int32(e.p*st.n + st.layerOf(e.p, e.prev))
					st.unplace(as)
					st.place(as, x)
					st.from[e.p] = e.prev
				}
				return true
			}
			b, ok := st.from[p]
			if !ok || st.heavy[b] || !st.inLayers(int32(p*st.n+st.layerOf(p, x)), primary) {
				continue
			}
			if _, seen := parent[b]; !seen {
				parent[b] = edge{a, p}
				queue = append(queue, b)
			}
		}
	}
	return false
}

// takeAll gives the heavy joiner x every partition it does not hold: in
// x's order of preference, each from the pool holder of largest excess
// that is not heavy. (Leveling by donor, as takeFor does, would leave the
// donors unbalanced here: x needs every partition, so which node leaves
// each one is forced by who else is there.)
func (st *replay) takeAll(x int32) {
	st.sel = st.sel[:0]
	for p := range st.q {
		if st.layerOf(p, x) < 0 {
			st.sel = append(st.sel, prefSlot{st.prefer(x, p), int32(p)})
		}
	}
	slices.SortFunc(st.sel, func(a, b prefSlot) int { return cmp.Compare(b.pref, a.pref) })
	for _, ps := range st.sel {
		p := int(ps.s)
		if r := st.poolDonor(p); r >= 0 {
			s := int32(p*st.n + r)
			st.unplace(s)
			st.place(s, x)
		}
	}
}

// heavyJoin joins a heavy node x (its ideal replica load is Q): x takes a
// pool slot in every partition, in its order of preference, each time from
// the pool holder of largest total excess that is not itself heavy and
// holding every partition; then x takes round(Q·w/W) primary roles by
// exchanging layers with primaries, leveled over the others' primary
// excess as in the other joins. Only x gains.
func (st *replay) heavyJoin(x int32) {
	for _, d := range st.live {
		st.heavy[d] = d != x && st.totCapped[d] && int(st.k[d]+st.pool[d]) == st.q
	}
	var order []prefSlot
	for p := range st.q {
		if st.layerOf(p, x) < 0 {
			order = append(order, prefSlot{st.prefer(x, p), int32(p)})
		}
	}
	slices.SortFunc(order, func(a, b prefSlot) int { return cmp.Compare(b.pref, a.pref) })
	for _, ps := range order {
		p := int(ps.s)
		best, bestR := int32(-1), -1
		for r := 1; r < st.layers; r++ {
			y := st.slot[p*st.n+r]
			if st.heavy[y] {
				continue
			}
			if best < 0 || st.totalExcess(y) > st.totalExcess(best) || st.totalExcess(y) == st.totalExcess(best) && y < best {
				best, bestR = y, r
			}
		}
		if best >= 0 {
			s := int32(p*st.n + bestR)
			st.unplace(s)
			st.place(s, x)
		}
	}
	clear(st.heavy)
	// x holds no primary yet: it takes its roles from the primaries.
	want := int(roundDiv(int64(st.q)*st.w[x], st.wsum))
	u := st.levelOthers(x, want, true, true)
	cand := slices.Clone(st.cand)
	keep := func(s int32) bool { return st.layerOf(int(s)/st.n, x) >= 0 }
	for j, d := range cand {
		if u[j] == 0 {
			continue
		}
		for _, ps := range st.best(x, st.list[0][d], u[j], keep) {
			p := int(ps.s) / st.n
			st.swapLayers(p, 0, st.layerOf(p, x))
		}
	}
}
