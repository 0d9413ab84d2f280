// Package node runs one dynakv node: storage, membership, internode
// transport, start and graceful stop, and the background work that keeps a
// cluster's replicas whole.
//
// The pieces, one file or so each:
//
//   - store*.go: the Store interface, goleveldb (sharded by hash range) and
//     an in-memory twin; keys.go the key layout (data by ring position,
//     metadata, hints).
//   - local.go, cache.go: the LocalReplica, the node's own sibling sets
//     behind per-key lock stripes and a write-through cache.
//   - hints.go: hinted handoff storage; cluster.go its delivery, the ring
//     view and the peer request handler; remote.go the other nodes'
//     replicas as the coordinator sees them; wire.go, wire_ae.go the peer
//     messages.
//   - membership.go, members.go: memberlist gossip and the persisted member
//     set the ring is built from.
//   - trees.go, exchange.go: anti-entropy, the hash trees kept by every
//     write and the rounds of exchanges with co-replicas, and the hand-off
//     of partitions a join or a removal moved; tombstones.go, collecting
//     deletes once every home holds them; admission.go, pacing all of this
//     behind the foreground.
//   - node.go: wiring and lifecycle; view.go: what RING and INFO show.
package node
