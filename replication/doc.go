// Package replication owns dynakv's causal versions and the coordinator's
// quorum logic.
//
// Versions are kept the way Riak has since 2.0: every write is a dot (the
// coordinator's actor id and a counter it never reuses), a key's state is a
// dotted causal container (Object) of the sibling versions no seen write has
// replaced plus a version vector (Clock) of everything seen. Replicas join
// their states with Object.Merge, which is commutative, associative and
// idempotent, so states may be exchanged in any order, any number of times,
// by read repair, hinted handoff or anti-entropy, and converge. A write
// carries the context its client read; it replaces exactly the siblings
// that context covers, so two writes with the same stale context, even
// through the same node, both survive as siblings.
//
// The Coordinator drives reads and writes over a key's preference list
// (Router) with N/R/W quorums; this package does no I/O of its own: the
// replicas behind the Local and Replica interfaces do.
package replication
