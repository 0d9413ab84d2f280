package ring

// This file defines the internal keyspace: the keys the replication layer
// stores, hashes and moves. Besides the users' own keys it holds the
// elements of collections (a set's members, a hash's fields), each under a
// key of its own that hashes to its collection's position, so an update to
// one element reads and writes that element only, and the elements of a
// collection live, move and are compared together with it.
//
//	user key k, k[0] != 0xFF        k                                (as it is)
//	user key k, k[0] == 0xFF        0xFF 0xFF k[1:]                  (escaped)
//	element m of collection k       0xFF typ uvarint(len k) k h m    (typ != 0xFF)
//	item id of ordered collection k 0xFF typ uvarint(len k) k id     (Ordered(typ))
//
// where h is MemberHash(m), 8 bytes big-endian: a collection's elements sort
// by the hash of their members, so a cursor over them is a number (SSCAN,
// HSCAN) and a random position picks a random element. The items of an
// ordered collection (a list) carry no hash: their id, a position
// identifier chosen by the writer, is their place in the collection, so
// the collection's keys in key order ARE its order.
//
// A user key and an internal key map one to one, and no user key maps to an
// element key. An element key hashes to HashKey of its collection's user
// key (which is the hash of the collection's internal key), and all of a
// collection's elements of one type share the prefix ElementPrefix(typ, k).

import (
	"bytes"
	"crypto/md5"
	"encoding/binary"
)

// escapeByte starts every internal key that is not a user key as it is.
const escapeByte = 0xFF

// InternalKey returns the internal key of user key k: k itself, or an
// escaped copy when k starts with 0xFF.
func InternalKey(k []byte) []byte {
	if len(k) == 0 || k[0] != escapeByte {
		return k
	}
	out := make([]byte, 0, len(k)+1)
	return append(append(out, escapeByte), k...)
}

// UserKey returns the user key an internal key stands for; ok is false for
// an element key (and for bytes no internal key has). It may alias k.
func UserKey(k []byte) (user []byte, ok bool) {
	if len(k) == 0 || k[0] != escapeByte {
		return k, true
	}
	if len(k) >= 2 && k[1] == escapeByte {
		return k[1:], true
	}
	return nil, false
}

// ElementPrefix returns the prefix every element key of type typ of the
// collection with user key k starts with. typ must not be 0xFF.
func ElementPrefix(typ byte, k []byte) []byte {
	if typ == escapeByte {
		panic("ring: element type 0xFF is reserved")
	}
	out := make([]byte, 0, 2+binary.MaxVarintLen64+len(k))
	out = append(out, escapeByte, typ)
	out = binary.AppendUvarint(out, uint64(len(k)))
	return append(out, k...)
}

// ElementKey returns the key of element m of type typ of the collection
// with user key k (for an ordered type, m is the item's id).
func ElementKey(typ byte, k, m []byte) []byte {
	if Ordered(typ) {
		return append(ElementPrefix(typ, k), m...)
	}
	return append(binary.BigEndian.AppendUint64(ElementPrefix(typ, k), MemberHash(m)), m...)
}

// TypeList is the element type of lists, the one ordered type.
const TypeList byte = 'l'

// Ordered reports whether the elements of type typ are ordered items,
// keyed by their id rather than by their member's hash.
func Ordered(typ byte) bool { return typ == TypeList }

// MemberOffset returns where the member (an ordered type: the id) starts
// in an element key of type typ whose prefix is prefixLen bytes long.
func MemberOffset(typ byte, prefixLen int) int {
	if Ordered(typ) {
		return prefixLen
	}
	return prefixLen + 8
}

// MemberHash is the hash that orders a collection's elements: 64-bit
// FNV-1a of the member, mixed by MurmurHash3's finalizer so that members
// that differ in their last bytes spread over the whole range (a random
// position then picks among them evenly).
func MemberHash(m []byte) uint64 {
	h := uint64(14695981039346656037)
	for _, b := range m {
		h ^= uint64(b)
		h *= 1099511628211
	}
	h ^= h >> 33
	h *= 0xff51afd7ed558ccd
	h ^= h >> 33
	h *= 0xc4ceb9fe1a85ec53
	h ^= h >> 33
	return h
}

