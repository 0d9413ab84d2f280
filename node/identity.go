package node

import (
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"strings"

	"github.com/dynakv/dynakv/node/membership"
	"github.com/dynakv/dynakv/node/store"
	"github.com/dynakv/dynakv/replication/codec"
)

// identity is who a data directory's node is: its node id, and the
// instance token drawn once when the directory got its identity. The
// token tells the node's own earlier incarnation (same directory, maybe
// other addresses) from another process started with the same node id:
// the membership refuses a node whose id is alive at another address with
// another token (see membership.Config.Instance).
type identity struct {
	ID       string
	Instance string
}

// metaIdentity is the meta entry holding the data directory's identity.
const metaIdentity = "identity"

const identityVersion = 1

// Lengths of what newIdentity draws, in random bytes (hex doubles them).
const (
	generatedIDBytes = 8  // 16 hex digits: unique among any realistic number of nodes
	instanceBytes    = 16 // 32 hex digits
	maxInstanceLen   = 64 // bound on a decoded token
)

// errCorruptIdentity is wrapped by decodeIdentity's errors.
var errCorruptIdentity = errors.New("node: corrupt identity entry")

// appendIdentity encodes id: a version byte, then the id and the instance
// token as length-prefixed strings.
func appendIdentity(dst []byte, id identity) []byte {
	dst = append(dst, identityVersion)
	dst = codec.AppendString(dst, id.ID)
	return codec.AppendString(dst, id.Instance)
}

// decodeIdentity decodes what appendIdentity encoded. It never panics;
// errors wrap errCorruptIdentity.
func decodeIdentity(buf []byte) (identity, error) {
	if len(buf) == 0 || buf[0] != identityVersion {
		return identity{}, fmt.Errorf("%w: unknown version", errCorruptIdentity)
	}
	r := codec.NewReader(buf[1:], errCorruptIdentity)
	id := identity{ID: r.String(membership.MaxIDLen), Instance: r.String(maxInstanceLen)}
	if r.Err() == nil && (id.ID == "" || id.Instance == "") {
		r.Fail("empty id or instance")
	}
	if err := r.Done(); err != nil {
		return identity{}, err
	}
	return id, nil
}

// randomHex returns n random bytes in hex.
func randomHex(n int) string {
	b := make([]byte, n)
	rand.Read(b) // never fails (crypto/rand)
	return hex.EncodeToString(b)
}

// loadIdentity returns the node's identity, kept in st under
// metaIdentity, creating it on the first start with configured node_id
// (empty: a generated one) and a fresh instance token, durably, before the
// node joins anyone.
//
// The rules:
//   - A stored identity wins. A configured node_id that differs is refused
//     once the directory has been a member under the stored id (its stored
//     member set holds that id): the data belongs to the stored id, and a
//     new id over it would make a second member holding the first one's
//     keys while the first stays dead in the ring. A directory that never
//     became a member (its first start was refused, say, or it was only
//     opened) takes the configured id and a new token.
//   - A data directory from before identities were stored (it has a
//     partitions entry, written at creation, but no identity) keeps the id
//     it ran under: the configured node_id, or else, as the old default, the
//     listen address if the stored member set knows it, or the only record
//     of a set of one. Anything else is ambiguous and refused with the ids
//     to choose from.
//   - A new data directory takes the configured node_id or a generated one.
func loadIdentity(st store.Store, configured, listen string, log *slog.Logger) (identity, error) {
	raw, err := st.Get(store.MetaKey(metaIdentity))
	switch {
	case err == nil:
		id, err := decodeIdentity(raw)
		if err != nil {
			return identity{}, err
		}
		if configured == "" || configured == id.ID {
			return id, nil
		}
		member, err := wasMember(st, id.ID)
		if err != nil {
			return identity{}, err
		}
		if member {
			return identity{}, fmt.Errorf("conf: node_id: this data directory belongs to node %q (its id is kept in data_dir), got node_id %q; "+
				"leave node_id unset to run node %q, or give node %q a data directory of its own", id.ID, configured, id.ID, configured)
		}
		log.Warn("this data directory never joined a cluster as its stored node id; it takes the configured one",
			"stored_node_id", id.ID, "node_id", configured)
	case !errors.Is(err, store.ErrNotFound):
		return identity{}, fmt.Errorf("node: reading the identity: %w", err)
	}
	id := identity{ID: configured, Instance: randomHex(instanceBytes)}
	legacy, err := hasMeta(st, metaPartitions)
	if err != nil {
		return identity{}, err
	}
	how := "configured"
	switch {
	case id.ID != "":
	case legacy:
		if id.ID, err = legacyID(st, listen); err != nil {
			return identity{}, err
		}
		how = "kept from before identities were stored"
	default:
		id.ID, how = randomHex(generatedIDBytes), "generated"
	}
	if err := st.Apply(store.Op{Key: store.MetaKey(metaIdentity), Value: appendIdentity(nil, id)}); err != nil {
		return identity{}, fmt.Errorf("node: storing the identity: %w", err)
	}
	if err := st.Sync(); err != nil {
		return identity{}, fmt.Errorf("node: storing the identity: %w", err)
	}
	log.Info("node identity stored in the data directory", "node_id", id.ID, "how", how, "instance", id.Instance)
	return id, nil
}

// legacyID returns the id a data directory from before stored identities
// ran under when node_id was not configured: the listen address (the old
// default) if its stored member set has it or is empty, else the only
// record of a set of one (the node's own: a restart with another listen
// address).
func legacyID(st store.Store, listen string) (string, error) {
	set, err := membership.LoadMemberSet(st)
	if err != nil {
		return "", err
	}
	recs := set.Records()
	if _, ok := set.Get(listen); ok || len(recs) == 0 {
		return listen, nil
	}
	if len(recs) == 1 {
		return recs[0].ID, nil
	}
	ids := make([]string, len(recs))
	for i, r := range recs {
		ids[i] = r.ID
	}
	return "", fmt.Errorf("conf: node_id: this data directory predates stored node ids and its id is not the listen address %s; "+
		"start it once with node_id set to the id it ran under (its member set holds %s)", listen, strings.Join(ids, ", "))
}

// wasMember reports whether st's stored member set holds a record of id:
// the node joined a cluster (or started alone) under it.
func wasMember(st store.Store, id string) (bool, error) {
	set, err := membership.LoadMemberSet(st)
	if err != nil {
		return false, err
	}
	_, ok := set.Get(id)
	return ok, nil
}

// hasMeta reports whether st holds the meta entry name.
func hasMeta(st store.Store, name string) (bool, error) {
	_, err := st.Get(store.MetaKey(name))
	switch {
	case err == nil:
		return true, nil
	case errors.Is(err, store.ErrNotFound):
		return false, nil
	}
	return false, err
}

// onRefused is the membership's report that the cluster refused this node
// after Start returned (another cluster_secret, another partition count,
// its node id alive elsewhere); Refused hands it on.
func (n *Node) onRefused(err error) {
	select {
	case n.refused <- err:
	default:
	}
}

// Refused delivers, once, why the cluster refused this node after Start
// returned; the process should then Close and exit non-zero. (A refusal
// while Start joins is Start's error.)
func (n *Node) Refused() <-chan error { return n.refused }
