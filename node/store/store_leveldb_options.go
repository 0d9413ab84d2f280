package store

import (
	"log/slog"

	"github.com/syndtr/goleveldb/leveldb/filter"
	"github.com/syndtr/goleveldb/leveldb/opt"
)

// LevelDBOptions tunes a LevelDB store. A zero numeric field means
// goleveldb's own default (see package opt), not the tuned value; start from
// DefaultLevelDBOptions and change what you need.
type LevelDBOptions struct {
	// SyncWrites fsyncs the journal before every Apply returns, making each
	// acknowledged write durable against power loss (at the cost of one
	// fsync per batch; concurrent batches are merged and share it). When
	// false, acknowledged writes still survive a crash of the process, and
	// Sync makes them durable against power loss on demand.
	SyncWrites bool

	// WriteBuffer is the size of the in-memory table (memdb) that is flushed
	// to a level-0 table when full. Up to two exist at once (one being
	// flushed), so it costs up to twice this in memory.
	WriteBuffer int

	// BlockCacheCapacity is the size of the LRU cache of uncompressed table
	// blocks.
	BlockCacheCapacity int

	// CompactionTableSize is the target size of the tables compaction writes.
	CompactionTableSize int

	// CompactionTotalSize sets the level size limits: level n >= 1 may hold
	// CompactionTotalSize * 10^n bytes (so level 1 holds 10 times this).
	CompactionTotalSize int

	// CompactionL0Trigger is the number of level-0 tables that starts a
	// level-0 compaction.
	CompactionL0Trigger int

	// WriteL0SlowdownTrigger is the number of level-0 tables at which each
	// write is delayed by 1 ms to let compaction catch up.
	WriteL0SlowdownTrigger int

	// WriteL0PauseTrigger is the number of level-0 tables at which writes
	// stop until compaction brings the count back below it.
	WriteL0PauseTrigger int

	// BloomFilterBits is the number of bloom filter bits per key stored in
	// each table, so a Get of an absent key rarely reads a block; 0 means no
	// filter.
	BloomFilterBits int

	// OpenFilesCacheCapacity is the number of table files kept open.
	OpenFilesCacheCapacity int

	// DisableSeeksCompaction turns off compactions triggered by reads that
	// had to look at several tables, so reads never cause write
	// amplification that competes with the write path.
	DisableSeeksCompaction bool

	// Logger receives the store's warnings (a failed write) and its
	// recovery (nil: discarded).
	Logger *slog.Logger

	// Faults, for tests, injects disk faults below goleveldb (nil: none).
	Faults *DiskFaults

	// StrictJournal makes opening fail (ErrJournalDamaged) when a journal
	// is damaged, instead of dropping what cannot be read of it, as
	// goleveldb does by default (noting it only in its LOG file).
	StrictJournal bool

	// ReadOnly opens the database without writing anything to it (a
	// damaged journal is then read as far as it can be, in memory only).
	ReadOnly bool
}

