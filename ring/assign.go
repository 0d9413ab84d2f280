package ring

import (
	"cmp"
	"slices"
)

// This file computes which nodes hold each partition: the capacity-bounded
// rendezvous assignment described in doc.go. Node indexes are positions in
// the id-sorted member list.

// builder holds the inputs and the state of one ring computation.
type builder struct {
	q, s, np int      // partitions, members, replicas per partition (min(N, S))
	seeds    []uint64 // per node: HashKey(id).Hi
	scales   []uint64 // per node: weightScale(weight)
	salts    []uint64 // per partition
	k        []int32  // primary quota per node
	lo, hi   []int32  // replica load band per node

	hold []int32 // q*np holder slots, -1 when empty
	cnt  []int32 // filled slots per partition
	load []int32 // responsibilities per node
	prim []int32 // primary node per partition
}

func newBuilder(q, np int, ms []Member) *builder {
	s := len(ms)
	b := &builder{q: q, s: s, np: np}
	b.seeds = make([]uint64, s)
	b.scales = make([]uint64, s)
	weights := make([]int, s)
	for i, m := range ms {
		b.seeds[i] = HashKey([]byte(m.ID)).Hi
		b.scales[i] = weightScale(m.Weight)
		weights[i] = m.Weight
	}
	b.salts = make([]uint64, q)
	for p := range b.salts {
		b.salts[p] = partitionSalt(p)
	}
	b.k = primaryQuotas(q, weights)
	b.lo, b.hi = replicaBand(q, np, weights, b.k)
	b.hold = make([]int32, q*np)
	for i := range b.hold {
		b.hold[i] = -1
	}
	b.cnt = make([]int32, q)
	b.load = make([]int32, s)
	b.prim = make([]int32, q)
	for p := range b.prim {
		b.prim[p] = -1
	}
	return b
}

func (b *builder) key(p, i int) uint64 {
	return pairKey(b.seeds[i], b.salts[p], b.scales[i])
}

// cand is a node with its key for some partition.
type cand struct {
	key  uint64
	node int32
}

// candLess is a partition's ranking of nodes: by key, then node index.
func candLess(a, b cand) bool {
	return a.key < b.key || a.key == b.key && a.node < b.node
}

func candCmp(a, b cand) int {
	if c := cmp.Compare(a.key, b.key); c != 0 {
		return c
	}
	return cmp.Compare(a.node, b.node)
}

// holds reports whether node i holds partition p.
func (b *builder) holds(p int, i int32) bool {
	for _, h := range b.hold[p*b.np : p*b.np+b.np] {
		if h == i {
			return true
		}
	}
	return false
}

func (b *builder) addHolder(p int, i int32) {
	slots := b.hold[p*b.np : p*b.np+b.np]
	for j, h := range slots {
		if h < 0 {
			slots[j] = i
			b.cnt[p]++
			b.load[i]++
			return
		}
	}
	panic("ring: internal error: partition already full")
}

func (b *builder) removeHolder(p int, i int32) {
	slots := b.hold[p*b.np : p*b.np+b.np]
	for j, h := range slots {
		if h == i {
			slots[j] = -1
			b.cnt[p]--
			b.load[i]--
			return
		}
	}
	panic("ring: internal error: removing a node that does not hold the partition")
}

// replaceHolder moves partition p's responsibility from node from to node to.
func (b *builder) replaceHolder(p int, from, to int32) {
	slots := b.hold[p*b.np : p*b.np+b.np]
	for j, h := range slots {
		if h == from {
			slots[j] = to
			b.load[from]--
			b.load[to]++
			return
		}
	}
	panic("ring: internal error: replacing a node that does not hold the partition")
}

// rankAll returns every node ranked for partition p.
func (b *builder) rankAll(p int) []cand {
	cs := make([]cand, b.s)
	for i := range cs {
		cs[i] = cand{b.key(p, i), int32(i)}
	}
	slices.SortFunc(cs, candCmp)
	return cs
}

// topCandidates fills dst (length t) with the t best-ranked nodes for p.
func (b *builder) topCandidates(p int, dst []cand) {
	t := len(dst)
	n := 0
	salt := b.salts[p]
	for i := 0; i < b.s; i++ {
		c := cand{pairKey(b.seeds[i], salt, b.scales[i]), int32(i)}
		if n == t && !candLess(c, dst[t-1]) {
			continue
		}
		j := min(n, t-1)
		for j > 0 && candLess(c, dst[j-1]) {
			dst[j] = dst[j-1]
			j--
		}
		dst[j] = c
		if n < t {
			n++
		}
	}
}

