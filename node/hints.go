package node

// Hint delivery: the hints this node holds as a stand-in go to their
// owners once the failure detector sees them alive again, in batches, each
// deleted only after its owner acknowledged it; hints of a node removed from
// the ring are adopted as this node's own copies.

import (
	"context"
	"time"

	"github.com/dynakv/dynakv/node/replica"
)

// hintBatch bounds one delivery: hints and encoded bytes.
const (
	hintBatch      = 256
	hintBatchBytes = 4 << 20
)

// hintDeliveryLoop delivers hints to their owners while they are alive, in
// batches, deleting each hint only after the owner acknowledged it. It
// checks every interval and at once when kick fires (a liveness change).
func (c *cluster) hintDeliveryLoop(done <-chan struct{}, kick <-chan struct{}, interval time.Duration) {
	ctx, cancel := doneContext(done)
	defer cancel()
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		select {
		case <-done:
			return
		case <-t.C:
		case <-kick:
		}
		if c.isRemoved() {
			continue
		}
		for _, owner := range c.local.HintOwners() {
			if rec, ok := c.state.Load().set.Get(owner); !ok || rec.Removed != 0 {
				if err := c.adoptHints(ctx, owner); err != nil {
					c.log.Warn("keeping the hints of a node that left the ring", "owner", owner, "err", err)
				}
				continue
			}
			r := c.replica(owner)
			if owner == c.self || !c.Alive(r) {
				continue
			}
			if err := c.deliver(ctx, owner, r.(*remoteReplica)); err != nil {
				c.log.Debug("hint delivery paused", "owner", owner, "err", err)
			}
		}
	}
}

// adoptHints turns the hints held for owner, a node removed from the
// ring, into this node's own copies: a hint may be one of the W copies an
// acknowledged write counted on, so it must not be dropped with its owner.
// Where this node is not a home of the key, anti-entropy hands the copy to
// the key's homes, as any partition it does not replicate.
func (c *cluster) adoptHints(ctx context.Context, owner string) error {
	var after []byte
	adopted := 0
	for ctx.Err() == nil {
		batch, err := c.local.HintBatch(owner, after, hintBatch, hintBatchBytes)
		if err != nil || len(batch) == 0 {
			if adopted > 0 {
				c.log.Info("hints of a removed node adopted", "owner", owner, "hints", adopted)
			}
			return err
		}
		after = batch[len(batch)-1].Key
		items := make([]replica.KeyObject, 0, len(batch))
		now := c.nowNs()
		for _, h := range batch {
			if !c.local.HintExpired(h.Obj, now) { // an expired hint is only dropped
				items = append(items, replica.KeyObject{Key: h.Key, Obj: h.Obj})
			}
		}
		if err := c.local.MergeBatch(ctx, items); err != nil {
			return err
		}
		for _, h := range batch {
			if err := c.local.DropHint(owner, h); err != nil {
				return err
			}
		}
		adopted += len(items)
	}
	return ctx.Err()
}

// deliver hands all of owner's hints to it, batch by batch.
func (c *cluster) deliver(ctx context.Context, owner string, r *remoteReplica) error {
	var after []byte
	start, sent := time.Now(), 0
	defer func() {
		if sent > 0 {
			c.log.Info("hints delivered", "owner", owner, "hints", sent, "took", time.Since(start).Round(time.Millisecond))
		}
	}()
	for {
		if ctx.Err() != nil {
			return nil
		}
		batchStart := time.Now()
		batch, err := c.local.HintBatch(owner, after, hintBatch, hintBatchBytes)
		if err != nil || len(batch) == 0 {
			return err
		}
		after = batch[len(batch)-1].Key
		// Hints past the grace period are dropped, not delivered.
		now := c.nowNs()
		live := batch[:0:0]
		for _, h := range batch {
			if !c.local.HintExpired(h.Obj, now) {
				live = append(live, h)
				continue
			}
			if err := c.local.DropHint(owner, h); err != nil {
				return err
			}
			c.ae.hintsExpired.Add(1)
		}
		if batch = live; len(batch) == 0 {
			continue
		}
		cctx, cancel := context.WithTimeout(ctx, 5*time.Second)
		err = r.deliverHints(cctx, batch)
		cancel()
		if err != nil {
			return err
		}
		for _, h := range batch {
			if err := c.local.DropHint(owner, h); err != nil {
				return err
			}
		}
		sent += len(batch)
		if err := c.adm.Pace(ctx, time.Since(batchStart)); err != nil {
			return nil
		}
		c.hintsDelivered.Add(int64(len(batch)))
		c.lastDelivery.Store(c.now().UnixMilli())
	}
}
