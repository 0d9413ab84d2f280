package node

import (
	crand "crypto/rand"
	"encoding/binary"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/dynakv/dynakv/conf"
	"github.com/dynakv/dynakv/node/membership"
	"github.com/dynakv/dynakv/node/store"
)

// Opening the node's store: the shards and their layout, the damage found
// at start (a lost shard, a damaged journal) and what the node does about
// it, and the node's metadata mirrored in every shard.

// storeShards is the number of goleveldb databases a node's data is spread
// over (ShardedStore). It is part of the data directory's layout.
const storeShards = 4

// storageDamage is what openStore found lost: shards missing or empty
// beside the others, and journals that could not be read to their end.
type storageDamage struct {
	lostShards []int
	journals   []string // "store-N: <goleveldb's error>"
	tables     []string // likewise, for tables found unreadable at start
	replicas   bool     // the node has replicas to heal from
	shards     []int    // every damaged shard, lost or with a damaged journal
}

func (d *storageDamage) empty() bool { return d == nil || len(d.shards) == 0 }

// partitions returns the partitions of the damaged shards (shard i holds
// the i-th of storeShards equal hash ranges).
func (d *storageDamage) partitions(q int) []int {
	var out []int
	per := max(q/storeShards, 1)
	for _, i := range d.shards {
		for p := i * per; p < (i+1)*per && p < q; p++ {
			out = append(out, p)
		}
	}
	return out
}

func (d *storageDamage) String() string {
	var parts []string
	for _, i := range d.lostShards {
		parts = append(parts, fmt.Sprintf("store-%d is missing or empty (its keys are lost)", i))
	}
	parts = append(parts, d.journals...)
	parts = append(parts, d.tables...)
	return strings.Join(parts, "; ")
}

// openStore opens the node's store: storeShards goleveldb databases in
// dataDir/store-0 ... store-3, each with an equal part of the memory budget
// of DefaultLevelDBOptions and tableFiles open table files each. Every
// shard records the layout (a marker with
// the shard count, its index and the store's random id), so a shard that
// was deleted or emptied is found at start; every journal is read
// strictly, so one that cannot be read to its end (truncated, damaged) is
// found instead of being cut silently. With damage and no replica to heal
// from (n = 1, or no other member and no seeds) it refuses to start unless
// repairStorage; otherwise it accepts the loss (recreates the shard, opens
// the journal as far as it reads) and returns what was lost.
func openStore(cfg conf.Config, log *slog.Logger, tableFiles int) (store.Store, *storageDamage, error) {
	dataDir := cfg.DataDir
	if _, err := os.Stat(filepath.Join(dataDir, "CURRENT")); err == nil {
		return nil, nil, fmt.Errorf("node: %s holds a single goleveldb database (an older layout); this version keeps its data in %s/store-0..%d", dataDir, dataDir, storeShards-1)
	}
	opts := store.DefaultLevelDBOptions()
	opts.SyncWrites = cfg.Fsync == "always"
	opts.WriteBuffer /= storeShards
	opts.BlockCacheCapacity /= storeShards
	opts.OpenFilesCacheCapacity = tableFiles
	opts.Logger = log
	shards := make([]store.Store, storeShards)
	closeAll := func() {
		for _, o := range shards {
			if o != nil {
				o.Close()
			}
		}
	}
	dir := func(i int) string { return filepath.Join(dataDir, fmt.Sprintf("store-%d", i)) }
	damage := &storageDamage{}
	existed := make([]bool, storeShards)
	journalBad := make([]bool, storeShards)
	for i := range storeShards {
		_, err := os.Stat(filepath.Join(dir(i), "CURRENT"))
		existed[i] = err == nil
		if !existed[i] {
			continue
		}
		strict := opts
		strict.StrictJournal = true
		st, err := store.OpenLevelDB(dir(i), strict)
		if errors.Is(err, store.ErrJournalDamaged) {
			journalBad[i] = true
			damage.journals = append(damage.journals, fmt.Sprintf("store-%d: %v (the writes after the damage are lost)", i, err))
			ro := opts
			ro.ReadOnly = true // look, change nothing yet
			st, err = store.OpenLevelDB(dir(i), ro)
		}
		if err != nil {
			closeAll()
			return nil, nil, err
		}
		shards[i] = st
	}
	// Layout markers: which shards belong, which were lost.
	var id uint64
	marked := make([]bool, storeShards)
	for i, st := range shards {
		if st == nil {
			continue
		}
		l, ok, err := store.ReadShardLayout(st)
		if err != nil {
			closeAll()
			return nil, nil, fmt.Errorf("node: %s: %w", dir(i), err)
		}
		if !ok {
			continue
		}
		if l.Shards != storeShards || l.Index != i || (id != 0 && l.ID != id) {
			closeAll()
			return nil, nil, fmt.Errorf("node: %s belongs to another store layout (%v; expected shard %d of %d of the other shards' store): do not mix shards of different data directories", dir(i), l, i, storeShards)
		}
		id, marked[i] = l.ID, true
	}
	legacy := false
	if id == 0 && shards[0] != nil {
		var err error
		if legacy, err = hasMeta(shards[0], metaPartitions); err != nil {
			closeAll()
			return nil, nil, err
		}
	}
	for i := range storeShards {
		if (id != 0 && !marked[i]) || (legacy && !existed[i]) {
			damage.lostShards = append(damage.lostShards, i)
		}
		if (id != 0 && !marked[i]) || (legacy && !existed[i]) || journalBad[i] {
			damage.shards = append(damage.shards, i)
		}
	}
	// Whom to heal from: the member set of shard 0, or of a mirror.
	metaSrc := shards[0]
	for i := 1; metaSrc == nil && i < storeShards; i++ {
		if shards[i] != nil {
			if ok, _ := hasMeta(shards[i], metaPartitions); ok {
				metaSrc = shards[i]
			}
		}
	}
	replicas := hasReplicas(cfg, metaSrc)
	// A damaged table shows only when read. A node with replicas finds it
	// when it builds its trees and heals it from them; a node with none
	// reads its whole store once now, to stop before serving from it.
	tableBad := make([]bool, storeShards)
	if !replicas {
		for i, st := range shards {
			if st == nil || journalBad[i] {
				continue
			}
			err := st.Iterate(nil, nil, func(k, v []byte) bool { return true })
			if errors.Is(err, store.ErrCorrupt) {
				tableBad[i] = true
				damage.tables = append(damage.tables, fmt.Sprintf("store-%d: a table is damaged: %v (its unreadable keys are lost)", i, err))
				damage.shards = append(damage.shards, i)
			} else if err != nil {
				closeAll()
				return nil, nil, err
			}
		}
	}
	damage.replicas = replicas
	if !damage.empty() && cfg.RepairStorage != "yes" && !replicas {
		closeAll()
		return nil, nil, fmt.Errorf("node: damaged storage in %s and no replica to heal from (n=%d, no other member, no seeds): %s. "+
			"Restore the data directory from a backup, or start with --repair-storage yes (repair_storage: yes) to accept the loss and start with what is left", dataDir, cfg.N, damage)
	}
	// Accept the loss: open damaged journals for good, create lost shards,
	// rebuild damaged tables without their unreadable blocks.
	for i := range storeShards {
		if shards[i] == nil || journalBad[i] || tableBad[i] {
			if shards[i] != nil {
				shards[i].Close()
			}
			if tableBad[i] {
				kept, damaged, err := store.RebuildLevelDB(dir(i), opts)
				if err != nil {
					shards[i] = nil
					closeAll()
					return nil, nil, err
				}
				log.Warn("storage damage: a shard was rewritten with what is readable of it (repair_storage yes)",
					"shard", dir(i), "keys_kept", kept, "damaged_copy", damaged)
			}
			st, err := store.OpenLevelDB(dir(i), opts)
			if err != nil {
				shards[i] = nil
				closeAll()
				return nil, nil, err
			}
			shards[i] = st
		}
	}
	if err := syncMeta(shards, damage, log); err != nil {
		closeAll()
		return nil, nil, err
	}
	if id == 0 {
		var b [8]byte
		for id == 0 {
			if _, err := crand.Read(b[:]); err != nil {
				closeAll()
				return nil, nil, err
			}
			id = binary.BigEndian.Uint64(b[:])
		}
	}
	for i, st := range shards {
		if !marked[i] {
			if err := store.WriteShardLayout(st, store.ShardLayout{Shards: storeShards, Index: i, ID: id}); err != nil {
				closeAll()
				return nil, nil, fmt.Errorf("node: %s: recording the store layout: %w", dir(i), err)
			}
		}
	}
	st, err := store.NewSharded(shards...)
	if err != nil {
		closeAll()
		return nil, nil, err
	}
	if n, err := store.MigrateKeyspace(st); err != nil {
		closeAll()
		return nil, nil, fmt.Errorf("node: %s: moving keys to the internal keyspace: %w", dataDir, err)
	} else if n > 0 {
		log.Info("keys starting with 0xFF moved to their escaped storage keys (a data directory from before collections)", "keys", n)
	}
	if damage.empty() {
		return st, nil, nil
	}
	return st, damage, nil
}

