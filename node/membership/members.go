package membership

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/dynakv/dynakv/node/store"
	"github.com/dynakv/dynakv/replication/codec"
	"github.com/dynakv/dynakv/ring"
)

// MemberRecord is one node's entry in the cluster's member set: its
// identity and addresses, its weight, the generation at which it joined,
// and, once an administrator removed it, the generation of the removal.
// Liveness (alive, suspect, dead) is not part of it: a dead node keeps its
// record and its partitions; traffic is routed around it.
type MemberRecord struct {
	ID         string
	Addr       string // client (RESP) address
	PeerAddr   string // internode address
	GossipAddr string // memberlist address
	Weight     int
	Joined     uint64 // generation of the join, >= 1
	Removed    uint64 // 0 while a member; else the removal's generation
}

// MemberSet is the set of member records a node knows: members that joined
// and the tombstones of removed ones. It is the input of the ring
// (ring.New replays it) and is exchanged between nodes; Merge makes any two
// nodes' sets converge whatever order records arrive in.
//
// A MemberSet is a value: methods never modify the receiver. The zero value
// is the empty set.
type MemberSet struct {
	recs []MemberRecord // sorted by ID, IDs unique
}

// ErrCorruptMembers is returned (wrapped) when an encoded member set does
// not decode.
var ErrCorruptMembers = errors.New("membership: corrupt member set encoding")

// NewMemberSet returns the set holding recs, merged by ID as Merge does.
func NewMemberSet(recs ...MemberRecord) MemberSet {
	var s MemberSet
	for _, r := range recs {
		s = s.Merge(MemberSet{recs: []MemberRecord{r}})
	}
	return s
}

// Records returns a copy of the records, sorted by ID.
func (s MemberSet) Records() []MemberRecord { return slices.Clone(s.recs) }

// Len returns the number of records, tombstones included.
func (s MemberSet) Len() int { return len(s.recs) }

// Get returns the record of id.
func (s MemberSet) Get(id string) (MemberRecord, bool) {
	i, ok := slices.BinarySearchFunc(s.recs, id, func(r MemberRecord, id string) int { return strings.Compare(r.ID, id) })
	if !ok {
		return MemberRecord{}, false
	}
	return s.recs[i], true
}

// Members returns the records of the current (not removed) members.
func (s MemberSet) Members() []MemberRecord {
	var out []MemberRecord
	for _, r := range s.recs {
		if r.Removed == 0 {
			out = append(out, r)
		}
	}
	return out
}

// NextGeneration returns the generation a new event (a join or a removal)
// should carry: one more than any generation in the set.
func (s MemberSet) NextGeneration() uint64 {
	var g uint64
	for _, r := range s.recs {
		g = max(g, r.Joined, r.Removed)
	}
	return g + 1
}

// Merge returns the join of s and o. Records of different IDs are all
// kept. For the same ID, the record with the later join generation wins
// (ties: the larger encoding of its attributes, so the choice is
// deterministic), and the latest removal applies to it if it came after
// that join: a removal is never undone by an older record, while a node
// that joined again after its removal (a new incarnation under the same
// ID) is a member. Merge is commutative, associative and idempotent.
func (s MemberSet) Merge(o MemberSet) MemberSet {
	out := make([]MemberRecord, 0, len(s.recs)+len(o.recs))
	i, j := 0, 0
	for i < len(s.recs) || j < len(o.recs) {
		switch {
		case j == len(o.recs) || (i < len(s.recs) && s.recs[i].ID < o.recs[j].ID):
			out = append(out, s.recs[i])
			i++
		case i == len(s.recs) || o.recs[j].ID < s.recs[i].ID:
			out = append(out, o.recs[j])
			j++
		default:
			out = append(out, mergeRecord(s.recs[i], o.recs[j]))
			i++
			j++
		}
	}
	return MemberSet{recs: out}
}

func mergeRecord(a, b MemberRecord) MemberRecord {
	removed := max(a.Removed, b.Removed)
	a.Removed, b.Removed = 0, 0
	if b.Joined > a.Joined || (b.Joined == a.Joined && bytes.Compare(appendRecord(nil, b), appendRecord(nil, a)) > 0) {
		a = b
	}
	if removed > a.Joined {
		a.Removed = removed
	}
	return a
}

