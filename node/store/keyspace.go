package store

import (
	"bytes"
	"crypto/md5"
	"encoding/binary"
	"errors"

	"github.com/dynakv/dynakv/ring"
)

// metaKeyspace records that the store's data keys use the internal
// keyspace of ring/keyspace.go, where a user key starting with 0xFF is
// stored escaped (0xFF 0xFF ...) and other keys starting with 0xFF are the
// elements of collections. Stores written before it hold such user keys
// as they are.
const metaKeyspace = "keyspace"

// keyspaceV2 is metaKeyspace's value once the store's keys are internal
// keys.
const keyspaceV2 = "v2"

// MigrateKeyspace brings a store written before the internal keyspace up
// to it: every data key whose user key starts with 0xFF is stored escaped,
// at the same position, and the store is marked so that this runs once.
// An interrupted run is resumed safely: an escaped key is told from an
// unescaped one by its position, which is the MD5 of the user key. It
// returns how many keys it moved.
func MigrateKeyspace(s Store) (int, error) {
	v, err := s.Get(MetaKey(metaKeyspace))
	switch {
	case err == nil && string(v) == keyspaceV2:
		return 0, nil
	case err != nil && !errors.Is(err, ErrNotFound):
		return 0, err
	}
	start, end := DataRange(0)
	var ops []Op
	moved := 0
	flush := func() error {
		if len(ops) == 0 {
			return nil
		}
		err := s.Apply(ops...)
		ops = ops[:0]
		return err
	}
	var applyErr error
	err = s.Iterate(start, end, func(k, val []byte) bool {
		hi, user, ok := ParseDataKey(k)
		if !ok || len(user) == 0 || user[0] != 0xFF {
			return true
		}
		sum := md5.Sum(user)
		if binary.BigEndian.Uint64(sum[:8]) != hi {
			return true // an escaped key or an element: already internal
		}
		ik := ring.InternalKey(user)
		ops = append(ops,
			Op{Key: AppendDataKey(nil, ring.Hash{Hi: hi}, ik), Value: bytes.Clone(val)},
			Op{Key: bytes.Clone(k), Delete: true})
		moved++
		if len(ops) >= 1024 {
			applyErr = flush()
		}
		return applyErr == nil
	})
	if err == nil {
		err = applyErr
	}
	if err == nil {
		err = flush()
	}
	if err != nil {
		return moved, err
	}
	if err := s.Apply(Op{Key: MetaKey(metaKeyspace), Value: []byte(keyspaceV2)}); err != nil {
		return moved, err
	}
	return moved, s.Sync()
}
