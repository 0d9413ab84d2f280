package ring

import (
	"cmp"
	"math/big"
	"slices"
	"strings"
)

// naiveRing is the reference implementation of the replay: the same rules
// as New, written as directly as possible. It keeps only the table of
// layers (no per-node slot lists, no positions, no heaps), recounts every
// load from the table when it needs it, computes every ideal in exact
// rational arithmetic, levels one unit at a time by scanning all nodes and
// picks slots by sorting every candidate. It shares with New only the hash
// primitives (HashKey, pairHash, partitionSalt) and the tail rule.
type naiveRing struct {
	q, np int
	ids   []string   // live members by index: sorted by (id hash, id)
	pref  [][]string // full preference list per partition
}

type naiveState struct {
	q, n   int
	layers int
	recs   []Member
	live   []int
	rows   [][]int // rows[p][r]: node of layer r of partition p
}

func (st *naiveState) pref(d, p int) uint64 {
	return pairHash(HashKey([]byte(st.recs[d].ID)).Hi, partitionSalt(p))
}

func (st *naiveState) wsum() int64 {
	var w int64
	for _, d := range st.live {
		w += int64(st.recs[d].Weight)
	}
	return w
}

func (st *naiveState) kOf(d int) int {
	c := 0
	for p := range st.q {
		if st.rows[p][0] == d {
			c++
		}
	}
	return c
}

func (st *naiveState) poolOf(d int) int {
	c := 0
	for p := range st.q {
		if slices.Contains(st.rows[p][1:], d) {
			c++
		}
	}
	return c
}

func (st *naiveState) layerOf(p, d int) int { return slices.Index(st.rows[p], d) }

func (st *naiveState) primIdeal(d int) *big.Rat {
	return big.NewRat(int64(st.q)*int64(st.recs[d].Weight), st.wsum())
}

// poolIdeal water-fills (layers-1)*Q over the live nodes by weight, node d
// capped at Q - k(d).
func (st *naiveState) poolIdeal() map[int]*big.Rat {
	ideal, _ := st.poolIdealCapped()
	return ideal
}

func (st *naiveState) poolIdealCapped() (map[int]*big.Rat, map[int]bool) {
	capped := map[int]bool{}
	for {
		rest := int64(st.layers-1) * int64(st.q)
		var wrest int64
		for _, d := range st.live {
			if capped[d] {
				rest -= int64(st.q - st.kOf(d))
			} else {
				wrest += int64(st.recs[d].Weight)
			}
		}
		changed := false
		for _, d := range st.live {
			c := int64(st.q - st.kOf(d))
			if !capped[d] && rest*int64(st.recs[d].Weight) >= c*wrest {
				capped[d], changed = true, true
			}
		}
		if !changed {
			out := map[int]*big.Rat{}
			for _, d := range st.live {
				if capped[d] {
					out[d] = big.NewRat(int64(st.q-st.kOf(d)), 1)
				} else {
					out[d] = big.NewRat(rest*int64(st.recs[d].Weight), wrest)
				}
			}
			return out, capped
		}
	}
}

func roundRat(x *big.Rat) int {
	y := new(big.Rat).Add(x, big.NewRat(1, 2))
	return int(new(big.Int).Quo(y.Num(), y.Denom()).Int64())
}

// naiveLevel hands out m units among cands one at a time: taking, from the
// node of largest excess; giving, to the node of smallest; ties to the
// smaller index; a node at its capacity is skipped.
func naiveLevel(m int, cands []int, ex []*big.Rat, capa []int, take bool) []int {
	u := make([]int, len(cands))
	for range m {
		b := -1
		for i := range cands {
			if capa[i] == 0 {
				continue
			}
			if b < 0 {
				b = i
				continue
			}
			c := ex[i].Cmp(ex[b])
			if (take && c > 0) || (!take && c < 0) {
				b = i
			}
		}
		if b < 0 {
			break
		}
		u[b]++
		capa[b]--
		if take {
			ex[b] = new(big.Rat).Sub(ex[b], big.NewRat(1, 1))
		} else {
			ex[b] = new(big.Rat).Add(ex[b], big.NewRat(1, 1))
		}
	}
	return u
}

// excess returns node d's primary or pool load minus its ideal.
func (st *naiveState) excess(d int, primary bool, pool map[int]*big.Rat) *big.Rat {
	if primary {
		return new(big.Rat).Sub(big.NewRat(int64(st.kOf(d)), 1), st.primIdeal(d))
	}
	return new(big.Rat).Sub(big.NewRat(int64(st.poolOf(d)), 1), pool[d])
}

