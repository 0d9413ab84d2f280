package replica

import (
	"bytes"
	"context"
	"encoding/binary"

	"github.com/dynakv/dynakv/replication"
	"github.com/dynakv/dynakv/ring"
)

// ReadIndex answers a range read of one sorted set's score index (see
// index.go): it passes over q.Skip entries in the query's direction,
// counting them and folding their positions into a digest, then returns up
// to q.Limit entries with the elements' states (the replica's own copies).
// It costs a seek, the entries passed over (keys only) and the entries
// returned: what the range holds elsewhere is not read. It implements
// replication.IndexReader.
func (l *Local) ReadIndex(ctx context.Context, q replication.IndexQuery) (replication.IndexResult, error) {
	var res replication.IndexResult
	if err := ctx.Err(); err != nil {
		return res, err
	}
	base := indexBase(q.Pos, q.Prefix)
	lo, hi := base, ring.PrefixEnd(base)
	if q.Start != nil {
		lo = append(bytes.Clone(base), q.Start...)
	}
	if q.End != nil {
		hi = append(bytes.Clone(base), q.End...)
	}
	iter := l.store.Iterate
	if q.Reverse {
		iter = l.store.IterateReverse
	}
	var sorts [][]byte
	var ctxErr error
	err := iter(lo, hi, func(k, v []byte) bool {
		sort := k[len(base):]
		if res.Skipped < q.Skip {
			if res.Skipped%4096 == 0 {
				if ctxErr = ctx.Err(); ctxErr != nil {
					return false
				}
			}
			var state uint64
			if len(v) == 8 {
				state = binary.BigEndian.Uint64(v)
			}
			res.Skipped++
			res.Digest ^= replication.IndexDigest(sort, state)
			res.Last = append(res.Last[:0], sort...)
			return true
		}
		if len(sorts) >= q.Limit {
			res.More = true
			return false
		}
		sorts = append(sorts, bytes.Clone(sort))
		return true
	})
	if err == nil {
		err = ctxErr
	}
	if err != nil {
		return replication.IndexResult{}, err
	}
	res.Entries = make([]replication.IndexEntry, 0, len(sorts))
	for _, sort := range sorts {
		if len(sort) < 8 {
			continue
		}
		member := sort[8:]
		key := append(binary.BigEndian.AppendUint64(bytes.Clone(q.Prefix), ring.MemberHash(member)), member...)
		o, err := l.ReadOwn(ctx, key)
		if isUnreadable(err) {
			continue // damaged: the other replicas answer for it
		}
		if err != nil {
			return replication.IndexResult{}, err
		}
		res.Entries = append(res.Entries, replication.IndexEntry{Sort: sort, Key: key, Obj: o})
	}
	return res, nil
}
