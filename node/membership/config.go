package membership

import (
	"context"
	"crypto/sha256"
	"fmt"
	"log"
	"log/slog"
	"net"
	"strconv"
	"strings"
	"time"

	"github.com/dynakv/dynakv/node/store"
	"github.com/dynakv/dynakv/ring"
	"github.com/hashicorp/memberlist"
)

// memberTiming holds the membership's own periods; see timingFor.
type memberTiming struct {
	poll         time.Duration // liveness poll of memberlist
	joinRetry    time.Duration // first wait between join attempts
	joinRetryMax time.Duration // bound of the join backoff
	reconnect    time.Duration // period of the attempts to rejoin dead members
	tcpTimeout   time.Duration // memberlist's TCP timeout (joins, push/pull)
}

func timingFor(fast bool) memberTiming {
	if fast {
		return memberTiming{poll: 100 * time.Millisecond, joinRetry: 200 * time.Millisecond,
			joinRetryMax: 2 * time.Second, reconnect: time.Second, tcpTimeout: time.Second}
	}
	return memberTiming{poll: 250 * time.Millisecond, joinRetry: time.Second,
		joinRetryMax: 10 * time.Second, reconnect: 10 * time.Second, tcpTimeout: 3 * time.Second}
}

const (
	defaultJoinTimeout = 5 * time.Second
	leaveTimeout       = time.Second // Close waits this long for its leave to go out
	updateTimeout      = time.Second // bound on re-advertising the own record
)