// level levels m units over the live nodes but x and those done.
func (st *naiveState) level(x, m int, take, primary, roles bool, done map[int]bool, pool map[int]*big.Rat) ([]int, []int) {
	var cands, capa []int
	var ex []*big.Rat
	for _, d := range st.live {
		if d == x || done[d] {
			continue
		}
		cands = append(cands, d)
		ex = append(ex, st.excess(d, primary, pool))
		var c int
		switch {
		case take && primary:
			c = st.kOf(d)
		case take:
			c = st.poolOf(d)
		case roles:
			c = st.q - st.kOf(d)
		default:
			c = st.q - st.kOf(d) - st.poolOf(d)
		}
		capa = append(capa, c)
	}
	return cands, naiveLevel(m, cands, ex, capa, take)
}

type naiveSlot struct{ p, r int }

// bestFor sorts slots by node d's preference for their partitions, best
// first, and keeps at most u.
func (st *naiveState) bestFor(d int, slots []naiveSlot, u int) []naiveSlot {
	slices.SortFunc(slots, func(a, b naiveSlot) int { return cmp.Compare(st.pref(d, b.p), st.pref(d, a.p)) })
	return slots[:min(u, len(slots))]
}

func (st *naiveState) swap(p, r1, r2 int) {
	st.rows[p][r1], st.rows[p][r2] = st.rows[p][r2], st.rows[p][r1]
}

func (st *naiveState) join(x int) {
	st.live = append(st.live, x)
	slices.Sort(st.live)
	s := len(st.live) - 1
	w := int64(st.recs[x].Weight)
	switch {
	case s == 0:
		st.layers = 1
		for p := range st.q {
			st.rows[p][0] = x
		}
	case s < st.n:
		r := st.layers
		st.layers++
		for p := range st.q {
			st.rows[p][r] = x
		}
		want := roundRat(big.NewRat(int64(st.q)*w, st.wsum()))
		cands, u := st.level(x, want, true, true, false, nil, nil)
		for j, d := range cands {
			var slots []naiveSlot
			for p := range st.q {
				if st.rows[p][0] == d {
					slots = append(slots, naiveSlot{p, 0})
				}
			}
			for _, sl := range st.bestFor(x, slots, u[j]) {
				st.swap(sl.p, 0, st.layerOf(sl.p, x))
			}
		}
	default:
		if tot, totCapped := st.totalIdeal(); st.layers > 1 && totCapped[x] {
			st.heavyJoin(x, tot, totCapped)
			return
		}
		var heavy map[int]bool
		var pool map[int]*big.Rat
		if st.layers > 1 {
			pool, heavy = st.heavySet(x)
		}
		want := roundRat(big.NewRat(int64(st.q)*w, st.wsum()))
		st.take(x, want, true, pool, heavy)
		if st.layers > 1 {
			pool, heavy = st.heavySet(x)
			_, capped := st.poolIdealCapped()
			if capped[x] {
				var ps []int
				for p := range st.q {
					if st.layerOf(p, x) < 0 {
						ps = append(ps, p)
					}
				}
				slices.SortFunc(ps, func(a, b int) int { return cmp.Compare(st.pref(x, b), st.pref(x, a)) })
				for _, p := range ps {
					if r := st.poolDonor(p, pool, heavy); r >= 0 {
						st.rows[p][r] = x
					}
				}
			} else {
				v := roundRat(pool[x])
				st.take(x, min(v, st.q-st.kOf(x)), false, pool, capped)
			}
		}
	}
}

// heavySet returns the pool ideals and the heavy nodes other than x: pool
// ideal at its cap and holding every partition.
func (st *naiveState) heavySet(x int) (map[int]*big.Rat, map[int]bool) {
	pool, capped := st.poolIdealCapped()
	heavy := map[int]bool{}
	for _, d := range st.live {
		heavy[d] = d != x && capped[d] && st.kOf(d)+st.poolOf(d) == st.q
	}
	return pool, heavy
}

// poolDonor is the pool layer of p whose node is not heavy and has the
// largest pool excess (ties to the smaller index), or -1.
func (st *naiveState) poolDonor(p int, pool map[int]*big.Rat, heavy map[int]bool) int {
	best, bestR := -1, -1
	for r := 1; r < st.layers; r++ {
		y := st.rows[p][r]
		if heavy[y] {
			continue
		}
		c := 0
		if best >= 0 {
			c = st.excess(y, false, pool).Cmp(st.excess(best, false, pool))
		}
		if best < 0 || c > 0 || c == 0 && y < best {
			best, bestR = y, r
		}
	}
	return bestR
}

