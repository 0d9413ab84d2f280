package replication

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"
)

// TestUnavailableMessageReadsWell: when the quorum is missed because the
// other replicas are down (no replica was asked, so none failed), the error
// says so instead of wrapping an empty error list ("%!w(<nil>)", what a
// node restarted under a new id showed for every GET and SET); when
// replicas failed, it names them.
func TestUnavailableMessageReadsWell(t *testing.T) {
	mc := newMemCluster(t, 2, 2, 2, "a", "b")
	mc.router.setDead("b")
	_, werr := mc.put("a", "k", "v", 0)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	_, rerr := mc.nodes["a"].coord.Get(ctx, []byte("k"), ReadOptions{})
	for name, tc := range map[string]struct {
		err  error
		want string
	}{
		"write": {werr, "write needs W=2, 1 nodes stored it; no other replica is alive to ask"},
		"read":  {rerr, "read needs R=2, 1 of 2 replicas answered; no other replica is alive to ask"},
	} {
		if !errors.Is(tc.err, ErrUnavailable) {
			t.Fatalf("%s: err = %v, want ErrUnavailable", name, tc.err)
		}
		if msg := tc.err.Error(); strings.Contains(msg, "%!") || !strings.HasSuffix(msg, tc.want) {
			t.Errorf("%s: err = %q, want it to end with %q", name, msg, tc.want)
		}
	}

	// A replica that is alive but fails is named with its error.
	mc.router.setDead()
	mc.nodes["b"].fail.Store(true)
	_, err := mc.put("a", "k2", "v", 0)
	if !errors.Is(err, ErrUnavailable) || !strings.Contains(err.Error(), "write needs W=2, 1 nodes stored it: b: ") || strings.Contains(err.Error(), "%!") {
		t.Errorf("failing replica: err = %q, want the quorum and b's failure", err)
	}
}
