package replication

import (
	"context"
	"errors"
)

// ErrReplicaDown is returned (wrapped) by a replica whose node could not be
// reached: the connection failed or was lost. The coordinator treats it like
// any other failure of that replica; forwarding moves on to the next home
// replica on it.
var ErrReplicaDown = errors.New("replication: replica unreachable")

// ErrConflict is returned by Coordinating.Coordinate when the coordinating
// node's state of the key changed since the forwarder read it.
var ErrConflict = errors.New("replication: state changed since it was read")

// Replica is one holder of key copies as the coordinator sees it: the local
// store, or (in a cluster) a peer reached over the internode transport.
// Implementations are safe for concurrent use; calls block until done or ctx
// ends.
type Replica interface {
	// Name identifies the replica in logs, errors and hints (a node id).
	Name() string
	// Read returns the replica's state of key, or nil when it has none: the
	// merge of its own copy and of any hinted copies it holds for others.
	Read(ctx context.Context, key []byte) (*Object, error)
	// Merge joins o into the replica's state of key (Object.Merge) and
	// stores the result durably before returning.
	Merge(ctx context.Context, key []byte, o *Object) error
	// Hint stores o durably as a hinted copy of key held for owner, a home
	// replica of key that could not be reached (sloppy quorum). The node
	// hands it to owner when owner is reachable again and deletes it once
	// owner acknowledged.
	Hint(ctx context.Context, owner string, key []byte, o *Object) error
}

// AsyncReplica is a Replica that can start its calls without blocking the
// caller (a peer reached over a pipelined connection), so the coordinator
// needs no goroutine per replica it asks. Each method starts what the
// Replica method of the same name does and returns at once; done gets its
// result exactly once, from another goroutine than the caller's, and must
// not block.
type AsyncReplica interface {
	Replica
	ReadAsync(ctx context.Context, key []byte, done func(*Object, error))
	MergeAsync(ctx context.Context, key []byte, o *Object, done func(error))
	HintAsync(ctx context.Context, owner string, key []byte, o *Object, done func(error))
}

// Local is the replica on the coordinating node itself: besides reading and
// merging it can mint new versions, atomically with respect to every other
// Mutate and Merge of the same key.
type Local interface {
	Replica
	// Mutate reads key's stored state, calls fn with it (nil when absent)
	// and durably stores what fn returns, all under the key's lock. A nil
	// result from fn stores nothing. Mutate returns fn's result and error.
	// The state is the node's own copy, without hinted copies.
	Mutate(ctx context.Context, key []byte, fn func(cur *Object) (*Object, error)) (*Object, error)
	// NextCounter returns a counter this node has never handed out before,
	// not even before a crash: the counter of the next dot it mints.
	NextCounter() (uint64, error)
	// Scan calls fn for keys whose hash position (ring.Hash.Hi) is >= from,
	// in position order, with their stored state, until fn returns false or
	// the keys run out. It returns the position to resume from, or 0 when
	// the scan reached the end.
	Scan(ctx context.Context, from uint64, fn func(key []byte, o *Object) bool) (next uint64, err error)
}

// Coordinating is a replica on another node that can coordinate a write of
// a key it is a home replica of: the paper's request forwarding. A node that
// is not among a key's first N replicas forwards writes, because the
// coordinator mints the write's dot under its own actor id, which is safe
// only on a node that keeps every dot it minted for the key.
type Coordinating interface {
	Replica
	// ReadForWrite returns the node's own stored state of key (without
	// hinted copies): the state a write it coordinates applies to.
	ReadForWrite(ctx context.Context, key []byte) (*Object, error)
	// Coordinate asks the node to coordinate the write w of key. When check
	// is set and the node's state of key no longer has clock basis, it fails
	// with ErrConflict and writes nothing; otherwise it mints the version,
	// replicates it with write quorum opt.W and returns the stored state.
	Coordinate(ctx context.Context, key []byte, w *Write, basis Clock, check bool, opt WriteOptions) (*Object, error)
}

// Router gives the coordinator a key's preference list and the failure
// detector's view of each replica. Safe for concurrent use.
type Router interface {
	// PreferenceList returns the replicas of key in order: the first N are
	// the key's home replicas, the rest the stand-ins a sloppy quorum may
	// use, in the order it uses them. It always includes the local replica.
	PreferenceList(key []byte) []Replica
	// Alive reports whether the failure detector believes the replica's
	// node is up. Dead replicas are skipped without a request; the local
	// replica is always alive.
	Alive(r Replica) bool
}

// RouterFunc adapts a function to the Router interface; every replica is
// taken to be alive.
type RouterFunc func(key []byte) []Replica

// PreferenceList calls f.
func (f RouterFunc) PreferenceList(key []byte) []Replica { return f(key) }

// Alive returns true.
func (f RouterFunc) Alive(Replica) bool { return true }
