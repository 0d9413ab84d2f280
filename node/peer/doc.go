// Package peer is the internode transport of dynakv: the request/response
// channel that nodes use to read and merge replicas, store hints, forward
// writes and scan ranges on each other.
//
// The transport is payload-agnostic. A request is an operation code (one
// byte, chosen by the caller) and an opaque payload; the response is an
// opaque payload or an error string. Encoding the payloads is the business of
// the packages that define the operations.
//
// # Pieces
//
//   - [Handler] serves one request on the receiving node.
//   - [Transport] is what callers hold. [*Client] implements it over TCP;
//     [MemNetwork] hands out in-process endpoints with fault injection
//     (partitions, delays, drops, crashed nodes) for tests.
//   - [Server] accepts connections from Clients and runs the [Handler].
//
// # Wire protocol
//
// Every connection starts with a mutual challenge-response handshake over
// the cluster secret ([Config].Secret; the empty string is a valid secret,
// distinct from every other):
//
//	server -> client  "DKVP" | version=2 | server nonce (32 random bytes)
//	client -> server  "DKVP" | version=2
//	                  | HMAC-SHA256(secret, "dynakv-peer-client" || server nonce)
//	                  | client nonce (32 random bytes)
//	server -> client  status 0 | HMAC-SHA256(secret, "dynakv-peer-server" || client nonce)
//	              or  status 1, then the server closes the connection
//
// The server compares the client's MAC in constant time, the client checks
// the server's, so neither end talks to a node of another cluster. The
// whole exchange is bounded by [Config].DialTimeout on both ends.
//
// With a non-empty secret the connection then switches to TLS 1.3, the
// server side taking the server role: both ends present a certificate for
// an Ed25519 key derived from the secret and accept only that key (see
// tls.go for why the secret, not a CA, is the credential). Every frame
// below travels inside TLS records. The empty secret, which conf allows only
// on loopback addresses, keeps the frames in the clear. Version 1 had no
// TLS step; a version 1 peer is refused with a protocol error.
//
// After the handshake both directions carry frames:
//
//	uint32 length (big-endian) of everything that follows
//	uint64 request id (big-endian), chosen by the client, echoed in the response
//	byte   request: the op code; response: status 0 = ok, 1 = error
//	payload (length - 9 bytes); for an error, the message (at most 4 KiB)
//
// A frame whose length is below 9 or above [Config].MaxFrame+9 is a protocol
// error and the receiver closes the connection. Large frames are read in
// growing chunks, so a peer that announces a huge frame and sends little of
// it costs memory in proportion to what it sent, not to what it announced.
//
// # Concurrency
//
// A [Client] keeps [Config].ConnsPerPeer connections per peer address,
// dialled lazily, and spreads calls over them round-robin. Each connection
// multiplexes many requests by id: a writer goroutine coalesces queued
// frames into one flush (it flushes only when its queue is empty, after
// yielding once so that callers just made runnable can add theirs) and a
// reader goroutine routes each response to its waiting caller. When a
// connection breaks, every call pending on it fails at once with
// [ErrUnreachable], and the next call dials again; a dial that failed less
// than 200 ms ago makes further calls to that address fail fast instead of
// dialling again.
//
// A [Server] runs every request in its own goroutine, at most
// [Config].MaxInFlight per connection; when that many are running it stops
// reading from the connection until one finishes, which pushes back on the
// client through TCP flow control. Handler panics are recovered and
// answered as errors.
//
// # Why not RESP
//
// The client port speaks RESP and redcon is already a dependency, so RESP
// was the obvious candidate. It was measured against this protocol on the
// same echo workload (100-byte request and response over 127.0.0.1; see
// bench_test.go). With one caller per CPU both cost about 16 µs a call,
// a loopback round trip. With 16 concurrent callers per CPU, this
// transport served about 4x (1 CPU) and 4.3x (2 CPUs) the calls per second
// of redcon with a go-redis pool of as many connections, with 3 allocations
// per call instead of 11. The difference is structural: RESP has no
// request ids, so a connection carries one request at a time (or, when
// pipelined, answers strictly in order, so one slow replica read holds up
// every fast one behind it), and every call pays its own system calls.
// With ids, a few connections carry hundreds of concurrent requests,
// complete them in any order, and share each flush.
package peer