// DefaultLevelDBOptions returns the options tuned for a dynakv node: a
// sustained stream of small writes (replicated puts, read repair, hinted
// handoff) mixed with point reads and partition range scans.
//
// goleveldb's defaults (4 MiB write buffer, compaction at 4 level-0 tables,
// a 1 ms delay per write from 8 and a full stop at 12) produce many small
// level-0 tables; under a sustained write stream level 0 reaches the
// slowdown and pause triggers and writers wait for compaction. Measured with
// BenchmarkLevelDBSustainedWrites (20M single writes, 2 vCPUs): 43k
// writes/s, p99.9 1.8 ms, worst 1.9 s. With these defaults: 140-215k
// writes/s, p99.9 45-130 µs, and goleveldb never throttled (level 0 stayed
// at <= 8 tables). The remaining rare 0.1-0.9 s outliers were the journal
// write(2) blocking in the kernel while compaction fsynced a table (and the
// writer waiting for a CPU); NoSync would remove those fsyncs but give up
// power-loss safety, so it is not used. The reason for each value is next to
// it.
func DefaultLevelDBOptions() LevelDBOptions {
	return LevelDBOptions{
		// Durability against kill -9 comes from the journal write(2) on every
		// Apply; fsync is per call to Sync, or per write when a caller opts in.
		SyncWrites: false,
		// 32 MiB (goleveldb: 4 MiB): 8x fewer flushes and level-0 tables for
		// the same write volume, so level-0 fills 8x more slowly; bigger
		// buffers make each flush (which briefly holds up the write that
		// rotates the memdb) and each level-0 compaction longer.
		WriteBuffer: 32 * opt.MiB,
		// 64 MiB (goleveldb: 8 MiB): keeps index and hot data blocks of a
		// node with a few GiB of data in memory.
		BlockCacheCapacity: 64 * opt.MiB,
		// 8 MiB (goleveldb: 2 MiB): 4x fewer files per level, so fewer open
		// files and less per-table bookkeeping in every compaction.
		CompactionTableSize: 8 * opt.MiB,
		// 10 MiB, goleveldb's default (level 1 = 100 MiB, level 2 = 1 GiB,
		// ...). Keys are spread uniformly by hash, so every level-0 table
		// overlaps all of level 1 and each level-0 compaction rewrites level
		// 1 whole: a bigger level 1 makes level-0 compactions slower than
		// the memdb flushes that feed them. Measured (30M writes): 128 MiB
		// gave 156k writes/s, a level 0 of up to 16 tables and 100-250 ms
		// stalls (1.26 s in a 20M-write run); 32 MiB, 183k/s and stalls up
		// to 200 ms; 10 MiB, 140-215k/s, level 0 at <= 8 tables and no
		// throttling by goleveldb.
		CompactionTotalSize: 10 * opt.MiB,
		// 8 (goleveldb: 4): compact level 0 in bigger, rarer batches; each
		// level-0 compaction rewrites the overlapping part of level 1, so
		// batching more tables per compaction cuts write amplification.
		// Point reads may check up to this many level-0 tables, which the
		// bloom filter makes cheap. (Measured: 4 did as well on latency but
		// ran at 168k writes/s against 205k in the same conditions.)
		CompactionL0Trigger: 8,
		// 24 (goleveldb: 8): leave 16 tables (512 MiB of writes at 32 MiB)
		// between "compaction starts" and "writers are slowed" ...
		WriteL0SlowdownTrigger: 24,
		// 48 (goleveldb: 12): ... and 24 more before writers stop, so a
		// long level-0 compaction is absorbed instead of stalling writes.
		WriteL0PauseTrigger: 48,
		// 10 bits per key: about a 1% false-positive rate, the usual choice.
		BloomFilterBits: 10,
		// 0: goleveldb's default (500 open tables; 200 on macOS).
		OpenFilesCacheCapacity: 0,
		// Seek-triggered compactions only help read-mostly workloads.
		DisableSeeksCompaction: true,
	}
}

// goleveldb converts o to goleveldb's options.
func (o LevelDBOptions) goleveldb() *opt.Options {
	lo := &opt.Options{
		WriteBuffer:            o.WriteBuffer,
		BlockCacheCapacity:     o.BlockCacheCapacity,
		CompactionTableSize:    o.CompactionTableSize,
		CompactionTotalSize:    o.CompactionTotalSize,
		CompactionL0Trigger:    o.CompactionL0Trigger,
		WriteL0SlowdownTrigger: o.WriteL0SlowdownTrigger,
		WriteL0PauseTrigger:    o.WriteL0PauseTrigger,
		OpenFilesCacheCapacity: o.OpenFilesCacheCapacity,
		DisableSeeksCompaction: o.DisableSeeksCompaction,
		// NoSync stays false even without SyncWrites: goleveldb's NoSync
		// also ignores WriteOptions.Sync (which Sync relies on) and skips
		// the fsyncs of new tables and the manifest, which would let a
		// power loss lose data that was already flushed out of the journal.
		// Those fsyncs happen in background compaction, off the write path.
	}
	if o.BloomFilterBits > 0 {
		lo.Filter = filter.NewBloomFilter(o.BloomFilterBits)
	}
	if o.StrictJournal {
		lo.Strict = opt.DefaultStrict | opt.StrictJournal
	}
	return lo
}
