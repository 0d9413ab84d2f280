package replica

import (
	"container/list"
	"sync"

	"github.com/dynakv/dynakv/replication"
)

// cacheShards is the number of independently locked parts of an
// objectCache.
const cacheShards = 64

// objectCache keeps recently used keys' decoded sibling sets in memory, in
// front of the store, so hot keys are read and rewritten without a goleveldb
// lookup and a decode. It holds a bounded number of bytes per shard and
// evicts least recently used entries first.
//
// It also remembers keys the store does not hold (a nil state).
//
// It is write-through and never the only copy: LocalReplica stores every
// new state in the store before putting it here, and fills the cache only
// under the key's lock, so the cache never holds a state older than the
// store's. Objects are immutable, so a cached object is shared freely.
// Safe for concurrent use.
type objectCache struct {
	shards [cacheShards]cacheShard
}

type cacheShard struct {
	mu    sync.Mutex
	max   int64
	used  int64
	items map[string]*list.Element
	lru   list.List // front: most recently used; values are *cacheEntry
}

type cacheEntry struct {
	key  string
	obj  *replication.Object
	size int64
}

// newObjectCache returns a cache of about capacity bytes, or nil (no cache)
// when capacity is 0 or less. A nil *objectCache is valid and caches
// nothing.
func newObjectCache(capacity int64) *objectCache {
	if capacity <= 0 {
		return nil
	}
	c := &objectCache{}
	for i := range c.shards {
		c.shards[i].max = max(capacity/cacheShards, 1)
		c.shards[i].items = make(map[string]*list.Element)
	}
	return c
}

func (c *objectCache) shard(hashLo uint64) *cacheShard {
	return &c.shards[hashLo%cacheShards]
}

// get returns the cached state of key (which may be a nil object: an
// absent key is not cached, so ok tells the difference).
func (c *objectCache) get(hashLo uint64, key []byte) (*replication.Object, bool) {
	if c == nil {
		return nil, false
	}
	s := c.shard(hashLo)
	s.mu.Lock()
	defer s.mu.Unlock()
	el, ok := s.items[string(key)]
	if !ok {
		return nil, false
	}
	s.lru.MoveToFront(el)
	return el.Value.(*cacheEntry).obj, true
}

// put caches o as key's state, replacing what was there. A nil o caches
// the key's absence, so reads of keys that do not exist (and the read
// before a key's first write) skip the store too.
func (c *objectCache) put(hashLo uint64, key []byte, o *replication.Object) {
	if c == nil {
		return
	}
	size := objectSize(key, o)
	s := c.shard(hashLo)
	s.mu.Lock()
	defer s.mu.Unlock()
	if el, ok := s.items[string(key)]; ok {
		e := el.Value.(*cacheEntry)
		s.used += size - e.size
		e.obj, e.size = o, size
		s.lru.MoveToFront(el)
	} else {
		if size > s.max {
			return
		}
		e := &cacheEntry{key: string(key), obj: o, size: size}
		s.items[e.key] = s.lru.PushFront(e)
		s.used += size
	}
	for s.used > s.max {
		el := s.lru.Back()
		e := el.Value.(*cacheEntry)
		s.lru.Remove(el)
		delete(s.items, e.key)
		s.used -= e.size
	}
}

// objectSize estimates the memory an entry holds.
func objectSize(key []byte, o *replication.Object) int64 {
	if o == nil {
		return int64(len(key)) + 160
	}
	n := int64(len(key)) + 160 + int64(o.Clock.Len())*24
	for i := range o.Siblings {
		n += int64(len(o.Siblings[i].Value)) + 64
	}
	return n
}

// drop forgets key's cached state, so the next read goes to the store.
func (c *objectCache) drop(hashLo uint64, key []byte) {
	if c == nil {
		return
	}
	s := c.shard(hashLo)
	s.mu.Lock()
	defer s.mu.Unlock()
	if el, ok := s.items[string(key)]; ok {
		s.lru.Remove(el)
		delete(s.items, string(key))
		s.used -= el.Value.(*cacheEntry).size
	}
}