// deferredAcceptance gives each partition need more nodes, in the greedy
// order of increasing pair key with node i accepting at most caps[i]
// partitions: the result of going through all (partition, node) pairs
// sorted by (key, node, partition) and taking each pair whose partition
// still needs a node and whose node is under its cap. It is computed as
// deferred acceptance (partitions propose down their ranking, a full node
// keeps its best-keyed partitions), which yields that same, unique, stable
// assignment while looking only at each partition's few best candidates.
// exclude[p], if not -1, is a node that p must not get; add and remove
// record the decisions. It returns the partitions left short of need
// because every node they could take was full.
func (b *builder) deferredAcceptance(need int, caps []int32, exclude []int32, add, remove func(p int, i int32)) []int {
	q := b.q
	t := min(b.s, need+7)
	cands := make([]cand, q*t)
	for p := range q {
		b.topCandidates(p, cands[p*t:p*t+t])
	}
	full := map[int][]cand{} // complete rankings, for partitions that ran out
	next := make([]int32, q)
	got := make([]int32, q)

	// Per-node max-heaps of accepted (key, partition), in one arena.
	type acc struct {
		key uint64
		p   int32
	}
	accLess := func(a, c acc) bool { return a.key < c.key || a.key == c.key && a.p < c.p }
	off := make([]int, b.s+1)
	for i := range b.s {
		off[i+1] = off[i] + int(caps[i])
	}
	arena := make([]acc, off[b.s])
	size := make([]int32, b.s)
	siftDown := func(h []acc, j int) {
		for {
			l := 2*j + 1
			if l >= len(h) {
				return
			}
			m := l
			if r := l + 1; r < len(h) && accLess(h[l], h[r]) {
				m = r
			}
			if !accLess(h[j], h[m]) {
				return
			}
			h[j], h[m] = h[m], h[j]
			j = m
		}
	}
	siftUp := func(h []acc, j int) {
		for j > 0 {
			par := (j - 1) / 2
			if !accLess(h[par], h[j]) {
				return
			}
			h[j], h[par] = h[par], h[j]
			j = par
		}
	}

	queue := make([]int32, q)
	for p := range queue {
		queue[p] = int32(q - 1 - p)
	}
	var short []int
	for len(queue) > 0 {
		p := int(queue[len(queue)-1])
		queue = queue[:len(queue)-1]
		for int(got[p]) < need {
			var c cand
			if fl, ok := full[p]; ok {
				if int(next[p]) == len(fl) {
					short = append(short, p) // every node was asked
					break
				}
				c = fl[next[p]]
			} else {
				if int(next[p]) == t {
					full[p] = b.rankAll(p)
					continue
				}
				c = cands[p*t+int(next[p])]
			}
			next[p]++
			i := c.node
			if exclude != nil && exclude[p] == i {
				continue
			}
			h := arena[off[i] : off[i]+int(size[i])]
			a := acc{c.key, int32(p)}
			if int(size[i]) < int(caps[i]) {
				size[i]++
				h = arena[off[i] : off[i]+int(size[i])]
				h[len(h)-1] = a
				siftUp(h, len(h)-1)
				got[p]++
				add(p, i)
				continue
			}
			if len(h) == 0 || !accLess(a, h[0]) {
				continue // rejected
			}
			evicted := int(h[0].p)
			h[0] = a
			siftDown(h, 0)
			got[evicted]--
			remove(evicted, i)
			got[p]++
			add(p, i)
			queue = append(queue, int32(evicted))
		}
	}
	// A partition recorded short may have been served later; report
	// those still short, once each, ascending.
	slices.Sort(short)
	short = slices.Compact(short)
	return slices.DeleteFunc(short, func(p int) bool { return int(got[p]) >= need })
}

// assignPrimaries gives each partition its primary: greedily in increasing
// key order over all (partition, node) pairs, node i taking at most k[i]
// partitions. The quotas sum to Q and every node may take every partition,
// so every partition gets one and every node exactly its quota.
func (b *builder) assignPrimaries() {
	for p := range b.prim {
		b.prim[p] = -1
	}
	short := b.deferredAcceptance(1, b.k, nil,
		func(p int, i int32) { b.prim[p] = i },
		func(p int, i int32) { b.prim[p] = -1 })
	if len(short) > 0 {
		panic("ring: internal error: primary quotas do not cover the partitions")
	}
	for p, i := range b.prim {
		b.addHolder(p, i)
	}
}

// fillFree is pass 1: each partition gets np replicas, greedily in
// increasing key order over all pairs, node i's replica load capped at
// hi[i].
func (b *builder) fillFree() {
	short := b.deferredAcceptance(b.np, b.hi, nil, b.addHolder, b.removeHolder)
	for _, p := range short {
		for int(b.cnt[p]) < b.np {
			if !b.repairUnfilled(p) {
				panic("ring: internal error: no assignment fills every partition")
			}
		}
	}
}

// fill is pass 1 of the primaries-first fallback: with every primary in place, each partition gets np-1
// more replicas, greedily in increasing key order over all pairs, node i's
// replica load capped at hi[i].
func (b *builder) fill() {
	caps := make([]int32, b.s)
	for i := range caps {
		caps[i] = b.hi[i] - b.k[i]
	}
	short := b.deferredAcceptance(b.np-1, caps, b.prim, b.addHolder, b.removeHolder)
	for _, p := range short {
		for int(b.cnt[p]) < b.np {
			if !b.repairUnfilled(p) {
				panic("ring: internal error: no assignment fills every partition")
			}
		}
	}
}

