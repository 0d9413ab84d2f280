package main

import (
	"bytes"
	"net"
	"os/exec"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/dynakv/dynakv/internal/poll"
)

// startRedis starts a redis-server without persistence on a free port and
// returns its address and pid.
func startRedis(t *testing.T) (string, int) {
	t.Helper()
	if testing.Short() {
		t.Skip("starts redis-server; -short runs in-process tests only")
	}
	if _, err := exec.LookPath("redis-server"); err != nil {
		t.Skip("redis-server not installed")
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := l.Addr().(*net.TCPAddr).Port
	l.Close()
	cmd := exec.Command("redis-server", "--port", strconv.Itoa(port), "--bind", "127.0.0.1",
		"--save", "", "--appendonly", "no", "--dir", t.TempDir())
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
	addr := "127.0.0.1:" + strconv.Itoa(port)
	poll.Until(t, 10*time.Second, "redis-server to answer PING", func() bool {
		c, err := dial(addr, time.Second)
		if err != nil {
			return false
		}
		defer c.close()
		r, err := c.do([]byte("PING"))
		return err == nil && string(r.str) == "PONG"
	})
	return addr, cmd.Process.Pid
}

// TestRunAgainstRedis runs a small benchmark against redis-server and
// checks the tables' rows and that the collections hold what the preload
// and the measured adds put there.
func TestRunAgainstRedis(t *testing.T) {
	addr, pid := startRedis(t)
	var out, errOut bytes.Buffer
	args := []string{"-target", "redis," + addr + "," + strconv.Itoa(pid), "-sizes", "10,250",
		"-count", "100", "-clients", "3", "-batch", "7", "-preload-conns", "2", "-settle-time", "2s", "-op-time", "20s"}
	if err := run(args, &out, &errOut); err != nil {
		t.Fatalf("run: %v\n%s", err, errOut.String())
	}
	table := out.String()
	for _, op := range []string{"SADD", "SISMEMBER", "HSET", "HGET"} {
		for _, size := range []string{"10", "250"} {
			if !strings.Contains(table, "| redis | "+size+" | "+op+" | ") {
				t.Errorf("no row for %s at %s members in:\n%s", op, size, table)
			}
		}
		if !strings.Contains(table, "| redis | "+op+" | ") {
			t.Errorf("no ratio row for %s in:\n%s", op, table)
		}
	}
	if strings.Contains(table, "unexpected") {
		t.Errorf("unexpected replies:\n%s", table)
	}
	c, err := dial(addr, 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	defer c.close()
	// 100 adds over 10 collections of 10 (each grows by at most its size),
	// and all 100 to the one collection of 250
	want := map[string]int64{"SCARD cb:set:10:0": 20, "SCARD cb:set:10:9": 20, "SCARD cb:set:250:0": 350,
		"HLEN cb:hash:10:3": 20, "HLEN cb:hash:250:0": 350, "EXISTS cb:set:10:10": 0}
	for cmd, n := range want {
		f := strings.Fields(cmd)
		r, err := c.do([]byte(f[0]), []byte(f[1]))
		if err != nil || r.n != n {
			t.Errorf("%s = %d (%v), want %d", cmd, r.n, err, n)
		}
	}
}

func TestTargetFlag(t *testing.T) {
	var f targetsFlag
	if err := f.Set("dynakv,127.0.0.1:7001,10+11+12"); err != nil {
		t.Fatal(err)
	}
	if len(f) != 1 || f[0].name != "dynakv" || f[0].addr != "127.0.0.1:7001" || len(f[0].pids) != 3 || f[0].pids[2] != 12 {
		t.Fatalf("parsed %+v", f)
	}
	for _, bad := range []string{"x", "a,b", "a,b,c", "a,b,1+-2", ",b,1"} {
		if err := f.Set(bad); err == nil {
			t.Errorf("Set(%q) accepted", bad)
		}
	}
}
