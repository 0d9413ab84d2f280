package node

// The internode service: what a node serves its peers. Every operation is
// one row of the table `service`, from its op code to its handler; a
// handler decodes its request (messages.go), calls the local replica or the
// coordinator, and returns its encoded result, which the transport sends as
// it is. Errors travel as peer errors with a code (errorCode), so the
// caller maps them back onto the same sentinels (remoteErr) without a
// status byte of the node's own.

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/dynakv/dynakv/antientropy"
	"github.com/dynakv/dynakv/node/peer"
	"github.com/dynakv/dynakv/node/replica"
	"github.com/dynakv/dynakv/replication"
	"github.com/dynakv/dynakv/replication/codec"
)

// Operation codes of the peer protocol.
const (
	opRead         byte = 1  // key → state (own copy and hints)
	opReadOwn      byte = 2  // key → own copy (for forwarded writes)
	opMerge        byte = 3  // key, state → ok
	opHint         byte = 4  // owner, key, state → ok
	opCoordinate   byte = 5  // forwarded write → stored state
	opDeliverHints byte = 6  // [key, state]... → ok (hint delivery)
	opReadRange    byte = 7  // from, to, limit → [pos, key, state]..., next, done
	opKeyCount     byte = 8  // → live keys held locally
	opAERoots      byte = 9  // [partition]... → [root]...
	opAEBranches   byte = 10 // [partition]... → [[branch hash]...]...
	opAELeaves     byte = 11 // [partition, branch]... → [[leaf hash]...]...
	opAEKeys       byte = 12 // [partition, leaf]... → [[key, digest]...]...
	opReadMany     byte = 13 // [key]... → [key, own state]...
	opReadKeys     byte = 14 // pos, start, end, limit[, reverse] → [pos, key, state]..., 0, done
	opAEBucketKeys byte = 15 // [partition, leaf, bucket]... → [[key, digest]...]...
	opPublish      byte = 16 // sender, incarnation, seq, [message]... → ok (pubsub.go)
	opReadIndex    byte = 17 // score index query → skipped, digest, [sort, key, state]..., more
)

// operation is one row of the service table.
type operation struct {
	// serve answers one request. req is owned by the handler; the result is
	// handed to the transport as it is.
	serve func(c *cluster, ctx context.Context, req []byte) ([]byte, error)
	// batch marks a replica's cheap requests (point reads, merges, hints),
	// which the peer server hands to ServeBatch several at a time.
	batch bool
}

// service is the table of the internode operations.
var service = [...]operation{
	opRead:         {serve: (*cluster).serveRead, batch: true},
	opReadOwn:      {serve: (*cluster).serveReadOwn, batch: true},
	opMerge:        {serve: (*cluster).serveMerge, batch: true},
	opHint:         {serve: (*cluster).serveHint, batch: true},
	opCoordinate:   {serve: (*cluster).serveCoordinate},
	opDeliverHints: {serve: (*cluster).serveDeliverHints},
	opReadRange:    {serve: (*cluster).serveReadRange},
	opKeyCount:     {serve: (*cluster).serveKeyCount},
	opAERoots:      {serve: aeParts(aeRoots)},
	opAEBranches:   {serve: aeParts(aeBranches)},
	opAELeaves:     {serve: aeRefs(antientropy.Shape.Branches, aeLeaves)},
	opAEKeys:       {serve: aeRefs(antientropy.Shape.Leaves, aeKeys)},
	opReadMany:     {serve: (*cluster).serveReadMany},
	opReadKeys:     {serve: (*cluster).serveReadKeys},
	opAEBucketKeys: {serve: (*cluster).serveAEBucketKeys},
	opPublish:      {serve: (*cluster).servePublish},
	opReadIndex:    {serve: (*cluster).serveReadIndex},
}