// ElementBound returns the smallest element key of type typ of collection
// k whose member hash is at least h.
func ElementBound(typ byte, k []byte, h uint64) []byte {
	return binary.BigEndian.AppendUint64(ElementPrefix(typ, k), h)
}

// ParseElementKey splits an element key into its type, its collection's
// user key and its member (an ordered type: its item's id); they alias k.
// ok is false when k is no element key (or its member hash is not its
// member's).
func ParseElementKey(k []byte) (typ byte, coll, member []byte, ok bool) {
	end, ok := elementPrefixLen(k)
	if !ok {
		return 0, nil, nil, false
	}
	m := k[end+8 : len(k) : len(k)]
	if Ordered(k[1]) {
		m = k[end:len(k):len(k)]
	} else if binary.BigEndian.Uint64(k[end:]) != MemberHash(m) {
		return 0, nil, nil, false
	}
	_, w := binary.Uvarint(k[2:])
	return k[1], k[2+w : end : end], m, true
}

// ElementHash returns the member hash an element key carries and the
// length of its prefix (ElementPrefix of its type and collection), without
// checking the hash against the member; ok is false when k is no element
// key or the item of an ordered collection, which carries no hash.
func ElementHash(k []byte) (h uint64, prefix int, ok bool) {
	end, ok := elementPrefixLen(k)
	if !ok || Ordered(k[1]) {
		return 0, 0, false
	}
	return binary.BigEndian.Uint64(k[end:]), end, true
}

// elementPrefixLen returns the length of element key k's prefix (0xFF,
// type, the collection's key and its length), after which come 8 bytes of
// member hash (an ordered type: an id of at least 8 bytes); ok is false
// when k has no such shape.
func elementPrefixLen(k []byte) (int, bool) {
	if len(k) < 3 || k[0] != escapeByte || k[1] == escapeByte {
		return 0, false
	}
	n, w := binary.Uvarint(k[2:])
	if w <= 0 || n > uint64(len(k)-2-w) {
		return 0, false
	}
	end := 2 + w + int(n)
	// The length must be written in its shortest form: one key, one
	// encoding.
	if w != uvarintLen(n) || len(k)-end < 8 {
		return 0, false
	}
	return end, true
}

// IsElementKey reports whether k is an element key.
func IsElementKey(k []byte) bool {
	return len(k) > 0 && k[0] == escapeByte && (len(k) < 2 || k[1] != escapeByte)
}

// PrefixEnd returns the smallest key greater than every key starting with
// p, or nil when there is none (p is all 0xFF).
func PrefixEnd(p []byte) []byte {
	end := bytes.Clone(p)
	for i := len(end) - 1; i >= 0; i-- {
		if end[i] != 0xFF {
			end[i]++
			return end[:i+1]
		}
	}
	return nil
}

// routeHash returns the hash of an internal key that is not a user key as
// it is: the user key's for an escaped one; for an element key, its
// collection's position (Hi) with a low half of its own (Lo, which only
// spreads keys over a node's locks and cache), so the elements of one
// collection do not all contend for one lock. ok is false when k is a user
// key as it is.
func routeHash(k []byte) (Hash, bool) {
	if len(k) == 0 || k[0] != escapeByte {
		return Hash{}, false
	}
	if len(k) >= 2 && k[1] == escapeByte {
		return md5Hash(k[1:]), true
	}
	if _, coll, _, ok := ParseElementKey(k); ok {
		return Hash{Hi: HashKey(InternalKey(coll)).Hi, Lo: md5Hash(k).Lo}, true
	}
	return Hash{}, false
}

func md5Hash(b []byte) Hash {
	sum := md5.Sum(b)
	return Hash{
		Hi: binary.BigEndian.Uint64(sum[:8]),
		Lo: binary.BigEndian.Uint64(sum[8:]),
	}
}

func uvarintLen(n uint64) int {
	l := 1
	for n >= 0x80 {
		n >>= 7
		l++
	}
	return l
}
