package store

import (
	"errors"
	"fmt"
	"syscall"
	"testing"
	"time"

	"github.com/dynakv/dynakv/internal/poll"
	"github.com/syndtr/goleveldb/leveldb"
	"github.com/syndtr/goleveldb/leveldb/storage"
)

// goleveldb itself does not recover from a failed journal write: once a
// write failed for a full disk, every later write fails with the same
// error although the disk has room again. This is what LevelDB's reopen is
// for (TestLevelDBRecoversFromDiskFull).
func TestGoleveldbStaysFailedAfterDiskFull(t *testing.T) {
	d := &DiskFaults{}
	fs, err := storage.OpenFile(t.TempDir(), false)
	if err != nil {
		t.Fatal(err)
	}
	defer fs.Close()
	db, err := leveldb.Open(d.wrap(fs), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if err := db.Put([]byte("a"), []byte("1"), nil); err != nil {
		t.Fatal(err)
	}
	d.SetFull(true)
	if err := db.Put([]byte("b"), []byte("2"), nil); !errors.Is(err, syscall.ENOSPC) {
		t.Fatalf("write on a full disk: %v, want ENOSPC", err)
	}
	d.SetFull(false)
	for i := range 3 {
		if err := db.Put([]byte("c"), []byte("3"), nil); !errors.Is(err, syscall.ENOSPC) {
			t.Fatalf("write %d after the disk has room again: %v; goleveldb no longer keeps the error (update LevelDB's doc)", i, err)
		}
	}
}

// A LevelDB whose disk filled up refuses writes with ENOSPC, keeps serving
// reads, and writes again by itself within seconds of the disk having room,
// with every write acknowledged before still there.
func TestLevelDBRecoversFromDiskFull(t *testing.T) {
	d := &DiskFaults{}
	o := DefaultLevelDBOptions()
	o.Faults = d
	dir := t.TempDir()
	s, err := OpenLevelDB(dir, o)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	acked := map[string]string{}
	put := func(k, v string) error {
		err := s.Apply(Op{Key: []byte(k), Value: []byte(v)})
		if err == nil {
			acked[k] = v
		}
		return err
	}
	for i := range 100 {
		if err := put(fmt.Sprint("k", i), fmt.Sprint("v", i)); err != nil {
			t.Fatal(err)
		}
	}
	d.SetFull(true)
	if err := put("full", "x"); !errors.Is(err, syscall.ENOSPC) {
		t.Fatalf("Apply on a full disk: %v, want ENOSPC", err)
	}
	// Still full: writes keep failing, reads and scans go on.
	for range 3 {
		if err := put("full", "x"); !errors.Is(err, syscall.ENOSPC) {
			t.Fatalf("Apply on a full disk: %v, want ENOSPC", err)
		}
	}
	wantValue(t, s, "k7", "v7")
	n := 0
	if err := s.Iterate(nil, nil, func(k, v []byte) bool { n++; return true }); err != nil || n != 100 {
		t.Fatalf("Iterate on a full disk: %d keys, %v", n, err)
	}

	d.SetFull(false)
	start := time.Now()
	poll.Until(t, 10*time.Second, "writes to work again after the disk has room", func() bool {
		return put("after", "y") == nil
	})
	t.Logf("writes worked again %v after the disk had room", time.Since(start).Round(time.Millisecond))
	if s.Recoveries() != 1 {
		t.Fatalf("recoveries = %d, want 1", s.Recoveries())
	}
	for k, v := range acked {
		wantValue(t, s, k, v)
	}
	if _, err := s.Get([]byte("full")); !errors.Is(err, ErrNotFound) {
		t.Fatalf("a write that failed is there: %v", err)
	}
	// and everything survives a restart
	s.Close()
	s2, err := OpenLevelDB(dir, DefaultLevelDBOptions())
	if err != nil {
		t.Fatal(err)
	}
	defer s2.Close()
	for k, v := range acked {
		wantValue(t, s2, k, v)
	}
}

// A scan running while the store reopens continues on the new database:
// every key once, in order.
func TestLevelDBIterateAcrossReopen(t *testing.T) {
	s, err := OpenLevelDB(t.TempDir(), DefaultLevelDBOptions())
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	for i := range 50 {
		mustApply(t, s, Op{Key: fmt.Appendf(nil, "k%03d", i), Value: []byte("v")})
	}
	var got []string
	reopened := make(chan error, 1)
	err = s.Iterate(nil, nil, func(k, v []byte) bool {
		got = append(got, string(k))
		if len(got) == 10 {
			go func() { reopened <- s.reopen() }()
			// the reopen waits for this scan to let go of the database
			poll.Until(t, 5*time.Second, "the reopen to pause the store", func() bool { return s.state.Load()&ldbPausedBit != 0 })
		}
		return true
	})
	if err != nil {
		t.Fatal(err)
	}
	if err := <-reopened; err != nil {
		t.Fatal(err)
	}
	if len(got) != 50 {
		t.Fatalf("scan across a reopen visited %d keys, want 50: %v", len(got), got)
	}
	for i, k := range got {
		if want := fmt.Sprintf("k%03d", i); k != want {
			t.Fatalf("key %d = %s, want %s", i, k, want)
		}
	}
	wantValue(t, s, "k042", "v")
}
