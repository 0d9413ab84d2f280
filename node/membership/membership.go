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
