package resp

import (
	"bytes"
	"context"
	"slices"

	"github.com/dynakv/dynakv/replication"
	"github.com/dynakv/dynakv/ring"
)

// ReadKeysReverse lists the keys at position pos within [start, end)
// greatest first, as node's replica reads them from its store.
func (m *memLocal) ReadKeysReverse(ctx context.Context, pos uint64, start, end []byte, limit int) ([]replication.KeyState, bool, error) {
	m.mu.Lock()
	if m.err != nil {
		m.mu.Unlock()
		return nil, false, m.err
	}
	var out []replication.KeyState
	for k, o := range m.data {
		kb := []byte(k)
		if ring.HashKey(kb).Hi == pos && bytes.Compare(kb, start) >= 0 && (end == nil || bytes.Compare(kb, end) < 0) {
			out = append(out, replication.KeyState{Pos: pos, Key: kb, Obj: o})
		}
	}
	m.mu.Unlock()
	slices.SortFunc(out, func(a, b replication.KeyState) int { return bytes.Compare(b.Key, a.Key) })
	if len(out) > limit {
		return out[:limit], true, nil
	}
	return out, false, nil
}
