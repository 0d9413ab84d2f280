// Package antientropy will keep replicas of each partition converged
// without client reads: a Merkle tree per partition over its keys and
// versions, updated incrementally on every write (leaf hashes combined with
// XOR, as Riak's Tictac AAE does), and exchanges between replicas that walk
// only the differing branches and merge the differing keys' sibling sets.
//
// It is empty until the anti-entropy issue; the storage layout it will rely
// on (one range scan per partition) is in package node's keys.go.
package antientropy
