// Package membership owns who is in a node's cluster: the member set
// (MemberRecord, MemberSet: a join-semilattice of records the ring is
// replayed from, persisted in the node's store), the failure detector's
// verdicts (Liveness), and how both travel: Gossip runs them over
// hashicorp/memberlist (encrypted with the cluster secret), Hub is the
// in-memory twin the in-process cluster tests use. A node sees either
// through the Membership interface.
package membership
