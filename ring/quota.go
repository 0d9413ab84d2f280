package ring

// This file turns weights into target counts, in exact integer arithmetic.

// Replica load band, in percent of the ideal: a node's replica load stays
// within [bandLowPct, bandHighPct] percent of its ideal, or within one
// responsibility of it when the ideal is below 20.
const (
	bandLowPct  = 95
	bandHighPct = 105
)

// primaryQuotas apportions q partitions to the weights: each node gets the
// floor of its ideal share q*w/W, and the units left over go one each to the
// first nodes in index order (the order of their id hashes) whose share is
// not an integer. Every quota is therefore the floor or the ceiling of the
// ideal share, and they sum to q. Giving the extra units by a fixed node
// order rather than by largest remainder keeps the quotas stable: when a
// node joins or leaves, the nodes that get the extra unit form a prefix of
// the same order, so few quotas change.
func primaryQuotas(q int, weights []int) []int32 {
	var total int64
	for _, w := range weights {
		total += int64(w)
	}
	k := make([]int32, len(weights))
	left := int64(q)
	for i, w := range weights {
		num := int64(q) * int64(w)
		k[i] = int32(num / total)
		left -= num / total
	}
	for i, w := range weights {
		if left == 0 {
			break
		}
		if int64(q)*int64(w)%total != 0 {
			k[i]++
			left--
		}
	}
	return k
}

// replicaIdeal returns each node's ideal replica load as the fraction
// num[i]/den[i] (responsibilities out of np*q): np*q*w/W, except that a node
// can hold a partition only once, so a node whose share would exceed q is
// capped at q and the excess is spread over the others in proportion to
// their weights (water-filling, repeated until no share exceeds q).
func replicaIdeal(q, np int, weights []int) (num, den []int64) {
	s := len(weights)
	capped := make([]bool, s)
	for {
		rest := int64(np) * int64(q)
		var wrest int64
		for i, w := range weights {
			if capped[i] {
				rest -= int64(q)
			} else {
				wrest += int64(w)
			}
		}
		changed := false
		for i, w := range weights {
			if !capped[i] && rest*int64(w) >= int64(q)*wrest {
				capped[i], changed = true, true
			}
		}
		if changed {
			continue
		}
		num, den = make([]int64, s), make([]int64, s)
		for i, w := range weights {
			if capped[i] {
				num[i], den[i] = int64(q), 1
			} else {
				num[i], den[i] = rest*int64(w), wrest
			}
		}
		return num, den
	}
}

// floorDiv and ceilDiv divide non-negative a by positive b.
func floorDiv(a, b int64) int64 { return a / b }
func ceilDiv(a, b int64) int64  { return (a + b - 1) / b }

// replicaBand returns the bounds [lo, hi] of each node's replica load: the
// 95%..105% band around the ideal, widened to the ideal's floor and ceiling
// so it always holds an integer, and with lo raised to the node's primary
// quota (a primary is one of the partition's replicas). With one replica per
// partition the band is the primary quota itself.
func replicaBand(q, np int, weights []int, k []int32) (lo, hi []int32) {
	s := len(weights)
	lo, hi = make([]int32, s), make([]int32, s)
	if np == 1 {
		copy(lo, k)
		copy(hi, k)
		return lo, hi
	}
	num, den := replicaIdeal(q, np, weights)
	var sum int64
	for i := range weights {
		l := min(floorDiv(num[i], den[i]), ceilDiv(num[i]*bandLowPct, den[i]*100))
		h := max(ceilDiv(num[i], den[i]), floorDiv(num[i]*bandHighPct, den[i]*100))
		if num[i] == int64(q)*den[i] {
			l, h = int64(q), int64(q) // capped: holds every partition
		}
		l = max(l, int64(k[i]))
		h = min(h, int64(q))
		lo[i], hi[i] = int32(l), int32(h)
		sum += l
	}
	// Raising lo to the primary quota can only matter for nodes whose
	// ideal primary share is below one partition; if it made the lower
	// bounds unsatisfiable, give back the excess from the nodes with the
	// most slack above their quota.
	for sum > int64(np)*int64(q) {
		best := -1
		for i := range lo {
			if lo[i] > k[i] && (best < 0 || lo[i]-k[i] > lo[best]-k[best]) {
				best = i
			}
		}
		lo[best]--
		sum--
	}
	return lo, hi
}
