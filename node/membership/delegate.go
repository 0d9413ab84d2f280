package membership

import (
	"context"
	"log/slog"
	"strings"
	"time"

	"github.com/hashicorp/memberlist"
)

// memberDelegate is the memberlist.Delegate of a Membership: the own
// record as node metadata, record broadcasts, the full set by push/pull.
type memberDelegate struct{ m *Gossip }

func (d memberDelegate) NodeMeta(limit int) []byte {
	p := d.m.meta.Load()
	if p == nil || len(*p) > limit {
		return nil
	}
	return *p
}

func (d memberDelegate) NotifyMsg(buf []byte) {
	s, err := DecodeMemberSet(buf)
	if err != nil {
		d.m.log.Debug("dropping invalid gossip message", "err", err)
		return
	}
	d.m.merge(s)
}

func (d memberDelegate) GetBroadcasts(overhead, limit int) [][]byte {
	return d.m.queue.GetBroadcasts(overhead, limit)
}

func (d memberDelegate) LocalState(join bool) []byte { return d.m.cur.Load().enc }

func (d memberDelegate) MergeRemoteState(buf []byte, join bool) {
	if len(buf) == 0 {
		return
	}
	s, err := DecodeMemberSet(buf)
	if err != nil {
		d.m.log.Debug("dropping invalid pushed member set", "err", err)
		return
	}
	d.m.merge(s)
}

// memberEvents is the memberlist.EventDelegate of a Membership.
type memberEvents struct{ m *Gossip }

func (e memberEvents) NotifyJoin(n *memberlist.Node) { e.m.observe(n) }

func (e memberEvents) NotifyUpdate(n *memberlist.Node) { e.m.observe(n) }

func (e memberEvents) NotifyLeave(*memberlist.Node) { kick(e.m.liveCh) }

// recordBroadcast gossips one record, as a one-record member set. A newer
// broadcast of the same id replaces an older one still queued: the set's
// record only grows, so the newer covers it.
type recordBroadcast struct {
	id  string
	msg []byte
}

func (b recordBroadcast) Name() string { return "member/" + b.id }

func (b recordBroadcast) Invalidates(o memberlist.Broadcast) bool {
	ob, ok := o.(recordBroadcast)
	return ok && ob.id == b.id
}

func (b recordBroadcast) Message() []byte { return b.msg }

func (b recordBroadcast) Finished() {}

// memberlistLog writes memberlist's log lines to slog at Debug level,
// except that gossip from a node with another cluster_secret is also
// logged at Warn level (at most once per 10 s).
type memberlistLog struct {
	log  *slog.Logger
	warn *secretWarn
}

func (w memberlistLog) Write(p []byte) (int, error) {
	line := strings.TrimSpace(string(p))
	if isSecretMismatch(line) && w.warn.due(time.Now()) {
		w.log.Warn("refused gossip from a node with another cluster_secret (or none, or the reverse)", "memberlist", line)
	}
	if w.log.Enabled(context.Background(), slog.LevelDebug) {
		w.log.Debug(line)
	}
	return len(p), nil
}
