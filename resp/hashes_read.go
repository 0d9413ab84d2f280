package resp

import (
	"math"
	"math/rand/v2"

	"github.com/dynakv/dynakv/replication"
)

// The hash commands that read (see hashes.go): each answers a field's
// newest version, except VHGET, which shows them all.

// hashField returns the newest version of field of the hash key (nil when
// the field has none), which the caller knows exists.
func (c *Conn) hashField(key, field []byte) (*replication.Sibling, error) {
	o, err := c.rawGet(elementKey(typeHash, key, field))
	if err != nil {
		return nil, err
	}
	return o.Newest(c.nowMs()), nil
}

// readField reads field of the hash key for a read command: WRONGTYPE for
// another type, nil when the hash or the field does not exist.
func (c *Conn) readField(key, field []byte) (*replication.Sibling, error) {
	_, ok, err := c.readCollection(key, typeHash)
	if !ok || err != nil {
		return nil, err
	}
	return c.hashField(key, field)
}

// eachField walks the fields of the hash key in field hash order, calling
// fn with each field and its newest version; a hash that does not exist
// has none, and another type is WRONGTYPE. With reply, the fields are a
// reply's, and the walk stops (errOutputLimit, the client closed) once
// they would pass the client's output buffer limit.
func (c *Conn) eachField(key []byte, reply bool, fn func(field []byte, s *replication.Sibling)) error {
	_, ok, err := c.readCollection(key, typeHash)
	if !ok || err != nil {
		return err
	}
	size := 0
	err = c.eachElement(key, typeHash, 0, replication.MaxKeysBatch, func(f []byte, _ uint64, s *replication.Sibling) bool {
		fn(f, s)
		size += len(f) + len(s.Value) + 32 // with their bulk headers
		return !reply || !c.exceeds(size)
	})
	if err == nil && reply && c.exceeds(size) {
		err = errOutputLimit
	}
	return err
}

func cmdHGet(c *Conn, args [][]byte) {
	s, err := c.readField(args[1], args[2])
	switch {
	case err != nil:
		c.fail(err)
	case s == nil:
		c.out.Null()
	default:
		c.out.Bulk(s.Value)
	}
}

func cmdHMGet(c *Conn, args [][]byte) {
	_, exists, err := c.readCollection(args[1], typeHash)
	if err != nil {
		c.fail(err)
		return
	}
	vals := make([]*replication.Sibling, len(args)-2)
	for i, f := range args[2:] {
		if !exists {
			break
		}
		if vals[i], err = c.hashField(args[1], f); err != nil {
			c.fail(err)
			return
		}
	}
	c.out.Array(len(vals))
	for _, s := range vals {
		if s == nil {
			c.out.Null()
		} else {
			c.out.Bulk(s.Value)
		}
	}
}

// hashWalk implements HGETALL, HKEYS and HVALS: the fields, the values or
// both of every field.
func hashWalk(fields, values bool) func(c *Conn, args [][]byte) {
	return func(c *Conn, args [][]byte) {
		var out [][]byte
		n := 0
		err := c.eachField(args[1], true, func(f []byte, s *replication.Sibling) {
			if fields {
				out = append(out, f)
			}
			if values {
				out = append(out, s.Value)
			}
			n++
		})
		if err != nil {
			c.fail(err)
			return
		}
		if fields && values {
			c.out.Map(n)
		} else {
			c.out.Array(n)
		}
		for _, b := range out {
			c.out.Bulk(b)
		}
	}
}

var (
	cmdHGetAll = hashWalk(true, true)
	cmdHKeys   = hashWalk(true, false)
	cmdHVals   = hashWalk(false, true)
)

func cmdHLen(c *Conn, args [][]byte) {
	var n int64
	if err := c.eachField(args[1], false, func([]byte, *replication.Sibling) { n++ }); err != nil {
		c.fail(err)
		return
	}
	c.out.Int(n)
}

func cmdHExists(c *Conn, args [][]byte) {
	s, err := c.readField(args[1], args[2])
	switch {
	case err != nil:
		c.fail(err)
	case s == nil:
		c.out.Int(0)
	default:
		c.out.Int(1)
	}
}

func cmdHStrlen(c *Conn, args [][]byte) {
	s, err := c.readField(args[1], args[2])
	switch {
	case err != nil:
		c.fail(err)
	case s == nil:
		c.out.Int(0)
	default:
		c.out.Int(int64(len(s.Value)))
	}
}

// smallHash is the most fields a hash may have for HRANDFIELD without a
// count to pick among all of them; a bigger one is sampled at a random
// field hash, which favours the fields after wide gaps between hashes but
// costs one short read whatever the hash's size.
const smallHash = 64

