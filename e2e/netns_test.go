package e2e

// Network namespaces for partition faults: each node runs in a namespace
// of its own, joined to the others and to the test (in the root
// namespace) by a bridge; a partition adds blackhole routes between the
// nodes of different sides, leaving every node reachable from the test's
// clients. Needs root and iproute2 (`ip`), as CI has.

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"net"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/dynakv/dynakv/internal/poll"
	"github.com/dynakv/dynakv/internal/syncbuf"
)

// netLab is a bridge and one namespace per node.
type netLab struct {
	t      testing.TB
	tag    string // prefix of every name: dkv + 4 hex digits
	subnet int    // the third octet of 10.77.x.0/24
	n      int
	routes map[[2]int]bool // blackholed (from, to) node pairs
}

// newNetLab creates n namespaces; it returns an error saying why it cannot
// (not root, no ip, no permission), and removes everything at cleanup.
// freeLabSubnet picks, at random, a third octet x in 100..249 whose
// 10.77.x.0/24 no route of this machine uses: another lab (a concurrent
// test process, or one a killed run left behind) owning the subnet would
// take the lab's traffic (its nodes were refused connections).
func freeLabSubnet() (int, error) {
	out, err := exec.Command("ip", "-o", "route", "show").Output()
	if err != nil {
		return 0, fmt.Errorf("ip route show: %v", err)
	}
	var free []int
	for x := 100; x < 250; x++ {
		if !strings.Contains(string(out), fmt.Sprintf("10.77.%d.0/24", x)) {
			free = append(free, x)
		}
	}
	if len(free) == 0 {
		return 0, errors.New("every 10.77.x.0/24 lab subnet is in use")
	}
	return free[rand.IntN(len(free))], nil
}

func newNetLab(t testing.TB, n int) (*netLab, error) {
	if os.Geteuid() != 0 {
		return nil, errors.New("not running as root")
	}
	if _, err := exec.LookPath("ip"); err != nil {
		return nil, errors.New("no ip command (apt-get install iproute2)")
	}
	subnet, err := freeLabSubnet()
	if err != nil {
		return nil, err
	}
	l := &netLab{t: t, tag: fmt.Sprintf("dkv%04x", rand.IntN(1<<16)), subnet: subnet, n: n, routes: map[[2]int]bool{}}
	t.Cleanup(l.remove)
	br := l.tag + "br"
	if err := l.ip("link", "add", br, "type", "bridge"); err != nil {
		return nil, err
	}
	for _, c := range [][]string{{"addr", "add", l.gateway() + "/24", "dev", br}, {"link", "set", br, "up"}} {
		if err := l.ip(c...); err != nil {
			return nil, err
		}
	}
	for i := range n {
		ns, veth := l.ns(i), fmt.Sprintf("%sv%d", l.tag, i)
		cmds := [][]string{
			{"netns", "add", ns},
			{"link", "add", veth, "type", "veth", "peer", "name", "eth0", "netns", ns},
			{"link", "set", veth, "master", br, "up"},
			{"netns", "exec", ns, "ip", "addr", "add", l.host(i) + "/24", "dev", "eth0"},
			{"netns", "exec", ns, "ip", "link", "set", "eth0", "up"},
			{"netns", "exec", ns, "ip", "link", "set", "lo", "up"},
		}
		for _, c := range cmds {
			if err := l.ip(c...); err != nil {
				return nil, err
			}
		}
	}
	return l, nil
}

func (l *netLab) ns(i int) string         { return fmt.Sprintf("%s-n%d", l.tag, i) }
func (l *netLab) host(i int) string       { return fmt.Sprintf("10.77.%d.%d", l.subnet, i+1) }
func (l *netLab) gateway() string         { return fmt.Sprintf("10.77.%d.254", l.subnet) }
func (l *netLab) wrap(i int) []string     { return []string{"ip", "netns", "exec", l.ns(i)} }
func (l *netLab) addr(i, port int) string { return net.JoinHostPort(l.host(i), strconv.Itoa(port)) }