// prepareMembership validates cfg, fills in defaults and resolves the
// gossip address.
func prepareMembership(cfg Config) (_ Config, bindIP, advertiseIP string, port int, _ error) {
	fail := func(format string, args ...any) (Config, string, string, int, error) {
		return cfg, "", "", 0, fmt.Errorf("membership: "+format, args...)
	}
	switch {
	case cfg.Self.ID == "" || len(cfg.Self.ID) > MaxIDLen:
		return fail("Self.ID must be 1 to %d bytes", MaxIDLen)
	case cfg.Self.Weight < 1 || cfg.Self.Weight > ring.MaxWeight:
		return fail("Self.Weight %d is not in [1, %d]", cfg.Self.Weight, ring.MaxWeight)
	case len(cfg.Self.Addr) > MaxIDLen || len(cfg.Self.PeerAddr) > MaxIDLen:
		return fail("Self.Addr and Self.PeerAddr must be at most %d bytes", MaxIDLen)
	case cfg.Store == nil:
		return fail("Store is nil")
	}
	host, portStr, err := net.SplitHostPort(cfg.GossipListen)
	if err != nil {
		return fail("GossipListen %q: %v", cfg.GossipListen, err)
	}
	port, err = strconv.Atoi(portStr)
	if err != nil || port < 0 || port > 65535 {
		return fail("GossipListen %q: bad port", cfg.GossipListen)
	}
	switch ip := net.ParseIP(host); {
	case host == "":
		bindIP = "0.0.0.0"
	case ip != nil:
		bindIP = ip.String()
		if !ip.IsUnspecified() {
			advertiseIP = bindIP
		}
	default:
		// memberlist binds every interface when BindAddr is not an IP
		// literal, so resolve the name here.
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		ips, err := net.DefaultResolver.LookupNetIP(ctx, "ip", host)
		cancel()
		if err != nil || len(ips) == 0 {
			return fail("GossipListen %q: resolving %s: %v", cfg.GossipListen, host, err)
		}
		pick := ips[0]
		for _, a := range ips {
			if a.Unmap().Is4() {
				pick = a
				break
			}
		}
		bindIP = pick.Unmap().String()
		advertiseIP = bindIP
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	if cfg.JoinTimeout <= 0 {
		cfg.JoinTimeout = defaultJoinTimeout
	}
	var seeds []string
	for _, s := range cfg.Seeds {
		if s = strings.TrimSpace(s); s != "" {
			seeds = append(seeds, s)
		}
	}
	cfg.Seeds = seeds
	cfg.Self.GossipAddr, cfg.Self.Joined, cfg.Self.Removed = "", 0, 0
	return cfg, bindIP, advertiseIP, port, nil
}

// memberlistConfig tunes memberlist for failure detection in seconds.
func (m *Gossip) memberlistConfig(bindIP, advertiseIP string, port int) *memberlist.Config {
	c := memberlist.DefaultLANConfig()
	c.Name = m.cfg.Self.ID
	c.BindAddr, c.BindPort = bindIP, port
	c.AdvertiseAddr, c.AdvertisePort = advertiseIP, port
	c.TCPTimeout = m.tm.tcpTimeout
	c.ProbeInterval = time.Second           // a node is probed every N seconds
	c.ProbeTimeout = 500 * time.Millisecond // a LAN round trip, generously
	c.SuspicionMult = 3                     // suspect for >= 3 probe intervals
	c.GossipInterval = 100 * time.Millisecond
	c.PushPullInterval = 10 * time.Second // full set exchange, the backstop of gossip
	c.DeadNodeReclaimTime = 2 * time.Second
	if m.cfg.Fast {
		c.ProbeInterval = 200 * time.Millisecond
		c.ProbeTimeout = 100 * time.Millisecond
		c.SuspicionMult = 2
		c.GossipToTheDeadTime = 2 * time.Second
		c.PushPullInterval = 2 * time.Second
	}
	if m.cfg.Secret != "" {
		key := sha256.Sum256([]byte(m.cfg.Secret))
		c.SecretKey = key[:]
		c.GossipVerifyIncoming, c.GossipVerifyOutgoing = true, true
	}
	c.Delegate = memberDelegate{m}
	c.Events = memberEvents{m}
	c.Alive, c.Merge, c.Conflict = joinGate{m}, joinGate{m}, joinGate{m}
	// Logger rather than LogOutput: the same io.Writer, without a second
	// timestamp in front of slog's.
	c.Logger = log.New(memberlistLog{m.cfg.Logger.With("component", "memberlist"), &m.secretWarn}, "", 0)
	return c
}

// Config configures Start (and Hub.Join). Start copies it;
// the caller may reuse it.
type Config struct {
	// Self is this node's record. The caller sets ID, Addr (client),
	// PeerAddr and Weight; GossipAddr and Joined are filled in by the
	// membership. On a restart the stored record wins (see Start).
	Self MemberRecord

	// GossipListen is the host:port memberlist binds for UDP and TCP. Port 0
	// takes any free port (tests); GossipAddr reports the one bound.
	GossipListen string

	// Seeds are gossip addresses (host:port) of nodes to join. This node's
	// own address may be among them; it is skipped.
	Seeds []string

	// Secret is the cluster secret. When non-empty, gossip is encrypted and
	// authenticated with AES-256 under SHA-256(Secret), both ways: nodes with
	// another secret cannot exchange anything with this one.
	Secret string

	// Store persists the member set (SaveMemberSet, LoadMemberSet).
	Store store.Store

	// Logger receives the membership's log, and memberlist's own at Debug
	// level. Nil discards it.
	Logger *slog.Logger

	// JoinTimeout bounds how long a first start (no stored record for this
	// node) waits for a seed before it goes on alone; 0 means 5s. Seeds are
	// retried in the background afterwards until another node is met.
	JoinTimeout time.Duration

	// OnChange, when set, is called after the member set or the liveness of
	// any node changed. Calls come from one goroutine, never concurrently and
	// never while the membership holds a lock; bursts are coalesced. The
	// first call may come as soon as Start returns. OnChange must
	// not call Close.
	OnChange func()

	// Fast shortens failure detection to about 1-2 s (tests) instead of the
	// default 3-6 s.
	Fast bool

	// Instance is the token of this node's data directory, drawn once when
	// the directory got its identity (node/identity.go), and advertised in
	// the gossip metadata. It tells the node's own earlier incarnation
	// (same token, maybe other addresses) from another process started with
	// the same id: a node whose id is alive at another gossip address with
	// another token is refused (see admit). Empty disables the check
	// (membership tests that do not exercise it).
	Instance string

	// Partitions is the cluster's partition count Q, advertised in the
	// gossip metadata: nodes refuse each other when theirs differ (the
	// ring would disagree on every preference list). 0 disables the check.
	Partitions int

	// OnRefused, when set, is called once, from a membership goroutine,
	// when the cluster refused this node after Start returned: its seeds
	// have another cluster_secret (or none), another partition count, or
	// its id is alive elsewhere. The node should stop; the membership has
	// stopped joining. A refusal while Start waits for the first join is
	// Start's error instead. OnRefused must not call Close.
	OnRefused func(error)
}
