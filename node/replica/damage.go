package replica

// Damaged storage: keys the store cannot read back (a corrupted table, a
// lost shard, a truncated journal). The replica serves what is readable,
// answers ErrUnreadable for the rest, builds its trees over what is
// readable, and marks the partitions concerned for an exchange at once,
// which brings the lost keys back from the other replicas.

import (
	"errors"
	"maps"
	"slices"
	"sync"
	"sync/atomic"

	"github.com/dynakv/dynakv/node/store"
)

// ErrUnreadable answers a read of a key whose stored copy on this node
// cannot be read (damaged storage): the other replicas answer for it, and
// anti-entropy brings it back.
var ErrUnreadable = errors.New("replica: this node's copy is unreadable (damaged storage; being repaired from the other replicas)")

// damage is the replica's record of damaged partitions.
type damage struct {
	mu sync.Mutex
	// parts are the partitions holding keys this node lost or cannot
	// read, until an exchange with every other home replica has repaired
	// them; stale, those among them whose tree may still count keys that
	// are unreadable (it must be rebuilt over what is readable first).
	parts, stale map[int]bool
	kick         chan struct{}

	unreadable atomic.Int64 // reads that found a key unreadable
	rewritten  atomic.Int64 // unreadable keys replaced by a repaired state
	repaired   atomic.Int64 // damaged partitions repaired
}

func (d *damage) init() {
	d.parts, d.stale = map[int]bool{}, map[int]bool{}
	d.kick = make(chan struct{}, 1)
}

// MarkDamaged records that partitions parts lost keys or hold unreadable
// ones: their trees are rebuilt over what is readable and they are
// exchanged with the other replicas at once (DamageKick).
func (l *Local) MarkDamaged(parts ...int) {
	if len(parts) == 0 {
		return
	}
	l.damage.mu.Lock()
	for _, p := range parts {
		l.damage.parts[p], l.damage.stale[p] = true, true
	}
	l.damage.mu.Unlock()
	select {
	case l.damage.kick <- struct{}{}:
	default:
	}
}

// RotateActor gives the replica a new actor id, stored durably, for a node
// that lost data at rest (a lost shard, a damaged journal): the lost states
// may hold dots of its actor, and even the reservation of its counters.
func (l *Local) RotateActor() error { return l.newActor() }

// markDamagedAt marks the partitions of positions from..to (inclusive).
func (l *Local) markDamagedAt(from, to uint64) {
	if l.trees == nil {
		return
	}
	s := l.trees.Shape()
	var parts []int
	for p := s.Partition(from); p <= s.Partition(to); p++ {
		parts = append(parts, p)
	}
	l.MarkDamaged(parts...)
}

// DamageKick receives when partitions were marked damaged.
func (l *Local) DamageKick() <-chan struct{} { return l.damage.kick }

// Damaged returns the damaged partitions, in order.
func (l *Local) Damaged() []int { return l.damage.sorted(l.damage.parts) }

// staleDamaged returns the damaged partitions whose tree must be rebuilt.
func (l *Local) staleDamaged() []int { return l.damage.sorted(l.damage.stale) }

// sorted returns the partitions of set m (parts or stale), in order.
func (d *damage) sorted(m map[int]bool) []int {
	d.mu.Lock()
	defer d.mu.Unlock()
	return slices.Sorted(maps.Keys(m))
}

// Repaired records that partitions parts were exchanged with every other
// home replica since their trees were rebuilt over what is readable: they
// are no longer damaged. A partition damaged again meanwhile (its tree
// stale) stays so. It returns the partitions it cleared.
func (l *Local) Repaired(parts []int) []int {
	l.damage.mu.Lock()
	defer l.damage.mu.Unlock()
	var out []int
	for _, p := range parts {
		if l.damage.parts[p] && !l.damage.stale[p] {
			delete(l.damage.parts, p)
			out = append(out, p)
		}
	}
	l.damage.repaired.Add(int64(len(out)))
	return out
}

// DamageStats are the replica's counts of damaged storage.
type DamageStats struct {
	Partitions      []int // damaged now
	UnreadableReads int64 // reads that found a key unreadable
	Rewritten       int64 // unreadable keys replaced by a repaired state
	Repaired        int64 // damaged partitions repaired
}

// DamageStats returns the counts.
func (l *Local) DamageStats() DamageStats {
	return DamageStats{Partitions: l.Damaged(), UnreadableReads: l.damage.unreadable.Load(),
		Rewritten: l.damage.rewritten.Load(), Repaired: l.damage.repaired.Load()}
}

// unreadable notes that the key at position pos could not be read, and
// returns the error to answer.
func (l *Local) unreadable(pos uint64, key []byte, err error) error {
	l.damage.unreadable.Add(1)
	l.markDamagedAt(pos, pos)
	return &unreadableError{key: string(key), err: err}
}

type unreadableError struct {
	key string
	err error
}

func (e *unreadableError) Error() string {
	return "replica: key " + quote(e.key) + ": " + ErrUnreadable.Error() + ": " + e.err.Error()
}

func (e *unreadableError) Unwrap() []error { return []error{ErrUnreadable, e.err} }

func quote(s string) string {
	if len(s) > 64 {
		s = s[:64] + "..."
	}
	return "\"" + s + "\""
}

// isUnreadable reports whether err says a stored state cannot be read.
func isUnreadable(err error) bool {
	return errors.Is(err, ErrUnreadable) || errors.Is(err, store.ErrCorrupt)
}
