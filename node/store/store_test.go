package store

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/dynakv/dynakv/ring"
)

func TestLevelDBStore(t *testing.T) {
	testStore(t, func(t *testing.T) Store {
		s, err := OpenLevelDB(t.TempDir(), DefaultLevelDBOptions())
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { s.Close() })
		return s
	})
}

func TestLevelDBStoreSyncWrites(t *testing.T) {
	testStore(t, func(t *testing.T) Store {
		o := DefaultLevelDBOptions()
		o.SyncWrites = true
		s, err := OpenLevelDB(t.TempDir(), o)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { s.Close() })
		return s
	})
}

func TestMemStore(t *testing.T) {
	testStore(t, func(t *testing.T) Store {
		s := NewMem()
		t.Cleanup(func() { s.Close() })
		return s
	})
}

// testStore is the behaviour every Store implementation shares.
func testStore(t *testing.T, open func(t *testing.T) Store) {
	t.Run("GetApplyDelete", func(t *testing.T) {
		s := open(t)
		if _, err := s.Get([]byte("a")); !errors.Is(err, ErrNotFound) {
			t.Fatalf("Get missing: err = %v, want ErrNotFound", err)
		}
		mustApply(t, s, Op{Key: []byte("a"), Value: []byte("1")})
		wantValue(t, s, "a", "1")
		mustApply(t, s, Op{Key: []byte("a"), Value: []byte("2")})
		wantValue(t, s, "a", "2")
		mustApply(t, s, Op{Key: []byte("a"), Delete: true})
		wantMissing(t, s, "a")
		mustApply(t, s, Op{Key: []byte("never"), Delete: true}) // absent: not an error
		mustApply(t, s)                                         // empty batch
		mustApply(t, s, Op{Key: []byte("empty"), Value: nil})
		if v, err := s.Get([]byte("empty")); err != nil || len(v) != 0 {
			t.Fatalf("Get empty value = %q, %v; want empty, nil", v, err)
		}
		if err := s.Sync(); err != nil {
			t.Fatalf("Sync: %v", err)
		}
	})

	t.Run("BatchInOrder", func(t *testing.T) {
		s := open(t)
		mustApply(t, s, Op{Key: []byte("b"), Value: []byte("old")}, Op{Key: []byte("c"), Value: []byte("old")})
		mustApply(t, s,
			Op{Key: []byte("a"), Value: []byte("1")},
			Op{Key: []byte("a"), Value: []byte("2")},
			Op{Key: []byte("b"), Delete: true},
			Op{Key: []byte("b"), Value: []byte("3")},
			Op{Key: []byte("c"), Value: []byte("4")},
			Op{Key: []byte("c"), Delete: true},
			Op{Key: []byte("d"), Delete: true, Value: []byte("ignored")},
		)
		wantValue(t, s, "a", "2")
		wantValue(t, s, "b", "3")
		wantMissing(t, s, "c")
		wantMissing(t, s, "d")
	})

	t.Run("BatchAtomic", func(t *testing.T) {
		// A writer sets keys k0..k9 to the same generation in one batch;
		// a reader's Iterate must never see two generations.
		s := open(t)
		const n = 10
		batch := func(gen int) []Op {
			ops := make([]Op, n)
			for i := range ops {
				ops[i] = Op{Key: fmt.Appendf(nil, "k%d", i), Value: fmt.Appendf(nil, "%08d", gen)}
			}
			return ops
		}
		mustApply(t, s, batch(0)...)
		done := make(chan struct{})
		var wg sync.WaitGroup
		wg.Add(1)
		go func() {
			defer wg.Done()
			defer close(done)
			for gen := 1; gen <= 300; gen++ {
				if err := s.Apply(batch(gen)...); err != nil {
					t.Error(err)
					return
				}
			}
		}()
		for running := true; running; {
			select {
			case <-done:
				running = false
			default:
			}
			var first []byte
			seen := 0
			err := s.Iterate([]byte("k"), []byte("l"), func(k, v []byte) bool {
				if first == nil {
					first = append([]byte(nil), v...)
				} else if !bytes.Equal(v, first) {
					t.Errorf("torn batch: %s = %s, k0 = %s", k, v, first)
					return false
				}
				seen++
				return true
			})
			if err != nil || seen != n {
				t.Fatalf("Iterate: saw %d keys, err %v; want %d, nil", seen, err, n)
			}
		}
		wg.Wait()
		wantValue(t, s, "k9", "00000300")
	})

	t.Run("Iterate", func(t *testing.T) {
		s := open(t)
		var ops []Op
		var all []string
		for i := 0; i < 1000; i++ { // several MemStore chunks
			k := fmt.Sprintf("key%04d", i)
			all = append(all, k)
			ops = append(ops, Op{Key: []byte(k), Value: []byte("v" + k)})
		}
		mustApply(t, s, ops...)
		mustApply(t, s, Op{Key: []byte("a-before"), Value: []byte("x")}, Op{Key: []byte("z-after"), Value: []byte("y")})

		collect := func(start, end []byte, limit int) []string {
			t.Helper()
			var got []string
			err := s.Iterate(start, end, func(k, v []byte) bool {
				if string(v) != "v"+string(k) && string(k) != "a-before" && string(k) != "z-after" {
					t.Errorf("Iterate: %q = %q", k, v)
				}
				got = append(got, string(k))
				return limit <= 0 || len(got) < limit
			})
			if err != nil {
				t.Fatalf("Iterate: %v", err)
			}
			return got
		}
		if got := collect([]byte("key"), []byte("kez"), 0); !slices.Equal(got, all) {
			t.Fatalf("full range: %d keys, want %d (first %q)", len(got), len(all), head(got))
		}
		if got := collect([]byte("key0100"), []byte("key0200"), 0); !slices.Equal(got, all[100:200]) {
			t.Fatalf("[key0100, key0200): %d keys %q...", len(got), head(got))
		}
		if got := collect([]byte("key0999"), nil, 0); !slices.Equal(got, []string{"key0999", "z-after"}) {
			t.Fatalf("nil end: %q", got)
		}
		if got := collect(nil, []byte("key0001"), 0); !slices.Equal(got, []string{"a-before", "key0000"}) {
			t.Fatalf("nil start: %q", got)
		}
		if got := collect(nil, nil, 0); len(got) != len(all)+2 {
			t.Fatalf("nil, nil: %d keys, want %d", len(got), len(all)+2)
		}
		if got := collect([]byte("key0500"), []byte("key0500"), 0); len(got) != 0 {
			t.Fatalf("empty range: %q", got)
		}
		if got := collect([]byte("key0600"), []byte("key0500"), 0); len(got) != 0 {
			t.Fatalf("inverted range: %q", got)
		}
		if got := collect([]byte("key0300"), nil, 3); !slices.Equal(got, all[300:303]) {
			t.Fatalf("early stop: %q", got)
		}
		if got := collect([]byte("key0000"), nil, 300); !slices.Equal(got, all[:300]) {
			t.Fatalf("early stop across a chunk: %d keys", len(got))
		}
	})

	t.Run("IterateReverse", func(t *testing.T) {
		s := open(t)
		var ops []Op
		var all []string            // in decreasing order
		for i := 999; i >= 0; i-- { // several MemStore chunks
			k := fmt.Sprintf("key%04d", i)
			all = append(all, k)
			ops = append(ops, Op{Key: []byte(k), Value: []byte("v" + k)})
		}
		mustApply(t, s, ops...)
		mustApply(t, s, Op{Key: []byte("a-before"), Value: []byte("x")}, Op{Key: []byte("z-after"), Value: []byte("y")})
		collect := func(start, end []byte, limit int) []string {
			t.Helper()
			var got []string
			err := s.IterateReverse(start, end, func(k, v []byte) bool {
				if string(v) != "v"+string(k) && string(k) != "a-before" && string(k) != "z-after" {
					t.Errorf("IterateReverse: %q = %q", k, v)
				}
				got = append(got, string(k))
				return limit <= 0 || len(got) < limit
			})
			if err != nil {
				t.Fatalf("IterateReverse: %v", err)
			}
			return got
		}
		if got := collect([]byte("key"), []byte("kez"), 0); !slices.Equal(got, all) {
			t.Fatalf("full range: %d keys, want %d (first %q)", len(got), len(all), head(got))
		}
		// [key0100, key0200) in reverse: key0199 down to key0100.
		if got := collect([]byte("key0100"), []byte("key0200"), 0); !slices.Equal(got, all[800:900]) {
			t.Fatalf("[key0100, key0200): %d keys %q...", len(got), head(got))
		}
		if got := collect([]byte("key0999"), nil, 0); !slices.Equal(got, []string{"z-after", "key0999"}) {
			t.Fatalf("nil end: %q", got)
		}
		if got := collect(nil, []byte("key0001"), 0); !slices.Equal(got, []string{"key0000", "a-before"}) {
			t.Fatalf("nil start: %q", got)
		}
		if got := collect(nil, nil, 0); len(got) != len(all)+2 || got[0] != "z-after" || got[len(got)-1] != "a-before" {
			t.Fatalf("nil, nil: %d keys, want %d", len(got), len(all)+2)
		}
		if got := collect([]byte("key0500"), []byte("key0500"), 0); len(got) != 0 {
			t.Fatalf("empty range: %q", got)
		}
		if got := collect([]byte("key0600"), []byte("key0500"), 0); len(got) != 0 {
			t.Fatalf("inverted range: %q", got)
		}
		if got := collect(nil, []byte("key0303"), 3); !slices.Equal(got, all[697:700]) {
			t.Fatalf("early stop: %q", got)
		}
		if got := collect(nil, []byte("kez"), 300); !slices.Equal(got, all[:300]) {
			t.Fatalf("early stop across a chunk: %d keys", len(got))
		}
		// Writes during the walk do not make it visit a key twice or out
		// of order.
		var prev []byte
		n := 0
		err := s.IterateReverse([]byte("key"), []byte("kez"), func(k, _ []byte) bool {
			if prev != nil && bytes.Compare(k, prev) >= 0 {
				t.Errorf("out of order: %q after %q", k, prev)
			}
			prev = append(prev[:0], k...)
			n++
			if n%100 == 0 {
				mustApply(t, s, Op{Key: append(bytes.Clone(k), 'x'), Value: []byte("vnew")}, Op{Key: []byte("key0000x"), Value: []byte("vnew")})
			}
			return true
		})
		if err != nil || n < 1000 {
			t.Fatalf("walk with writes: %d keys, %v", n, err)
		}
	})

	t.Run("IterateCallsBack", func(t *testing.T) {
		// fn may use the same store without deadlocking.
		s := open(t)
		var ops []Op
		for i := 0; i < 600; i++ {
			ops = append(ops, Op{Key: fmt.Appendf(nil, "k%04d", i), Value: []byte("v")})
		}
		mustApply(t, s, ops...)
		var prev []byte
		n := 0
		err := s.Iterate([]byte("k"), []byte("l"), func(k, v []byte) bool {
			if prev != nil && bytes.Compare(prev, k) >= 0 {
				t.Errorf("out of order: %q after %q", k, prev)
			}
			prev = append(prev[:0], k...)
			if _, err := s.Get(k); err != nil {
				t.Errorf("Get(%q) in fn: %v", k, err)
			}
			// Rewrite this key and delete one behind us.
			if err := s.Apply(Op{Key: k, Value: []byte("w")}, Op{Key: []byte("a"), Delete: true}); err != nil {
				t.Errorf("Apply in fn: %v", err)
			}
			n++
			return true
		})
		if err != nil || n != 600 {
			t.Fatalf("Iterate: %d keys, %v", n, err)
		}
		wantValue(t, s, "k0599", "w")
	})

	t.Run("NotAliased", func(t *testing.T) {
		s := open(t)
		k, v := []byte("key"), []byte("value")
		mustApply(t, s, Op{Key: k, Value: v})
		copy(k, "XXX")
		copy(v, "XXXXX")
		got, err := s.Get([]byte("key"))
		if err != nil || string(got) != "value" {
			t.Fatalf("after mutating Apply's input: %q, %v", got, err)
		}
		copy(got, "YYYYY")
		wantValue(t, s, "key", "value")
		got2, _ := s.Get([]byte("key"))
		if &got[0] == &got2[0] {
			t.Fatal("two Gets returned the same backing array")
		}
		wantMissing(t, s, "XXX")
	})

	t.Run("Concurrent", func(t *testing.T) {
		s := open(t)
		const writers, readers, perWriter = 4, 4, 300
		var wg sync.WaitGroup
		for w := 0; w < writers; w++ {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for i := 0; i < perWriter; i++ {
					k := fmt.Appendf(nil, "w%d-%04d", w, i)
					if err := s.Apply(Op{Key: k, Value: k}, Op{Key: fmt.Appendf(nil, "w%d-last", w), Value: k}); err != nil {
						t.Error(err)
						return
					}
					if i%10 == 0 {
						if err := s.Apply(Op{Key: k, Delete: true}); err != nil {
							t.Error(err)
							return
						}
					}
				}
			}()
		}
		for r := 0; r < readers; r++ {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for i := 0; i < perWriter; i++ {
					k := fmt.Appendf(nil, "w%d-%04d", r%writers, i)
					if v, err := s.Get(k); err == nil && !bytes.Equal(v, k) {
						t.Errorf("Get(%s) = %s", k, v)
					} else if err != nil && !errors.Is(err, ErrNotFound) {
						t.Error(err)
					}
					if i%50 == 0 {
						err := s.Iterate([]byte("w"), []byte("x"), func(k, v []byte) bool {
							if !bytes.HasSuffix(k, []byte("last")) && !bytes.Equal(k, v) {
								t.Errorf("Iterate %s = %s", k, v)
							}
							return true
						})
						if err != nil {
							t.Error(err)
						}
					}
				}
			}()
		}
		wg.Wait()
		for w := 0; w < writers; w++ {
			wantValue(t, s, fmt.Sprintf("w%d-last", w), fmt.Sprintf("w%d-%04d", w, perWriter-1))
			wantValue(t, s, fmt.Sprintf("w%d-%04d", w, perWriter-1), fmt.Sprintf("w%d-%04d", w, perWriter-1))
			wantMissing(t, s, fmt.Sprintf("w%d-%04d", w, 290))
		}
	})

	t.Run("Close", func(t *testing.T) {
		s := open(t)
		mustApply(t, s, Op{Key: []byte("a"), Value: []byte("1")})
		if err := s.Close(); err != nil {
			t.Fatalf("Close: %v", err)
		}
		if err := s.Close(); err != nil {
			t.Fatalf("second Close: %v", err)
		}
		if _, err := s.Get([]byte("a")); !errors.Is(err, ErrClosed) {
			t.Errorf("Get after Close: %v", err)
		}
		if err := s.Apply(Op{Key: []byte("a"), Value: []byte("2")}); !errors.Is(err, ErrClosed) {
			t.Errorf("Apply after Close: %v", err)
		}
		if err := s.Apply(); !errors.Is(err, ErrClosed) {
			t.Errorf("empty Apply after Close: %v", err)
		}
		if err := s.Iterate(nil, nil, func(k, v []byte) bool { return true }); !errors.Is(err, ErrClosed) {
			t.Errorf("Iterate after Close: %v", err)
		}
		if err := s.Sync(); !errors.Is(err, ErrClosed) {
			t.Errorf("Sync after Close: %v", err)
		}
	})

	t.Run("CloseDuringIterate", func(t *testing.T) {
		// Close from another goroutine while fn runs: the iteration stops at
		// the next key with ErrClosed and Close completes.
		s := open(t)
		var ops []Op
		for i := 0; i < 10; i++ {
			ops = append(ops, Op{Key: fmt.Appendf(nil, "k%d", i), Value: []byte("v")})
		}
		mustApply(t, s, ops...)
		inFn, release := make(chan struct{}), make(chan struct{})
		iterErr := make(chan error, 1)
		visited := 0
		go func() {
			iterErr <- s.Iterate(nil, nil, func(k, v []byte) bool {
				visited++
				if visited == 1 {
					close(inFn)
					<-release
				}
				return true
			})
		}()
		<-inFn
		closeErr := make(chan error, 1)
		go func() { closeErr <- s.Close() }()
		// Close has begun once the store refuses new calls.
		for {
			if _, err := s.Get([]byte("k0")); errors.Is(err, ErrClosed) {
				break
			}
			runtime.Gosched()
		}
		close(release)
		if err := <-iterErr; !errors.Is(err, ErrClosed) {
			t.Errorf("Iterate during Close: %v, want ErrClosed", err)
		}
		if err := <-closeErr; err != nil {
			t.Errorf("Close: %v", err)
		}
		if visited != 1 {
			t.Errorf("visited %d keys, want 1", visited)
		}
	})
}

