// Package node runs one dynakv node: it wires the parts, each a package of
// its own, starts and stops them, serves the other nodes, and runs the
// background work that keeps a cluster's replicas whole.
//
// The parts:
//
//   - node/store: the disk (goleveldb, sharded by hash range; an in-memory
//     twin; a fault-injecting wrapper) and the key layout.
//   - node/replica: the node's own copy of the data, its cache, hints, hash
//     trees, tombstone index and admission control.
//   - node/membership: the member set the ring is built from and the
//     failure detector, over memberlist (Gossip) or in memory (Hub).
//   - node/peer: the internode transport.
//
// This package, a file an idea:
//
//   - node.go: wiring (build, with the test knobs: the node's one clock and
//     random source) and lifecycle; cluster.go: routing (the ring view,
//     preference lists, liveness, the other nodes' handles).
//   - service.go: the internode service, a table from op code to handler,
//     errors carried as peer errors with codes; messages*.go: the requests'
//     and responses' encodings; remote.go: another node's replica as the
//     coordinator sees it.
//   - The background work: hints.go (hint delivery), antientropy.go
//     (exchange rounds), exchange.go (one exchange with a co-replica),
//     transfer.go (pushing the partitions a join or a removal moved away),
//     collect.go (collecting deletes once every home holds them).
//   - view.go: what RING and INFO show.
package node