// syncMeta keeps the node's metadata (identity, member set, partitions,
// actor), which store.Sharded writes to shard 0 and mirrors in every other
// shard, whole: a damaged shard 0 (lost, or with a damaged journal) takes
// it back from the first undamaged shard holding a mirror; otherwise the
// mirrors are brought up to shard 0 (after a crash between shards, or on
// a data directory from before the mirrors).
func syncMeta(shards []store.Store, damage *storageDamage, log *slog.Logger) error {
	src := 0
	if slices.Contains(damage.shards, 0) {
		src = -1
		for i := 1; i < len(shards) && src < 0; i++ {
			if slices.Contains(damage.shards, i) {
				continue
			}
			if ok, err := hasMeta(shards[i], metaPartitions); err != nil {
				return err
			} else if ok {
				src = i
			}
		}
		if src < 0 {
			log.Warn("storage damage: store-0 held the node's metadata and no other shard has a copy of it")
			return nil
		}
	}
	for i, st := range shards {
		if i == src {
			continue
		}
		n, err := store.RestoreMeta(st, shards[src])
		if err != nil {
			return fmt.Errorf("node: store-%d: copying the node's metadata from store-%d: %w", i, src, err)
		}
		if src != 0 && i == 0 {
			log.Warn("storage damage: the node's metadata was restored into store-0 from its copy", "from", fmt.Sprintf("store-%d", src), "entries", n)
		}
	}
	return nil
}

// hasReplicas reports whether a node with cfg and the metadata shard meta
// (nil: lost) has other replicas to heal from.
func hasReplicas(cfg conf.Config, meta store.Store) bool {
	if cfg.N < 2 {
		return false
	}
	if len(cfg.Seeds) > 0 {
		return true
	}
	if meta == nil {
		return false
	}
	set, err := membership.LoadMemberSet(meta)
	return err == nil && len(set.Members()) > 1
}
