package store

import "errors"

// ErrNotFound is returned by Store.Get when the key is absent.
var ErrNotFound = errors.New("store: key not found")

// ErrClosed is returned by every Store method (except Close) once the store
// has been closed.
var ErrClosed = errors.New("store: store closed")

// Op is one write in a batch passed to Store.Apply: a put of Value under Key,
// or, when Delete is set, a removal of Key (Value is then ignored). Deleting
// an absent key is not an error.
//
// Apply copies Key and Value before it returns; the caller may reuse them
// afterwards.
type Op struct {
	Key, Value []byte
	Delete     bool
}

// Store is the ordered key-value storage under one node. Keys are compared
// bytewise (bytes.Compare); see keys.go for the layout the node uses on top
// of it.
//
// All methods are safe for concurrent use by multiple goroutines. No method
// retains a slice passed to it, and every slice a method returns is owned by
// the caller, except the k and v passed to an Iterate callback, which belong
// to the store and are valid only during that call.
type Store interface {
	// Get returns a copy of the value stored under key, owned by the caller,
	// or ErrNotFound. An empty value may come back as a nil slice.
	Get(key []byte) ([]byte, error)

	// Apply performs ops atomically and in order: a concurrent Get or Iterate
	// sees either none or all of them, and a later op on the same key wins
	// over an earlier one. In a durable store (LevelDB), once Apply has
	// returned nil the ops survive a crash of the process (kill -9); see
	// Sync for power loss.
	Apply(ops ...Op) error

	// Iterate calls fn for each key in [start, end) in increasing order
	// (start nil = from the first key, end nil = to the last key). k and v
	// are valid only during the call and must not be modified. Iteration
	// stops early, with a nil error, when fn returns false.
	//
	// fn may call Get and Apply on the same store. Whether writes made
	// concurrently with the iteration (including by fn) are visible to it
	// depends on the implementation; each key is visited at most once and
	// never out of order. fn must not call Close on the same store.
	Iterate(start, end []byte, fn func(k, v []byte) bool) error

	// IterateReverse is Iterate in decreasing key order: it calls fn for
	// each key in [start, end), the greatest first, with Iterate's
	// guarantees (each key at most once, never out of order).
	IterateReverse(start, end []byte, fn func(k, v []byte) bool) error

	// Sync makes every op applied before the call durable against power
	// loss, not only against a process crash (a no-op for a store that
	// keeps nothing on disk).
	Sync() error

	// Close releases the store. It waits for in-flight calls to return
	// (a running Iterate stops at its next key with ErrClosed). It is
	// idempotent: later calls return nil. Every other method returns
	// ErrClosed after Close.
	Close() error
}

// ErrCorrupt marks an error of a store whose data could not be read back
// (a checksum mismatch, a damaged file): the key or range it concerns is
// unreadable in this store, though the store as a whole works.
var ErrCorrupt = errors.New("store: data is corrupted")

// readableIterator is implemented by the stores that can iterate past data
// they cannot read.
type readableIterator interface {
	IterateReadable(start, end []byte, fn func(k, v []byte) bool) error
}

// IterateReadable is s.Iterate, except that a store that can skip what it
// cannot read (a corrupted block of a table) does so instead of failing
// with ErrCorrupt: what damaged storage still holds. Stores that cannot
// skip anything iterate as Iterate does.
func IterateReadable(s Store, start, end []byte, fn func(k, v []byte) bool) error {
	if r, ok := s.(readableIterator); ok {
		return r.IterateReadable(start, end, fn)
	}
	return s.Iterate(start, end, fn)
}
