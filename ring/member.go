package ring

import (
	"cmp"
	"crypto/md5"
	"encoding/binary"
	"errors"
	"fmt"
	"slices"
	"strings"
)

// Member is one membership record: a node's stable id (for example
// "127.0.0.1:6379"), its capacity, the generation at which it joined and,
// once an administrator has removed it, the generation of that removal. A
// member of weight 2 is meant to carry twice the data of a member of weight
// 1.
//
// A node that joins takes Joined = 1 + the largest generation it knows;
// concurrent joins may pick the same generation and are then ordered by id.
// A removal keeps the record as a tombstone with Removed set to a
// generation above Joined. Records are never deleted and an id is never
// reused, so the record set only grows and merges deterministically (by id).
type Member struct {
	ID      string
	Weight  int
	Joined  uint64 // generation of the join, >= 1
	Removed uint64 // 0 while a member; else the generation of the removal, > Joined
}

// Limits of New's arguments.
const (
	// MaxWeight is the largest member weight.
	MaxWeight = 1<<16 - 1
	// MaxReplicas is the largest replica count N.
	MaxReplicas = 64
	// MaxWork bounds Q times the number of records (tombstones included):
	// the replay touches every slot a bounded number of times per event.
	MaxWork = 1 << 28
	// MaxTable bounds Q times min(N, member count): the replica table
	// holds that many entries.
	MaxTable = 1 << 25
)

// Errors returned by New, wrapped with the details; compare with errors.Is.
var (
	ErrNoMembers     = errors.New("ring: no members")
	ErrDuplicateID   = errors.New("ring: duplicate member id")
	ErrEmptyID       = errors.New("ring: empty member id")
	ErrBadWeight     = errors.New("ring: member weight out of range")
	ErrBadGeneration = errors.New("ring: bad member generation")
	ErrBadPartitions = errors.New("ring: partition count is not a power of two in [1, 1<<24]")
	ErrBadReplicas   = errors.New("ring: replica count out of range")
	ErrTooLarge      = errors.New("ring: ring too large to build")
)

// canonicalMembers validates the records and returns them sorted by id, in
// a new slice.
func canonicalMembers(members []Member) ([]Member, error) {
	if len(members) == 0 {
		return nil, ErrNoMembers
	}
	ms := slices.Clone(members)
	slices.SortFunc(ms, func(a, b Member) int { return strings.Compare(a.ID, b.ID) })
	live := 0
	for i, m := range ms {
		if m.ID == "" {
			return nil, ErrEmptyID
		}
		if i > 0 && ms[i-1].ID == m.ID {
			return nil, fmt.Errorf("%w: %q", ErrDuplicateID, m.ID)
		}
		if m.Weight < 1 || m.Weight > MaxWeight {
			return nil, fmt.Errorf("%w: %q has weight %d, want 1..%d", ErrBadWeight, m.ID, m.Weight, MaxWeight)
		}
		if m.Joined == 0 || (m.Removed != 0 && m.Removed <= m.Joined) {
			return nil, fmt.Errorf("%w: %q joined at %d, removed at %d (want joined >= 1, removed 0 or > joined)", ErrBadGeneration, m.ID, m.Joined, m.Removed)
		}
		if m.Removed == 0 {
			live++
		}
	}
	if live == 0 {
		return nil, fmt.Errorf("%w: all %d records are removed", ErrNoMembers, len(ms))
	}
	return ms, nil
}

// event is one step of the membership history: a join or a removal.
type event struct {
	gen    uint64
	remove bool
	node   int32 // index into the replay's records
}

// events returns the history of recs (indexed as given) in replay order:
// by generation, joins before removals at the same generation, then by id.
func events(recs []Member) []event {
	evs := make([]event, 0, 2*len(recs))
	for i, m := range recs {
		evs = append(evs, event{m.Joined, false, int32(i)})
		if m.Removed != 0 {
			evs = append(evs, event{m.Removed, true, int32(i)})
		}
	}
	slices.SortFunc(evs, func(a, b event) int {
		if c := cmp.Compare(a.gen, b.gen); c != 0 {
			return c
		}
		if a.remove != b.remove {
			if a.remove {
				return 1
			}
			return -1
		}
		return strings.Compare(recs[a.node].ID, recs[b.node].ID)
	})
	return evs
}

// encodingVersion names the placement algorithm in the canonical encoding,
// so rings built by different algorithms never share a Version.
const encodingVersion = 2

// appendCanonical appends the canonical encoding of a ring's inputs: the
// algorithm version, Q, N and the records sorted by id, each as its id's
// length, the id, the weight and the two generations (all integers as
// uvarints). It is everything a node needs to rebuild the identical ring.
func appendCanonical(dst []byte, q, n int, ms []Member) []byte {
	dst = binary.AppendUvarint(dst, encodingVersion)
	dst = binary.AppendUvarint(dst, uint64(q))
	dst = binary.AppendUvarint(dst, uint64(n))
	dst = binary.AppendUvarint(dst, uint64(len(ms)))
	for _, m := range ms {
		dst = binary.AppendUvarint(dst, uint64(len(m.ID)))
		dst = append(dst, m.ID...)
		dst = binary.AppendUvarint(dst, uint64(m.Weight))
		dst = binary.AppendUvarint(dst, m.Joined)
		dst = binary.AppendUvarint(dst, m.Removed)
	}
	return dst
}

// versionOf is the first 8 bytes of the MD5 of the canonical encoding.
func versionOf(enc []byte) uint64 {
	sum := md5.Sum(enc)
	return binary.BigEndian.Uint64(sum[:8])
}
