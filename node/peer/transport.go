package peer

import "context"

// Handler serves one request on the receiving node. op is the caller's
// operation code; req is owned by the handler. The returned slice is owned
// by the transport afterwards and must not be modified. A non-nil error is
// sent back to the caller as a *RemoteError carrying err.Error() and the
// code it was marked with (WithCode); a panic is
// recovered and answered the same way.
//
// Handlers run concurrently, each in its own goroutine. ctx is cancelled
// when the server closes or the connection the request arrived on breaks
// (on a MemNetwork it is derived from the caller's context).
type Handler func(ctx context.Context, op byte, req []byte) ([]byte, error)

// Transport sends requests to peers. It is what replication code holds;
// *Client implements it over TCP and MemNetwork endpoints in process.
type Transport interface {
	// Call sends op and req to the node at addr and blocks until its
	// response arrives or ctx ends. req is owned by the transport from the
	// moment Call is invoked (it may still be in flight after Call returned
	// early) and must not be modified afterwards; the returned slice is
	// owned by the caller.
	//
	// Errors: *RemoteError for a handler error; ErrUnreachable, ErrAuth,
	// ErrFrameTooLarge or ErrClosed (wrapped); ctx.Err() when ctx ended
	// first, wrapped with ErrUnreachable only if the connection failed too.
	// Call is safe for concurrent use.
	Call(ctx context.Context, addr string, op byte, req []byte) ([]byte, error)
}

var (
	_ Transport = (*Client)(nil)
	_ Transport = (*memEndpoint)(nil)
)