func (l *netLab) ip(args ...string) error {
	out, err := exec.Command("ip", args...).CombinedOutput()
	if err != nil {
		return fmt.Errorf("ip %s: %v: %s", strings.Join(args, " "), err, strings.TrimSpace(string(out)))
	}
	return nil
}

// remove deletes the namespaces (and with them the veth pairs) and the
// bridge; errors are reported, not fatal.
func (l *netLab) remove() {
	for i := range l.n {
		exec.Command("ip", "netns", "del", l.ns(i)).Run()
	}
	exec.Command("ip", "link", "del", l.tag+"br").Run()
}

// partition cuts every node of one side off from every node of the other
// (both directions); the test's clients still reach all of them.
func (l *netLab) partition(side []int) {
	in := map[int]bool{}
	for _, i := range side {
		in[i] = true
	}
	for a := range l.n {
		for b := range l.n {
			if in[a] != in[b] && !l.routes[[2]int{a, b}] {
				if err := l.ip("netns", "exec", l.ns(a), "ip", "route", "add", "blackhole", l.host(b)+"/32"); err != nil {
					l.t.Fatal(err)
				}
				l.routes[[2]int{a, b}] = true
			}
		}
	}
}

// heal removes every blackhole route.
func (l *netLab) heal() {
	for r := range l.routes {
		if err := l.ip("netns", "exec", l.ns(r[0]), "ip", "route", "del", "blackhole", l.host(r[1])+"/32"); err != nil {
			l.t.Fatal(err)
		}
		delete(l.routes, r)
	}
}

// Ports every node uses on its own address.
const (
	labClientPort = 6379
	labGossipPort = 7946
	labPeerPort   = 16379
)

// startLabCluster starts count nodes, node i in namespace i, node 1
// seeding the others, and waits until each sees all alive. Their addresses
// are not loopback, so they share a cluster secret (conf refuses to start
// them without one): gossip is encrypted and internode traffic is TLS.
func startLabCluster(t *testing.T, l *netLab, extra ...string) []*proc {
	t.Helper()
	dynakvOnly(t)
	var procs []*proc
	for i := range l.n {
		p := &proc{t: t, out: &syncbuf.Buffer{}, port: labClientPort, host: l.host(i), wrap: l.wrap(i), name: dynakvBin, dataDir: t.TempDir()}
		p.args = append([]string{"--node-id", fmt.Sprint("node-", i+1),
			"--listen", l.addr(i, labClientPort), "--gossip-listen", l.addr(i, labGossipPort), "--peer-listen", l.addr(i, labPeerPort),
			"--data-dir", p.dataDir, "--log-level", "debug", "--cluster-secret", "netlab-secret"}, extra...)
		if i > 0 {
			p.args = append(p.args, "--seeds", l.addr(0, labGossipPort))
		}
		if err := p.start(); err != nil {
			t.Fatalf("start node-%d in %s: %v\n%s", i+1, l.ns(i), err, tail(p.Output(), 16<<10))
		}
		p.stopAtCleanup(t)
		procs = append(procs, p)
	}
	waitClusterAlive(t, procs, len(procs))
	return procs
}

// TestNetLabPartition: a partition cuts the nodes of the two sides off
// from each other, both see the others dead, and healing brings them back.
func TestNetLabPartition(t *testing.T) {
	l, err := newNetLab(t, 3)
	if err != nil {
		t.Skipf("network partitions need network namespaces: %v", err)
	}
	procs := startLabCluster(t, l)
	l.partition([]int{2})
	for _, p := range procs[:2] {
		c := p.Shared(t)
		poll.Until(t, 30*time.Second, p.Addr()+" to see node-3 dead", func() bool {
			return info(t, c, "cluster")["cluster_members_alive"] == "2"
		})
	}
	l.heal()
	waitClusterAlive(t, procs, 3)
}
