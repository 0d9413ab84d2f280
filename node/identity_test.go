package node

import (
	"bytes"
	"encoding/binary"
	"errors"
	"net"
	"regexp"
	"strings"
	"testing"

	"github.com/dynakv/dynakv/node/membership"
	"github.com/dynakv/dynakv/node/store"
)

// TestNodeIdentityKeptInDataDir: with no node_id configured, a node takes
// an id generated on its first start and kept in its data directory, so a
// restart with another listen address is the same node (on main its id was
// the listen address: a restart made a new member, and the old one stayed
// dead in the ring).
func TestNodeIdentityKeptInDataDir(t *testing.T) {
	cfg := testConfig(t)
	cfg.Listen = freeAddr(t)
	// On port 0: derived from a picked client port it could be taken by
	// another process (a flake seen in CI).
	cfg.PeerListen = "127.0.0.1:0"
	n, c := startNode(t, cfg)
	id, inst := n.cfg.NodeID, n.instance
	if !regexp.MustCompile(`^[0-9a-f]{16}$`).MatchString(id) || len(inst) != 32 {
		t.Fatalf("generated id %q, instance %q; want 16 and 32 hex digits", id, inst)
	}
	if got, err := c.ConfigGet(t.Context(), "node_id").Result(); err != nil || got["node_id"] != id {
		t.Fatalf("CONFIG GET node_id = %v, %v; want %q", got, err, id)
	}
	if err := c.Set(t.Context(), "k", "v", 0).Err(); err != nil {
		t.Fatal(err)
	}
	n.Close()

	cfg.Listen = freeAddr(t) // another address: on main, another node
	n2, c2 := startNode(t, cfg)
	if n2.cfg.NodeID != id || n2.instance != inst {
		t.Fatalf("restarted as %q/%q, want %q/%q", n2.cfg.NodeID, n2.instance, id, inst)
	}
	if v, err := c2.Get(t.Context(), "k").Result(); err != nil || v != "v" {
		t.Fatalf("GET k after the restart = %q, %v", v, err)
	}
	if members := n2.members.Set().Members(); len(members) != 1 || members[0].ID != id {
		t.Fatalf("members after the restart: %+v, want only %q", members, id)
	}
	n2.Close()

	// The same id configured explicitly is fine; another one is refused,
	// naming the setting and both ids.
	cfg.NodeID = id
	n3, err := Open(cfg, quiet)
	if err != nil {
		t.Fatalf("Open with node_id set to the stored id: %v", err)
	}
	n3.Close()
	cfg.NodeID = "other"
	if n4, err := Open(cfg, quiet); err == nil {
		n4.Close()
		t.Fatal("opened node " + id + "'s data directory as node other")
	} else if msg := err.Error(); !strings.HasPrefix(msg, "conf: node_id: ") || !strings.Contains(msg, id) || !strings.Contains(msg, `"other"`) {
		t.Fatalf("error = %q; want conf: node_id: naming both ids", msg)
	}
}

// TestNodeIdentityNeverJoinedTakesConfiguredID: a data directory whose
// node never became a member (it was only opened, or its first start was
// refused) takes a configured id other than the stored one, with a new
// instance token.
func TestNodeIdentityNeverJoinedTakesConfiguredID(t *testing.T) {
	cfg := testConfig(t)
	n, err := Open(cfg, quiet)
	if err != nil {
		t.Fatal(err)
	}
	first, inst := n.cfg.NodeID, n.instance
	n.Close()
	cfg.NodeID = "chosen"
	n, err = Open(cfg, quiet)
	if err != nil {
		t.Fatalf("Open with another node_id before any start: %v", err)
	}
	defer n.Close()
	if n.cfg.NodeID != "chosen" || n.instance == inst {
		t.Fatalf("got %q/%q after %q/%q; want the configured id and a new token", n.cfg.NodeID, n.instance, first, inst)
	}
}

