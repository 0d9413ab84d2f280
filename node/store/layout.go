package store

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
)

// metaShardLayout is the meta entry, in every shard of a node's sharded
// store, that records the layout the shard belongs to: a shard that lacks
// it beside shards that have it was lost (deleted, or recreated empty).
const metaShardLayout = "shard-layout"

// ShardLayout is what a shard records of the store it belongs to: the
// number of shards, its index among them, and the random id the store was
// given when it was created (a shard of another data directory has
// another).
type ShardLayout struct {
	Shards, Index int
	ID            uint64
}

func (l ShardLayout) String() string {
	return fmt.Sprintf("dynakv-shard v1 shards=%d index=%d layout=%016x", l.Shards, l.Index, l.ID)
}

// ParseShardLayout decodes what ShardLayout.String wrote.
func ParseShardLayout(b []byte) (ShardLayout, error) {
	bad := fmt.Errorf("store: corrupt shard layout marker %q", b)
	f := strings.Fields(string(b))
	if len(f) != 5 || f[0] != "dynakv-shard" || f[1] != "v1" {
		return ShardLayout{}, bad
	}
	var l ShardLayout
	var err error
	num := func(field, name string, base int) uint64 {
		v, ok := strings.CutPrefix(field, name+"=")
		if !ok || err != nil {
			err = bad
			return 0
		}
		n, perr := strconv.ParseUint(v, base, 64)
		if perr != nil {
			err = bad
		}
		return n
	}
	shards, index := num(f[2], "shards", 10), num(f[3], "index", 10)
	l.ID = num(f[4], "layout", 16)
	if err != nil || shards < 1 || shards > 1<<10 || index >= shards {
		return ShardLayout{}, bad
	}
	l.Shards, l.Index = int(shards), int(index)
	if l.String() != string(b) {
		return ShardLayout{}, bad
	}
	return l, nil
}

// ReadShardLayout returns the layout marker of shard s; ok is false when it
// has none.
func ReadShardLayout(s Store) (l ShardLayout, ok bool, err error) {
	raw, err := s.Get(MetaKey(metaShardLayout))
	if errors.Is(err, ErrNotFound) {
		return ShardLayout{}, false, nil
	}
	if err != nil {
		return ShardLayout{}, false, err
	}
	l, err = ParseShardLayout(raw)
	return l, err == nil, err
}

// WriteShardLayout stores the layout marker in shard s, durably.
func WriteShardLayout(s Store, l ShardLayout) error {
	if err := s.Apply(Op{Key: MetaKey(metaShardLayout), Value: []byte(l.String())}); err != nil {
		return err
	}
	return s.Sync()
}
