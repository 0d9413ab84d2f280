package store

import (
	"errors"
	"fmt"
	"sync"
	"syscall"
)

// Operation names one Store method, for Faulty's fault schedule.
type Operation uint8

// The Store methods Faulty can fail.
const (
	OpGet Operation = iota
	OpApply
	OpIterate
	OpSync
	numOperations
)

// String returns the method's name.
func (o Operation) String() string {
	switch o {
	case OpGet:
		return "get"
	case OpApply:
		return "apply"
	case OpIterate:
		return "iterate"
	case OpSync:
		return "sync"
	}
	return fmt.Sprintf("operation(%d)", uint8(o))
}

// ErrInjected is the error Faulty returns for a fault armed with a nil
// error.
var ErrInjected = errors.New("store: injected fault")

// ErrDiskFull is what Faulty's Apply returns once its capacity is used up.
// It wraps syscall.ENOSPC, as a full disk's write error does.
var ErrDiskFull = fmt.Errorf("store: disk full: %w", syscall.ENOSPC)

// Faulty wraps a Store and fails chosen operations on demand: the twin tests
// use to see what a node does when its disk misbehaves. A failed call has no
// effect on the wrapped store (an Apply refused for any reason applies none
// of its ops), as a failed goleveldb write applies nothing.
//
// All methods are safe for concurrent use. Close is passed through and never
// fails.
type Faulty struct {
	Store

	mu       sync.Mutex
	faults   [numOperations]fault
	calls    [numOperations]int
	capacity int64 // bytes Apply may still write; <0: unlimited
	corrupt  map[string]bool
}

// fault is one armed fault: after `after` more successful calls, every call
// fails with err, `times` times (<0: until cleared).
type fault struct {
	armed bool
	after int
	times int
	err   error
}

var _ Store = (*Faulty)(nil)

// NewFaulty wraps s with no fault armed and unlimited capacity.
func NewFaulty(s Store) *Faulty { return &Faulty{Store: s, capacity: -1} }

// Fail makes every later call of op fail with err (ErrInjected when nil)
// until Heal or Clear.
func (f *Faulty) Fail(op Operation, err error) { f.FailAfter(op, 0, -1, err) }

// FailAfter lets the next `after` calls of op succeed, then fails `times`
// calls (times < 0: every call until Heal or Clear) with err (ErrInjected
// when nil).
func (f *Faulty) FailAfter(op Operation, after, times int, err error) {
	if err == nil {
		err = ErrInjected
	}
	f.mu.Lock()
	f.faults[op] = fault{armed: true, after: after, times: times, err: err}
	f.mu.Unlock()
}

// Clear disarms op's fault.
func (f *Faulty) Clear(op Operation) {
	f.mu.Lock()
	f.faults[op] = fault{}
	f.mu.Unlock()
}

// SetCapacity lets Apply write n more bytes (keys and values summed) before
// it fails with ErrDiskFull; n < 0 removes the limit.
func (f *Faulty) SetCapacity(n int64) {
	f.mu.Lock()
	f.capacity = n
	f.mu.Unlock()
}

// Corrupt makes keys unreadable, as a damaged block of a table makes the
// keys in it: Get of one of them fails with ErrCorrupt, and so does
// Iterate when it reaches one; IterateReadable skips them. Writing a key
// (Apply, a put or a delete) makes it readable again, as a newer version
// hides the damaged one in an LSM tree.
func (f *Faulty) Corrupt(keys ...[]byte) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.corrupt == nil {
		f.corrupt = map[string]bool{}
	}
	for _, k := range keys {
		f.corrupt[string(k)] = true
	}
}

// Corrupted returns how many keys Corrupt made unreadable are still so.
func (f *Faulty) Corrupted() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return len(f.corrupt)
}

func (f *Faulty) isCorrupt(k []byte) bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.corrupt[string(k)]
}

// Heal disarms every fault and removes the capacity limit (corrupted keys
// stay so until written).
func (f *Faulty) Heal() {
	f.mu.Lock()
	f.faults = [numOperations]fault{}
	f.capacity = -1
	f.mu.Unlock()
}

// Calls returns how many calls of op were made, failed ones included.
func (f *Faulty) Calls(op Operation) int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.calls[op]
}

// check counts a call of op and returns the error it must fail with, if any.
func (f *Faulty) check(op Operation) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.calls[op]++
	ft := &f.faults[op]
	if !ft.armed {
		return nil
	}
	if ft.after > 0 {
		ft.after--
		return nil
	}
	if ft.times == 0 {
		return nil
	}
	if ft.times > 0 {
		ft.times--
	}
	return fmt.Errorf("store: %s: %w", op, ft.err)
}

// Get fails as armed, or reads the wrapped store.
func (f *Faulty) Get(key []byte) ([]byte, error) {
	if err := f.check(OpGet); err != nil {
		return nil, err
	}
	if f.isCorrupt(key) {
		return nil, fmt.Errorf("store: get: %w: injected (key %q)", ErrCorrupt, key)
	}
	return f.Store.Get(key)
}

// Apply fails as armed or when ops would overrun the capacity (applying
// none of them), or applies them to the wrapped store.
func (f *Faulty) Apply(ops ...Op) error {
	if err := f.check(OpApply); err != nil {
		return err
	}
	var size int64
	for _, op := range ops {
		size += int64(len(op.Key) + len(op.Value))
	}
	f.mu.Lock()
	if f.capacity >= 0 {
		if size > f.capacity {
			f.mu.Unlock()
			return ErrDiskFull
		}
		f.capacity -= size
	}
	f.mu.Unlock()
	if err := f.Store.Apply(ops...); err != nil {
		return err
	}
	f.mu.Lock()
	for _, op := range ops {
		delete(f.corrupt, string(op.Key))
	}
	f.mu.Unlock()
	return nil
}

// Iterate fails as armed before visiting any key, or iterates the wrapped
// store.
func (f *Faulty) Iterate(start, end []byte, fn func(k, v []byte) bool) error {
	if err := f.check(OpIterate); err != nil {
		return err
	}
	var bad error
	err := f.Store.Iterate(start, end, func(k, v []byte) bool {
		if f.isCorrupt(k) {
			bad = fmt.Errorf("store: iterate: %w: injected (key %q)", ErrCorrupt, k)
			return false
		}
		return fn(k, v)
	})
	if err == nil {
		err = bad
	}
	return err
}

// IterateReverse fails as armed (as Iterate), or iterates the wrapped
// store in reverse.
func (f *Faulty) IterateReverse(start, end []byte, fn func(k, v []byte) bool) error {
	if err := f.check(OpIterate); err != nil {
		return err
	}
	var bad error
	err := f.Store.IterateReverse(start, end, func(k, v []byte) bool {
		if f.isCorrupt(k) {
			bad = fmt.Errorf("store: iterate: %w: injected (key %q)", ErrCorrupt, k)
			return false
		}
		return fn(k, v)
	})
	if err == nil {
		err = bad
	}
	return err
}

// IterateReadable fails as armed (as Iterate), or iterates the wrapped
// store skipping the corrupted keys.
func (f *Faulty) IterateReadable(start, end []byte, fn func(k, v []byte) bool) error {
	if err := f.check(OpIterate); err != nil {
		return err
	}
	return IterateReadable(f.Store, start, end, func(k, v []byte) bool {
		return f.isCorrupt(k) || fn(k, v)
	})
}

// Sync fails as armed, or syncs the wrapped store.
func (f *Faulty) Sync() error {
	if err := f.check(OpSync); err != nil {
		return err
	}
	return f.Store.Sync()
}
