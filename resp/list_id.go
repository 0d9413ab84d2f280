package resp

import (
	"bytes"
	"crypto/rand"
	"encoding/binary"
	"errors"
	"math"
	"sync/atomic"
)

// List item ids: dense position identifiers of the Logoot/LSEQ family
// (Weiss, Urso and Molli, "Logoot", ICDCS 2009; Nédelec, Molli, Mostefaoui
// and Desmontils, "LSEQ", DocEng 2013). An id is a sequence of levels, each
// 24 bytes: a big-endian 64-bit digit, then the writer's actor and counter
// (8 bytes each, big-endian). Levels have one width, so comparing two ids
// as byte strings compares their levels one by one as (digit, actor,
// counter) triples, a shorter id sorting before its extensions: the byte
// order of the item keys (ring.ElementKey of ring.TypeList) is the list's
// order on every replica, with no merge logic of its own.
//
// An id's last level always carries the actor and counter of the write
// that made it, unique to that write, so two inserts at one place through
// different coordinators (both choosing the same digit between the same
// neighbours) get two ids, ordered by their writers; both items are kept.
// Levels before the last are copied from a neighbour (or are the all-zero
// level, which sorts before every level a writer makes, since a writer's
// actor is never 0).
//
// Allocation (idBetween) finds the first level at which the digits of the
// two neighbours leave room and picks a digit there; where they do not, it
// copies the lower neighbour's level and goes one level deeper, as
// fractional indexing extends a string. Pushes at either end step the
// digit by idStep from the end item's, so billions of RPUSHes (or LPUSHes)
// keep 24-byte ids; an insert between two items halves their gap, so 64
// inserts at one place before an id grows a level.

const (
	idLevel = 24      // bytes per level: digit, actor, counter
	idStep  = 1 << 32 // the digit step of a push at either end
)

// idBias says where in the free digit range an allocation lands.
type idBias int

const (
	idMiddle idBias = iota // halfway: LINSERT, an empty list
	idAfter                // just after the lower neighbour: RPUSH
	idBefore               // just before the upper neighbour: LPUSH
)

// idWriter mints the (actor, counter) suffixes: a random non-zero actor
// per process (so ids stay unique across restarts without storing
// anything) and a counter. One per process: every server in it shares
// them, which keeps the pairs unique all the same.
var idWriter = struct {
	actor   uint64
	counter atomic.Uint64
}{actor: randomActor()}

func randomActor() uint64 {
	var b [8]byte
	for {
		if _, err := rand.Read(b[:]); err != nil {
			panic(err)
		}
		if a := binary.BigEndian.Uint64(b[:]); a != 0 {
			return a
		}
	}
}

// newID returns an id strictly between a and b (nil a: before every id;
// nil b: after every id) for this process's writer.
func newID(a, b []byte, bias idBias) ([]byte, error) {
	return idBetween(a, b, bias, idWriter.actor, idWriter.counter.Add(1))
}

var errBadIDs = errors.New("list item ids out of order")

// idBetween returns an id strictly between a and b (nil a: none below;
// nil b: none above) whose last level carries actor and counter. a must
// sort before b.
func idBetween(a, b []byte, bias idBias, actor, counter uint64) ([]byte, error) {
	if b != nil && bytes.Compare(a, b) >= 0 {
		return nil, errBadIDs
	}
	var zero [idLevel]byte
	out := make([]byte, 0, len(a)+idLevel)
	bounded := b != nil // out's levels so far equal b's: b still bounds the next one
	for i := 0; ; i++ {
		ta := zero[:]
		realA := (i+1)*idLevel <= len(a)
		if realA {
			ta = a[i*idLevel : (i+1)*idLevel]
		}
		lo := binary.BigEndian.Uint64(ta)
		var (
			tb   []byte
			hi   uint64
			hasB = bounded && (i+1)*idLevel <= len(b)
		)
		if bounded && !hasB {
			// b ends here while equal to out so far, so b would sort
			// before out: a did not sort before b (or b's length is not
			// a whole number of levels).
			return nil, errBadIDs
		}
		// gap is hi-lo, with an absent b's hi being 2^64 (the gap is then
		// capped at 2^64-1, which loses nothing).
		var gap uint64
		if hasB {
			tb = b[i*idLevel : (i+1)*idLevel]
			hi = binary.BigEndian.Uint64(tb)
			if hi < lo {
				return nil, errBadIDs
			}
			gap = hi - lo
		} else if lo == 0 {
			gap = math.MaxUint64
		} else {
			gap = -lo
		}
		if gap >= 2 {
			var d uint64
			switch {
			case bias == idAfter && realA:
				d = lo + min(idStep, gap/2)
			case bias == idBefore && hasB:
				d = hi - min(idStep, gap/2)
			default:
				d = lo + gap/2
			}
			out = binary.BigEndian.AppendUint64(out, d)
			out = binary.BigEndian.AppendUint64(out, actor)
			out = binary.BigEndian.AppendUint64(out, counter)
			break
		}
		// No room between the digits: take a's level (or the zero level
		// when a has ended) and go one deeper. b bounds the next level
		// only while out still equals b's levels.
		out = append(out, ta...)
		if hasB && !bytes.Equal(ta, tb) {
			bounded = false
		}
	}
	if bytes.Compare(a, out) >= 0 || (b != nil && bytes.Compare(out, b) >= 0) {
		return nil, errBadIDs
	}
	return out, nil
}
