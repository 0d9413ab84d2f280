package resp

import (
	"github.com/dynakv/dynakv/crdt"
	"github.com/dynakv/dynakv/replication"
)

// HyperLogLog: PFADD, PFCOUNT and PFMERGE over crdt.HLL sketches stored as
// versions of the key. Concurrent PFADDs through different coordinators
// become sibling sketches; a key's sketch is their union (register-wise
// maximum), which the next PFADD or PFMERGE writes back as one. Counts are
// Redis's: the same hash, registers and estimator (crdt.HLL). As in Redis
// the key is a string to TYPE; GET returns dynakv's encoding of the sketch.

const errNotHLL = "WRONGTYPE Key is not a valid HyperLogLog string value."

// sketchOf returns the union of o's live sketches, whether o holds any
// value, and false when o's value is something other than a sketch.
func sketchOf(o *replication.Object, nowMs int64) (h *crdt.HLL, exists, ok bool) {
	h = &crdt.HLL{}
	newest := o.Newest(nowMs)
	if newest == nil {
		return h, false, true
	}
	if !newest.HLL {
		return nil, true, false
	}
	for _, s := range o.Live(nowMs) {
		if !s.HLL {
			return nil, true, false
		}
		part, err := crdt.DecodeHLL(s.Value)
		if err != nil {
			return nil, true, false
		}
		h.Merge(part)
	}
	return h, true, true
}

func cmdPFAdd(c *Conn, args [][]byte) {
	now := c.nowMs()
	var changed bool
	_, err := c.update(args[1], func(cur *replication.Object) (*replication.Write, error) {
		h, exists, ok := sketchOf(cur, now)
		if !ok {
			return nil, &clientError{errNotHLL}
		}
		d := h.Add(args[2:]...)
		changed = len(d) > 0 || !exists
		if !changed && len(cur.Live(now)) == 1 {
			return nil, nil // nothing new, and nothing to fold
		}
		return sketchWrite(cur, h, now), nil
	})
	if !c.updateOK(err) {
		return
	}
	if changed {
		c.notify(notifyString, "pfadd", args[1])
		c.out.Int(1)
	} else {
		c.out.Int(0)
	}
}

// unionOf returns the union of the sketches of keys, or replies the error
// (a backend failure, WRONGTYPE) and returns nil.
func (c *Conn) unionOf(keys [][]byte) *crdt.HLL {
	union := &crdt.HLL{}
	for _, k := range keys {
		o, err := c.get(k)
		if err != nil {
			c.fail(err)
			return nil
		}
		h, _, ok := sketchOf(o, c.nowMs())
		if !ok {
			c.replyErr(errNotHLL)
			return nil
		}
		union.Merge(h)
	}
	return union
}

// sketchWrite is the write that stores h as the key's one sketch, keeping
// the key's expiry.
func sketchWrite(cur *replication.Object, h *crdt.HLL, nowMs int64) *replication.Write {
	expire := int64(0)
	if s := cur.Newest(nowMs); s != nil {
		expire = s.ExpireAt
	}
	return &replication.Write{Context: cur.Context(), Value: h.AppendBinary(nil), HLL: true, ExpireAt: expire}
}

func cmdPFCount(c *Conn, args [][]byte) {
	if union := c.unionOf(args[1:]); union != nil {
		c.out.Int(int64(union.Count()))
	}
}

func cmdPFMerge(c *Conn, args [][]byte) {
	union := c.unionOf(args[2:])
	if union == nil {
		return
	}
	_, err := c.update(args[1], func(cur *replication.Object) (*replication.Write, error) {
		h, _, ok := sketchOf(cur, c.nowMs())
		if !ok {
			return nil, &clientError{errNotHLL}
		}
		h.Merge(union)
		return sketchWrite(cur, h, c.nowMs()), nil
	})
	if c.updateOK(err) {
		c.notify(notifyString, "pfadd", args[1])
		c.out.OK()
	}
}