func TestLevelDBReopenAfterClose(t *testing.T) {
	dir := t.TempDir()
	s, err := OpenLevelDB(dir, DefaultLevelDBOptions())
	if err != nil {
		t.Fatal(err)
	}
	var ops []Op
	for i := 0; i < 2000; i++ {
		ops = append(ops, Op{Key: DataKey(ring.HashKey(fmt.Appendf(nil, "u%d", i)), fmt.Appendf(nil, "u%d", i)), Value: fmt.Appendf(nil, "v%d", i)})
	}
	mustApply(t, s, ops...)
	mustApply(t, s, Op{Key: ops[7].Key, Delete: true}, Op{Key: MetaKey("epoch"), Value: []byte("3")})
	if err := s.Sync(); err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}

	s, err = OpenLevelDB(dir, DefaultLevelDBOptions())
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	for i, op := range ops {
		v, err := s.Get(op.Key)
		if i == 7 {
			if !errors.Is(err, ErrNotFound) {
				t.Fatalf("deleted key after reopen: %q, %v", v, err)
			}
			continue
		}
		if err != nil || !bytes.Equal(v, op.Value) {
			t.Fatalf("key %d after reopen: %q, %v", i, v, err)
		}
	}
	n := 0
	start, end := DataRange(0)
	if err := s.Iterate(start, end, func(k, v []byte) bool { n++; return true }); err != nil || n != len(ops)-1 {
		t.Fatalf("data keys after reopen: %d, %v; want %d", n, err, len(ops)-1)
	}
	// The Sync marker leaves nothing behind in the meta kind.
	var meta []string
	s.Iterate([]byte{MetaPrefix}, []byte{MetaPrefix + 1}, func(k, v []byte) bool { meta = append(meta, string(k)); return true })
	if !slices.Equal(meta, []string{"mepoch"}) {
		t.Fatalf("meta keys: %q", meta)
	}
}

