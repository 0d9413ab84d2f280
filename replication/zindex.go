package replication

import (
	"context"
	"encoding/binary"
	"math"
	"strconv"
)

// Sorted sets' scores and the score index a replica keeps of them.
//
// A sorted set's member is an element key whose value is the member's
// score, written as text. Its score is the one its newest live version
// gives (Object.Newest: latest coordinator clock, ties by writer, plus the
// counter contributions of ZINCRBY on top), so every replica holding the
// same versions computes the same score. Replicas keep a local index of
// their elements ordered by (score, member): each entry's position is
// SortKey(score, member), which sorts bytewise as Redis orders a sorted
// set. The index is derived data: never replicated, rebuilt from the
// elements when its format changes.

// ZSetType is the collection type (Sibling.Type, ring.ElementKey) of
// sorted sets, whose elements replicas index by score.
const ZSetType byte = 'z'

// ScoreOf returns the score of a sorted-set element whose state is o, and
// false when it has no live version (or none that reads as a number, which
// the writers never store). Elements have no expiry, so the score does not
// depend on the time.
func ScoreOf(o *Object) (float64, bool) {
	s := o.Newest(0)
	if s == nil {
		return 0, false
	}
	return ParseScore(s.Value)
}

// ParseScore reads a stored score: a decimal or float as strconv reads it,
// "inf" or "-inf". NaN is no score.
func ParseScore(b []byte) (float64, bool) {
	f, err := strconv.ParseFloat(string(b), 64)
	if (err != nil && !math.IsInf(f, 0)) || math.IsNaN(f) {
		return 0, false
	}
	return f, true
}

// FormatScore writes a score as it is stored: the shortest decimal that
// reads back as f, "inf" or "-inf".
func FormatScore(f float64) []byte {
	switch {
	case math.IsInf(f, 1):
		return []byte("inf")
	case math.IsInf(f, -1):
		return []byte("-inf")
	}
	return strconv.AppendFloat(nil, f, 'g', -1, 64)
}

// SortableScore returns 8 bytes whose bytewise order is the numeric order
// of scores: the IEEE bits with the sign bit flipped for positive numbers
// and every bit flipped for negative ones. -0 sorts as 0.
func SortableScore(f float64) uint64 {
	if f == 0 {
		f = 0 // -0 and 0 are one score
	}
	b := math.Float64bits(f)
	if b>>63 == 1 {
		return ^b
	}
	return b | 1<<63
}

// ScoreFromSortable inverts SortableScore.
func ScoreFromSortable(u uint64) float64 {
	if u>>63 == 1 {
		return math.Float64frombits(u &^ (1 << 63))
	}
	return math.Float64frombits(^u)
}

// SortKey returns the index position of member with score f: its sortable
// score then the member, so entries order by score, then by member bytes
// (Redis's order among equal scores).
func SortKey(f float64, member []byte) []byte {
	return append(binary.BigEndian.AppendUint64(make([]byte, 0, 8+len(member)), SortableScore(f)), member...)
}

// SplitSortKey returns the score and member of an index position; ok is
// false when it is shorter than a score.
func SplitSortKey(k []byte) (score float64, member []byte, ok bool) {
	if len(k) < 8 {
		return 0, nil, false
	}
	return ScoreFromSortable(binary.BigEndian.Uint64(k)), k[8:], true
}

// IndexQuery asks a replica for a range of one sorted set's index.
type IndexQuery struct {
	// Pos is the sorted set's ring position; Prefix the prefix of its
	// elements' keys (ring.ElementPrefix).
	Pos    uint64
	Prefix []byte
	// Start and End bound the index positions (SortKey) read: [Start,
	// End), nil for no bound.
	Start, End []byte
	// Reverse walks from End down to Start.
	Reverse bool
	// Skip entries are passed over first (counted and digested, not
	// returned); Limit entries are returned at most after them.
	Skip  int64
	Limit int
}

// IndexEntry is one index entry and the element it indexes.
type IndexEntry struct {
	// Sort is the entry's index position (SortKey of the score the
	// replica computed).
	Sort []byte
	// Key is the element's key; Obj the replica's state of it.
	Key []byte
	Obj *Object
}

// IndexResult is a replica's answer to an IndexQuery.
type IndexResult struct {
	// Skipped is how many entries were passed over (fewer than Skip when
	// the range ran out), Digest the XOR of their IndexDigests, and Last
	// the position of the last of them (nil when none): two replicas
	// whose Skipped and Digest agree passed over the same elements in the
	// same states.
	Skipped int64
	Digest  uint64
	Last    []byte
	// Entries are the entries after them, in the query's direction.
	Entries []IndexEntry
	// More reports that entries may remain after the last one returned.
	More bool
}

// IndexReader is a replica that keeps the score index of its sorted-set
// elements.
type IndexReader interface {
	ReadIndex(ctx context.Context, q IndexQuery) (IndexResult, error)
}

// IndexDigest is an index entry's contribution to a skip digest: a hash
// of its position and of the digest of the element's state (Digest), which
// the replica keeps as the entry's value. Two replicas that pass over
// entries with equal digests hold the same elements in the same states
// there, so the merge of their states puts every one of them where both
// indexes do; equal positions alone would not tell (two increments, each
// seen by one replica, leave the same score on both and another in the
// merge).
func IndexDigest(sort []byte, state uint64) uint64 {
	// FNV-1a, then MurmurHash3's finalizer: entries that differ in
	// their last bytes spread over all bits, so an XOR of them tells sets
	// of entries apart.
	h := uint64(14695981039346656037)
	for _, b := range sort {
		h ^= uint64(b)
		h *= 1099511628211
	}
	for i := range 8 {
		h ^= (state >> (8 * i)) & 0xFF
		h *= 1099511628211
	}
	h ^= h >> 33
	h *= 0xff51afd7ed558ccd
	h ^= h >> 33
	h *= 0xc4ceb9fe1a85ec53
	h ^= h >> 33
	return h
}
