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
// the caller. The request reached the peer and was served; Code is the
// code the handler gave the error (WithCode; 0 for an error it gave none)
// and Msg its err.Error(), truncated to 4 KiB. The codes mean what the
// application that runs the transport says they mean.
type RemoteError struct {
	Code byte
	Msg  string
}

// Error returns "peer: " followed by the remote message.
func (e *RemoteError) Error() string { return "peer: " + e.Msg }

// codedError is an error a handler marked with a code for the caller.
type codedError struct {
	code byte
	err  error
}

func (e *codedError) Error() string { return e.err.Error() }
func (e *codedError) Unwrap() error { return e.err }

// WithCode marks err, returned by a Handler or set as a Request's Err, with
// code: the caller's *RemoteError carries it, so the caller can tell the
// errors apart without parsing messages. WithCode(c, nil) is nil.
func WithCode(code byte, err error) error {
	if err == nil {
		return nil
	}
	return &codedError{code: code, err: err}
}

// codeOf returns the code err was marked with (the outermost), or 0.
func codeOf(err error) byte {
	var c *codedError
	if errors.As(err, &c) {
		return c.code
	}
	return 0
}

// errorPayload is the payload of an error response: the code, then the
// message.
func errorPayload(code byte, msg string) []byte {
	return append([]byte{code}, truncateMsg(msg)...)
}

// remoteError decodes an error response's payload.
func remoteError(p []byte) *RemoteError {
	if len(p) == 0 {
		return &RemoteError{Msg: "error response without a code"}
	}
	return &RemoteError{Code: p[0], Msg: string(p[1:])}
}

// truncateMsg shortens an error message to what an error frame carries.
func truncateMsg(s string) string {
	if len(s) > maxErrorMsg {
		return s[:maxErrorMsg]
	}
	return s
}
