package node

import (
	"bufio"
	"fmt"
	"net"
	"testing"
	"time"
)

// BenchmarkEmptyAfterFlush: the calls clients make between tests (DBSIZE,
// SCAN 0, KEYS *, FLUSHDB) on a node whose 20,000 keys were just flushed,
// so its store holds 20,000 tombstones for tombstone_grace. They should
// cost what the live data costs (none), not a walk of the tombstones.
//
//	go test ./node -run '^$' -bench EmptyAfterFlush
func BenchmarkEmptyAfterFlush(b *testing.B) {
	cfg := conf0(b)
	n, err := Open(cfg, quiet)
	if err != nil {
		b.Fatal(err)
	}
	if err := n.Start(); err != nil {
		b.Fatal(err)
	}
	defer n.Close()
	conn, err := net.Dial("tcp", n.Addr())
	if err != nil {
		b.Fatal(err)
	}
	defer conn.Close()
	w, r := bufio.NewWriter(conn), bufio.NewReader(conn)
	do := func(args ...string) string {
		fmt.Fprintf(w, "*%d\r\n", len(args))
		for _, a := range args {
			fmt.Fprintf(w, "$%d\r\n%s\r\n", len(a), a)
		}
		w.Flush()
		reply, err := readReply(r)
		if err != nil {
			b.Fatal(err)
		}
		return string(reply)
	}
	deadline := time.Now().Add(30 * time.Second)
	for !n.local.TreesReady() {
		if time.Now().After(deadline) {
			b.Fatal("the hash trees were not built within 30s")
		}
		time.Sleep(10 * time.Millisecond)
	}
	for i := range 20000 {
		fmt.Fprintf(w, "*3\r\n$3\r\nSET\r\n$9\r\nkey:%05d\r\n$1\r\nv\r\n", i)
	}
	w.Flush()
	for range 20000 {
		if _, err := readReply(r); err != nil {
			b.Fatal(err)
		}
	}
	if got := do("FLUSHDB"); got != "+OK\r\n" {
		b.Fatalf("FLUSHDB = %q", got)
	}
	for _, cmd := range [][]string{{"DBSIZE"}, {"SCAN", "0"}, {"KEYS", "*"}, {"FLUSHDB"}} {
		b.Run(cmd[0], func(b *testing.B) {
			for b.Loop() {
				do(cmd...)
			}
		})
	}
}
