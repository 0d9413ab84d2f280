package peer

import (
	"context"
	"crypto/ed25519"
	"crypto/hkdf"
	"crypto/rand"
	"crypto/sha256"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"errors"
	"fmt"
	"math/big"
	"net"
	"time"
)

// Encryption. With a non-empty cluster secret, a connection switches to TLS
// 1.3 right after the handshake has proved, both ways, that the other end
// holds the secret. Both ends present a certificate for one Ed25519 key
// derived from the secret (HKDF-SHA256), and each accepts only that key: the
// secret is the only credential, as it is for gossip (which memberlist
// encrypts under it), so an operator distributes one secret and no
// certificates. TLS brings what a hand-made AEAD framing would have to
// reinvent: ephemeral key exchange (a recorded session stays secret when
// the cluster secret later leaks), record sequence numbers, and a library
// reviewed by others. The derived key authenticates both ends a second
// time, so a man in the middle without the secret fails TLS too.
//
// The empty secret (allowed only on loopback, see conf) keeps plaintext
// frames: there is no key to derive from it.

// tlsServerName is the name in the derived certificate; clients check the
// key, not the name.
const tlsServerName = "dynakv-peer"

// errPeerKey is returned by TLS when the other end's certificate is not the
// cluster's derived key.
var errPeerKey = errors.New("peer's TLS certificate is not the cluster secret's key")

// secretTLS holds the TLS configurations derived from one cluster secret.
type secretTLS struct {
	server, client *tls.Config
}

// newSecretTLS derives the cluster's TLS identity from secret. It returns
// nil for the empty secret.
func newSecretTLS(secret string) (*secretTLS, error) {
	if secret == "" {
		return nil, nil
	}
	seed, err := hkdf.Key(sha256.New, []byte(secret), []byte("dynakv-peer-tls"), "ed25519 identity v1", ed25519.SeedSize)
	if err != nil {
		return nil, fmt.Errorf("peer: deriving the TLS key: %w", err)
	}
	key := ed25519.NewKeyFromSeed(seed)
	pub := key.Public().(ed25519.PublicKey)
	tmpl := &x509.Certificate{
		SerialNumber:          big.NewInt(1),
		Subject:               pkix.Name{CommonName: tlsServerName},
		DNSNames:              []string{tlsServerName},
		NotBefore:             time.Date(2020, 1, 1, 0, 0, 0, 0, time.UTC),
		NotAfter:              time.Date(9999, 12, 31, 23, 59, 59, 0, time.UTC),
		KeyUsage:              x509.KeyUsageDigitalSignature,
		ExtKeyUsage:           []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth, x509.ExtKeyUsageClientAuth},
		BasicConstraintsValid: true,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, pub, key)
	if err != nil {
		return nil, fmt.Errorf("peer: creating the TLS certificate: %w", err)
	}
	cert := tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key}
	verify := func(cs tls.ConnectionState) error {
		if len(cs.PeerCertificates) == 0 {
			return errPeerKey
		}
		k, ok := cs.PeerCertificates[0].PublicKey.(ed25519.PublicKey)
		if !ok || !k.Equal(pub) {
			return errPeerKey
		}
		return nil
	}
	return &secretTLS{
		server: &tls.Config{
			MinVersion:       tls.VersionTLS13,
			Certificates:     []tls.Certificate{cert},
			ClientAuth:       tls.RequireAnyClientCert,
			VerifyConnection: verify,
		},
		client: &tls.Config{
			MinVersion:   tls.VersionTLS13,
			Certificates: []tls.Certificate{cert},
			ServerName:   tlsServerName,
			// The chain is not checked against any roots: the only
			// acceptable certificate is the derived key's, which
			// VerifyConnection checks.
			InsecureSkipVerify: true,
			VerifyConnection:   verify,
		},
	}, nil
}

// upgrade switches nc, whose handshake has succeeded, to TLS: as the server
// if server, else as the client. It returns nc itself when t is nil (the
// empty secret). The TLS handshake is bounded by ctx.
func (t *secretTLS) upgrade(ctx context.Context, nc net.Conn, server bool) (net.Conn, error) {
	if t == nil {
		return nc, nil
	}
	var tc *tls.Conn
	if server {
		tc = tls.Server(nc, t.server)
	} else {
		tc = tls.Client(nc, t.client)
	}
	if err := tc.HandshakeContext(ctx); err != nil {
		return nil, fmt.Errorf("%w: TLS: %w", errProtocol, err)
	}
	return tc, nil
}
