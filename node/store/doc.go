// Package store owns a node's disk: the ordered key-value Store interface,
// its goleveldb implementation (LevelDB, sharded by hash range with
// Sharded), an in-memory twin (Mem), a fault-injecting wrapper for tests
// (Faulty), and the key layout every other part of the node writes through
// (keys.go: data keys by ring position, node metadata, hints).
//
// Nothing here knows about replication or the ring's membership: a Store
// stores bytes under bytes, and the key helpers only place them.
package store