// randomField returns a random field of the hash key, which exists (nil
// when it has no field).
func (c *Conn) randomField(key []byte) ([]byte, error) {
	var (
		fs   [][]byte
		more bool
	)
	err := c.eachElement(key, typeHash, 0, smallHash+1, func(f []byte, _ uint64, _ *replication.Sibling) bool {
		if len(fs) == smallHash {
			more = true
			return false
		}
		fs = append(fs, f)
		return true
	})
	if err != nil || len(fs) == 0 {
		return nil, err
	}
	if !more {
		return fs[rand.IntN(len(fs))], nil
	}
	var got []byte
	err = c.eachElement(key, typeHash, rand.Uint64(), 4, func(f []byte, _ uint64, _ *replication.Sibling) bool {
		got = f
		return false
	})
	if err != nil || got != nil {
		return got, err
	}
	return fs[0], nil // past the last field hash: wrap around
}

func cmdHRandField(c *Conn, args [][]byte) {
	if len(args) == 2 {
		_, exists, err := c.readCollection(args[1], typeHash)
		var f []byte
		if exists && err == nil {
			f, err = c.randomField(args[1])
		}
		switch {
		case err != nil:
			c.fail(err)
		case f == nil:
			c.out.Null()
		default:
			c.out.Bulk(f)
		}
		return
	}
	count, ok := string2ll(args[2])
	switch {
	case !ok:
		c.replyErr(errNotInteger)
		return
	case count == math.MinInt64: // Redis takes a long in [-LONG_MAX, LONG_MAX]
		c.replyErr("ERR value is out of range, value must between -9223372036854775807 and 9223372036854775807")
		return
	case len(args) > 4 || (len(args) == 4 && !eqFold(args[3], "withvalues")):
		c.replyErr(errSyntax)
		return
	}
	withValues := len(args) == 4
	if withValues && (count < -math.MaxInt64/2 || count > math.MaxInt64/2) {
		c.replyErr("ERR value is out of range")
		return
	}
	var (
		fs [][]byte
		vs [][]byte
	)
	if count != 0 {
		err := c.eachField(args[1], false, func(f []byte, s *replication.Sibling) {
			fs, vs = append(fs, f), append(vs, s.Value)
		})
		if err != nil {
			c.fail(err)
			return
		}
	}
	if len(fs) == 0 {
		c.out.Array(0)
		return
	}
	if count > 0 {
		picks := rand.Perm(len(fs))[:min(int64(len(fs)), count)]
		c.randomFieldsHeader(len(picks), withValues)
		for _, i := range picks {
			c.replyRandomField(fs[i], vs[i], withValues)
		}
		return
	}
	n := -count // with repetitions
	if c.exceeds(int(min(n, math.MaxInt32))) {
		return
	}
	c.randomFieldsHeader(int(n), withValues)
	for range n {
		i := rand.IntN(len(fs))
		c.replyRandomField(fs[i], vs[i], withValues)
	}
}

// randomFieldsHeader starts HRANDFIELD's reply of n picks: an array of the
// fields, or with values of field-value pairs (a flat array in RESP2, an
// array of two-element arrays in RESP3, as Redis replies).
func (c *Conn) randomFieldsHeader(n int, withValues bool) {
	if withValues && c.out.proto != 3 {
		n *= 2
	}
	c.out.Array(n)
}

// replyRandomField replies one of HRANDFIELD's picks.
func (c *Conn) replyRandomField(f, v []byte, withValues bool) {
	if !withValues {
		c.out.Bulk(f)
		return
	}
	if c.out.proto == 3 {
		c.out.Array(2)
	}
	c.out.Bulk(f)
	c.out.Bulk(v)
}

func cmdHScan(c *Conn, args [][]byte) {
	c.scanCollection(args, typeHash, func(s *replication.Sibling) []byte { return s.Value })
}

// cmdVHGet implements VHGET key field [R n] [LOCAL]: the causal context and
// every live version of the field, as VGET replies for a string key; an
// empty array when the hash or the field does not exist.
func cmdVHGet(c *Conn, args [][]byte) {
	opt, local, ok := c.vgetOptions(args[3:])
	if !ok {
		return
	}
	_, exists, err := c.readCollection(args[1], typeHash)
	var o *replication.Object
	if exists && err == nil {
		o, err = c.readVersions(elementKey(typeHash, args[1], args[2]), opt, local)
	}
	if err != nil {
		c.fail(err)
		return
	}
	// o is nil when the hash does not exist: an empty array. A field's
	// versions are never a collection's, so no key is needed to show one.
	c.replyVersions(nil, o)
}
