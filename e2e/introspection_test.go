package e2e

import (
	"os/exec"
	"strings"
	"testing"
	"time"
)

// TestE2EIntrospectionPython: what python3-redis reads of a server parses:
// client_info() (it converts qbuf-free, tot-mem and the like to integers,
// and raised while they were missing), client_list(), INFO memory and cpu,
// CONFIG GET of a Redis parameter dynakv has no counterpart for, COMMAND
// GETKEYS.
func TestE2EIntrospectionPython(t *testing.T) {
	n := startNode(t)
	ctx := testCtx(t, time.Minute)
	py := `import redis, sys
r = redis.Redis(host="127.0.0.1", port=int(sys.argv[1]))
ci = r.client_info()
print("client_info", ci["id"] > 0, ci["tot-mem"] > 0, ci["qbuf-free"] >= 0)
print("client_list", len(r.client_list()) >= 1)
print("memory", r.info("memory")["used_memory"] > 0, r.info("cpu")["used_cpu_user"] >= 0)
print("maxmemory", r.config_get("maxmemory"))
print("getkeys", r.command_getkeys("MSET", "a", "1", "b", "2"))
print("replication", r.info("replication")["role"])
`
	out, err := exec.CommandContext(ctx, "/usr/bin/python3", "-c", py, n.Port()).CombinedOutput()
	if err != nil {
		t.Fatalf("python3-redis: %v\n%s", err, out)
	}
	want := []string{
		"client_info True True True",
		"client_list True",
		"memory True True",
		"maxmemory {'maxmemory': '0'}",
		"getkeys ['a', 'b']",
		"replication master",
	}
	got := strings.Split(strings.TrimSpace(string(out)), "\n")
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Fatalf("python3-redis introspection:\n%s\nwant\n%s", out, strings.Join(want, "\n"))
	}
}