// take moves m slots to x. Primary slots of a heavy donor (for primary)
// stay with it: x takes the pool slot of p's poolDonor and the primary
// role. Pool slots: a capped node gives only what it holds beyond its cap.
func (st *naiveState) take(x, m int, primary bool, pool map[int]*big.Rat, heavy map[int]bool) {
	done := map[int]bool{}
	from := map[int]int{}
	for m > 0 {
		cands, u := st.level(x, m, true, primary, false, done, pool)
		if !primary {
			// Recompute with the capped rule for capacities.
			cands, u = st.levelPool(x, m, done, pool, heavy)
		}
		moved := 0
		for j, d := range cands {
			if u[j] == 0 {
				continue
			}
			var slots []naiveSlot
			for p := range st.q {
				r := st.layerOf(p, d)
				if r >= 0 && (r == 0) == primary && st.layerOf(p, x) < 0 && (!primary || !heavy[d] || st.poolDonor(p, pool, heavy) >= 0) {
					slots = append(slots, naiveSlot{p, r})
				}
			}
			got := st.bestFor(x, slots, u[j])
			for _, sl := range got {
				if primary && heavy[d] {
					r := st.poolDonor(sl.p, pool, heavy)
					st.rows[sl.p][r] = x
					st.swap(sl.p, 0, r)
					continue
				}
				st.rows[sl.p][sl.r] = x
				from[sl.p] = d
			}
			k := len(got)
			for k < u[j] && !heavy[d] && st.augment(x, d, primary, from, heavy) {
				k++
			}
			moved += k
			if k < u[j] {
				done[d] = true
			}
		}
		if moved == 0 {
			return
		}
		m -= moved
	}
}

func (st *naiveState) remove(x int) {
	st.live = slices.DeleteFunc(st.live, func(d int) bool { return d == x })
	switch s := len(st.live); {
	case s == 0:
		for p := range st.q {
			st.rows[p][0] = -1
		}
		st.layers = 0
	case s < st.n:
		var freed []naiveSlot
		for p := range st.q {
			if st.rows[p][0] == x {
				freed = append(freed, naiveSlot{p, 0})
			}
		}
		cands, u := st.level(x, len(freed), false, true, true, nil, nil)
		taken := map[int]bool{}
		for j, y := range cands {
			var slots []naiveSlot
			for _, sl := range freed {
				if !taken[sl.p] {
					slots = append(slots, sl)
				}
			}
			for _, sl := range st.bestFor(y, slots, u[j]) {
				taken[sl.p] = true
				st.swap(sl.p, 0, st.layerOf(sl.p, y))
			}
		}
		last := st.layers - 1
		for p := range st.q {
			st.swap(p, st.layerOf(p, x), last)
			st.rows[p][last] = -1
		}
		st.layers--
	default:
		st.give(x, true, nil)
		if st.layers > 1 {
			pool := st.poolIdeal()
			st.give(x, false, pool)
			_, totCapped := st.totalIdeal()
			st.fillHeavy(pool, totCapped)
		}
	}
}

func (st *naiveState) give(x int, primary bool, pool map[int]*big.Rat) {
	var freed []naiveSlot
	for p := range st.q {
		if r := st.layerOf(p, x); r >= 0 && (r == 0) == primary {
			freed = append(freed, naiveSlot{p, r})
			st.rows[p][r] = -1
		}
	}
	for _, sl := range freed {
		best := -1
		var bestEx *big.Rat
		for _, y := range st.live {
			if st.layerOf(sl.p, y) >= 0 {
				continue
			}
			if e := st.excess(y, primary, pool); best < 0 || e.Cmp(bestEx) < 0 {
				best, bestEx = y, e
			}
		}
		st.rows[sl.p][sl.r] = best
	}
}

func (st *naiveState) fixPrimaries() {
	one := big.NewRat(1, 1)
	for _, d := range st.live {
		for st.excess(d, true, nil).Cmp(one) >= 0 && st.shed(d) {
		}
	}
	for _, d := range st.live {
		for st.excess(d, true, nil).Cmp(new(big.Rat).Neg(one)) <= 0 && st.gain(d) {
		}
	}
}

func (st *naiveState) shed(d int) bool { return st.rolePath(d, true) }

func (st *naiveState) gain(d int) bool { return st.rolePath(d, false) }

