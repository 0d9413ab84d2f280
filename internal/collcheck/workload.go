package collcheck

import (
	"context"
	"fmt"
	"math/rand/v2"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/redis/go-redis/v9"
)

// Kind is a type of collection: how a workload writes, removes and reads
// its members.
type Kind struct {
	Name string
	// Write adds member m with value v (a set ignores v).
	Write func(ctx context.Context, c *redis.Client, key, m, v string) error
	// Remove removes m and returns how many members it removed.
	Remove func(ctx context.Context, c *redis.Client, key, m string) (int64, error)
	// Read returns the members with their values ("" for a set's).
	Read func(ctx context.Context, c *redis.Client, key string) (map[string]string, error)
	// Values: members carry values (a hash's fields), and an owned one is
	// also written again with a new value.
	Values bool
}

// Set is SADD, SREM and SMEMBERS.
var Set = Kind{
	Name: "set",
	Write: func(ctx context.Context, c *redis.Client, key, m, _ string) error {
		return c.SAdd(ctx, key, m).Err()
	},
	Remove: func(ctx context.Context, c *redis.Client, key, m string) (int64, error) {
		return c.SRem(ctx, key, m).Result()
	},
	Read: func(ctx context.Context, c *redis.Client, key string) (map[string]string, error) {
		ms, err := c.SMembers(ctx, key).Result()
		out := make(map[string]string, len(ms))
		for _, m := range ms {
			out[m] = ""
		}
		return out, err
	},
}

// Hash is HSET, HDEL and HGETALL; an owned field is also set again.
var Hash = Kind{
	Name: "hash",
	Write: func(ctx context.Context, c *redis.Client, key, m, v string) error {
		return c.HSet(ctx, key, m, v).Err()
	},
	Remove: func(ctx context.Context, c *redis.Client, key, m string) (int64, error) {
		return c.HDel(ctx, key, m).Result()
	},
	Read: func(ctx context.Context, c *redis.Client, key string) (map[string]string, error) {
		return c.HGetAll(ctx, key).Result()
	},
	Values: true,
}

// List is RPUSH, LREM (every item of the value) and LRANGE, read as the
// set of its values: each RPUSH is an item of its own, and an LREM removes
// the items it reads, so a push it did not see survives it, the add-wins
// rule the histories check. A value pushed twice (a shared member) and
// removed once counts as one remove.
var List = Kind{
	Name: "list",
	Write: func(ctx context.Context, c *redis.Client, key, m, _ string) error {
		return c.RPush(ctx, key, m).Err()
	},
	Remove: func(ctx context.Context, c *redis.Client, key, m string) (int64, error) {
		n, err := c.LRem(ctx, key, 0, m).Result()
		return min(n, 1), err
	},
	Read: func(ctx context.Context, c *redis.Client, key string) (map[string]string, error) {
		vs, err := c.LRange(ctx, key, 0, -1).Result()
		out := make(map[string]string, len(vs))
		for _, v := range vs {
			out[v] = ""
		}
		return out, err
	},
}

// ZSet is ZADD, ZREM and ZRANGE 0 -1 WITHSCORES (a read through the
// replicas' score indexes): a member's value is its score, written for
// value "v12" as 12 and read back as "v12"; an owned member is also
// written again with a new score.
var ZSet = Kind{
	Name: "zset",
	Write: func(ctx context.Context, c *redis.Client, key, m, v string) error {
		f, _ := strconv.ParseFloat(strings.TrimPrefix(v, "v"), 64)
		return c.ZAdd(ctx, key, redis.Z{Score: f, Member: m}).Err()
	},
	Remove: func(ctx context.Context, c *redis.Client, key, m string) (int64, error) {
		return c.ZRem(ctx, key, m).Result()
	},
	Read: func(ctx context.Context, c *redis.Client, key string) (map[string]string, error) {
		zs, err := c.ZRangeWithScores(ctx, key, 0, -1).Result()
		out := make(map[string]string, len(zs))
		for _, z := range zs {
			out[z.Member.(string)] = "v" + strconv.FormatFloat(z.Score, 'f', -1, 64)
		}
		return out, err
	},
	Values: true,
}

