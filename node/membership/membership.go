package membership

import (
	"errors"
	"strconv"

	"github.com/hashicorp/memberlist"
)

// Liveness is what the failure detector currently believes about a node.
// It is not part of the member set: a dead node keeps its record and its
// partitions, and traffic is only routed around it.
type Liveness uint8

const (
	LiveDead    Liveness = iota // not heard from: failed, left, or never seen
	LiveSuspect                 // missed probes; not reported with memberlist v0.7.0 (see refreshLiveness)
	LiveAlive                   // answering probes
)

// String returns "dead", "suspect" or "alive".
func (l Liveness) String() string {
	switch l {
	case LiveDead:
		return "dead"
	case LiveSuspect:
		return "suspect"
	case LiveAlive:
		return "alive"
	}
	return "Liveness(" + strconv.Itoa(int(l)) + ")"
}

// Errors returned by Membership.Remove. Their text is meant to be sent to a
// Redis client as is; match them with errors.Is.
var (
	ErrUnknownMember  = errors.New("no such node")
	ErrAlreadyRemoved = errors.New("node already removed")
	ErrRemoveSelf     = errors.New("cannot remove this node itself")
)

// memberError carries a sentinel and a message naming the node.
type memberError struct {
	err error
	msg string
}

func (e *memberError) Error() string { return e.msg }
func (e *memberError) Unwrap() error { return e.err }

var _ memberlist.Delegate = memberDelegate{}

var _ memberlist.EventDelegate = memberEvents{}

var _ memberlist.NamedBroadcast = recordBroadcast{}

// Membership is a node's view of its cluster: the member set the ring is
// computed from and the failure detector's verdict on each member. Gossip is
// the real one (memberlist underneath); Hub's members are its in-memory twin
// for in-process cluster tests. All methods are safe for concurrent use and
// do not block on the network, except Close.
type Membership interface {
	// Set returns the current member set, this node's record included, as an
	// immutable snapshot.
	Set() MemberSet
	// Self returns this node's record as the member set holds it.
	Self() MemberRecord
	// Liveness returns the failure detector's verdict on id: LiveAlive for
	// this node, LiveDead for an id never heard of.
	Liveness(id string) Liveness
	// Addrs returns the client and internode addresses of id; ok is false
	// for an unknown id.
	Addrs(id string) (client, peer string, ok bool)
	// Remove removes id from the ring for good (RING REMOVE). It refuses an
	// unknown id, one already removed, and this node itself, with errors
	// matching ErrUnknownMember, ErrAlreadyRemoved and ErrRemoveSelf.
	Remove(id string) error
	// Removed reports whether an operator removed this node from the ring.
	Removed() bool
	// Counts returns how many current (not removed) members are alive,
	// suspect and dead.
	Counts() (alive, suspect, dead int)
	// GossipAddr returns the address this node gossips on.
	GossipAddr() string
	// Close leaves the cluster and releases what the membership holds. It is
	// idempotent.
	Close() error
}

var _ Membership = (*Gossip)(nil)

// counts tallies the liveness of set's current members.
func counts(set MemberSet, liveness func(id string) Liveness) (alive, suspect, dead int) {
	for _, r := range set.Members() {
		switch liveness(r.ID) {
		case LiveAlive:
			alive++
		case LiveSuspect:
			suspect++
		default:
			dead++
		}
	}
	return alive, suspect, dead
}
