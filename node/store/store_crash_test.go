//go:build unix

package store

import (
	"bufio"
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/dynakv/dynakv/ring"
)

// The crash test runs its writer in a child process (this test binary again,
// running only TestCrashChild) so that it can kill it with SIGKILL: no
// deferred Close, no flush, only what the OS already has.
const (
	crashChildDirEnv    = "DYNAKV_CRASH_CHILD_DIR"
	crashChildBufferEnv = "DYNAKV_CRASH_CHILD_WRITE_BUFFER"
	crashAckPrefix      = "ack "
	crashAcksBeforeKill = 5000
)

// crashKV returns the i'th key and value the crash child writes.
func crashKV(i int) (key, value []byte) {
	uk := strconv.AppendInt([]byte("crash-"), int64(i), 10)
	value = fmt.Appendf(nil, "value-%d-%s", i, bytes.Repeat([]byte{'a' + byte(i%26)}, 80))
	return DataKey(ring.HashKey(uk), uk), value
}

func TestLevelDBSurvivesKill9(t *testing.T) {
	if testing.Short() {
		t.Skip("spawns a child process")
	}
	for _, c := range []struct {
		name        string
		writeBuffer int // 0: DefaultLevelDBOptions
	}{
		{"default", 0},
		// A small write buffer makes the child rotate journals and flush
		// tables while it runs, so the kill lands among those too.
		{"smallbuffer", 64 << 10},
	} {
		t.Run(c.name, func(t *testing.T) {
			dir := t.TempDir()
			cmd := exec.Command(os.Args[0], "-test.run=^TestCrashChild$", "-test.count=1", "-test.v=false")
			cmd.Env = append(os.Environ(),
				crashChildDirEnv+"="+dir,
				crashChildBufferEnv+"="+strconv.Itoa(c.writeBuffer))
			var stderr bytes.Buffer
			cmd.Stderr = &stderr
			out, err := cmd.StdoutPipe()
			if err != nil {
				t.Fatal(err)
			}
			if err := cmd.Start(); err != nil {
				t.Fatal(err)
			}

			// Every "ack N" line was printed after Apply(N) returned nil.
			// Read until enough are acknowledged, kill, then read the rest:
			// lines the child printed before it died are acknowledged too.
			acked := make(map[int]bool)
			killed := false
			sc := bufio.NewScanner(out)
			for sc.Scan() {
				line, ok := strings.CutPrefix(sc.Text(), crashAckPrefix)
				if !ok {
					continue
				}
				i, err := strconv.Atoi(line)
				if err != nil {
					t.Fatalf("bad ack line %q", sc.Text())
				}
				acked[i] = true
				if !killed && len(acked) >= crashAcksBeforeKill {
					if err := syscall.Kill(cmd.Process.Pid, syscall.SIGKILL); err != nil {
						t.Fatalf("kill: %v", err)
					}
					killed = true
				}
			}
			if err := sc.Err(); err != nil {
				t.Fatal(err)
			}
			werr := cmd.Wait()
			if !killed {
				t.Fatalf("child exited after %d acks (%v); stderr:\n%s", len(acked), werr, stderr.Bytes())
			}
			if ws, ok := cmd.ProcessState.Sys().(syscall.WaitStatus); !ok || !ws.Signaled() || ws.Signal() != syscall.SIGKILL {
				t.Fatalf("child was not killed by SIGKILL: %v; stderr:\n%s", werr, stderr.Bytes())
			}

			o := DefaultLevelDBOptions()
			if c.writeBuffer > 0 {
				o.WriteBuffer = c.writeBuffer
			}
			s, err := OpenLevelDB(dir, o)
			if err != nil {
				t.Fatalf("reopen after kill -9: %v", err)
			}
			defer s.Close()
			for i := range acked {
				k, want := crashKV(i)
				v, err := s.Get(k)
				if err != nil || !bytes.Equal(v, want) {
					t.Fatalf("acknowledged key %d after kill -9: %q, %v; want %q", i, v, err, want)
				}
			}
			// Acks are printed in order, so they form a prefix 0..n-1.
			for i := range len(acked) {
				if !acked[i] {
					t.Fatalf("ack %d missing from a run of %d", i, len(acked))
				}
			}
			t.Logf("%d acknowledged writes survived kill -9", len(acked))
		})
	}
}

// TestCrashChild is the writer half of TestLevelDBSurvivesKill9; it does
// nothing unless run by it.
func TestCrashChild(t *testing.T) {
	dir := os.Getenv(crashChildDirEnv)
	if dir == "" {
		t.Skip("only runs as the child of TestLevelDBSurvivesKill9")
	}
	o := DefaultLevelDBOptions()
	o.SyncWrites = false
	if n, _ := strconv.Atoi(os.Getenv(crashChildBufferEnv)); n > 0 {
		o.WriteBuffer = n
	}
	s, err := OpenLevelDB(dir, o)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(2)
	}
	// Bounded in case the parent never kills us.
	deadline := time.Now().Add(10 * time.Second)
	line := make([]byte, 0, 32)
	for i := 0; i < 200_000 && time.Now().Before(deadline); i++ {
		k, v := crashKV(i)
		if err := s.Apply(Op{Key: k, Value: v}); err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(2)
		}
		line = strconv.AppendInt(append(line[:0], crashAckPrefix...), int64(i), 10)
		line = append(line, '\n')
		if _, err := os.Stdout.Write(line); err != nil {
			os.Exit(2) // parent gone
		}
	}
	s.Close()
	os.Exit(3) // never killed: the parent reports it
}
