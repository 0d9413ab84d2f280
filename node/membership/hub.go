package membership

import (
	"fmt"
	"sync"
)

// Hub is the in-memory twin of gossip: one member set shared by every
// member that joined it, with a failure detector the test drives
// (SetAlive). Changes reach every member at once, with no network and no
// delay, and each member's OnChange is called synchronously by the call
// that made the change, outside the hub's lock. Members persist the set to
// their Config.Store like Gossip does, so a node rebuilt on the same store
// routes the same way.
//
// All methods are safe for concurrent use.
type Hub struct {
	mu      sync.Mutex
	set     MemberSet
	members map[string]*Member
	dead    map[string]bool
}

// NewHub returns a hub whose member set starts as recs (members that join
// later under one of these ids keep their record).
func NewHub(recs ...MemberRecord) *Hub {
	return &Hub{set: NewMemberSet(recs...), members: map[string]*Member{}, dead: map[string]bool{}}
}

// Member is one node's Membership on a Hub.
type Member struct {
	h   *Hub
	cfg Config

	mu     sync.Mutex
	closed bool
}

var _ Membership = (*Member)(nil)

// Join adds cfg.Self to the hub: a record already in the set is kept (a
// restart), a new one takes the next join generation. It persists the set
// to cfg.Store when set, and calls every other member's OnChange. It
// refuses, with an error matching ErrRefused, what Gossip refuses: another
// partition count, or the id of an open, alive member with another
// instance token.
func (h *Hub) Join(cfg Config) (*Member, error) {
	if cfg.Self.ID == "" {
		return nil, fmt.Errorf("membership: a member needs an id")
	}
	m := &Member{h: h, cfg: cfg}
	h.mu.Lock()
	if err := h.admitLocked(cfg); err != nil {
		h.mu.Unlock()
		return nil, err
	}
	if _, ok := h.set.Get(cfg.Self.ID); !ok {
		rec := cfg.Self
		rec.Joined = h.set.NextGeneration()
		if rec.GossipAddr == "" {
			rec.GossipAddr = "hub-" + rec.ID
		}
		h.set = h.set.Merge(NewMemberSet(rec))
	}
	h.members[cfg.Self.ID] = m
	delete(h.dead, cfg.Self.ID)
	h.mu.Unlock()
	if err := m.persist(); err != nil {
		return nil, err
	}
	h.changed()
	return m, nil
}

// admitLocked applies Gossip's join rules (refusal.go) to a joining member: every
// open member's partition count must equal cfg's (when both are set), and
// an open, alive member with cfg's id must have cfg's instance token (the
// hub has no addresses: a second process with the id is an impostor
// however it is reached). h.mu is held.
func (h *Hub) admitLocked(cfg Config) error {
	for id, o := range h.members {
		if o.isClosed() {
			continue
		}
		if q := o.cfg.Partitions; q != 0 && cfg.Partitions != 0 && q != cfg.Partitions {
			return &refusal{"partitions", fmt.Sprintf("node %q has %d partitions and this node %d; the partition count is fixed when the cluster is created, so they cannot be in one cluster",
				id, q, cfg.Partitions)}
		}
		if id == cfg.Self.ID && !h.dead[id] && o.cfg.Instance != cfg.Instance {
			return &refusal{"node_id", fmt.Sprintf("node %q is alive with another data directory; this is another node with the same id", id)}
		}
	}
	return nil
}

// SetAlive sets what every member's failure detector says of id, and calls
// the members' OnChange.
func (h *Hub) SetAlive(id string, alive bool) {
	h.mu.Lock()
	if alive {
		delete(h.dead, id)
	} else {
		h.dead[id] = true
	}
	h.mu.Unlock()
	h.changed()
}

// Merge merges s into the hub's member set (joins, removals) and calls the
// members' OnChange.
func (h *Hub) Merge(s MemberSet) {
	h.mu.Lock()
	h.set = h.set.Merge(s)
	h.mu.Unlock()
	h.changed()
}

// changed persists the set for every open member and calls their OnChange.
func (h *Hub) changed() {
	h.mu.Lock()
	ms := make([]*Member, 0, len(h.members))
	for _, m := range h.members {
		ms = append(ms, m)
	}
	h.mu.Unlock()
	for _, m := range ms {
		if m.isClosed() {
			continue
		}
		_ = m.persist()
		if m.cfg.OnChange != nil {
			m.cfg.OnChange()
		}
	}
}

func (m *Member) isClosed() bool {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.closed
}

func (m *Member) persist() error {
	if m.cfg.Store == nil {
		return nil
	}
	return SaveMemberSet(m.cfg.Store, m.Set())
}

// Set returns the hub's member set.
func (m *Member) Set() MemberSet {
	m.h.mu.Lock()
	defer m.h.mu.Unlock()
	return m.h.set
}

// Self returns this member's record in the set.
func (m *Member) Self() MemberRecord {
	if r, ok := m.Set().Get(m.cfg.Self.ID); ok {
		return r
	}
	return m.cfg.Self
}

// Liveness is LiveAlive for this member and for every member the test did
// not mark dead, LiveDead for an id not in the set.
func (m *Member) Liveness(id string) Liveness {
	if id == m.cfg.Self.ID {
		return LiveAlive
	}
	m.h.mu.Lock()
	defer m.h.mu.Unlock()
	if _, ok := m.h.set.Get(id); !ok || m.h.dead[id] {
		return LiveDead
	}
	return LiveAlive
}

// Addrs returns id's addresses as its record holds them.
func (m *Member) Addrs(id string) (client, peer string, ok bool) {
	r, ok := m.Set().Get(id)
	return r.Addr, r.PeerAddr, ok
}

// Remove records id's removal at the next generation, as Gossip.Remove.
func (m *Member) Remove(id string) error {
	if id == m.cfg.Self.ID {
		return ErrRemoveSelf
	}
	m.h.mu.Lock()
	rec, ok := m.h.set.Get(id)
	switch {
	case !ok:
		m.h.mu.Unlock()
		return &memberError{ErrUnknownMember, fmt.Sprintf("no such node '%s'", id)}
	case rec.Removed != 0:
		m.h.mu.Unlock()
		return &memberError{ErrAlreadyRemoved, fmt.Sprintf("node '%s' is already removed", id)}
	}
	rec.Removed = m.h.set.NextGeneration()
	m.h.set = m.h.set.Merge(NewMemberSet(rec))
	m.h.mu.Unlock()
	m.h.changed()
	return nil
}

// Removed reports whether this member's record is removed.
func (m *Member) Removed() bool { return m.Self().Removed != 0 }

// Counts tallies the members' liveness.
func (m *Member) Counts() (alive, suspect, dead int) { return counts(m.Set(), m.Liveness) }

// GossipAddr returns the record's gossip address (a name: the hub has no
// network).
func (m *Member) GossipAddr() string { return m.Self().GossipAddr }

// Close stops OnChange calls to this member; the record stays in the set,
// as a node that left stays a member until removed. It is idempotent.
func (m *Member) Close() error {
	m.mu.Lock()
	m.closed = true
	m.mu.Unlock()
	return nil
}

// Alive reports whether the test left id alive (SetAlive).
func (h *Hub) Alive(id string) bool {
	h.mu.Lock()
	defer h.mu.Unlock()
	return !h.dead[id]
}
