package ring

import (
	"crypto/md5"
	"encoding/binary"
	"errors"
	"fmt"
	"slices"
	"strings"
)

// Member is one node of the membership: its stable id (for example
// "127.0.0.1:6379") and its capacity. A member of weight 2 is meant to carry
// twice the data of a member of weight 1.
type Member struct {
	ID     string
	Weight int
}

// Limits of New's arguments.
const (
	// MaxWeight is the largest member weight.
	MaxWeight = 1<<16 - 1
	// MaxReplicas is the largest replica count N.
	MaxReplicas = 64
	// MaxWork bounds Q times the member count: building costs one score
	// per (partition, member) pair.
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
	ErrBadPartitions = errors.New("ring: partition count is not a power of two in [1, 1<<24]")
	ErrBadReplicas   = errors.New("ring: replica count out of range")
	ErrTooLarge      = errors.New("ring: ring too large to build")
)

// canonicalMembers validates members and returns them sorted by id, in a
// new slice.
func canonicalMembers(members []Member) ([]Member, error) {
	if len(members) == 0 {
		return nil, ErrNoMembers
	}
	ms := slices.Clone(members)
	slices.SortFunc(ms, func(a, b Member) int { return strings.Compare(a.ID, b.ID) })
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
	}
	return ms, nil
}

// encodingVersion names the placement algorithm in the canonical encoding,
// so rings built by different algorithms never share a Version.
const encodingVersion = 1

// appendCanonical appends the canonical encoding of a ring's inputs: the
// algorithm version, Q, N and the members sorted by id, each as its id's
// length, the id and the weight (all integers as uvarints). It is everything
// a node needs to rebuild the identical ring.
func appendCanonical(dst []byte, q, n int, ms []Member) []byte {
	dst = binary.AppendUvarint(dst, encodingVersion)
	dst = binary.AppendUvarint(dst, uint64(q))
	dst = binary.AppendUvarint(dst, uint64(n))
	dst = binary.AppendUvarint(dst, uint64(len(ms)))
	for _, m := range ms {
		dst = binary.AppendUvarint(dst, uint64(len(m.ID)))
		dst = append(dst, m.ID...)
		dst = binary.AppendUvarint(dst, uint64(m.Weight))
	}
	return dst
}

// versionOf is the first 8 bytes of the MD5 of the canonical encoding.
func versionOf(enc []byte) uint64 {
	sum := md5.Sum(enc)
	return binary.BigEndian.Uint64(sum[:8])
}