// Error codes carried in peer.RemoteError.Code: the sentinels a caller acts
// on. Any other error travels with codeError and its message.
const (
	codeError       byte = 0
	codeUnavailable byte = 1 // replication.ErrUnavailable: too few replicas answered
	codeConflict    byte = 2 // replication.ErrConflict: the context no longer matches
	codeNotReady    byte = 3 // replica.ErrTreesNotReady: the hash trees are being rebuilt
	codeRemoved     byte = 4 // errRemoved: this node was removed from the ring
)

// coded lists each code's sentinel, for both directions.
var coded = []struct {
	code byte
	err  error
}{
	{codeUnavailable, replication.ErrUnavailable},
	{codeConflict, replication.ErrConflict},
	{codeNotReady, replica.ErrTreesNotReady},
	{codeRemoved, errRemoved},
}

// errorCode marks err with the code of the sentinel it wraps.
func errorCode(err error) error {
	for _, c := range coded {
		if errors.Is(err, c.err) {
			return peer.WithCode(c.code, err)
		}
	}
	return err
}

// remoteErr maps a peer's coded error back onto its sentinel, keeping the
// peer's message; errors that are not a peer's pass unchanged.
func remoteErr(err error) error {
	var re *peer.RemoteError
	if !errors.As(err, &re) || re.Code == codeError {
		return err
	}
	for _, c := range coded {
		if c.code == re.Code {
			if c.err == replication.ErrConflict || c.err == replica.ErrTreesNotReady {
				return c.err
			}
			return fmt.Errorf("%w: on peer: %s", c.err, re.Msg)
		}
	}
	return err
}

// handle serves one request of a peer: the peer.Handler of the node.
func (c *cluster) handle(ctx context.Context, op byte, req []byte) ([]byte, error) {
	if c.isRemoved() {
		return nil, errorCode(errRemoved)
	}
	if int(op) >= len(service) || service[op].serve == nil {
		return nil, fmt.Errorf("%w: unknown operation %d", errBadFrame, op)
	}
	resp, err := service[op].serve(c, ctx, req)
	if err != nil {
		return nil, errorCode(err)
	}
	return resp, nil
}

var _ peer.BatchHandler = (*cluster)(nil)

// Batchable reports whether op is one of a replica's cheap requests, which
// the peer server hands to ServeBatch.
func (c *cluster) Batchable(op byte) bool {
	return int(op) < len(service) && service[op].batch
}

// ServeBatch serves a batch of one connection's cheap requests: the merges
// in one Local.MergeBatch (one store write), then the others one by one, so
// a read sees the merges that arrived with it.
func (c *cluster) ServeBatch(ctx context.Context, reqs []peer.Request) {
	if c.isRemoved() {
		for i := range reqs {
			reqs[i].Err = errorCode(errRemoved)
		}
		return
	}
	start := time.Now()
	defer func() {
		// every request of the batch waited for all of it
		d := time.Since(start)
		for range reqs {
			c.adm.Observe(d)
		}
	}()
	var (
		merges []replica.KeyObject
		at     []int // the request of each merge
	)
	for i := range reqs {
		r := &reqs[i]
		if r.Op != opMerge {
			continue
		}
		m, err := decodeStoredKeyObject(r.Payload)
		if err != nil {
			r.Err = err
			continue
		}
		merges = append(merges, replica.KeyObject{Key: m.key, Obj: m.obj})
		at = append(at, i)
	}
	if len(merges) > 0 {
		err := errorCode(c.local.MergeBatch(ctx, merges))
		for _, i := range at {
			reqs[i].Err = err
		}
	}
	for i := range reqs {
		if r := &reqs[i]; r.Op != opMerge {
			r.Resp, r.Err = c.handle(ctx, r.Op, r.Payload)
		}
	}
}

// decodeStoredKeyObject decodes a merge or hint request, which must carry a
// state to store.
func decodeStoredKeyObject(req []byte) (keyObjectMsg, error) {
	m, err := decodeKeyObject(req)
	if err == nil && m.obj == nil {
		err = fmt.Errorf("%w: no state to store", errBadFrame)
	}
	return m, err
}

