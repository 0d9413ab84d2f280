package resp

import (
	"context"
	"math/rand/v2"

	"github.com/dynakv/dynakv/replication"
	"github.com/dynakv/dynakv/ring"
)

// RANDOMKEY, TOUCH, EXPIRETIME and PEXPIRETIME.

// randomPick is how many live keys after a random ring position RANDOMKEY
// draws among. Drawing the first key after a random position alone would
// favour the keys that follow wide gaps of the ring (with two keys, one of
// them can own 99% of the circle); drawing among the next few evens that
// out, and a keyspace of at most randomPick keys is drawn from uniformly.
const randomPick = 16

// cmdRandomKey answers a random live key: it walks the ring from a random
// position (wrapping once at the end) and draws one of the first
// randomPick live keys it meets; nil when there are none. Deleted and
// expired keys are passed over, so a keyspace of tombstones costs a walk of
// them; elements are no keys.
func cmdRandomKey(c *Conn, args [][]byte) {
	ctx, cancel := context.WithTimeout(c.ctx, 10*c.srv.cfg.RequestTimeout)
	defer cancel()
	now := c.nowMs()
	start := rand.Uint64()
	var keys [][]byte
	visit := func(wrapped bool) func(key []byte, o *replication.Object) bool {
		return func(key []byte, o *replication.Object) bool {
			if wrapped && ring.HashKey(key).Hi >= start {
				return false // back where the walk began
			}
			if uk, ok := ring.UserKey(key); ok && o.Newest(now) != nil {
				keys = append(keys, append([]byte(nil), uk...))
			}
			return len(keys) < randomPick
		}
	}
	next, err := c.srv.cfg.Backend.Scan(ctx, start, visit(false))
	if err == nil && next == 0 && len(keys) < randomPick && start > 0 {
		_, err = c.srv.cfg.Backend.Scan(ctx, 0, visit(true))
	}
	switch {
	case err != nil:
		c.fail(err)
	case len(keys) == 0:
		c.out.Null()
	default:
		c.out.Bulk(keys[rand.IntN(len(keys))])
	}
}

// expiretimeCommand implements EXPIRETIME (unitSeconds, rounded as Redis
// rounds) and PEXPIRETIME: the key's absolute expiry, -1 without one, -2
// for no key. A collection's expiry is its head's.
func expiretimeCommand(unit int) func(c *Conn, args [][]byte) {
	return func(c *Conn, args [][]byte) {
		_, s, ok, err := c.keyType(args[1])
		switch {
		case err != nil:
			c.fail(err)
		case !ok:
			c.out.Int(-2)
		case s == nil || s.ExpireAt == 0:
			c.out.Int(-1)
		case unit == unitSeconds:
			c.out.Int((s.ExpireAt + 500) / 1000)
		default:
			c.out.Int(s.ExpireAt)
		}
	}
}
