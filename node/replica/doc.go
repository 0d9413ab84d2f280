// Package replica owns this node's own copy of the data: Local, the sibling
// sets stored under their data keys behind per-key lock stripes, with a
// write-through cache of decoded states (cache.go), the hints held for
// unreachable replicas (hints.go), the anti-entropy hash trees every write
// keeps current (trees.go), the index of keys held only as tombstones
// (tombstones.go), and Admission, which measures the foreground and paces
// background work behind it (admission.go).
//
// Local implements replication.Local. It does no network I/O: delivering
// hints, exchanging trees and collecting tombstones with the other replicas
// is the node's work, done through the methods here.
package replica
