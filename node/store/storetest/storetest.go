// Package storetest runs tests against every Store implementation a node
// can run on, so the parts above the store (the replica, membership) are
// tested on goleveldb and on the in-memory twin alike.
package storetest

import (
	"testing"

	"github.com/dynakv/dynakv/node/store"
)

// Each runs fn as a subtest once on a fresh goleveldb store in a temporary
// directory and once on a fresh in-memory store; both are closed when the
// subtest ends.
func Each(t *testing.T, fn func(t *testing.T, s store.Store)) {
	t.Helper()
	t.Run("leveldb", func(t *testing.T) {
		s, err := store.OpenLevelDB(t.TempDir(), store.DefaultLevelDBOptions())
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { s.Close() })
		fn(t, s)
	})
	t.Run("mem", func(t *testing.T) {
		s := store.NewMem()
		t.Cleanup(func() { s.Close() })
		fn(t, s)
	})
}
