package e2e

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestCartDemo runs the shopping-cart demo (scripts/cart-demo.sh) against
// the binary under test: it starts its own local cluster, shows concurrent
// adds kept as siblings, merged on read and written back, and exits
// non-zero if anything it shows is not what it says.
func TestCartDemo(t *testing.T) {
	dynakvOnly(t)
	if _, err := exec.LookPath("redis-cli"); err != nil {
		t.Fatal("redis-cli not found: install redis-tools (.ci/run does)")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 120*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, filepath.Join("..", "scripts", "cart-demo.sh"))
	cmd.Env = append(os.Environ(), "DYNAKV_BIN="+dynakvBin, "DEMO_DIR="+t.TempDir())
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("scripts/cart-demo.sh: %v\n%s", err, out)
	}
	if !strings.Contains(string(out), "No item was lost: apples,bread,eggs,milk,pears") {
		t.Fatalf("the demo did not end with the full cart:\n%s", out)
	}
	t.Logf("cart demo:\n%s", out)
}
