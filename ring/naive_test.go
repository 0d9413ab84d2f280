package ring

import (
	"cmp"
	"math/big"
	"slices"
	"strings"
)

// naiveRing is the reference implementation: the same placement rules as
// New, written as directly as possible (every pair of every partition and
// node materialised and sorted, quotas in exact rational arithmetic) and
// with none of New's shortcuts (candidate lists, deferred acceptance, heaps
// of streams). It shares with New only the score primitive (pairKey), the
// tail rule, and the rare-case repairs, which run on the same builder
// state.
type naiveRing struct {
	q, np int
	ids   []string   // by node index: sorted by (id hash, id)
	pref  [][]string // full preference list per partition
}

func naiveNew(q, n int, members []Member) naiveRing {
	ms := slices.Clone(members)
	seed := func(m Member) uint64 { return HashKey([]byte(m.ID)).Hi }
	slices.SortFunc(ms, func(a, b Member) int {
		if c := cmp.Compare(seed(a), seed(b)); c != 0 {
			return c
		}
		return strings.Compare(a.ID, b.ID)
	})
	s := len(ms)
	np := min(n, s)

	// Quotas, with big rationals.
	W := 0
	for _, m := range ms {
		W += m.Weight
	}
	k := make([]int32, s)
	left := q
	for i, m := range ms {
		share := big.NewRat(int64(q*m.Weight), int64(W))
		fl := new(big.Int).Quo(share.Num(), share.Denom())
		k[i] = int32(fl.Int64())
		left -= int(k[i])
	}
	for i, m := range ms {
		if left > 0 && !big.NewRat(int64(q*m.Weight), int64(W)).IsInt() {
			k[i]++
			left--
		}
	}
	lo, hi := make([]int32, s), make([]int32, s)
	if np == 1 {
		copy(lo, k)
		copy(hi, k)
	} else {
		ideal := make([]*big.Rat, s)
		capped := make([]bool, s)
		for {
			rest := big.NewRat(int64(np*q), 1)
			wrest := 0
			for i, m := range ms {
				if capped[i] {
					rest.Sub(rest, big.NewRat(int64(q), 1))
				} else {
					wrest += m.Weight
				}
			}
			changed := false
			for i, m := range ms {
				share := new(big.Rat).Mul(rest, big.NewRat(int64(m.Weight), int64(max(wrest, 1))))
				if !capped[i] && share.Cmp(big.NewRat(int64(q), 1)) >= 0 {
					capped[i], changed = true, true
				}
				ideal[i] = share
				if capped[i] {
					ideal[i] = big.NewRat(int64(q), 1)
				}
			}
			if !changed {
				break
			}
		}
		floor := func(x *big.Rat) int64 { return new(big.Int).Quo(x.Num(), x.Denom()).Int64() }
		ceil := func(x *big.Rat) int64 {
			f := floor(x)
			if !x.IsInt() {
				f++
			}
			return f
		}
		scale := func(x *big.Rat, pct int64) *big.Rat { return new(big.Rat).Mul(x, big.NewRat(pct, 100)) }
		sum := int64(0)
		for i := range ms {
			l := min(floor(ideal[i]), ceil(scale(ideal[i], 95)))
			h := min(max(ceil(ideal[i]), floor(scale(ideal[i], 105))), int64(q))
			if capped[i] {
				l, h = int64(q), int64(q)
			}
			l = max(l, int64(k[i]))
			lo[i], hi[i] = int32(l), int32(h)
			sum += l
		}
		for sum > int64(np*q) {
			best := -1
			for i := range lo {
				if lo[i] > k[i] && (best < 0 || lo[i]-k[i] > lo[best]-k[best]) {
					best = i
				}
			}
			lo[best]--
			sum--
		}
	}

	// The builder's state, filled here by the naive passes.
	b := newBuilder(q, np, ms)
	if slices.Compare(b.k, k) != 0 || slices.Compare(b.lo, lo) != 0 || slices.Compare(b.hi, hi) != 0 {
		panic("naive: quotas differ from the builder's")
	}
	type pair = naivePair
	var pairs []pair
	for p := range q {
		for i := range s {
			pairs = append(pairs, pair{b.key(p, i), i, p})
		}
	}
	slices.SortFunc(pairs, func(a, c pair) int {
		if x := cmp.Compare(a.key, c.key); x != 0 {
			return x
		}
		if x := cmp.Compare(a.node, c.node); x != 0 {
			return x
		}
		return cmp.Compare(a.p, c.p)
	})
	b = naivePlace(b, ms, pairs, k, lo, hi, false)
	nr := naiveRing{q: q, np: np}
	for _, m := range ms {
		nr.ids = append(nr.ids, m.ID)
	}
	tmp := &Ring{ids: nr.ids}
	for p := range q {
		var rest []int
		for _, h := range b.hold[p*np : p*np+np] {
			if h != b.prim[p] {
				rest = append(rest, int(h))
			}
		}
		slices.SortFunc(rest, func(x, y int) int {
			if c := cmp.Compare(b.key(p, x), b.key(p, y)); c != 0 {
				return c
			}
			return cmp.Compare(x, y)
		})
		row := append([]int{int(b.prim[p])}, rest...)
		list := []string{}
		for _, i := range row {
			list = append(list, nr.ids[i])
		}
		o := tmp.tailStart(p)
		for t := range s {
			i := (o + t) % s
			if !slices.Contains(row, i) {
				list = append(list, nr.ids[i])
			}
		}
		nr.pref = append(nr.pref, list)
	}
	return nr
}

