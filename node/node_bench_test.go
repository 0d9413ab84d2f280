package node

import (
	"bufio"
	"fmt"
	"net"
	"testing"

	"github.com/dynakv/dynakv/conf"
	"github.com/dynakv/dynakv/node/store"
)

// benchPipeline drives a started node over raw connections, pipelined
// `depth` commands deep, with b.RunParallel's goroutines as clients. Run
// with -cpuprofile to see where a request's time goes:
//
//	go test ./node -run XXX -bench Node -cpuprofile cpu.out
func benchPipeline(b *testing.B, cmd string, depth int) { benchPipelineStore(b, cmd, depth, false) }

func benchPipelineStore(b *testing.B, cmd string, depth int, mem bool) {
	cfg := conf0(b)
	var n *Node
	var err error
	if mem {
		cfg.NodeID = "bench" // build takes the id Open would read from the data directory
		n, err = build(cfg.Resolve(), quiet, store.NewMem(), knobs{})
	} else {
		n, err = Open(cfg, quiet)
	}
	if err != nil {
		b.Fatal(err)
	}
	if err := n.Start(); err != nil {
		b.Fatal(err)
	}
	defer n.Close()
	value := make([]byte, 100)
	for i := range value {
		value[i] = 'x'
	}
	// Preload so GETs hit.
	conn, err := net.Dial("tcp", n.Addr())
	if err != nil {
		b.Fatal(err)
	}
	w := bufio.NewWriter(conn)
	r := bufio.NewReader(conn)
	for i := range 10000 {
		fmt.Fprintf(w, "*3\r\n$3\r\nSET\r\n$10\r\nkey:%06d\r\n$100\r\n%s\r\n", i, value)
	}
	w.Flush()
	for range 10000 {
		if _, err := r.ReadString('\n'); err != nil {
			b.Fatal(err)
		}
	}
	conn.Close()
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		conn, err := net.Dial("tcp", n.Addr())
		if err != nil {
			b.Error(err)
			return
		}
		defer conn.Close()
		w := bufio.NewWriter(conn)
		r := bufio.NewReaderSize(conn, 64<<10)
		i := 0
		for {
			sent := 0
			for ; sent < depth && pb.Next(); sent++ {
				key := fmt.Sprintf("key:%06d", i%10000)
				i++
				if cmd == "SET" {
					fmt.Fprintf(w, "*3\r\n$3\r\nSET\r\n$10\r\n%s\r\n$100\r\n%s\r\n", key, value)
				} else {
					fmt.Fprintf(w, "*2\r\n$3\r\nGET\r\n$10\r\n%s\r\n", key)
				}
			}
			if sent == 0 {
				return
			}
			if err := w.Flush(); err != nil {
				b.Error(err)
				return
			}
			for range sent {
				line, err := r.ReadSlice('\n')
				if err != nil {
					b.Error(err)
					return
				}
				if line[0] == '$' {
					if _, err := r.Discard(100 + 2); err != nil {
						b.Error(err)
						return
					}
				}
			}
		}
	})
}

func conf0(b *testing.B) conf.Config {
	cfg := conf.Default()
	cfg.Listen = "127.0.0.1:0"
	cfg.DataDir = b.TempDir()
	return cfg
}

func BenchmarkNodeSET(b *testing.B)    { benchPipeline(b, "SET", 1) }
func BenchmarkNodeGET(b *testing.B)    { benchPipeline(b, "GET", 1) }
func BenchmarkNodeSETP16(b *testing.B) { benchPipeline(b, "SET", 16) }
func BenchmarkNodeGETP16(b *testing.B) { benchPipeline(b, "GET", 16) }

// BenchmarkNodeSETP16Mem runs the node on the in-memory store: the
// difference to BenchmarkNodeSETP16 is goleveldb's share of a write.
func BenchmarkNodeSETP16Mem(b *testing.B) { benchPipelineStore(b, "SET", 16, true) }
