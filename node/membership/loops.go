package membership

import (
	"bytes"
	"maps"
	"time"
)

// saveNow persists the current set if it is not already. Sets only grow
// (Merge), so the stored one never goes back.
func (m *Gossip) saveNow() error {
	m.saveMu.Lock()
	defer m.saveMu.Unlock()
	snap := m.cur.Load()
	if bytes.Equal(snap.enc, m.saved) {
		return nil
	}
	if err := SaveMemberSet(m.cfg.Store, snap.set); err != nil {
		return err
	}
	m.saved = snap.enc
	return nil
}

func (m *Gossip) saveLoop() {
	for {
		select {
		case <-m.done:
			return
		case <-m.saveCh:
		}
		if err := m.saveNow(); err != nil {
			m.log.Error("persisting the member set", "err", err)
		}
	}
}

func (m *Gossip) changeLoop() {
	for {
		select {
		case <-m.done:
			return
		case <-m.changeCh:
		}
		m.cfg.OnChange()
	}
}

func (m *Gossip) livenessLoop() {
	t := time.NewTicker(m.tm.poll)
	defer t.Stop()
	for {
		select {
		case <-m.done:
			return
		case <-t.C:
		case <-m.liveCh:
		}
		m.refreshLiveness()
	}
}

// refreshLiveness recomputes every node's liveness from memberlist: a node
// it lists is alive, a node of the set it does not list is dead.
//
// memberlist v0.7.0 does not tell a suspect node from an alive one:
// Members lists both, and the State of the Nodes it returns is never
// updated (the live state is an unexported field of its node table that
// shadows Node.State), nor does any delegate hear of suspicions. So
// LiveSuspect is not reported; a failed node goes from alive to dead once
// its suspicion times out (about 1 s with Fast, 3-6 s otherwise). Only
// Name, which memberlist never rewrites, is read from the returned Nodes.
func (m *Gossip) refreshLiveness() {
	m.liveM.Lock()
	defer m.liveM.Unlock()
	nodes := m.list.Members()
	m.numLive.Store(int64(len(nodes)))
	next := make(map[string]Liveness, len(nodes)+m.Set().Len())
	for _, r := range m.Set().Records() {
		next[r.ID] = LiveDead
	}
	for _, n := range nodes {
		next[n.Name] = LiveAlive
	}
	next[m.cfg.Self.ID] = LiveAlive
	old := *m.live.Load()
	if maps.Equal(old, next) {
		return
	}
	m.live.Store(&next)
	for id, l := range next {
		if was, ok := old[id]; (ok || l != LiveDead) && was != l {
			m.log.Info("node liveness changed", "id", id, "from", was, "to", l)
		}
	}
	kick(m.changeCh)
}

// joinLoop joins the cluster: until another node is met it tries the seeds
// and the gossip addresses of known members, backing off from
// tm.joinRetry to tm.joinRetryMax; afterwards it periodically tries to
// rejoin members memberlist declared dead, so that two sides of a healed
// partition find each other again. Targets are tried one at a time so
// that Close waits for at most one TCP timeout.
//
// A join the cluster refuses (see refusal.go) ends the loop for good
// while this node has not met the cluster yet; afterwards it is logged.
// While a peer still holds this node at an older gossip address (it
// restarted with new addresses), it pushes its state to a member every
// tm.joinRetry, so memberlist takes the new address as soon as the old
// one is found dead and the reclaim time has passed.
func (m *Gossip) joinLoop() {
	wait := m.tm.joinRetry
	for {
		if !m.joined() {
			m.tryJoin(m.joinTargets(false), true)
			if m.refused() {
				return
			}
			if m.list.NumMembers() > 1 {
				m.joinedOnce.Do(func() { close(m.joinedCh) })
			} else {
				wait = min(wait*3/2, m.tm.joinRetryMax)
			}
		} else {
			wait = m.tm.reconnect
			if m.staleSelf.Swap(false) {
				m.tryJoin(m.liveTargets(), true)
				wait = m.tm.joinRetry
			}
			m.tryJoin(m.joinTargets(true), false)
		}
		t := time.NewTimer(wait)
		select {
		case <-m.done:
			t.Stop()
			return
		case <-t.C:
		}
	}
}

func (m *Gossip) joined() bool {
	select {
	case <-m.joinedCh:
		return true
	default:
		return m.list.NumMembers() > 1 && m.own.Load()
	}
}

// tryJoin joins through each of addrs in turn, until memberlist lists
// another node if untilMet: success is judged by that, not by Join's
// answer, because a seed may turn out to be this node under another name
// (localhost). It stops when the membership is closing.
func (m *Gossip) tryJoin(addrs []string, untilMet bool) {
	for _, addr := range addrs {
		select {
		case <-m.done:
			return
		default:
		}
		joining := !m.joined()
		if _, err := m.list.Join([]string{addr}); err != nil {
			if r := m.refusedBy(addr, err); r != nil {
				if joining {
					m.refuse(r)
					return
				}
				m.warnRefused(r)
			}
			m.log.Debug("joining", "addr", addr, "err", err)
			continue
		}
		m.log.Debug("joined", "addr", addr)
		if untilMet && m.list.NumMembers() > 1 {
			return
		}
	}
}

// liveTargets returns the gossip addresses of the nodes memberlist lists
// alive, this node excluded, as their metadata was last accepted (the
// Nodes memberlist returns are updated in place: see refreshLiveness).
func (m *Gossip) liveTargets() []string {
	var out []string
	for _, n := range m.list.Members() {
		if addr, ok := m.gossipAddrOf(n.Name); ok && n.Name != m.cfg.Self.ID {
			out = append(out, addr)
		}
	}
	return out
}

// gossipAddrOf returns the gossip address at which memberlist last
// accepted node id.
func (m *Gossip) gossipAddrOf(id string) (string, bool) {
	m.peersMu.Lock()
	defer m.peersMu.Unlock()
	i, ok := m.idents[id]
	return i.addr, ok
}

// joinTargets returns the gossip addresses worth joining, this node's
// excluded: the seeds and the known members, or, when deadOnly, the
// members memberlist does not list.
func (m *Gossip) joinTargets(deadOnly bool) []string {
	self := map[string]bool{m.cfg.GossipListen: true, m.GossipAddr(): true}
	var out []string
	seen := make(map[string]bool)
	add := func(a string) {
		if a != "" && !self[a] && !seen[a] {
			seen[a] = true
			out = append(out, a)
		}
	}
	if !deadOnly {
		for _, s := range m.cfg.Seeds {
			add(s)
		}
	}
	for _, r := range m.Set().Members() {
		if r.ID != m.cfg.Self.ID && (!deadOnly || m.Liveness(r.ID) == LiveDead) {
			add(r.GossipAddr)
		}
	}
	return out
}
