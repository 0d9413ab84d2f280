//go:build !unix

package node

import (
	"log/slog"

	"github.com/dynakv/dynakv/conf"
)

// fitOpenFiles leaves maxclients as configured where there is no
// RLIMIT_NOFILE.
func fitOpenFiles(cfg *conf.Config, log *slog.Logger) (int, error) { return defaultTableFiles, nil }