// Equal reports whether s and o hold the same records.
func (s MemberSet) Equal(o MemberSet) bool {
	return bytes.Equal(AppendMemberSet(nil, s), AppendMemberSet(nil, o))
}

// Ring builds the ring of the set with q partitions and n replicas.
func (s MemberSet) Ring(q, n int) (*ring.Ring, error) {
	ms := make([]ring.Member, len(s.recs))
	for i, r := range s.recs {
		ms[i] = ring.Member{ID: r.ID, Weight: r.Weight, Joined: r.Joined, Removed: r.Removed}
	}
	return ring.New(q, n, ms)
}

const membersVersion = 1

// AppendMemberSet appends the binary encoding of s to dst: a version byte,
// a uvarint count, then per record (sorted by ID) the ID, the three
// addresses (uvarint length and bytes each), and uvarints weight, joined
// and removed.
func AppendMemberSet(dst []byte, s MemberSet) []byte {
	dst = append(dst, membersVersion)
	dst = binary.AppendUvarint(dst, uint64(len(s.recs)))
	for _, r := range s.recs {
		dst = appendRecord(dst, r)
	}
	return dst
}

func appendRecord(dst []byte, r MemberRecord) []byte {
	for _, str := range []string{r.ID, r.Addr, r.PeerAddr, r.GossipAddr} {
		dst = codec.AppendString(dst, str)
	}
	dst = binary.AppendUvarint(dst, uint64(r.Weight))
	dst = binary.AppendUvarint(dst, r.Joined)
	return binary.AppendUvarint(dst, r.Removed)
}

// MaxIDLen bounds a node id or address in an encoded member set.
const MaxIDLen = 1024

// DecodeMemberSet decodes what AppendMemberSet encoded, checking that IDs
// are non-empty, sorted and unique, weights and generations are valid, and
// nothing trails. It never panics and never allocates more than the input
// justifies; errors wrap ErrCorruptMembers.
func DecodeMemberSet(buf []byte) (MemberSet, error) {
	if len(buf) == 0 || buf[0] != membersVersion {
		return MemberSet{}, fmt.Errorf("%w: unknown version", ErrCorruptMembers)
	}
	r := codec.NewReader(buf[1:], ErrCorruptMembers)
	count := r.Count(7) // a record takes at least 7 bytes
	s := MemberSet{recs: make([]MemberRecord, 0, count)}
	for range count {
		var strs [4]string
		for k := range strs {
			strs[k] = r.String(MaxIDLen)
		}
		w, j, rm := r.Uvarint(), r.Uvarint(), r.Uvarint()
		if r.Err() != nil {
			break
		}
		rec := MemberRecord{ID: strs[0], Addr: strs[1], PeerAddr: strs[2], GossipAddr: strs[3], Weight: int(w), Joined: j, Removed: rm}
		switch {
		case rec.ID == "":
			r.Fail("empty id")
		case w < 1 || w > ring.MaxWeight:
			r.Fail("bad weight")
		case j == 0 || (rm != 0 && rm <= j):
			r.Fail("bad generation")
		case len(s.recs) > 0 && s.recs[len(s.recs)-1].ID >= rec.ID:
			r.Fail("ids not sorted and unique")
		}
		if r.Err() != nil {
			break
		}
		s.recs = append(s.recs, rec)
	}
	if err := r.Done(); err != nil {
		return MemberSet{}, err
	}
	return s, nil
}

// metaMembers is the meta entry holding the node's member set.
const metaMembers = "members"

// SaveMemberSet stores s in the node's metadata, durably (fsynced), so a
// restarted node computes the same ring before it hears from anyone.
func SaveMemberSet(st store.Store, s MemberSet) error {
	if err := st.Apply(store.Op{Key: store.MetaKey(metaMembers), Value: AppendMemberSet(nil, s)}); err != nil {
		return fmt.Errorf("membership: storing the member set: %w", err)
	}
	return st.Sync()
}

// LoadMemberSet returns the stored member set, or the empty set when none
// was saved.
func LoadMemberSet(st store.Store) (MemberSet, error) {
	raw, err := st.Get(store.MetaKey(metaMembers))
	if errors.Is(err, store.ErrNotFound) {
		return MemberSet{}, nil
	}
	if err != nil {
		return MemberSet{}, err
	}
	return DecodeMemberSet(raw)
}