// Clients is a workload: clients that each send one command at a time
// through a random node.
type Clients struct {
	Kind Kind
	// Conns returns a new client's connections, one per node; a client
	// must not retry a command (a retry would be an update the history
	// does not know of).
	Conns func() []*redis.Client
	N     int    // clients
	Seed  uint64 // their random choices
	Name  string // prefix of the clients' member names, unique per workload
	// Keys returns the collections a command may go to now (a long run
	// moves to new ones, keeping each small).
	Keys func() []string
	// Hold, when set, is taken shared around each command (a fault
	// schedule takes it to pause the clients).
	Hold *sync.RWMutex
	// Timeout bounds one command: more than the few coordinated requests
	// a write or a remove makes, each bounded by the request timeout.
	Timeout time.Duration
	Start   time.Time // shared members change every SharedEvery from here
	// SharedEvery is how long a few shared members are in use (0: 2 s).
	SharedEvery time.Duration
}

// Run starts the clients, which record into h and return once stop is
// closed; wg tracks them. Each command is one of: a write of a new owned
// member, a remove of an owned member acknowledged (its owner's), for a
// hash a write of a new value of an owned field, and a write or a remove
// of one of a few shared members.
func (w Clients) Run(h *History, stop <-chan struct{}, wg *sync.WaitGroup) {
	every := w.SharedEvery
	if every <= 0 {
		every = 2 * time.Second
	}
	for id := range w.N {
		rng := rand.New(rand.NewPCG(w.Seed, uint64(id)))
		conns := w.Conns()
		wg.Go(func() {
			var mine []string // owned members there: "key\x00member"
			for seq := 0; ; seq++ {
				select {
				case <-stop:
					return
				default:
				}
				keys := w.Keys()
				key := keys[rng.IntN(len(keys))]
				c := conns[rng.IntN(len(conns))]
				if w.Hold != nil {
					w.Hold.RLock()
				}
				ctx, cancel := context.WithTimeout(context.Background(), w.Timeout)
				inv := time.Now()
				v := ""
				if w.Kind.Values {
					v = fmt.Sprint("v", seq)
				}
				switch r := rng.IntN(10); {
				case r < 4 || (r < 7 && len(mine) == 0):
					m := fmt.Sprintf("%s%d-%d", w.Name, id, seq)
					err := w.Kind.Write(ctx, c, key, m, v)
					h.Add(key, m, v, true, inv, err)
					if err == nil {
						mine = append(mine, key+"\x00"+m)
					}
				case r < 6 || (r < 7 && !w.Kind.Values):
					i := rng.IntN(len(mine))
					k, m, _ := strings.Cut(mine[i], "\x00")
					n, err := w.Kind.Remove(ctx, c, k, m)
					h.Remove(k, m, true, inv, n, err)
					if !h.Present(k, m) {
						mine = slices.Delete(mine, i, i+1)
					}
				case r < 7:
					i := rng.IntN(len(mine))
					k, m, _ := strings.Cut(mine[i], "\x00")
					h.Add(k, m, v, true, inv, w.Kind.Write(ctx, c, k, m, v))
					if !h.Present(k, m) {
						mine = slices.Delete(mine, i, i+1)
					}
				default:
					m := fmt.Sprintf("x%d-%d", time.Since(w.Start)/every, rng.IntN(3))
					if r < 9 {
						h.Add(key, m, v, false, inv, w.Kind.Write(ctx, c, key, m, v))
					} else {
						n, err := w.Kind.Remove(ctx, c, key, m)
						h.Remove(key, m, false, inv, n, err)
					}
				}
				cancel()
				if w.Hold != nil {
					w.Hold.RUnlock()
				}
			}
		})
	}
}

// Agree reads key through every client of conns and reports whether all
// read the same, and what (member -> value), with one line per node for a
// message.
func (k Kind) Agree(ctx context.Context, conns []*redis.Client, key string) (map[string]string, bool, []string) {
	var first map[string]string
	same := true
	lines := make([]string, len(conns))
	for i, c := range conns {
		got, err := k.Read(ctx, c, key)
		lines[i] = fmt.Sprintf("%s: %d members %v", c.Options().Addr, len(got), err)
		if i == 0 {
			first = got
		}
		same = same && err == nil && equal(first, got)
	}
	return first, same, lines
}

func equal(a, b map[string]string) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if w, ok := b[k]; !ok || w != v {
			return false
		}
	}
	return true
}
