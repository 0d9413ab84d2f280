package peer

import (
	"crypto/hmac"
	"crypto/sha256"
	"fmt"
	"io"
)

// Handshake constants; see the package documentation for the exchange.
const (
	handshakeMagic   = "DKVP"
	protocolVersion  = 2 // 2: TLS after the handshake when the secret is not empty
	nonceLen         = 32
	macLen           = sha256.Size
	preambleLen      = len(handshakeMagic) + 1
	serverHelloLen   = preambleLen + nonceLen          // magic, version, server nonce
	clientHelloLen   = preambleLen + macLen + nonceLen // magic, version, client MAC, client nonce
	serverReplyOKLen = 1 + macLen                      // status 0, server MAC
	clientLabel      = "dynakv-peer-client"
	serverLabel      = "dynakv-peer-server"
	handshakeOK      = 0
	handshakeRefused = 1
)

// handshakeMAC is HMAC-SHA256(secret, label || nonce).
func handshakeMAC(secret, label string, nonce []byte) []byte {
	m := hmac.New(sha256.New, []byte(secret))
	m.Write([]byte(label))
	m.Write(nonce)
	return m.Sum(nil)
}

// parsePreamble checks the magic and version at the start of a hello.
func parsePreamble(b []byte) error {
	if len(b) < preambleLen || string(b[:len(handshakeMagic)]) != handshakeMagic {
		return fmt.Errorf("%w: bad handshake magic %q", errProtocol, b[:min(len(b), len(handshakeMagic))])
	}
	if v := b[len(handshakeMagic)]; v != protocolVersion {
		return fmt.Errorf("%w: unsupported protocol version %d (want %d)", errProtocol, v, protocolVersion)
	}
	return nil
}

// parseServerHello returns the server nonce from a server hello.
func parseServerHello(b []byte) (nonce []byte, err error) {
	if len(b) != serverHelloLen {
		return nil, fmt.Errorf("%w: server hello of %d bytes, want %d", errProtocol, len(b), serverHelloLen)
	}
	if err := parsePreamble(b); err != nil {
		return nil, err
	}
	return b[preambleLen:], nil
}

// parseClientHello returns the client's MAC and nonce from a client hello.
func parseClientHello(b []byte) (mac, nonce []byte, err error) {
	if len(b) != clientHelloLen {
		return nil, nil, fmt.Errorf("%w: client hello of %d bytes, want %d", errProtocol, len(b), clientHelloLen)
	}
	if err := parsePreamble(b); err != nil {
		return nil, nil, err
	}
	return b[preambleLen : preambleLen+macLen], b[preambleLen+macLen:], nil
}

// newNonce reads a nonce from rnd.
func newNonce(rnd io.Reader) ([]byte, error) {
	nonce := make([]byte, nonceLen)
	if _, err := io.ReadFull(rnd, nonce); err != nil {
		return nil, fmt.Errorf("peer: reading nonce: %w", err)
	}
	return nonce, nil
}

// serverHandshake runs the server's side of the handshake over rw, drawing
// its nonce from rnd. It returns an error wrapping ErrAuth, after telling
// the client, when the client does not hold secret; errProtocol for a
// malformed hello; or the I/O error. The caller bounds it with a deadline
// and closes the connection on any error.
func serverHandshake(rw io.ReadWriter, secret string, rnd io.Reader) error {
	nonce, err := newNonce(rnd)
	if err != nil {
		return err
	}
	hello := make([]byte, 0, clientHelloLen)
	hello = append(hello, handshakeMagic...)
	hello = append(hello, protocolVersion)
	hello = append(hello, nonce...)
	if _, err := rw.Write(hello); err != nil {
		return err
	}

	in := make([]byte, clientHelloLen)
	if _, err := io.ReadFull(rw, in); err != nil {
		return err
	}
	mac, clientNonce, err := parseClientHello(in)
	if err != nil {
		return err
	}
	if !hmac.Equal(mac, handshakeMAC(secret, clientLabel, nonce)) {
		_, _ = rw.Write([]byte{handshakeRefused})
		return fmt.Errorf("%w: wrong cluster secret", ErrAuth)
	}
	reply := append([]byte{handshakeOK}, handshakeMAC(secret, serverLabel, clientNonce)...)
	_, err = rw.Write(reply)
	return err
}

// clientHandshake runs the client's side of the handshake over rw, drawing
// its nonce from rnd. It returns an error wrapping ErrAuth when the server
// refuses secret or fails to prove it holds it; errProtocol for a malformed
// reply; or the I/O error.
func clientHandshake(rw io.ReadWriter, secret string, rnd io.Reader) error {
	in := make([]byte, serverHelloLen)
	if _, err := io.ReadFull(rw, in); err != nil {
		return err
	}
	serverNonce, err := parseServerHello(in)
	if err != nil {
		return err
	}
	nonce, err := newNonce(rnd)
	if err != nil {
		return err
	}
	hello := make([]byte, 0, clientHelloLen)
	hello = append(hello, handshakeMagic...)
	hello = append(hello, protocolVersion)
	hello = append(hello, handshakeMAC(secret, clientLabel, serverNonce)...)
	hello = append(hello, nonce...)
	if _, err := rw.Write(hello); err != nil {
		return err
	}

	reply := make([]byte, serverReplyOKLen)
	if _, err := io.ReadFull(rw, reply[:1]); err != nil {
		return err
	}
	switch reply[0] {
	case handshakeOK:
	case handshakeRefused:
		return fmt.Errorf("%w: peer refused our cluster secret", ErrAuth)
	default:
		return fmt.Errorf("%w: bad handshake status %d", errProtocol, reply[0])
	}
	if _, err := io.ReadFull(rw, reply[1:]); err != nil {
		return err
	}
	if !hmac.Equal(reply[1:], handshakeMAC(secret, serverLabel, nonce)) {
		return fmt.Errorf("%w: peer does not hold our cluster secret", ErrAuth)
	}
	return nil
}
