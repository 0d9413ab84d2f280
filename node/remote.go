package node

import (
	"context"
	"errors"
	"fmt"

	"github.com/dynakv/dynakv/node/peer"
	"github.com/dynakv/dynakv/node/replica"
	"github.com/dynakv/dynakv/replication"
	"github.com/dynakv/dynakv/replication/codec"
)

// remoteReplica is another node's replica as the coordinator sees it: every
// call is a request over the peer transport to the node's peer address,
// looked up when the call is made (a restarted node may have moved).
type remoteReplica struct {
	id string
	c  *cluster
}

var (
	_ replication.Coordinating = (*remoteReplica)(nil)
	_ replication.AsyncReplica = (*remoteReplica)(nil)
	_ replication.RangeReader  = (*remoteReplica)(nil)
)

func (r *remoteReplica) Name() string { return r.id }

// call sends one request and returns the ok payload. Transport failures
// wrap replication.ErrReplicaDown.
func (r *remoteReplica) call(ctx context.Context, op byte, req []byte) ([]byte, error) {
	addr, ok := r.c.peerAddr(r.id)
	if !ok {
		return nil, fmt.Errorf("%w: no peer address known for %s", replication.ErrReplicaDown, r.id)
	}
	resp, err := r.c.transport.Call(ctx, addr, op, req)
	if err != nil {
		return nil, transportError(err)
	}
	return resp, nil
}

// transportError is a failed call's error for the coordinator: a remote
// handler's error mapped back onto its sentinel (remoteErr), a transport
// failure wrapping replication.ErrReplicaDown.
func transportError(err error) error {
	var re *peer.RemoteError
	if errors.As(err, &re) {
		return remoteErr(err)
	}
	return fmt.Errorf("%w: %w", replication.ErrReplicaDown, err)
}

// goCall starts one request and hands the ok payload, or the error as
// call would return it, to done from another goroutine.
func (r *remoteReplica) goCall(ctx context.Context, op byte, req []byte, done func([]byte, error)) {
	addr, ok := r.c.peerAddr(r.id)
	if !ok {
		go done(nil, fmt.Errorf("%w: no peer address known for %s", replication.ErrReplicaDown, r.id))
		return
	}
	at, ok := r.c.transport.(peer.AsyncTransport)
	if !ok {
		go func() { done(r.call(ctx, op, req)) }()
		return
	}
	at.Go(ctx, addr, op, req, func(resp []byte, err error) {
		if err != nil {
			done(nil, transportError(err))
			return
		}
		done(resp, nil)
	})
}

func (r *remoteReplica) ReadAsync(ctx context.Context, key []byte, done func(*replication.Object, error)) {
	r.goCall(ctx, opRead, codec.AppendBytes(nil, key), func(resp []byte, err error) {
		if err != nil {
			done(nil, err)
			return
		}
		m, err := decodeKeyObject(resp)
		done(m.obj, err)
	})
}

func (r *remoteReplica) MergeAsync(ctx context.Context, key []byte, o *replication.Object, done func(error)) {
	r.goCall(ctx, opMerge, appendKeyObject(nil, "", key, o), func(_ []byte, err error) { done(err) })
}

func (r *remoteReplica) HintAsync(ctx context.Context, owner string, key []byte, o *replication.Object, done func(error)) {
	r.goCall(ctx, opHint, appendKeyObject(nil, owner, key, o), func(_ []byte, err error) { done(err) })
}

func (r *remoteReplica) readOp(ctx context.Context, op byte, key []byte) (*replication.Object, error) {
	resp, err := r.call(ctx, op, codec.AppendBytes(nil, key))
	if err != nil {
		return nil, err
	}
	m, err := decodeKeyObject(resp)
	return m.obj, err
}

func (r *remoteReplica) Read(ctx context.Context, key []byte) (*replication.Object, error) {
	return r.readOp(ctx, opRead, key)
}

func (r *remoteReplica) ReadForWrite(ctx context.Context, key []byte) (*replication.Object, error) {
	return r.readOp(ctx, opReadOwn, key)
}

func (r *remoteReplica) Merge(ctx context.Context, key []byte, o *replication.Object) error {
	_, err := r.call(ctx, opMerge, appendKeyObject(nil, "", key, o))
	return err
}

func (r *remoteReplica) Hint(ctx context.Context, owner string, key []byte, o *replication.Object) error {
	_, err := r.call(ctx, opHint, appendKeyObject(nil, owner, key, o))
	return err
}

func (r *remoteReplica) Coordinate(ctx context.Context, key []byte, w *replication.Write, basis replication.Clock, check bool, opt replication.WriteOptions) (*replication.Object, error) {
	req := appendCoordinate(nil, coordinateMsg{key: key, check: check, basis: basis, w: opt.W, write: *w})
	resp, err := r.call(ctx, opCoordinate, req)
	if err != nil {
		return nil, err
	}
	m, err := decodeKeyObject(resp)
	return m.obj, err
}

func (r *remoteReplica) ReadRange(ctx context.Context, from, to uint64, limit int) ([]replication.KeyState, uint64, bool, error) {
	resp, err := r.call(ctx, opReadRange, appendRange(nil, rangeMsg{from: from, to: to, limit: limit}))
	if err != nil {
		return nil, 0, false, err
	}
	return decodeRangeResult(resp)
}

func (r *remoteReplica) ReadKeys(ctx context.Context, pos uint64, start, end []byte, limit int) ([]replication.KeyState, bool, error) {
	resp, err := r.call(ctx, opReadKeys, appendKeysMsg(nil, keysMsg{pos: pos, start: start, end: end, limit: limit}))
	if err != nil {
		return nil, false, err
	}
	keys, _, done, err := decodeRangeResult(resp)
	return keys, !done, err
}

// ReadKeysReverse implements replication.ReverseKeyReader, as ReadKeys.
func (r *remoteReplica) ReadKeysReverse(ctx context.Context, pos uint64, start, end []byte, limit int) ([]replication.KeyState, bool, error) {
	resp, err := r.call(ctx, opReadKeys, appendKeysMsg(nil, keysMsg{pos: pos, start: start, end: end, limit: limit, reverse: true}))
	if err != nil {
		return nil, false, err
	}
	keys, _, done, err := decodeRangeResult(resp)
	return keys, !done, err
}

// deliverHints delivers a batch of hints to the node, their owner.
func (r *remoteReplica) deliverHints(ctx context.Context, hs []replica.Hinted) error {
	_, err := r.call(ctx, opDeliverHints, appendKeyObjects(nil, hs))
	return err
}

// keyCount asks the node how many live keys it holds.
func (r *remoteReplica) keyCount(ctx context.Context) (int64, error) {
	resp, err := r.call(ctx, opKeyCount, nil)
	if err != nil {
		return 0, err
	}
	rd := codec.NewReader(resp, errBadFrame)
	n := rd.Uvarint()
	return int64(n), rd.Done()

}