func TestLevelDBLargeBatch(t *testing.T) {
	// A batch bigger than the write buffer takes goleveldb's transaction
	// path (straight to tables); it must stay atomic, ordered and durable.
	dir := t.TempDir()
	o := DefaultLevelDBOptions()
	o.WriteBuffer = 64 << 10
	s, err := OpenLevelDB(dir, o)
	if err != nil {
		t.Fatal(err)
	}
	mustApply(t, s, Op{Key: []byte("gone"), Value: []byte("x")})
	ops := []Op{{Key: []byte("gone"), Delete: true}}
	val := bytes.Repeat([]byte("v"), 1000)
	for i := 0; i < 1000; i++ {
		ops = append(ops, Op{Key: fmt.Appendf(nil, "big%04d", i), Value: val})
	}
	ops = append(ops, Op{Key: []byte("big0000"), Value: []byte("last wins")})
	mustApply(t, s, ops...)
	check := func() {
		wantMissing(t, s, "gone")
		wantValue(t, s, "big0000", "last wins")
		wantValue(t, s, "big0999", string(val))
	}
	check()
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if s, err = OpenLevelDB(dir, o); err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	check()
}

func TestLevelDBSyncWhileRotating(t *testing.T) {
	// A tiny write buffer rotates journals constantly; Sync must keep
	// working while it does (it also fsyncs the frozen journal, if any).
	o := DefaultLevelDBOptions()
	o.WriteBuffer = 32 << 10
	s, err := OpenLevelDB(t.TempDir(), o)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	done := make(chan struct{})
	go func() {
		defer close(done)
		for i := 0; i < 5000; i++ {
			if err := s.Apply(Op{Key: fmt.Appendf(nil, "k%05d", i), Value: bytes.Repeat([]byte{'v'}, 100)}); err != nil {
				t.Error(err)
				return
			}
		}
	}()
	for running := true; running; {
		select {
		case <-done:
			running = false
		default:
		}
		if err := s.Sync(); err != nil {
			t.Fatalf("Sync: %v", err)
		}
	}
	wantValue(t, s, "k04999", strings.Repeat("v", 100))
}