// stream is an underloaded node's pairs in key order, for pass 2.
type stream struct {
	node int32
	list []cand // cand.node holds the partition here
	pos  int
	all  bool // list holds every candidate partition
}

// raise is pass 2: every node below its band's lower bound takes, in
// increasing key order over all (node, partition) pairs of such nodes, the
// partitions it does not hold yet, from the holder with the worst key among
// those above their own lower bound (never from the primary). Nodes at or above their lower bound
// never drop below it, so this only ever serves the nodes that started low.
func (b *builder) raise() {
	var streams []*stream
	for i := range b.s {
		if b.load[i] < b.lo[i] {
			st := &stream{node: int32(i)}
			b.refill(st, 2*int(b.lo[i]-b.load[i])+16)
			streams = append(streams, st)
		}
	}
	if len(streams) == 0 {
		return
	}
	head := func(st *stream) cand { return st.list[st.pos] }
	less := func(x, y *stream) bool {
		a, c := head(x), head(y)
		if a.key != c.key {
			return a.key < c.key
		}
		if x.node != y.node {
			return x.node < y.node
		}
		return a.node < c.node
	}
	// A binary min-heap of streams by head pair.
	h := streams[:0:0]
	push := func(st *stream) {
		h = append(h, st)
		for j := len(h) - 1; j > 0; {
			par := (j - 1) / 2
			if !less(h[j], h[par]) {
				break
			}
			h[j], h[par] = h[par], h[j]
			j = par
		}
	}
	pop := func() *stream {
		top := h[0]
		last := len(h) - 1
		h[0] = h[last]
		h = h[:last]
		for j := 0; ; {
			l := 2*j + 1
			if l >= len(h) {
				break
			}
			m := l
			if r := l + 1; r < len(h) && less(h[r], h[l]) {
				m = r
			}
			if !less(h[m], h[j]) {
				break
			}
			h[j], h[m] = h[m], h[j]
			j = m
		}
		return top
	}
	for _, st := range streams {
		if len(st.list) > 0 {
			push(st)
		}
	}
	for len(h) > 0 {
		st := pop()
		j := st.node
		c := head(st)
		st.pos++
		if b.load[j] >= b.lo[j] {
			continue // done: drop the stream
		}
		p := int(c.node)
		b.takeFromSurplus(p, j)
		if b.load[j] >= b.lo[j] {
			continue
		}
		if st.pos == len(st.list) {
			if st.all {
				continue
			}
			b.refill(st, 0)
		}
		if st.pos < len(st.list) {
			push(st)
		}
	}
	for i := range b.s {
		for b.load[i] < b.lo[i] {
			if !b.repairLow(int32(i)) {
				panic("ring: internal error: no assignment meets every lower bound")
			}
		}
	}
}

// takeFromSurplus gives node j partition p's responsibility from p's
// non-primary holder with the worst key among those above their lower
// bound, if any.
func (b *builder) takeFromSurplus(p int, j int32) bool {
	worst := cand{node: -1}
	for _, hh := range b.hold[p*b.np : p*b.np+b.np] {
		if hh < 0 || hh == b.prim[p] || b.load[hh] <= b.lo[hh] {
			continue
		}
		c := cand{b.key(p, int(hh)), hh}
		if worst.node < 0 || candLess(worst, c) {
			worst = c
		}
	}
	if worst.node < 0 {
		return false
	}
	b.replaceHolder(p, worst.node, j)
	return true
}

// refill (re)computes a stream's list: the best m partitions node st.node
// does not hold, by (key, partition), after those already consumed; m = 0
// means all of them.
func (b *builder) refill(st *stream, m int) {
	i := int(st.node)
	var last cand
	if st.pos > 0 {
		last = st.list[st.pos-1]
	}
	after := func(c cand) bool { return st.pos == 0 || candLess(last, c) }
	var list []cand
	if m == 0 || m >= b.q {
		for p := range b.q {
			if c := (cand{b.key(p, i), int32(p)}); after(c) && !b.holds(p, st.node) {
				list = append(list, c)
			}
		}
		slices.SortFunc(list, candCmp)
		st.all = true
	} else {
		// Keep the m best in a max-heap.
		list = make([]cand, 0, m)
		for p := range b.q {
			c := cand{b.key(p, i), int32(p)}
			if !after(c) || b.holds(p, st.node) {
				continue
			}
			if len(list) < m {
				list = append(list, c)
				for j := len(list) - 1; j > 0; {
					par := (j - 1) / 2
					if !candLess(list[par], list[j]) {
						break
					}
					list[j], list[par] = list[par], list[j]
					j = par
				}
				continue
			}
			if !candLess(c, list[0]) {
				continue
			}
			list[0] = c
			for j := 0; ; {
				l := 2*j + 1
				if l >= len(list) {
					break
				}
				mx := l
				if r := l + 1; r < len(list) && candLess(list[l], list[r]) {
					mx = r
				}
				if !candLess(list[j], list[mx]) {
					break
				}
				list[j], list[mx] = list[mx], list[j]
				j = mx
			}
		}
		slices.SortFunc(list, candCmp)
		st.all = len(list) < m
	}
	st.list, st.pos = list, 0
}
