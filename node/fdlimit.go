//go:build unix

package node

import (
	"fmt"
	"log/slog"
	"syscall"

	"github.com/dynakv/dynakv/conf"
)

// fitOpenFiles does what Redis does at start (adjustOpenFilesLimit): it
// raises the soft RLIMIT_NOFILE as far as the hard limit allows, and if the
// limit still cannot hold maxclients clients besides the node's own files it
// lowers cfg.MaxClients to fit and says so at warn level. It returns how
// many table files each goleveldb store shard may keep open (see planFiles).
func fitOpenFiles(cfg *conf.Config, log *slog.Logger) (tableFiles int, err error) {
	want := planFiles(cfg.MaxClients, ^uint64(0)).want
	var lim syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_NOFILE, &lim); err != nil {
		log.Warn("cannot read the open file limit; assuming it fits maxclients", "err", err)
		return defaultTableFiles, nil
	}
	if lim.Cur < want && lim.Cur < lim.Max {
		old := lim.Cur
		// As far as the hard limit allows, but not past what Linux's
		// fs.nr_open allows by default when the hard limit is unlimited.
		lim.Cur = min(lim.Max, max(want, maxRaisedFiles))
		if err := syscall.Setrlimit(syscall.RLIMIT_NOFILE, &lim); err != nil {
			log.Warn(fmt.Sprintf("Server can't set maximum open files to %d because of OS error: %v.", lim.Cur, err))
			lim.Cur = old
		} else {
			log.Info(fmt.Sprintf("Increased maximum number of open files to %d (it was originally set to %d).", lim.Cur, old))
		}
	}
	p := planFiles(cfg.MaxClients, lim.Cur)
	if p.maxClients < 1 {
		return 0, fmt.Errorf("node: your current 'ulimit -n' of %d is not enough for the server to start: it needs %d files for storage, peers and listeners and one per client. Please increase your open file limit to at least %d", lim.Cur, p.want-uint64(cfg.MaxClients), p.want-uint64(cfg.MaxClients)+1)
	}
	if p.maxClients < cfg.MaxClients {
		log.Warn(fmt.Sprintf("You requested maxclients of %d requiring at least %d max file descriptors.", cfg.MaxClients, p.want))
		log.Warn(fmt.Sprintf("Current maximum open files is %d. maxclients has been reduced to %d to compensate for low ulimit. If you need higher maxclients increase 'ulimit -n'.", lim.Cur, p.maxClients),
			"maxclients", p.maxClients, "store_table_files", p.tableFiles*storeShards, "reserved_files", reservedFiles+peerFiles+storeShards*storeFixedFiles)
		cfg.MaxClients = p.maxClients
	}
	return p.tableFiles, nil
}
