package store

import (
	"errors"
	"syscall"
	"testing"
)

// A Faulty store with no fault armed is a Store like any other.
func TestFaultyStore(t *testing.T) {
	testStore(t, func(t *testing.T) Store {
		s := NewFaulty(NewMem())
		t.Cleanup(func() { s.Close() })
		return s
	})
}

func TestFaultyFailsByOperation(t *testing.T) {
	f := NewFaulty(NewMem())
	defer f.Close()
	mustApply(t, f, Op{Key: []byte("a"), Value: []byte("1")})

	boom := errors.New("boom")
	f.Fail(OpGet, boom)
	if _, err := f.Get([]byte("a")); !errors.Is(err, boom) {
		t.Fatalf("Get with a fault armed: %v, want boom", err)
	}
	// other operations are unaffected
	if err := f.Iterate(nil, nil, func(k, v []byte) bool { return true }); err != nil {
		t.Fatalf("Iterate: %v", err)
	}
	f.Clear(OpGet)
	wantValue(t, f, "a", "1")

	f.Fail(OpIterate, nil)
	visited := 0
	err := f.Iterate(nil, nil, func(k, v []byte) bool { visited++; return true })
	if !errors.Is(err, ErrInjected) || visited != 0 {
		t.Fatalf("Iterate: err %v after %d keys, want ErrInjected before any", err, visited)
	}
	f.Fail(OpSync, nil)
	if err := f.Sync(); !errors.Is(err, ErrInjected) {
		t.Fatalf("Sync: %v", err)
	}
	f.Heal()
	if err := f.Sync(); err != nil {
		t.Fatalf("Sync after Heal: %v", err)
	}
}

func TestFaultyFailAfter(t *testing.T) {
	f := NewFaulty(NewMem())
	defer f.Close()
	f.FailAfter(OpApply, 2, 1, nil)
	var errs []error
	for i := 0; i < 4; i++ {
		errs = append(errs, f.Apply(Op{Key: []byte{byte('a' + i)}, Value: []byte("v")}))
	}
	for i, want := range []bool{false, false, true, false} {
		if failed := errs[i] != nil; failed != want {
			t.Fatalf("Apply %d: err %v, want failure %v", i, errs[i], want)
		}
	}
	// the refused write applied nothing
	wantMissing(t, f, "c")
	wantValue(t, f, "d", "v")
	if got := f.Calls(OpApply); got != 4 {
		t.Fatalf("Calls(OpApply) = %d, want 4", got)
	}
}

func TestFaultyDiskFull(t *testing.T) {
	f := NewFaulty(NewMem())
	defer f.Close()
	f.SetCapacity(10)
	mustApply(t, f, Op{Key: []byte("k1"), Value: []byte("123456")}) // 8 bytes
	err := f.Apply(Op{Key: []byte("k2"), Value: []byte("v")}, Op{Key: []byte("k3"), Value: []byte("v")})
	if !errors.Is(err, ErrDiskFull) || !errors.Is(err, syscall.ENOSPC) {
		t.Fatalf("Apply over capacity: %v, want ErrDiskFull (ENOSPC)", err)
	}
	wantMissing(t, f, "k2") // all or nothing
	wantMissing(t, f, "k3")
	// deletes and small writes that fit still go through
	mustApply(t, f, Op{Key: []byte("k"), Delete: true})
	f.SetCapacity(-1)
	mustApply(t, f, Op{Key: []byte("k2"), Value: []byte("v")})
	wantValue(t, f, "k2", "v")
}
