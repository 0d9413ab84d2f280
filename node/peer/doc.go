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
//   - [Server] accepts connections from [Client]s and runs the [Handler].
//
// # Wire protocol
//
// Every connection starts with a mutual challenge-response handshake over
// the cluster secret ([Config].Secret; the empty string is a valid secret,
// distinct from every other):
//
//	server -> client  "DKVP" | version=1 | server nonce (32 random bytes)
//	client -> server  "DKVP" | version=1
//	                  | HMAC-SHA256(secret, "dynakv-peer-client" || server nonce)
//	                  | client nonce (32 random bytes)
//	server -> client  status 0 | HMAC-SHA256(secret, "dynakv-peer-server" || client nonce)
//	              or  status 1, then the server closes the connection
//
// The server compares the client's MAC in constant time, the client checks
// the server's, so neither end talks to a node of another cluster. The
// whole exchange is bounded by [Config].DialTimeout on both ends.
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
// frames into one flush (it flushes only when its queue is empty) and a
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
// The client port speaks RESP, and redcon is already a dependency, so RESP
// would have been the obvious internode protocol. It was measured against
// this one (see bench_test.go and the README): RESP has no request ids, so
// a connection serves one request at a time unless replies are matched to
// requests by order, which forbids out-of-order completion; a slow read
// then holds up every fast one behind it. With ids, one connection carries
// hundreds of concurrent requests, completes them in any order, and batches
// their writes.
package peer
