package peer

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"log/slog"
	"net"
	"runtime"
	"strings"
	"testing"

	"github.com/redis/go-redis/v9"
	"github.com/tidwall/redcon"
)

// The benchmarks compare this transport with RESP over redcon and go-redis
// on the same echo workload: a 100-byte request answered by the same 100
// bytes, from b.RunParallel goroutines over 127.0.0.1. Each runs at two
// levels of concurrency, GOMAXPROCS goroutines ("inflight=1x") and 16 per
// GOMAXPROCS ("inflight=16x"), the latter being closer to a coordinator
// fanning out replica reads for many clients. Run them with
//
//	go test -run '^$' -bench 'Call|RESP' -benchmem -cpu 1,2 ./node/peer
//
// and read calls/s as the aggregate throughput.

// benchPayload is the request and response of every benchmark call.
var benchPayload = bytes.Repeat([]byte("v"), 100)

// benchParallelism are the b.SetParallelism factors benchmarked.
var benchParallelism = []int{1, 16}

// reportRate adds the aggregate call rate to b's results.
func reportRate(b *testing.B) {
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "calls/s")
}

func BenchmarkCall(b *testing.B) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		b.Fatal(err)
	}
	quiet := slog.New(slog.NewTextHandler(io.Discard, nil))
	srv := NewServer(Config{Secret: "bench", Logger: quiet}, func(_ context.Context, _ byte, req []byte) ([]byte, error) {
		return req, nil // the handler owns req
	})
	go srv.Serve(ln)
	defer srv.Close()
	addr := ln.Addr().String()

	for _, par := range benchParallelism {
		b.Run(fmt.Sprintf("inflight=%dx", par), func(b *testing.B) {
			c := NewClient(Config{Secret: "bench", Logger: quiet})
			defer c.Close()
			if _, err := c.Call(context.Background(), addr, 1, benchPayload); err != nil {
				b.Fatal(err)
			}
			b.SetParallelism(par)
			b.ReportAllocs()
			b.ResetTimer()
			b.RunParallel(func(pb *testing.PB) {
				ctx := context.Background()
				for pb.Next() {
					resp, err := c.Call(ctx, addr, 1, benchPayload)
					if err != nil || len(resp) != len(benchPayload) {
						b.Errorf("Call() = %d bytes, %v", len(resp), err)
						return
					}
				}
			})
			reportRate(b)
		})
	}
}

// BenchmarkRESPBaseline is BenchmarkCall's workload over RESP: a redcon
// server that answers ECHO with its argument, and a go-redis client with
// one pooled connection per concurrent caller (RESP2, no request ids, so a
// connection carries one request at a time).
func BenchmarkRESPBaseline(b *testing.B) {
	srv := redcon.NewServer("127.0.0.1:0",
		func(conn redcon.Conn, cmd redcon.Command) {
			if len(cmd.Args) == 2 && strings.EqualFold(string(cmd.Args[0]), "echo") {
				conn.WriteBulk(cmd.Args[1])
				return
			}
			conn.WriteError("ERR unknown command '" + string(cmd.Args[0]) + "'")
		}, nil, nil)
	listening := make(chan error, 1)
	go srv.ListenServeAndSignal(listening)
	if err := <-listening; err != nil {
		b.Fatal(err)
	}
	defer srv.Close()
	addr := srv.Addr().String()

	for _, par := range benchParallelism {
		b.Run(fmt.Sprintf("inflight=%dx", par), func(b *testing.B) {
			inflight := par * runtime.GOMAXPROCS(0)
			c := redis.NewClient(&redis.Options{
				Addr:            addr,
				Protocol:        2,
				PoolSize:        inflight,
				MinIdleConns:    inflight,
				DisableIdentity: true,
			})
			defer c.Close()
			if err := c.Do(context.Background(), "ECHO", benchPayload).Err(); err != nil {
				b.Fatal(err)
			}
			b.SetParallelism(par)
			b.ReportAllocs()
			b.ResetTimer()
			b.RunParallel(func(pb *testing.PB) {
				ctx := context.Background()
				for pb.Next() {
					resp, err := c.Do(ctx, "ECHO", benchPayload).Text()
					if err != nil || len(resp) != len(benchPayload) {
						b.Errorf("ECHO = %d bytes, %v", len(resp), err)
						return
					}
				}
			})
			reportRate(b)
		})
	}
}
