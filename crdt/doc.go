// Package crdt holds dynakv's convergent data types: states that replicas
// update independently and merge without losing an update, whatever the
// order, grouping or repetition of the merges (merge is commutative,
// associative and idempotent). Each type also has deltas: the part of the
// state one update changed, which merges into a replica's state exactly as
// the full state would (delta-state CRDTs, Almeida, Shoker and Baquero,
// 2018), so replicas ship what changed rather than whole objects.
//
// The types are pure values: no storage, no locking. The replication
// layer stores them, ships their deltas and merges them.
package crdt