func (c *cluster) serveRead(ctx context.Context, req []byte) ([]byte, error) {
	return c.serveKeyRead(req, func(key []byte) (*replication.Object, error) { return c.local.Read(ctx, key) })
}

func (c *cluster) serveReadOwn(ctx context.Context, req []byte) ([]byte, error) {
	return c.serveKeyRead(req, func(key []byte) (*replication.Object, error) { return c.local.ReadOwn(ctx, key) })
}

// serveKeyRead answers a point read with what read returns for its key.
func (c *cluster) serveKeyRead(req []byte, read func(key []byte) (*replication.Object, error)) ([]byte, error) {
	key, err := decodeKey(req)
	if err != nil {
		return nil, err
	}
	o, err := read(key)
	if err != nil {
		return nil, err
	}
	return appendKeyObject(nil, "", nil, o), nil
}

func (c *cluster) serveMerge(ctx context.Context, req []byte) ([]byte, error) {
	m, err := decodeStoredKeyObject(req)
	if err != nil {
		return nil, err
	}
	return nil, c.local.Merge(ctx, m.key, m.obj)
}

func (c *cluster) serveHint(ctx context.Context, req []byte) ([]byte, error) {
	m, err := decodeStoredKeyObject(req)
	switch {
	case err != nil:
		return nil, err
	case m.owner == "":
		return nil, fmt.Errorf("%w: hint without an owner", errBadFrame)
	case m.owner == c.self:
		// The owner is this node: it is no stand-in for itself.
		return nil, c.local.Merge(ctx, m.key, m.obj)
	}
	return nil, c.local.Hint(ctx, m.owner, m.key, m.obj)
}

func (c *cluster) serveCoordinate(ctx context.Context, req []byte) ([]byte, error) {
	m, err := decodeCoordinate(req)
	if err != nil {
		return nil, err
	}
	coord := c.coord.Load()
	if coord == nil {
		return nil, errors.New("node: not serving yet")
	}
	w := m.write
	o, err := coord.Update(ctx, m.key, func(cur *replication.Object) (*replication.Write, error) {
		if m.check && !cur.Context().Equal(m.basis) {
			return nil, replication.ErrConflict
		}
		return &w, nil
	}, replication.WriteOptions{W: m.w, NoForward: true})
	if err != nil {
		return nil, err
	}
	return appendKeyObject(nil, "", nil, o), nil
}

func (c *cluster) serveDeliverHints(ctx context.Context, req []byte) ([]byte, error) {
	batch, err := decodeKeyObjects(req)
	if err != nil {
		return nil, err
	}
	items := make([]replica.KeyObject, 0, len(batch))
	for _, m := range batch {
		if m.obj != nil {
			items = append(items, replica.KeyObject{Key: m.key, Obj: m.obj})
		}
	}
	return nil, c.local.MergeBatch(ctx, items)
}

func (c *cluster) serveReadRange(ctx context.Context, req []byte) ([]byte, error) {
	m, err := decodeRange(req)
	if err != nil {
		return nil, err
	}
	keys, next, done, err := c.local.ReadRange(ctx, m.from, m.to, m.limit)
	if err != nil {
		return nil, err
	}
	return appendRangeResult(nil, keys, next, done), nil
}

func (c *cluster) serveReadKeys(ctx context.Context, req []byte) ([]byte, error) {
	m, err := decodeKeysMsg(req)
	if err != nil {
		return nil, err
	}
	read := c.local.ReadKeys
	if m.reverse {
		read = c.local.ReadKeysReverse
	}
	keys, more, err := read(ctx, m.pos, m.start, m.end, m.limit)
	if err != nil {
		return nil, err
	}
	return appendRangeResult(nil, keys, 0, !more), nil
}

