package replication

// slot is one replica a coordinated request goes to: a home replica of the
// key (owner nil), or a stand-in for the home replica owner that the
// failure detector or a failed request took out (sloppy quorum). A stand-in
// stores what it is sent as a hint for owner.
type slot struct {
	rep   Replica
	owner Replica
}

// home returns the home replica the slot serves: owner for a stand-in, rep
// itself otherwise.
func (s slot) home() Replica {
	if s.owner != nil {
		return s.owner
	}
	return s.rep
}

// plan is where one request goes: the first n live nodes of the key's
// extended preference list (the paper's "first N healthy nodes"), each
// live home replica as itself and each dead one replaced, in order, by the
// next live node after the homes. Spares are the live nodes not used yet,
// in preference order, for replacing replicas that fail during the
// request; orphans are dead homes no stand-in was left for.
type plan struct {
	slots   []slot
	spares  []Replica
	orphans []Replica
}

// makePlan builds the plan over prefs whose first n are the homes. skip,
// when non-nil, is left out of both slots and spares (the local replica
// when it already stored the version itself).
func (c *Coordinator) makePlan(prefs []Replica, n int, skip Replica) plan {
	var p plan
	var dead []Replica
	for _, r := range prefs[:n] {
		switch {
		case r == skip:
		case c.alive(r):
			p.slots = append(p.slots, slot{rep: r})
		default:
			dead = append(dead, r)
		}
	}
	for _, r := range prefs[n:] {
		if r == skip || !c.alive(r) {
			continue
		}
		if len(dead) > 0 {
			p.slots = append(p.slots, slot{rep: r, owner: dead[0]})
			dead = dead[1:]
		} else {
			p.spares = append(p.spares, r)
		}
	}
	p.orphans = dead
	return p
}

// nextSpare removes and returns the next spare, or nil.
func (p *plan) nextSpare() Replica {
	if len(p.spares) == 0 {
		return nil
	}
	r := p.spares[0]
	p.spares = p.spares[1:]
	return r
}

func (c *Coordinator) alive(r Replica) bool {
	return r == Replica(c.cfg.Local) || c.cfg.Router.Alive(r)
}

// prefs returns key's preference list (never empty: the local replica is
// always a member) and N clamped to it.
func (c *Coordinator) prefs(key []byte) ([]Replica, int) {
	prefs := c.cfg.Router.PreferenceList(key)
	if len(prefs) == 0 {
		prefs = []Replica{c.cfg.Local}
	}
	return prefs, min(c.cfg.N, len(prefs))
}

// quorum returns the quorum q (override when > 0, else def) clamped to
// [1, n].
func quorum(override, def, n int) int {
	if override > 0 {
		def = override
	}
	return max(1, min(def, n))
}
