// Package antientropy keeps the replicas of each partition converged
// without client reads, as the Dynamo paper's Merkle trees do.
//
// Every node keeps, for each partition it holds keys of, a hash tree of a
// fixed shape (Shape): the partition's positions are split into equal
// leaves, each leaf is the XOR of the contributions of its keys (a key's
// contribution is replication.Digest of its state), leaves are grouped
// under branches and the root is the XOR of the branches. Because XOR is
// its own inverse, a write updates the tree in a few XORs, replacing the
// key's old contribution by its new one (Trees.Update), as Riak's Tictac
// AAE does; a tree can also be rebuilt from a scan of the store.
//
// An exchange (Compare) between two replicas of the same partitions
// compares roots, then the branches of the partitions that differ, the
// leaves of the branches that differ and the keys of the leaves that
// differ, so its cost grows with the number of differences, not with the
// data. The caller then merges the differing keys' sibling sets both ways
// (never a blind overwrite). Package node runs exchanges between peers and
// serves the other side's requests; this package does no I/O of its own.
package antientropy
