package peer

import "errors"

// Sentinel errors returned by the transport. Callers compare with
// [errors.Is]; the transport wraps them with the address and the cause.
var (
	// ErrClosed is returned by calls on a closed Client, and by Serve after
	// the Server was closed.
	ErrClosed = errors.New("peer: closed")

	// ErrUnreachable means the peer could not be reached or was lost before
	// the response arrived: the dial failed (or failed less than 200 ms
	// ago), the handshake failed for network reasons, or the connection
	// broke with the call pending. The request may or may not have been
	// served.
	ErrUnreachable = errors.New("peer: unreachable")

	// ErrAuth means the peer refused our cluster secret, or we refused its.
	ErrAuth = errors.New("peer: authentication failed")

	// ErrFrameTooLarge means a request payload is larger than
	// Config.MaxFrame; Call refuses it before sending anything. (A response
	// over the server's limit is replaced by a *RemoteError saying so; one
	// over the client's limit breaks the connection: ErrUnreachable.)
	ErrFrameTooLarge = errors.New("peer: frame too large")

	// errProtocol marks a malformed frame or handshake from the other end.
	errProtocol = errors.New("peer: protocol error")
)

// maxErrorMsg bounds the error message carried in an error response.
const maxErrorMsg = 4 << 10

// RemoteError is an error returned by the peer's Handler, carried back to
// the caller. The request reached the peer and was served; Msg is the
// handler's err.Error(), truncated to 4 KiB.
type RemoteError struct {
	Msg string
}

// Error returns "peer: " followed by the remote message.
func (e *RemoteError) Error() string { return "peer: " + e.Msg }

// truncateMsg shortens an error message to what an error frame carries.
func truncateMsg(s string) string {
	if len(s) > maxErrorMsg {
		return s[:maxErrorMsg]
	}
	return s
}
