package store

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"testing"
)

// corruptTable flips bytes in the middle of the largest table of dir, in a
// data block.
func corruptTable(t *testing.T, dir string) {
	t.Helper()
	tables, _ := filepath.Glob(filepath.Join(dir, "*.ldb"))
	if len(tables) == 0 {
		t.Fatalf("no table in %s", dir)
	}
	big, size := "", int64(0)
	for _, p := range tables {
		if fi, err := os.Stat(p); err == nil && fi.Size() > size {
			big, size = p, fi.Size()
		}
	}
	b, err := os.ReadFile(big)
	if err != nil {
		t.Fatal(err)
	}
	for i := len(b) / 3; i < len(b)/3+16; i++ {
		b[i] ^= 0xff
	}
	if err := os.WriteFile(big, b, 0o644); err != nil {
		t.Fatal(err)
	}
}

// damagedLevelDB returns the directory of a LevelDB holding n keys
// k00000... in one table, with a block of it damaged.
func damagedLevelDB(t *testing.T, n int) string {
	t.Helper()
	dir := t.TempDir()
	s, err := OpenLevelDB(dir, DefaultLevelDBOptions())
	if err != nil {
		t.Fatal(err)
	}
	for i := range n {
		mustApply(t, s, Op{Key: fmt.Appendf(nil, "k%05d", i), Value: fmt.Appendf(nil, "value of key %d, long enough to fill blocks", i)})
	}
	s.Close()
	// reopening flushes the journal into a table
	if s, err = OpenLevelDB(dir, DefaultLevelDBOptions()); err != nil {
		t.Fatal(err)
	}
	s.Close()
	corruptTable(t, dir)
	return dir
}

// A damaged table: Get of a key in the damaged block and Iterate fail with
// ErrCorrupt; IterateReadable visits every other key.
func TestLevelDBDamagedTable(t *testing.T) {
	const n = 2000
	dir := damagedLevelDB(t, n)
	s, err := OpenLevelDB(dir, DefaultLevelDBOptions())
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()

	if err := s.Iterate(nil, nil, func(k, v []byte) bool { return true }); !errors.Is(err, ErrCorrupt) {
		t.Fatalf("Iterate over a damaged table: %v, want ErrCorrupt", err)
	}
	readable := map[string]bool{}
	if err := s.IterateReadable(nil, nil, func(k, v []byte) bool { readable[string(k)] = true; return true }); err != nil {
		t.Fatalf("IterateReadable: %v", err)
	}
	if len(readable) == 0 || len(readable) == n {
		t.Fatalf("IterateReadable visited %d of %d keys, want some but not all", len(readable), n)
	}
	unreadable := 0
	for i := range n {
		k := fmt.Sprintf("k%05d", i)
		_, err := s.Get([]byte(k))
		switch {
		case err == nil && readable[k]:
		case errors.Is(err, ErrCorrupt) && !readable[k]:
			unreadable++
		default:
			t.Fatalf("Get %s: %v (visited by IterateReadable: %v)", k, err, readable[k])
		}
	}
	t.Logf("%d of %d keys unreadable", unreadable, n)
	// writing an unreadable key makes it readable
	for i := range n {
		k := fmt.Sprintf("k%05d", i)
		if !readable[k] {
			mustApply(t, s, Op{Key: []byte(k), Value: []byte("new")})
			wantValue(t, s, k, "new")
			break
		}
	}
}

// RebuildLevelDB keeps what is readable of a damaged table, and the damaged
// database beside it: what is left reads cleanly.
func TestRebuildLevelDBDropsDamagedBlocks(t *testing.T) {
	const n = 2000
	dir := damagedLevelDB(t, n)
	kept, damaged, err := RebuildLevelDB(dir, DefaultLevelDBOptions())
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(damaged, "CURRENT")); err != nil {
		t.Fatalf("the damaged database was not kept: %v", err)
	}
	s, err := OpenLevelDB(dir, DefaultLevelDBOptions())
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	left := 0
	if err := s.Iterate(nil, nil, func(k, v []byte) bool { left++; return true }); err != nil {
		t.Fatalf("Iterate after RecoverLevelDB: %v", err)
	}
	if left == 0 || left == n || left != kept {
		t.Fatalf("%d of %d keys left after rebuilding a damaged table (%d kept)", left, n, kept)
	}
}
