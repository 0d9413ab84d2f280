// Command dynakv runs one node of dynakv, a Dynamo-style, always-writable
// key-value store that speaks the Redis protocol. With no configuration it
// serves a single local node on 127.0.0.1:6379; see `dynakv --help`.
package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"os/signal"
	"runtime/pprof"
	"syscall"

	"github.com/dynakv/dynakv/conf"
	"github.com/dynakv/dynakv/node"
)

func main() {
	os.Exit(run(os.Args[1:], os.Environ()))
}

func run(args, environ []string) int {
	cfg, err := conf.Load(args, environ)
	if errors.Is(err, conf.ErrHelp) {
		conf.Usage(os.Stdout)
		return 0
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "dynakv:", err)
		fmt.Fprintln(os.Stderr, "Run 'dynakv --help' for the settings.")
		return 2
	}
	log := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: cfg.SlogLevel()}))
	// DYNAKV_CPUPROFILE=FILE writes a CPU profile of the whole run (for the
	// benchmark driver's profiles; see README, Performance).
	if path := os.Getenv("DYNAKV_CPUPROFILE"); path != "" {
		f, err := os.Create(path)
		if err != nil {
			log.Error("cpu profile", "err", err)
			return 1
		}
		if err := pprof.StartCPUProfile(f); err != nil {
			log.Error("cpu profile", "err", err)
			return 1
		}
		defer func() {
			pprof.StopCPUProfile()
			f.Close()
		}()
	}
	n, err := node.Open(cfg, log)
	if err != nil {
		log.Error("cannot open node", "err", err)
		return 1
	}
	if err := n.Start(); err != nil {
		log.Error("cannot start node", "err", err)
		n.Close()
		return 1
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	select {
	case <-ctx.Done():
	case err := <-n.Refused(): // another secret, partition count, or a live node with this id
		log.Error("the cluster refused this node; stopping", "err", err)
		n.Close()
		return 1
	}
	log.Info("shutting down")
	if err := n.Close(); err != nil {
		log.Error("shutdown", "err", err)
		return 1
	}
	return 0
}
