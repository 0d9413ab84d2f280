package replication

import (
	"context"
)

// Replica is one holder of key copies as the coordinator sees it: the local
// store, or (in a cluster) a peer reached over the internode transport.
// Implementations are safe for concurrent use; calls block until done or ctx
// ends.
type Replica interface {
	// Name identifies the replica in logs and errors (a node id).
	Name() string
	// Read returns the replica's state of key, or nil when it has none.
	Read(ctx context.Context, key []byte) (*Object, error)
	// Merge joins o into the replica's state of key (Object.Merge) and
	// stores the result durably before returning.
	Merge(ctx context.Context, key []byte, o *Object) error
}

// Local is the replica on the coordinating node itself: besides reading and
// merging it can mint new versions, atomically with respect to every other
// Mutate and Merge of the same key.
type Local interface {
	Replica
	// Mutate reads key's stored state, calls fn with it (nil when absent)
	// and durably stores what fn returns, all under the key's lock. A nil
	// result from fn stores nothing. Mutate returns fn's result and error.
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

// Router gives the coordinator a key's preference list: the replicas in
// order, the first N being the key's home replicas and the rest the
// fallbacks a sloppy quorum may use. Safe for concurrent use.
type Router interface {
	PreferenceList(key []byte) []Replica
}

// RouterFunc adapts a function to the Router interface.
type RouterFunc func(key []byte) []Replica

// PreferenceList calls f.
func (f RouterFunc) PreferenceList(key []byte) []Replica { return f(key) }