// rolePath: breadth-first chain of role exchanges from d to a node below
// its ideal (shed) or above it (gain); see the fast version.
func (st *naiveState) rolePath(d int, shed bool) bool {
	type edge struct{ prev, p int }
	parent := map[int]edge{d: {-1, -1}}
	queue := []int{d}
	for len(queue) > 0 {
		a := queue[0]
		queue = queue[1:]
		for p := range st.q {
			r := st.layerOf(p, a)
			if r < 0 || (r == 0) != shed {
				continue
			}
			var nexts []int
			if shed {
				nexts = st.rows[p][1:st.layers]
			} else {
				nexts = st.rows[p][:1]
			}
			for _, b := range nexts {
				if _, seen := parent[b]; seen {
					continue
				}
				parent[b] = edge{a, p}
				e := st.excess(b, true, nil)
				if (shed && e.Sign() < 0) || (!shed && e.Sign() > 0) {
					for c := b; parent[c].prev >= 0; c = parent[c].prev {
						ed := parent[c]
						st.swap(ed.p, st.layerOf(ed.p, ed.prev), st.layerOf(ed.p, c))
					}
					return true
				}
				queue = append(queue, b)
			}
		}
	}
	return false
}

// naiveNew replays the records' history naively and returns the full
// preference list of every partition.
func naiveNew(q, n int, members []Member) naiveRing {
	recs := slices.Clone(members)
	seed := func(m Member) uint64 { return HashKey([]byte(m.ID)).Hi }
	slices.SortFunc(recs, func(a, b Member) int {
		if c := cmp.Compare(seed(a), seed(b)); c != 0 {
			return c
		}
		return strings.Compare(a.ID, b.ID)
	})
	type ev struct {
		gen    uint64
		remove bool
		d      int
	}
	var evs []ev
	for d, m := range recs {
		evs = append(evs, ev{m.Joined, false, d})
		if m.Removed != 0 {
			evs = append(evs, ev{m.Removed, true, d})
		}
	}
	slices.SortFunc(evs, func(a, b ev) int {
		if a.gen != b.gen {
			return cmp.Compare(a.gen, b.gen)
		}
		if a.remove != b.remove {
			if a.remove {
				return 1
			}
			return -1
		}
		return strings.Compare(recs[a.d].ID, recs[b.d].ID)
	})
	st := &naiveState{q: q, n: n, recs: recs}
	st.rows = make([][]int, q)
	for p := range st.rows {
		st.rows[p] = make([]int, min(n, len(recs)))
		for r := range st.rows[p] {
			st.rows[p][r] = -1
		}
	}
	for _, e := range evs {
		if e.remove {
			st.remove(e.d)
		} else {
			st.join(e.d)
		}
		st.fixPrimaries()
	}
	nr := naiveRing{q: q, np: st.layers}
	for _, d := range st.live {
		nr.ids = append(nr.ids, recs[d].ID)
	}
	tmp := &Ring{ids: nr.ids}
	for p := range q {
		var list []string
		var row []int
		for _, d := range st.rows[p][:st.layers] {
			i := slices.Index(st.live, d)
			row = append(row, i)
			list = append(list, nr.ids[i])
		}
		o := tmp.tailStart(p)
		for t := range len(nr.ids) {
			if i := (o + t) % len(nr.ids); !slices.Contains(row, i) {
				list = append(list, nr.ids[i])
			}
		}
		nr.pref = append(nr.pref, list)
	}
	return nr
}

// levelPool levels m pool units to take over the live nodes but x and
// those done; a capped node (in capped) can give only its pool slots
// beyond its cap Q - k.
func (st *naiveState) levelPool(x, m int, done map[int]bool, pool map[int]*big.Rat, capped map[int]bool) ([]int, []int) {
	var cands, capa []int
	var ex []*big.Rat
	for _, d := range st.live {
		if d == x || done[d] {
			continue
		}
		cands = append(cands, d)
		ex = append(ex, st.excess(d, false, pool))
		c := st.poolOf(d)
		if capped[d] {
			c = max(0, st.poolOf(d)-(st.q-st.kOf(d)))
		}
		capa = append(capa, c)
	}
	return cands, naiveLevel(m, cands, ex, capa, true)
}

