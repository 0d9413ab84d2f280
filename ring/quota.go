package ring

// This file holds the integer arithmetic of the targets: each node's ideal
// primary share and ideal pool share (the replica slots beyond the primary),
// as exact fractions with a common denominator, and the leveling that
// decides how many units each node gives or receives in an event.

// primaryExcess is node d's primaries minus its ideal Q·w/W, times W.
func (st *replay) primaryExcess(d int32) int64 {
	return int64(st.k[d])*st.wsum - int64(st.q)*st.w[d]
}

// roundDiv returns num/den rounded to the nearest integer, halves up; num
// and den are positive.
func roundDiv(num, den int64) int64 { return (2*num + den) / (2 * den) }

// poolTargets computes the ideal pool loads of the live nodes: the
// (L-1)·Q pool slots shared in proportion to weight, each node capped at
// Q - k (it holds a partition at most once, and its primaries are already
// counted), the excess of capped nodes spread over the others
// (water-filling). Node d's ideal is poolNum[d]/poolDen.
func (st *replay) poolTargets() {
	total := int64(st.layers-1) * int64(st.q)
	for _, d := range st.live {
		st.capped[d] = false
	}
	for {
		rest, wrest := total, int64(0)
		for _, d := range st.live {
			if st.capped[d] {
				rest -= int64(st.q) - int64(st.k[d])
			} else {
				wrest += st.w[d]
			}
		}
		changed := false
		for _, d := range st.live {
			c := int64(st.q) - int64(st.k[d])
			if !st.capped[d] && rest*st.w[d] >= c*wrest {
				st.capped[d], changed = true, true
			}
		}
		if changed {
			continue
		}
		st.poolDen = max(wrest, 1)
		for _, d := range st.live {
			if st.capped[d] {
				st.poolNum[d] = (int64(st.q) - int64(st.k[d])) * st.poolDen
			} else {
				st.poolNum[d] = rest * st.w[d]
			}
		}
		return
	}
}

// totalTargets computes the ideal replica loads of the live nodes: the
// L·Q slots shared in proportion to weight, each node capped at Q
// (water-filling). Node d's ideal is totNum[d]/totDen; totCapped[d] tells
// whether it is capped (heavy: it should hold every partition).
func (st *replay) totalTargets() {
	total := int64(st.layers) * int64(st.q)
	for _, d := range st.live {
		st.totCapped[d] = false
	}
	for {
		rest, wrest := total, int64(0)
		for _, d := range st.live {
			if st.totCapped[d] {
				rest -= int64(st.q)
			} else {
				wrest += st.w[d]
			}
		}
		changed := false
		for _, d := range st.live {
			if !st.totCapped[d] && rest*st.w[d] >= int64(st.q)*wrest {
				st.totCapped[d], changed = true, true
			}
		}
		if changed {
			continue
		}
		st.totDen = max(wrest, 1)
		for _, d := range st.live {
			if st.totCapped[d] {
				st.totNum[d] = int64(st.q) * st.totDen
			} else {
				st.totNum[d] = rest * st.w[d]
			}
		}
		return
	}
}

// totalExcess is node d's replica load minus its ideal, times totDen.
func (st *replay) totalExcess(d int32) int64 {
	return int64(st.k[d]+st.pool[d])*st.totDen - st.totNum[d]
}

// poolExcess is node d's pool load minus its ideal, times poolDen.
func (st *replay) poolExcess(d int32) int64 {
	return int64(st.pool[d])*st.poolDen - st.poolNum[d]
}

// level hands out m units one at a time among the candidates cand (node
// indexes) with excesses ex (scaled so that one unit is den) and
// capacities capa (how many units each may still take): with take, each
// unit comes from the candidate of largest excess, whose excess then drops
// by den; otherwise each unit goes to the candidate of smallest excess,
// whose excess then grows by den. Ties go to the smaller node index (the
// earlier node in id-hash order). It returns the units per candidate
// (parallel to cand) and how many units were handed out.
func level(m int, cand []int32, ex []int64, capa []int64, den int64, take bool) ([]int, int) {
	u := make([]int, len(cand))
	h := levelHeap{ex: ex, node: cand, take: take}
	for i := range cand {
		if capa[i] > 0 {
			h.push(int32(i))
		}
	}
	done := 0
	for done < m && len(h.items) > 0 {
		i := h.items[0]
		u[i]++
		capa[i]--
		done++
		if take {
			ex[i] -= den
		} else {
			ex[i] += den
		}
		if capa[i] == 0 {
			h.pop()
		} else {
			h.fix0()
		}
	}
	return u, done
}

// levelHeap is a binary heap of candidate positions, best first.
type levelHeap struct {
	items []int32
	ex    []int64
	node  []int32
	take  bool
}

func (h *levelHeap) better(a, b int32) bool {
	ea, eb := h.ex[a], h.ex[b]
	if ea != eb {
		return ea > eb == h.take
	}
	return h.node[a] < h.node[b]
}

func (h *levelHeap) push(i int32) {
	h.items = append(h.items, i)
	j := len(h.items) - 1
	for j > 0 {
		parent := (j - 1) / 2
		if !h.better(h.items[j], h.items[parent]) {
			break
		}
		h.items[j], h.items[parent] = h.items[parent], h.items[j]
		j = parent
	}
}

func (h *levelHeap) pop() {
	last := len(h.items) - 1
	h.items[0] = h.items[last]
	h.items = h.items[:last]
	if last > 0 {
		h.fix0()
	}
}

func (h *levelHeap) fix0() {
	j, n := 0, len(h.items)
	for {
		l := 2*j + 1
		if l >= n {
			return
		}
		best := l
		if r := l + 1; r < n && h.better(h.items[r], h.items[l]) {
			best = r
		}
		if !h.better(h.items[best], h.items[j]) {
			return
		}
		h.items[j], h.items[best] = h.items[best], h.items[j]
		j = best
	}
}