// TestNodeIdentityLegacyDataDir: a data directory from before stored ids
// (a partitions entry, a member set, no identity) keeps the id it ran
// under: the configured one, the listen address if the set has it, the
// only record of a set of one; it is refused, listing the ids, when that
// is ambiguous.
func TestNodeIdentityLegacyDataDir(t *testing.T) {
	legacy := func(ids ...string) store.Store {
		st := store.NewMem()
		var recs []membership.MemberRecord
		for i, id := range ids {
			recs = append(recs, membership.MemberRecord{ID: id, Addr: id, Weight: 1, Joined: uint64(i + 1)})
		}
		if err := membership.SaveMemberSet(st, membership.NewMemberSet(recs...)); err != nil {
			t.Fatal(err)
		}
		if err := st.Apply(store.Op{Key: store.MetaKey(metaPartitions), Value: binary.BigEndian.AppendUint64(nil, 1024)}); err != nil {
			t.Fatal(err)
		}
		return st
	}
	const a, b = "127.0.0.1:7001", "127.0.0.1:7002"
	for _, tc := range []struct {
		name, configured, listen string
		ids                      []string
		want, wantErr            string
	}{
		{"configured", "node-1", b, []string{"node-1", a}, "node-1", ""},
		{"listen address in the set", "", b, []string{a, b}, b, ""},
		{"set of one, listen changed", "", b, []string{a}, a, ""},
		{"empty set", "", b, nil, b, ""},
		{"ambiguous", "", "127.0.0.1:7003", []string{a, b}, "", "its member set holds " + a + ", " + b},
	} {
		t.Run(tc.name, func(t *testing.T) {
			st := legacy(tc.ids...)
			id, err := loadIdentity(st, tc.configured, tc.listen, quiet)
			if tc.wantErr != "" {
				if err == nil || !strings.HasPrefix(err.Error(), "conf: node_id: ") || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("loadIdentity = %+v, %v; want an error naming node_id and %q", id, err, tc.wantErr)
				}
				return
			}
			if err != nil || id.ID != tc.want || id.Instance == "" {
				t.Fatalf("loadIdentity = %+v, %v; want id %q with a token", id, err, tc.want)
			}
			// Stored: the next start finds it whatever its listen address.
			again, err := loadIdentity(st, "", "127.0.0.1:9999", quiet)
			if err != nil || again != id {
				t.Fatalf("second loadIdentity = %+v, %v; want %+v", again, err, id)
			}
		})
	}
}

// freeAddr returns a 127.0.0.1 address whose TCP port was free a moment
// ago.
func freeAddr(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().String()
}

func TestIdentityEncoding(t *testing.T) {
	id := identity{ID: "node-1", Instance: "00112233445566778899aabbccddeeff"}
	enc := appendIdentity(nil, id)
	if got, err := decodeIdentity(enc); err != nil || got != id {
		t.Fatalf("round trip: %+v, %v", got, err)
	}
	for name, bad := range map[string][]byte{
		"empty":         nil,
		"version":       append([]byte{9}, enc[1:]...),
		"truncated":     enc[:len(enc)-1],
		"trailing":      append(bytes.Clone(enc), 0),
		"empty id":      appendIdentity(nil, identity{Instance: "x"}),
		"empty token":   appendIdentity(nil, identity{ID: "x"}),
		"token too big": appendIdentity(nil, identity{ID: "x", Instance: strings.Repeat("f", maxInstanceLen+1)}),
	} {
		if _, err := decodeIdentity(bad); !errors.Is(err, errCorruptIdentity) {
			t.Errorf("%s: decodeIdentity = %v, want errCorruptIdentity", name, err)
		}
	}
}

func FuzzDecodeIdentity(f *testing.F) {
	f.Add(appendIdentity(nil, identity{ID: "node-1", Instance: "00112233445566778899aabbccddeeff"}))
	f.Add([]byte{identityVersion, 0, 0})
	f.Fuzz(func(t *testing.T, b []byte) {
		id, err := decodeIdentity(b)
		if err != nil {
			return
		}
		if enc := appendIdentity(nil, id); !bytes.Equal(enc, b) {
			t.Fatalf("%x decodes to %+v, which encodes to %x", b, id, enc)
		}
	})
}
