package ring

import "slices"

// This file holds the repairs for the rare cases the greedy passes leave
// unsolved: a partition with fewer than np holders after pass 1, a node
// below its lower bound after pass 2. Primary responsibilities never move. Each finds a shortest chain of moves by breadth-first
// search over nodes, visited in index order, so the result stays a function
// of the member set. They happen only in small or extreme configurations
// (few nodes, tiny Q, very uneven weights).

// heldLists returns, for every node, the partitions it holds, ascending.
func (b *builder) heldLists() [][]int32 {
	lists := make([][]int32, b.s)
	for p := range b.q {
		for _, h := range b.hold[p*b.np : p*b.np+b.np] {
			if h >= 0 {
				lists[h] = append(lists[h], int32(p))
			}
		}
	}
	return lists
}

// repairUnfilled gives partition p one more holder: some node v not holding
// p takes it; if v is at its upper bound it hands one of its partitions to a
// node not holding that one, and so on until a node with room. It reports
// whether a chain was found.
func (b *builder) repairUnfilled(p int) bool {
	held := b.heldLists()
	parent := make([]int32, b.s) // the node that hands us our incoming partition, -1 at the start
	in := make([]int32, b.s)     // the partition this node takes
	seen := make([]bool, b.s)
	var queue []int32
	unseen := b.s
	for v := range b.s {
		if !b.holds(p, int32(v)) {
			seen[v] = true
			unseen--
			parent[v], in[v] = -1, int32(p)
			queue = append(queue, int32(v))
		}
	}
	for len(queue) > 0 {
		v := queue[0]
		queue = queue[1:]
		if b.load[v] < b.hi[v] {
			// Apply the chain back to the start.
			for v >= 0 {
				if parent[v] < 0 {
					b.addHolder(int(in[v]), v)
				} else {
					b.replaceHolder(int(in[v]), parent[v], v)
				}
				v = parent[v]
			}
			return true
		}
		for _, y := range held[v] {
			if unseen == 0 {
				break
			}
			if b.prim[y] == v {
				continue
			}
			for c := range b.s {
				if !seen[c] && !b.holds(int(y), int32(c)) {
					seen[c] = true
					unseen--
					parent[c], in[c] = v, y
					queue = append(queue, int32(c))
				}
			}
		}
	}
	return false
}

// repairLow gives node j one more responsibility: it takes a partition from
// a holder; if that holder is at its lower bound it takes another partition
// from another node, and so on until a node above its lower bound. It
// reports whether a chain was found.
func (b *builder) repairLow(j int32) bool {
	held := b.heldLists()
	child := make([]int32, b.s) // the node we hand our partition to
	out := make([]int32, b.s)   // the partition we hand over
	seen := make([]bool, b.s)
	seen[j] = true
	queue := []int32{j}
	for len(queue) > 0 {
		v := queue[0]
		queue = queue[1:]
		if v != j && b.load[v] > b.lo[v] {
			for v != j {
				b.replaceHolder(int(out[v]), v, child[v])
				v = child[v]
			}
			return true
		}
		// v takes a partition it lacks from an unvisited holder.
		for a := range b.s {
			if seen[a] {
				continue
			}
			for _, y := range held[a] {
				if b.prim[y] != int32(a) && !b.holds(int(y), v) {
					seen[a] = true
					child[a], out[a] = v, y
					queue = append(queue, int32(a))
					break
				}
			}
		}
	}
	return false
}

// primariesAmongHolders picks each partition's primary among its holders so
// that node i is primary of exactly k[i] partitions: greedily in increasing
// key order, then by augmenting chains (a node at its quota hands one of its
// primaries to another holder of that partition) for the partitions left
// over. It reports false, leaving some primaries unset, if the holder sets
// admit no such choice; that happens only in degenerate configurations (Q
// smaller than the number of members, with very uneven weights).
func (b *builder) primariesAmongHolders() bool {
	q, np := b.q, b.np
	type pair struct {
		key  uint64
		node int32
		p    int32
	}
	pairs := make([]pair, 0, q*np)
	for p := range q {
		b.prim[p] = -1
		for _, h := range b.hold[p*np : p*np+np] {
			pairs = append(pairs, pair{b.key(p, int(h)), h, int32(p)})
		}
	}
	sortPairs(pairs, func(a, c pair) bool {
		if a.key != c.key {
			return a.key < c.key
		}
		if a.node != c.node {
			return a.node < c.node
		}
		return a.p < c.p
	})
	count := make([]int32, b.s)
	lists := make([][]int32, b.s) // primary partitions per node
	pos := make([]int32, q)       // index of p in its primary's list
	setPrim := func(p int, i int32) {
		if old := b.prim[p]; old >= 0 {
			l := lists[old]
			last := l[len(l)-1]
			l[pos[p]] = last
			pos[last] = pos[p]
			lists[old] = l[:len(l)-1]
			count[old]--
		}
		b.prim[p] = i
		pos[p] = int32(len(lists[i]))
		lists[i] = append(lists[i], int32(p))
		count[i]++
	}
	for _, pr := range pairs {
		if b.prim[pr.p] < 0 && count[pr.node] < b.k[pr.node] {
			setPrim(int(pr.p), pr.node)
		}
	}
	parent := make([]int32, b.s)
	in := make([]int32, b.s)
	seen := make([]bool, b.s)
	row := make([]int32, np)
	sortedHolders := func(p int) []int32 {
		copy(row, b.hold[p*np:p*np+np])
		slices.Sort(row)
		return row
	}
	for p := range q {
		if b.prim[p] >= 0 {
			continue
		}
		clear(seen)
		var queue []int32
		for _, h := range sortedHolders(p) {
			seen[h] = true
			parent[h], in[h] = -1, int32(p)
			queue = append(queue, h)
		}
		done := false
		for len(queue) > 0 && !done {
			v := queue[0]
			queue = queue[1:]
			if count[v] < b.k[v] {
				// v takes its incoming partition; each parent its own.
				for v >= 0 {
					setPrim(int(in[v]), v)
					v = parent[v]
				}
				done = true
				break
			}
			ys := slices.Clone(lists[v])
			slices.Sort(ys)
			for _, y := range ys {
				for _, c := range sortedHolders(int(y)) {
					if !seen[c] {
						seen[c] = true
						parent[c], in[c] = v, y
						queue = append(queue, c)
					}
				}
			}
		}
		if !done {
			return false
		}
	}
	return true
}
