package node_test

// Benchmarks of a 3-node cluster (N=3 R=2 W=2) in one process: three real
// nodes over TCP on 127.0.0.1 (goleveldb, memberlist, the peer transport),
// driven over RESP like redis-benchmark drives the binary. The process's
// CPU time per request (user+system, all three nodes and the load
// generator) is reported as cpu-µs/op, which, unlike throughput, holds on a
// shared machine. This file uses only node's exported API, so it also runs
// against an older tree (copy it in) for a before/after comparison:
//
//	go test ./node -run '^$' -bench 'Cluster' -benchtime 100000x -count 3

import (
	"bufio"
	"fmt"
	"io"
	"log/slog"
	"net"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/dynakv/dynakv/conf"
	"github.com/dynakv/dynakv/node"
)

func BenchmarkClusterSET(b *testing.B)    { benchCluster(b, "SET", 1) }
func BenchmarkClusterSETP16(b *testing.B) { benchCluster(b, "SET", 16) }
func BenchmarkClusterGET(b *testing.B)    { benchCluster(b, "GET", 1) }
func BenchmarkClusterGETP16(b *testing.B) { benchCluster(b, "GET", 16) }

const (
	benchKeys    = 10000
	benchClients = 50
)

func benchCluster(b *testing.B, cmd string, depth int) {
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	var nodes []*node.Node
	defer func() {
		for _, n := range nodes {
			n.Close()
		}
	}()
	for i := range 3 {
		cfg := conf.Default()
		cfg.NodeID = fmt.Sprint("bench-", i+1)
		cfg.Listen, cfg.GossipListen, cfg.PeerListen = "127.0.0.1:0", "127.0.0.1:0", "127.0.0.1:0"
		cfg.DataDir = b.TempDir()
		cfg.N, cfg.R, cfg.W = 3, 2, 2
		if i > 0 {
			cfg.Seeds = []string{nodes[0].GossipAddr()}
		}
		n, err := node.Open(cfg, log)
		if err != nil {
			b.Fatal(err)
		}
		if err := n.Start(); err != nil {
			b.Fatal(err)
		}
		nodes = append(nodes, n)
	}
	addr := nodes[0].Addr()
	waitAlive(b, nodes, 3)

	value := strings.Repeat("x", 100)
	// Preload, so GETs hit and SETs overwrite, as after redis-benchmark's
	// first round.
	runLoad(b, addr, "SET", 64, benchKeys, value)
	b.ResetTimer()
	cpu0 := cpuTime()
	runLoad(b, addr, cmd, depth, b.N, value)
	b.ReportMetric(float64((cpuTime()-cpu0).Microseconds())/float64(b.N), "cpu-µs/op")
}

// runLoad sends total commands over benchClients connections, each keeping
// depth commands in flight, and reads every reply.
func runLoad(b *testing.B, addr, cmd string, depth, total int, value string) {
	per := total / benchClients
	done := make(chan error, benchClients)
	for c := range benchClients {
		count := per
		if c == 0 {
			count += total % benchClients
		}
		go func() { done <- client(addr, cmd, depth, count, c, value) }()
	}
	for range benchClients {
		if err := <-done; err != nil {
			b.Fatal(err)
		}
	}
}

func client(addr, cmd string, depth, count, seed int, value string) error {
	conn, err := net.Dial("tcp", addr)
	if err != nil {
		return err
	}
	defer conn.Close()
	conn.SetDeadline(time.Now().Add(5 * time.Minute))
	w := bufio.NewWriter(conn)
	r := bufio.NewReaderSize(conn, 64<<10)
	k := seed * 7919
	for sent := 0; sent < count; {
		batch := min(depth, count-sent)
		for range batch {
			key := fmt.Sprintf("key:%06d", k%benchKeys)
			k += 13
			if cmd == "SET" {
				fmt.Fprintf(w, "*3\r\n$3\r\nSET\r\n$10\r\n%s\r\n$%d\r\n%s\r\n", key, len(value), value)
			} else {
				fmt.Fprintf(w, "*2\r\n$3\r\nGET\r\n$10\r\n%s\r\n", key)
			}
		}
		if err := w.Flush(); err != nil {
			return err
		}
		for range batch {
			line, err := r.ReadSlice('\n')
			if err != nil {
				return err
			}
			switch line[0] {
			case '$':
				var n int
				fmt.Sscanf(string(line[1:]), "%d", &n)
				if n >= 0 {
					if _, err := r.Discard(n + 2); err != nil {
						return err
					}
				}
			case '-':
				return fmt.Errorf("%s: %s", cmd, strings.TrimSpace(string(line)))
			}
		}
		sent += batch
	}
	return nil
}

// waitAlive waits until every node's INFO cluster counts alive members.
func waitAlive(b *testing.B, nodes []*node.Node, alive int) {
	want := fmt.Sprintf("cluster_members_alive:%d", alive)
	deadline := time.Now().Add(30 * time.Second)
	for _, n := range nodes {
		for {
			if strings.Contains(infoCluster(b, n.Addr()), want) {
				break
			}
			if time.Now().After(deadline) {
				b.Fatalf("%s: no %s within 30s", n.Addr(), want)
			}
			time.Sleep(20 * time.Millisecond)
		}
	}
}

func infoCluster(b *testing.B, addr string) string {
	conn, err := net.Dial("tcp", addr)
	if err != nil {
		b.Fatal(err)
	}
	defer conn.Close()
	conn.SetDeadline(time.Now().Add(5 * time.Second))
	fmt.Fprintf(conn, "*2\r\n$4\r\nINFO\r\n$7\r\ncluster\r\n")
	r := bufio.NewReader(conn)
	line, err := r.ReadString('\n')
	if err != nil || line[0] != '$' {
		b.Fatalf("INFO cluster: %q %v", line, err)
	}
	var n int
	fmt.Sscanf(line[1:], "%d", &n)
	body := make([]byte, n+2)
	if _, err := io.ReadFull(r, body); err != nil {
		b.Fatal(err)
	}
	return string(body)
}

// cpuTime is the process's user+system CPU time so far.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
