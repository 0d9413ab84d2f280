package membership

// Admission: who may be a member. Every node advertises, in its gossip
// metadata (NodeMeta), its data directory's instance token and its
// partition count beside its record. A node is refused, on both sides,
// when
//
//   - its partition count differs from ours (the ring would disagree on
//     every preference list and transfers would never finish);
//   - its id is alive at another gossip address with another instance
//     token: a second process started with a live node's id. The same
//     token at another address is the node itself restarted with new
//     addresses, which memberlist takes once the old address is found
//     dead; another token at the same address is a node whose data
//     directory was wiped (only one process can hold the address), which
//     takes its record back as before;
//   - it gossips with another cluster_secret (or without one when we have
//     one, or the reverse): memberlist cannot decrypt the other side, so
//     nothing is exchanged.
//
// Members refuse such a node's alive messages (memberlist's AliveDelegate)
// and its push/pull join (MergeDelegate), and log it at warn level once.
// The node itself learns it from its own join attempt: its MergeDelegate
// refuses the seed's state (partitions, id alive elsewhere), or the join
// fails in a way that only a seed with another secret causes (see
// secretRefusal). A node that has not met the cluster yet takes that as
// final: Start fails, or OnRefused is called, and the node exits non-zero.
// A node that has met the cluster only logs it (a stray node cannot make a
// member leave).

import (
	"errors"
	"fmt"
	"net"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/dynakv/dynakv/replication/codec"
	"github.com/hashicorp/memberlist"
)

// ErrRefused is matched (errors.Is) by the error of a node the cluster
// refused: its message names the setting at fault (cluster_secret,
// partitions or node_id).
var ErrRefused = errors.New("refused by the cluster")

// refusal is why a node was refused, naming the setting at fault.
type refusal struct {
	setting string
	msg     string
}

func (r *refusal) Error() string { return "membership: " + r.setting + ": " + r.msg }
func (r *refusal) Unwrap() error { return ErrRefused }

// NodeMeta is what a node advertises in its memberlist metadata: its
// instance token and partition count, and its record once it has one.
type NodeMeta struct {
	Instance   string
	Partitions int
	Record     *MemberRecord // nil while the node is still joining
}

// nodeMetaVersion differs from membersVersion, so that a node of the
// version before this envelope, which read the metadata as a member set,
// refuses it rather than misreading it.
const nodeMetaVersion = 2

// maxInstanceLen bounds an advertised instance token.
const maxInstanceLen = 64

// AppendNodeMeta appends the encoding of nm: a version byte, the instance
// token as a length-prefixed string, the partition count as a uvarint, and
// the record as a member set of one (AppendMemberSet), or nothing.
func AppendNodeMeta(dst []byte, nm NodeMeta) []byte {
	dst = append(dst, nodeMetaVersion)
	dst = codec.AppendString(dst, nm.Instance)
	dst = codec.AppendUvarint(dst, uint64(nm.Partitions))
	if nm.Record != nil {
		dst = AppendMemberSet(dst, NewMemberSet(*nm.Record))
	}
	return dst
}

// DecodeNodeMeta decodes what AppendNodeMeta encoded. It never panics;
// errors wrap ErrCorruptMembers.
func DecodeNodeMeta(buf []byte) (NodeMeta, error) {
	if len(buf) == 0 || buf[0] != nodeMetaVersion {
		return NodeMeta{}, fmt.Errorf("%w: unknown node metadata version", ErrCorruptMembers)
	}
	r := codec.NewReader(buf[1:], ErrCorruptMembers)
	nm := NodeMeta{Instance: r.String(maxInstanceLen)}
	q := r.Uvarint()
	if r.Err() == nil && q > 1<<30 {
		r.Fail("bad partition count")
	}
	if err := r.Err(); err != nil {
		return NodeMeta{}, err
	}
	nm.Partitions = int(q)
	if rest := buf[len(buf)-r.Len():]; len(rest) > 0 { // the reader's rest
		s, err := DecodeMemberSet(rest)
		if err != nil {
			return NodeMeta{}, err
		}
		if s.Len() != 1 {
			return NodeMeta{}, fmt.Errorf("%w: node metadata holds %d records", ErrCorruptMembers, s.Len())
		}
		rec := s.recs[0]
		nm.Record = &rec
	}
	return nm, nil
}

// ident is what this node last accepted from another node's metadata.
type ident struct {
	instance string
	addr     string // gossip address
}