type naivePair struct {
	key     uint64
	node, p int
}

// naivePlace fills b: replicas first then primaries among them, or, when
// primFirst (or when that fails), primaries first then the other replicas.
func naivePlace(b *builder, ms []Member, pairs []naivePair, k, lo, hi []int32, primFirst bool) *builder {
	q, s, np := b.q, b.s, b.np
	prim := make([]int, q)
	for p := range prim {
		prim[p] = -1
	}
	if np == 1 || primFirst {
		// Primaries: greedy in pair order, node i taking at most k[i].
		count := make([]int32, s)
		for _, pr := range pairs {
			if prim[pr.p] < 0 && count[pr.node] < k[pr.node] {
				prim[pr.p] = pr.node
				count[pr.node]++
			}
		}
		for p := range q {
			b.prim[p] = int32(prim[p])
			b.addHolder(p, int32(prim[p]))
		}
	}
	if np == 1 {
		return b
	}
	if np == s {
		for p := range q {
			for i := range s {
				if i != prim[p] {
					b.addHolder(p, int32(i))
				}
			}
		}
		if !primFirst && !b.primariesAmongHolders() {
			panic("naive: no primaries with full replication")
		}
		return b
	}
	// Pass 1: greedy in pair order, node loads capped at hi.
	for _, pr := range pairs {
		if int(b.cnt[pr.p]) < np && b.load[pr.node] < hi[pr.node] && !b.holds(pr.p, int32(pr.node)) {
			b.addHolder(pr.p, int32(pr.node))
		}
	}
	for p := range q {
		for int(b.cnt[p]) < np {
			if !b.repairUnfilled(p) {
				panic("naive: unfillable")
			}
		}
	}
	// Pass 2: nodes below lo take partitions in pair order from the
	// worst-keyed non-primary holder above its own lo.
	for _, pr := range pairs {
		j := int32(pr.node)
		if b.load[j] >= lo[j] || b.holds(pr.p, j) {
			continue
		}
		worst, worstKey := int32(-1), uint64(0)
		for _, h := range b.hold[pr.p*np : pr.p*np+np] {
			if int(h) != prim[pr.p] && b.load[h] > lo[h] {
				if kk := b.key(pr.p, int(h)); worst < 0 || kk > worstKey || kk == worstKey && h > worst {
					worst, worstKey = h, kk
				}
			}
		}
		if worst >= 0 {
			b.replaceHolder(pr.p, worst, j)
		}
	}
	for i := range s {
		for b.load[i] < lo[i] {
			if !b.repairLow(int32(i)) {
				panic("naive: lower bound unreachable")
			}
		}
	}
	if !primFirst && !b.primariesAmongHolders() {
		return naivePlace(newBuilder(q, np, ms), ms, pairs, k, lo, hi, true)
	}
	return b
}
