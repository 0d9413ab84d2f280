package resp

import (
	"bytes"
	"context"
	"slices"

	"github.com/dynakv/dynakv/replication"
	"github.com/dynakv/dynakv/ring"
)

// ReadIndex implements replication.IndexReader naively for the test
// replica: it computes the sorted set's index from its elements at every
// call (node/replica keeps it in its store), so the front end's range
// reads are tested against the rule the index follows.
func (m *memLocal) ReadIndex(ctx context.Context, q replication.IndexQuery) (replication.IndexResult, error) {
	var res replication.IndexResult
	m.mu.Lock()
	if m.err != nil {
		m.mu.Unlock()
		return res, m.err
	}
	type entry struct {
		sort, key []byte
		obj       *replication.Object
	}
	var es []entry
	for k, o := range m.data {
		kb := []byte(k)
		if !bytes.HasPrefix(kb, q.Prefix) || ring.HashKey(kb).Hi != q.Pos {
			continue
		}
		_, _, member, ok := ring.ParseElementKey(kb)
		f, live := replication.ScoreOf(o)
		if !ok || !live {
			continue
		}
		sort := replication.SortKey(f, member)
		if (q.Start == nil || bytes.Compare(sort, q.Start) >= 0) && (q.End == nil || bytes.Compare(sort, q.End) < 0) {
			es = append(es, entry{sort, kb, o})
		}
	}
	m.mu.Unlock()
	slices.SortFunc(es, func(a, b entry) int { return bytes.Compare(a.sort, b.sort) })
	if q.Reverse {
		slices.Reverse(es)
	}
	for _, e := range es {
		switch {
		case res.Skipped < q.Skip:
			res.Skipped++
			res.Digest ^= replication.IndexDigest(e.sort, replication.Digest(e.key, e.obj))
			res.Last = e.sort
		case len(res.Entries) >= q.Limit:
			res.More = true
			return res, nil
		default:
			res.Entries = append(res.Entries, replication.IndexEntry{Sort: e.sort, Key: e.key, Obj: e.obj})
		}
	}
	return res, nil
}