// joinGate is the memberlist AliveDelegate, MergeDelegate and
// ConflictDelegate of a Gossip: it applies the rules above.
type joinGate struct{ m *Gossip }

var (
	_ memberlist.AliveDelegate    = joinGate{}
	_ memberlist.MergeDelegate    = joinGate{}
	_ memberlist.ConflictDelegate = joinGate{}
)

// NotifyAlive refuses an alive message about a node the rules refuse.
func (a joinGate) NotifyAlive(n *memberlist.Node) error {
	if err := a.m.admit(n); err != nil {
		a.m.warnRefused(err)
		return err
	}
	return nil
}

// NotifyMerge refuses a push/pull join whose state holds a live node the
// rules refuse: on the seed's side, the joiner; on the joiner's side, the
// seed's cluster (tryJoin then learns it was refused: see refusedBy).
//
// A state that holds this node's id at another gossip address, even dead,
// sets staleSelf: the peer has not taken this node's current address yet.
func (a joinGate) NotifyMerge(peers []*memberlist.Node) error {
	self := a.m.GossipAddr()
	for _, n := range peers {
		if n.Name == a.m.cfg.Self.ID && nodeAddr(n) != self && self != "" {
			a.m.staleSelf.Store(true)
		}
		if n.State != memberlist.StateAlive && n.State != memberlist.StateSuspect {
			continue
		}
		if err := a.m.admit(n); err != nil {
			a.m.noteMergeRefusal(err)
			a.m.warnRefused(err)
			return err
		}
	}
	return nil
}

// NotifyConflict hears of a node whose name memberlist holds at another
// address; admit has ruled on it already (NotifyAlive comes first), so it
// is only logged at debug level.
func (a joinGate) NotifyConflict(existing, other *memberlist.Node) {
	a.m.log.Debug("gossip name conflict", "node", existing.Name, "known_at", nodeAddr(existing), "other_at", nodeAddr(other))
}

// nodeAddr is n's gossip address, host:port.
func nodeAddr(n *memberlist.Node) string {
	return net.JoinHostPort(n.Addr.String(), strconv.Itoa(int(n.Port)))
}

// admit applies the join rules to node n, as memberlist reports it.
// It is called with memberlist's locks held and must not call into it.
func (m *Gossip) admit(n *memberlist.Node) error {
	addr := nodeAddr(n)
	nm, err := DecodeNodeMeta(n.Meta)
	if err != nil {
		return &refusal{"node_id", fmt.Sprintf("node %q at %s advertises no valid identity (%v); is it a dynakv node of this version?", n.Name, addr, err)}
	}
	if q := m.cfg.Partitions; q != 0 && nm.Partitions != q {
		return &refusal{"partitions", fmt.Sprintf("node %q (gossip %s) has %d partitions and this node %d; the partition count is fixed when the cluster is created, so they cannot be in one cluster",
			n.Name, addr, nm.Partitions, q)}
	}
	if m.cfg.Instance == "" {
		return nil
	}
	self := m.GossipAddr()
	if n.Name == m.cfg.Self.ID {
		switch {
		case nm.Instance == m.cfg.Instance:
			if addr != self && self != "" {
				m.staleSelf.Store(true) // our own earlier incarnation: see joinLoop
			}
		case addr != self && self != "":
			return &refusal{"node_id", fmt.Sprintf("node %q is alive at %s (gossip) with another data directory; this process (gossip %s) is another node with the same id: give it a node_id of its own (or none, to have one generated), or stop the other process first",
				n.Name, addr, self)}
		}
		return nil
	}
	m.peersMu.Lock()
	known, ok := m.idents[n.Name]
	m.peersMu.Unlock()
	if ok && known.instance != nm.Instance && known.addr != addr && m.Liveness(n.Name) == LiveAlive {
		return &refusal{"node_id", fmt.Sprintf("node %q is alive at %s (gossip); a process at %s with another data directory claims the same id",
			n.Name, known.addr, addr)}
	}
	return nil
}

// noteMergeRefusal keeps err for refusedBy: memberlist's Join returns our
// MergeDelegate's error as text only.
func (m *Gossip) noteMergeRefusal(err error) {
	r, ok := err.(*refusal)
	if !ok {
		return
	}
	m.refMu.Lock()
	defer m.refMu.Unlock()
	if len(m.mergeRefusals) >= 16 {
		clear(m.mergeRefusals)
	}
	m.mergeRefusals[r.Error()] = r
}