func TestLevelDBZeroOptions(t *testing.T) {
	s, err := OpenLevelDB(t.TempDir(), LevelDBOptions{})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	mustApply(t, s, Op{Key: []byte("a"), Value: []byte("b")})
	wantValue(t, s, "a", "b")
	if err := s.Sync(); err != nil {
		t.Fatal(err)
	}
}

func TestOpenLevelDBErrors(t *testing.T) {
	dir := t.TempDir()
	s, err := OpenLevelDB(dir, DefaultLevelDBOptions())
	if err != nil {
		t.Fatal(err)
	}
	// Held by s: a second open fails and names the directory.
	if s2, err := OpenLevelDB(dir, DefaultLevelDBOptions()); err == nil {
		s2.Close()
		t.Fatal("second open of a locked dir succeeded")
	} else if !strings.Contains(err.Error(), dir) {
		t.Fatalf("error does not name the dir: %v", err)
	}
	mustApply(t, s, Op{Key: []byte("a"), Value: []byte("b")})
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}

	// Corrupt the manifest: open refuses, with a clear error.
	manifests, _ := filepath.Glob(filepath.Join(dir, "MANIFEST-*"))
	if len(manifests) == 0 {
		t.Fatal("no MANIFEST file")
	}
	for _, m := range manifests {
		if err := os.WriteFile(m, bytes.Repeat([]byte{0xde, 0xad}, 4096), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	_, err = OpenLevelDB(dir, DefaultLevelDBOptions())
	if err == nil {
		t.Fatal("open of a corrupted db succeeded")
	}
	if !strings.Contains(err.Error(), dir) || !strings.Contains(err.Error(), "corrupt") {
		t.Fatalf("unclear error: %v", err)
	}
	t.Logf("corrupted: %v", err)
}

func TestMemStoreRebuild(t *testing.T) {
	// Overwrites leave dead bytes in memdb's arena; Apply must reclaim them.
	s := NewMem()
	defer s.Close()
	val := bytes.Repeat([]byte("x"), 1000)
	for round := 0; round < 30; round++ {
		var ops []Op
		for i := 0; i < 200; i++ {
			ops = append(ops, Op{Key: fmt.Appendf(nil, "k%03d", i), Value: fmt.Appendf(val[:0:0], "%d-%s", round, val)})
		}
		ops = append(ops, Op{Key: fmt.Appendf(nil, "k%03d", round), Delete: true})
		mustApply(t, s, ops...)
	}
	s.mu.RLock()
	garbage, capacity, size := s.garbage, s.db.Capacity(), s.db.Size()
	s.mu.RUnlock()
	if garbage > memMinGarbage || capacity > 3*size+memMinGarbage {
		t.Fatalf("not rebuilt: garbage %d, capacity %d, live %d", garbage, capacity, size)
	}
	for i := 0; i < 200; i++ {
		k := fmt.Sprintf("k%03d", i)
		if i == 29 {
			wantMissing(t, s, k)
			continue
		}
		wantValue(t, s, k, fmt.Sprintf("29-%s", val))
	}
}

func mustApply(t *testing.T, s Store, ops ...Op) {
	t.Helper()
	if err := s.Apply(ops...); err != nil {
		t.Fatalf("Apply: %v", err)
	}
}

func wantValue(t *testing.T, s Store, key, want string) {
	t.Helper()
	v, err := s.Get([]byte(key))
	if err != nil || string(v) != want {
		t.Fatalf("Get(%q) = %.40q, %v; want %.40q", key, v, err, want)
	}
}

func wantMissing(t *testing.T, s Store, key string) {
	t.Helper()
	if v, err := s.Get([]byte(key)); !errors.Is(err, ErrNotFound) {
		t.Fatalf("Get(%q) = %q, %v; want ErrNotFound", key, v, err)
	}
}

func head(s []string) []string {
	if len(s) > 3 {
		return s[:3]
	}
	return s
}
