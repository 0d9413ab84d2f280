package node

// The file descriptors a node needs besides its clients'.
const (
	// reservedFiles covers the listeners (client, peer, gossip TCP and
	// UDP), the spare descriptor the client listener keeps for refusing
	// clients when out of files, the log, and what the runtime opens: Redis
	// reserves 32 (CONFIG_MIN_RESERVED_FDS).
	reservedFiles = 32
	// peerFiles covers internode connections (two to each peer and two
	// from it) and memberlist's TCP push/pull exchanges: 16 peers' worth.
	// A larger cluster uses the room between the requested maxclients and
	// the raised limit.
	peerFiles = 64
	// storeFixedFiles is what one goleveldb store keeps open besides its
	// table cache: LOCK, LOG, the journal and the manifest, plus the
	// next journal, a table being compacted and CURRENT while they rotate.
	storeFixedFiles = 8
	// defaultTableFiles is goleveldb's default table cache per store (its
	// OpenFilesCacheCapacity), which a node uses when the limit allows.
	defaultTableFiles = 500
	// minTableFiles is the smallest table cache per store shard when the
	// limit is low: reads then reopen tables more often, but work.
	minTableFiles = 16
	// maxRaisedFiles caps the raised soft limit when the hard limit is
	// unlimited (Linux refuses more than fs.nr_open, 1048576 by default).
	maxRaisedFiles = 1 << 20
)

// filePlan is how a node divides its file limit.
type filePlan struct {
	want       uint64 // files for the requested maxclients with default table caches
	maxClients int    // clients that fit
	tableFiles int    // table files each store shard may keep open
}

// planFiles divides limit open files: storage, peers and the reserve come
// first, then clients up to maxClients. When the limit is too low for
// both, the table caches shrink (to a quarter of what is left after the
// fixed needs, at least minTableFiles per shard) and maxClients takes the
// rest; maxClients < 1 means the node cannot run.
func planFiles(maxClients int, limit uint64) filePlan {
	fixed := uint64(reservedFiles + peerFiles + storeShards*storeFixedFiles)
	p := filePlan{
		want:       uint64(maxClients) + fixed + storeShards*defaultTableFiles,
		maxClients: maxClients,
		tableFiles: defaultTableFiles,
	}
	if limit >= p.want {
		return p
	}
	left := int64(0)
	if limit > fixed {
		left = int64(limit - fixed)
	}
	p.tableFiles = int(min(max(left/4/storeShards, minTableFiles), defaultTableFiles))
	p.maxClients = int(min(left-int64(storeShards*p.tableFiles), int64(maxClients)))
	return p
}