// fillHeavy gives each capped node the partitions it lacks, each from the
// pool holder of largest excess that is not capped.
func (st *naiveState) fillHeavy(pool map[int]*big.Rat, capped map[int]bool) {
	for _, d := range st.live {
		if !capped[d] || st.kOf(d)+st.poolOf(d) == st.q {
			continue
		}
		for p := range st.q {
			if st.layerOf(p, d) >= 0 {
				continue
			}
			if r := st.poolDonor(p, pool, capped); r >= 0 {
				st.rows[p][r] = d
			}
		}
	}
}

// augment searches breadth first for a chain of donors d -> ... -> z, each
// holding (in the phase's layers) a partition x took from the next in this
// phase, z holding one x lacks; each takes over the previous one's
// partition. Partitions are scanned in ascending order.
func (st *naiveState) augment(x, d int, primary bool, from map[int]int, heavy map[int]bool) bool {
	type edge struct{ prev, p int }
	parent := map[int]edge{d: {-1, -1}}
	queue := []int{d}
	for len(queue) > 0 {
		a := queue[0]
		queue = queue[1:]
		for p := range st.q {
			r := st.layerOf(p, a)
			if r < 0 || (r == 0) != primary {
				continue
			}
			if st.layerOf(p, x) < 0 {
				st.rows[p][r] = x
				from[p] = a
				for b := a; parent[b].prev >= 0; b = parent[b].prev {
					e := parent[b]
					st.rows[e.p][st.layerOf(e.p, x)] = b
					st.rows[e.p][st.layerOf(e.p, e.prev)] = x
					from[e.p] = e.prev
				}
				return true
			}
			b, ok := from[p]
			if !ok || heavy[b] || (st.layerOf(p, x) == 0) != primary {
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

// totalIdeal water-fills layers*Q over the live nodes by weight, each
// capped at Q.
func (st *naiveState) totalIdeal() (map[int]*big.Rat, map[int]bool) {
	capped := map[int]bool{}
	for {
		rest := int64(st.layers) * int64(st.q)
		var wrest int64
		for _, d := range st.live {
			if capped[d] {
				rest -= int64(st.q)
			} else {
				wrest += int64(st.recs[d].Weight)
			}
		}
		changed := false
		for _, d := range st.live {
			if !capped[d] && rest*int64(st.recs[d].Weight) >= int64(st.q)*wrest {
				capped[d], changed = true, true
			}
		}
		if !changed {
			out := map[int]*big.Rat{}
			for _, d := range st.live {
				if capped[d] {
					out[d] = big.NewRat(int64(st.q), 1)
				} else {
					out[d] = big.NewRat(rest*int64(st.recs[d].Weight), wrest)
				}
			}
			return out, capped
		}
	}
}

// heavyJoin: x takes a pool slot in every partition it lacks (in its order
// of preference) from the pool holder of largest total excess that is not
// heavy; then its primary roles from the primaries, leveled.
func (st *naiveState) heavyJoin(x int, tot map[int]*big.Rat, totCapped map[int]bool) {
	heavy := map[int]bool{}
	for _, d := range st.live {
		heavy[d] = d != x && totCapped[d] && st.kOf(d)+st.poolOf(d) == st.q
	}
	totEx := func(d int) *big.Rat {
		return new(big.Rat).Sub(big.NewRat(int64(st.kOf(d)+st.poolOf(d)), 1), tot[d])
	}
	var ps []int
	for p := range st.q {
		if st.layerOf(p, x) < 0 {
			ps = append(ps, p)
		}
	}
	slices.SortFunc(ps, func(a, b int) int { return cmp.Compare(st.pref(x, b), st.pref(x, a)) })
	for _, p := range ps {
		best, bestR := -1, -1
		for r := 1; r < st.layers; r++ {
			y := st.rows[p][r]
			if heavy[y] {
				continue
			}
			c := 0
			if best >= 0 {
				c = totEx(y).Cmp(totEx(best))
			}
			if best < 0 || c > 0 || c == 0 && y < best {
				best, bestR = y, r
			}
		}
		if best >= 0 {
			st.rows[p][bestR] = x
		}
	}
	want := roundRat(big.NewRat(int64(st.q)*int64(st.recs[x].Weight), st.wsum()))
	cands, u := st.level(x, want, true, true, false, nil, nil)
	for j, d := range cands {
		var slots []naiveSlot
		for p := range st.q {
			if st.rows[p][0] == d && st.layerOf(p, x) >= 0 {
				slots = append(slots, naiveSlot{p, 0})
			}
		}
		for _, sl := range st.bestFor(x, slots, u[j]) {
			st.swap(sl.p, 0, st.layerOf(sl.p, x))
		}
	}
}