// warnRefused logs a refusal at warn level, once per distinct refusal (a
// refused node keeps gossiping until it stops).
func (m *Gossip) warnRefused(err error) {
	m.refMu.Lock()
	if len(m.warned) >= 256 {
		clear(m.warned)
	}
	seen := m.warned[err.Error()]
	m.warned[err.Error()] = true
	m.refMu.Unlock()
	if !seen {
		m.log.Warn("refusing a node", "err", err)
	}
}

// Join errors of memberlist v0.7.0 that only a seed gossiping with another
// secret causes: the TCP connection was made, the seed answered, and the
// push/pull could not be read. (A seed with a secret answers a plaintext
// stream with an encrypted error, a seed without one answers an encrypted
// stream with a plaintext error, and one with another key with an error
// this node cannot decrypt.) TestMembershipSecretRefused pins each.
const (
	errTextSeedEncrypts  = "remote state is encrypted and encryption is not configured"
	errTextSeedPlaintext = "encryption is configured but remote state is not encrypted"
	errTextSeedOtherKey  = "no installed keys could decrypt the message"
)

// secretRefusal returns the refusal a failed join to seed addr means, if
// its error is one that only another cluster_secret causes; nil for
// anything else (nobody listening, a timeout), which is retried.
//
// It judges from memberlist's error text rather than from a signal of our
// own because there is no channel left for one: a node with another secret
// cannot read a single byte the seed sends, and memberlist formats the
// errors of Join with %v, so their types are gone.
func secretRefusal(addr string, joinErr error, haveSecret bool) *refusal {
	var why string
	switch msg := joinErr.Error(); {
	case strings.Contains(msg, errTextSeedEncrypts):
		why = "its gossip is encrypted with a cluster_secret and this node has none"
	case strings.Contains(msg, errTextSeedPlaintext) && haveSecret:
		why = "its gossip is not encrypted (it has no cluster_secret, or is not a dynakv gossip port) and this node has a cluster_secret"
	case strings.Contains(msg, errTextSeedOtherKey):
		why = "it has another cluster_secret"
	default:
		return nil
	}
	return &refusal{"cluster_secret", fmt.Sprintf("seed %s refused this node: %s; every node of a cluster needs the same cluster_secret", addr, why)}
}

// refusedBy returns why joining seed addr failed with joinErr if the
// cluster refused this node, or nil if the seed may just be unreachable.
func (m *Gossip) refusedBy(addr string, joinErr error) *refusal {
	msg := joinErr.Error()
	m.refMu.Lock()
	for text, r := range m.mergeRefusals {
		if strings.Contains(msg, text) {
			delete(m.mergeRefusals, text)
			m.refMu.Unlock()
			return &refusal{r.setting, fmt.Sprintf("joining through seed %s: %s", addr, r.msg)}
		}
	}
	m.refMu.Unlock()
	return secretRefusal(addr, joinErr, m.cfg.Secret != "")
}

// refuse records that the cluster refused this node, for good: joining
// stops, Start fails or OnRefused is called, and Close does not leave (the
// cluster's record of this id may be another process's).
func (m *Gossip) refuse(r *refusal) {
	m.refuseOnce.Do(func() {
		m.refusal = r
		close(m.refusedCh)
		m.log.Error("the cluster refused this node", "err", r)
	})
}

// refused reports whether refuse was called.
func (m *Gossip) refused() bool {
	select {
	case <-m.refusedCh:
		return true
	default:
		return false
	}
}

// reportRefusal calls OnRefused if the cluster refuses this node before
// the membership closes.
func (m *Gossip) reportRefusal() {
	select {
	case <-m.refusedCh:
		if m.cfg.OnRefused != nil {
			m.cfg.OnRefused(m.refusal)
		}
	case <-m.done:
	}
}

// secretWarn rate-limits the warn line memberlistLog writes when a node
// with another secret tries to gossip with this one.
type secretWarn struct {
	mu   sync.Mutex
	last time.Time
}

// due reports whether a warning may be logged now (one per 10 s).
func (w *secretWarn) due(now time.Time) bool {
	w.mu.Lock()
	defer w.mu.Unlock()
	if now.Sub(w.last) < 10*time.Second {
		return false
	}
	w.last = now
	return true
}

// isSecretMismatch reports whether a memberlist log line is about a stream
// or packet sent with another secret.
func isSecretMismatch(line string) bool {
	for _, s := range []string{errTextSeedEncrypts, errTextSeedPlaintext, errTextSeedOtherKey} {
		if strings.Contains(line, s) {
			return true
		}
	}
	return false
}