func (c *cluster) serveKeyCount(ctx context.Context, req []byte) ([]byte, error) {
	if len(req) != 0 {
		return nil, fmt.Errorf("%w: trailing bytes", errBadFrame)
	}
	n, err := c.local.LiveKeys(ctx, c.now().UnixMilli())
	if err != nil {
		return nil, err
	}
	return codec.AppendUvarint(nil, uint64(n)), nil
}

// aeTrees returns this node's trees as an exchange's local side, or
// ErrTreesNotReady while they are being rebuilt.
func (c *cluster) aeTrees() (*antientropy.Local, error) {
	if !c.local.TreesReady() {
		return nil, replica.ErrTreesNotReady
	}
	return c.aeLocal(), nil
}

// aeParts builds the handler of an exchange question about whole
// partitions, which answer computes from this node's trees.
func aeParts(answer func(ctx context.Context, l *antientropy.Local, parts []int) ([]byte, error)) func(*cluster, context.Context, []byte) ([]byte, error) {
	return func(c *cluster, ctx context.Context, req []byte) ([]byte, error) {
		l, err := c.aeTrees()
		if err != nil {
			return nil, err
		}
		parts, err := decodeParts(req, c.q)
		if err != nil {
			return nil, err
		}
		return answer(ctx, l, parts)
	}
}

// aeRefs builds the handler of an exchange question about branches or
// leaves (indexes below width of the trees' shape), which answer computes
// from this node's trees.
func aeRefs(width func(antientropy.Shape) int, answer func(ctx context.Context, l *antientropy.Local, refs []antientropy.Ref) ([]byte, error)) func(*cluster, context.Context, []byte) ([]byte, error) {
	return func(c *cluster, ctx context.Context, req []byte) ([]byte, error) {
		l, err := c.aeTrees()
		if err != nil {
			return nil, err
		}
		refs, err := decodeRefs(req, c.q, width(l.Trees.Shape()))
		if err != nil {
			return nil, err
		}
		return answer(ctx, l, refs)
	}
}

func aeRoots(ctx context.Context, l *antientropy.Local, parts []int) ([]byte, error) {
	roots, _ := l.Roots(ctx, parts)
	return appendHashes(nil, roots), nil
}

func aeBranches(ctx context.Context, l *antientropy.Local, parts []int) ([]byte, error) {
	bs, _ := l.Branches(ctx, parts)
	return appendHashLists(nil, bs), nil
}

func aeLeaves(ctx context.Context, l *antientropy.Local, refs []antientropy.Ref) ([]byte, error) {
	ls, _ := l.Leaves(ctx, refs)
	return appendHashLists(nil, ls), nil
}

func aeKeys(ctx context.Context, l *antientropy.Local, refs []antientropy.Ref) ([]byte, error) {
	ks, err := l.Keys(ctx, refs)
	if err != nil {
		return nil, err
	}
	return appendLeafKeys(nil, ks), nil
}

// serveAEBucketKeys answers opAEBucketKeys: the keys of buckets of big
// leaves.
func (c *cluster) serveAEBucketKeys(ctx context.Context, req []byte) ([]byte, error) {
	l, err := c.aeTrees()
	if err != nil {
		return nil, err
	}
	refs, err := decodeBucketRefs(req, c.q, l.Trees.Shape().Leaves())
	if err != nil {
		return nil, err
	}
	ks, err := l.BucketKeys(ctx, refs)
	if err != nil {
		return nil, err
	}
	return appendKeyHashLists(nil, ks), nil
}

// serveReadMany answers opReadMany with this node's own states.
func (c *cluster) serveReadMany(ctx context.Context, req []byte) ([]byte, error) {
	keys, err := decodeKeys(req)
	if err != nil {
		return nil, err
	}
	objs, err := c.local.ReadMany(ctx, keys)
	if err != nil {
		return nil, err
	}
	hs := make([]replica.Hinted, len(keys))
	for i := range keys {
		hs[i] = replica.Hinted{Key: keys[i], Obj: objs[i]}
	}
	return appendKeyObjects(nil, hs), nil
}
