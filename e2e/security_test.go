package e2e

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"fmt"
	"math/big"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/dynakv/dynakv/internal/poll"
	"github.com/dynakv/dynakv/node/peer"
	"github.com/dynakv/dynakv/replication/codec"
	"github.com/redis/go-redis/v9"
)

// startFails starts the binary with args and expects it to refuse: it must
// exit with a non-zero status before answering PING. It returns what it
// printed.
func startFails(t *testing.T, args ...string) string {
	t.Helper()
	p := newProc(t, args)
	err := p.start()
	if err == nil {
		p.stop(false)
		t.Fatalf("dynakv %s started; want a refusal", strings.Join(args, " "))
	}
	var ee *exec.ExitError
	if !errors.As(p.waitErr, &ee) || ee.ExitCode() == 0 {
		t.Fatalf("dynakv %s: exit %v, want a non-zero status", strings.Join(args, " "), p.waitErr)
	}
	return p.Output()
}

// TestE2ESecretRequiredToExpose: a node that has a password, or that other
// machines can reach, does not start without a cluster secret, since its
// peer and gossip ports would take any node as a member (issue 12: a
// --requirepass node's peer port gave every key to an empty-secret
// handshake, and a secretless node joined and served the protected keys).
func TestE2ESecretRequiredToExpose(t *testing.T) {
	dynakvOnly(t)
	out := startFails(t, "--requirepass", "pw")
	for _, want := range []string{"conf: cluster_secret: must be set: requirepass is set", "protected_mode no"} {
		if !strings.Contains(out, want) {
			t.Errorf("refusal without %q:\n%s", want, tail(out, 4096))
		}
	}
	// An address other machines reach: the node refuses before it binds.
	out = startFails(t, "--listen", "0.0.0.0:"+strconv.Itoa(freePort(t, false)))
	if !strings.Contains(out, "is not a loopback address") || !strings.Contains(out, "cluster_secret") {
		t.Errorf("refusal of a non-loopback listen address:\n%s", tail(out, 4096))
	}

	// The explicit opt-out starts (the password still guards the client port).
	n := startNode(t, "--requirepass", "pw", "--protected-mode", "no")
	if v := dialRaw(t, n.Addr()).Do("GET", "k"); v.Wire() != "-NOAUTH Authentication required." {
		t.Errorf("GET before AUTH = %s", v.Wire())
	}
	// With a secret it starts too.
	startNode(t, "--requirepass", "pw", "--cluster-secret", "cs")
}

// TestE2EPeerPortNeedsSecret: the peer port of a node with a password and a
// secret serves nothing to a caller without the secret, and answers one
// with it (the control that the request itself is right).
func TestE2EPeerPortNeedsSecret(t *testing.T) {
	dynakvOnly(t)
	n := startNode(t, "--requirepass", "pw", "--cluster-secret", "cs", "--n", "1", "--r", "1", "--w", "1")
	ctx := testCtx(t, time.Minute)
	c := n.Client(t, func(o *redis.Options) { o.Password = "pw" })
	if err := c.Set(ctx, "k", "protected-value", 0).Err(); err != nil {
		t.Fatal(err)
	}
	peerAddr, _ := hasFlag(n.args, "--peer-listen")
	const opRead = 1 // node's opRead: key → the replica's state
	read := func(secret string) ([]byte, error) {
		pc := peer.NewClient(peer.Config{Secret: secret})
		defer pc.Close()
		return pc.Call(ctx, peerAddr, opRead, codec.AppendBytes(nil, []byte("k")))
	}
	for _, secret := range []string{"", "wrong"} {
		resp, err := read(secret)
		if !errors.Is(err, peer.ErrAuth) {
			t.Errorf("peer read with secret %q = %q, %v; want ErrAuth", secret, resp, err)
		}
	}
	resp, err := read("cs")
	if err != nil || !bytes.Contains(resp, []byte("protected-value")) {
		t.Fatalf("peer read with the cluster secret = %q, %v; want the value", resp, err)
	}
	poll.Until(t, 10*time.Second, "the node's warning about the wrong secret", func() bool {
		return strings.Contains(n.Output(), "peer refused: wrong cluster secret")
	})
}

// testCA is a certificate authority for the tests, with its files in dir.
type testCA struct {
	dir  string
	cert *x509.Certificate
	key  *ecdsa.PrivateKey
	file string // the CA certificate, PEM
}

var serial int64

// newCert makes a key and a certificate from tmpl, signed by parent's key
// (self-signed when parent is nil), and returns the DER certificate.
func newCert(t *testing.T, tmpl *x509.Certificate, parent *testCA) (*ecdsa.PrivateKey, []byte) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	serial++
	tmpl.SerialNumber = big.NewInt(serial)
	tmpl.NotBefore, tmpl.NotAfter = time.Now().Add(-time.Hour), time.Now().Add(24*time.Hour)
	signer, signerCert := key, tmpl
	if parent != nil {
		signer, signerCert = parent.key, parent.cert
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, signerCert, &key.PublicKey, signer)
	if err != nil {
		t.Fatal(err)
	}
	return key, der
}

func newTestCA(t *testing.T, name string) *testCA {
	t.Helper()
	key, der := newCert(t, &x509.Certificate{
		Subject:               pkix.Name{CommonName: name},
		KeyUsage:              x509.KeyUsageCertSign | x509.KeyUsageDigitalSignature,
		BasicConstraintsValid: true,
		IsCA:                  true,
	}, nil)
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	ca := &testCA{dir: t.TempDir(), cert: cert, key: key}
	ca.file = writePEM(t, ca.dir, name+"-ca.pem", "CERTIFICATE", der)
	return ca
}

// issue signs a certificate for name (a server's, valid for 127.0.0.1 and
// localhost, or a client's) and returns its certificate and key files.
func (ca *testCA) issue(t *testing.T, name string, server bool) (certFile, keyFile string) {
	t.Helper()
	tmpl := &x509.Certificate{
		Subject:     pkix.Name{CommonName: name},
		KeyUsage:    x509.KeyUsageDigitalSignature,
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth},
	}
	if server {
		tmpl.ExtKeyUsage = []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}
		tmpl.IPAddresses = []net.IP{net.IPv4(127, 0, 0, 1)}
		tmpl.DNSNames = []string{"localhost"}
	}
	key, der := newCert(t, tmpl, ca)
	kder, err := x509.MarshalECPrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	return writePEM(t, ca.dir, name+".pem", "CERTIFICATE", der), writePEM(t, ca.dir, name+"-key.pem", "EC PRIVATE KEY", kder)
}

func writePEM(t *testing.T, dir, name, typ string, der []byte) string {
	t.Helper()
	path := filepath.Join(dir, name)
	if err := os.WriteFile(path, pem.EncodeToMemory(&pem.Block{Type: typ, Bytes: der}), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

// tlsClientConfig trusts ca and presents the given client certificate, if
// any.
func tlsClientConfig(t *testing.T, ca *testCA, certFile, keyFile string) *tls.Config {
	t.Helper()
	pool := x509.NewCertPool()
	pool.AddCert(ca.cert)
	tc := &tls.Config{RootCAs: pool, ServerName: "127.0.0.1"}
	if certFile != "" {
		cert, err := tls.LoadX509KeyPair(certFile, keyFile)
		if err != nil {
			t.Fatal(err)
		}
		tc.Certificates = []tls.Certificate{cert}
	}
	return tc
}

// TestE2ETLSClientPort: the TLS port with Redis's setting names, reached by
// redis-cli --tls, go-redis and python3-redis with certificates of the
// cluster's CA; a client certificate from another CA, or none, is refused.
func TestE2ETLSClientPort(t *testing.T) {
	dynakvOnly(t)
	ca := newTestCA(t, "cluster")
	serverCert, serverKey := ca.issue(t, "server", true)
	clientCert, clientKey := ca.issue(t, "client", false)
	other := newTestCA(t, "other")
	otherCert, otherKey := other.issue(t, "intruder", false)

	tlsPort := strconv.Itoa(freePort(t, false))
	n := startNode(t, "--tls-port", tlsPort, "--tls-cert-file", serverCert, "--tls-key-file", serverKey,
		"--tls-ca-cert-file", ca.file)
	tlsAddr := net.JoinHostPort("127.0.0.1", tlsPort)
	ctx := testCtx(t, 2*time.Minute)

	// redis-cli --tls
	cli := func(args ...string) (string, error) {
		cmd := exec.CommandContext(ctx, "redis-cli", append([]string{"--tls", "-h", "127.0.0.1", "-p", tlsPort, "--cacert", ca.file}, args...)...)
		out, err := cmd.CombinedOutput()
		return strings.TrimSpace(string(out)), err
	}
	if out, err := cli("--cert", clientCert, "--key", clientKey, "SET", "k", "over-tls"); err != nil || out != "OK" {
		t.Fatalf("redis-cli --tls SET = %q, %v", out, err)
	}
	if out, err := cli("--cert", clientCert, "--key", clientKey, "GET", "k"); err != nil || out != "over-tls" {
		t.Fatalf("redis-cli --tls GET = %q, %v", out, err)
	}
	for name, args := range map[string][]string{
		"another CA's certificate": {"--cert", otherCert, "--key", otherKey, "GET", "k"},
		"no certificate":           {"GET", "k"},
	} {
		// TLS 1.3 checks the client's certificate after the client
		// finished its handshake: redis-cli sees the connection closed.
		if out, err := cli(args...); err == nil || strings.Contains(out, "over-tls") {
			t.Errorf("redis-cli --tls with %s = %q, %v; want a refusal", name, out, err)
		}
	}

	// go-redis with a tls.Config
	tlsClient := func(tc *tls.Config) *redis.Client {
		return n.Client(t, func(o *redis.Options) { o.Addr, o.TLSConfig, o.MaxRetries = tlsAddr, tc, -1 })
	}
	good := tlsClient(tlsClientConfig(t, ca, clientCert, clientKey))
	if v, err := good.Get(ctx, "k").Result(); err != nil || v != "over-tls" {
		t.Fatalf("go-redis over TLS: GET = %q, %v", v, err)
	}
	for name, tc := range map[string]*tls.Config{
		"another CA's certificate": tlsClientConfig(t, ca, otherCert, otherKey),
		"no certificate":           tlsClientConfig(t, ca, "", ""),
	} {
		if v, err := tlsClient(tc).Get(ctx, "k").Result(); err == nil {
			t.Errorf("go-redis with %s: GET = %q, want a refusal", name, v)
		}
	}

	// python3-redis
	py := `import redis, sys
r = redis.Redis(host="127.0.0.1", port=int(sys.argv[1]), ssl=True, ssl_ca_certs=sys.argv[2],
                ssl_certfile=sys.argv[3], ssl_keyfile=sys.argv[4])
r.set("py", "tls")
print(r.get("k").decode(), r.get("py").decode())`
	out, err := exec.CommandContext(ctx, "/usr/bin/python3", "-c", py, tlsPort, ca.file, clientCert, clientKey).CombinedOutput()
	if err != nil || strings.TrimSpace(string(out)) != "over-tls tls" {
		t.Fatalf("python3-redis over TLS: %q, %v", out, err)
	}

	// The plain port still serves the same data.
	if v, err := n.Client(t).Get(ctx, "py").Result(); err != nil || v != "tls" {
		t.Errorf("plain port: GET py = %q, %v", v, err)
	}

	// tls_auth_clients no: the server's certificate is enough.
	tlsPort2 := strconv.Itoa(freePort(t, false))
	n2 := startNode(t, "--tls-port", tlsPort2, "--tls-cert-file", serverCert, "--tls-key-file", serverKey, "--tls-auth-clients", "no")
	c2 := n2.Client(t, func(o *redis.Options) {
		o.Addr, o.TLSConfig = net.JoinHostPort("127.0.0.1", tlsPort2), tlsClientConfig(t, ca, "", "")
	})
	if err := c2.Ping(ctx).Err(); err != nil {
		t.Errorf("tls_auth_clients no, no client certificate: PING = %v", err)
	}
}

// TestE2ETLSSettingErrors: missing or unreadable TLS files stop the start
// with the setting's name.
func TestE2ETLSSettingErrors(t *testing.T) {
	dynakvOnly(t)
	ca := newTestCA(t, "c")
	cert, key := ca.issue(t, "s", true)
	port := strconv.Itoa(freePort(t, false))
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"--tls-port", port}, "conf: tls_port: needs tls_cert_file and tls_key_file"},
		{[]string{"--tls-port", port, "--tls-cert-file", cert, "--tls-key-file", key}, "conf: tls_ca_cert_file: must be set"},
		{[]string{"--tls-port", port, "--tls-cert-file", cert, "--tls-key-file", "/nonexistent/key.pem", "--tls-ca-cert-file", ca.file}, "tls_key_file /nonexistent/key.pem"},
		{[]string{"--tls-port", port, "--tls-cert-file", cert, "--tls-key-file", key, "--tls-ca-cert-file", cert + ".missing"}, "node: tls_ca_cert_file: open"},
	} {
		if out := startFails(t, tc.args...); !strings.Contains(out, tc.want) {
			t.Errorf("%v: output without %q:\n%s", tc.args, tc.want, tail(out, 2048))
		}
	}
}

// TestE2EClusterWithSecret: three nodes with a cluster secret (gossip
// encrypted, internode traffic over TLS) replicate, forward and hand off
// as they do without one: writes through every node are on every node,
// and a node killed with kill -9 gets the writes it missed once it is back.
func TestE2EClusterWithSecret(t *testing.T) {
	procs := startCluster(t, 3, "--cluster-secret", "s3cret")
	ctx := testCtx(t, time.Minute)
	for i := range 60 {
		if err := procs[i%3].Shared(t).Set(ctx, fmt.Sprint("k", i), fmt.Sprint("v", i), 0).Err(); err != nil {
			t.Fatalf("SET via node %d: %v", i%3+1, err)
		}
	}
	waitEveryNodeHolds(t, procs, 60)
	victim := procs[2]
	victim.Kill9()
	for i := range 30 {
		if err := procs[0].Shared(t).Set(ctx, fmt.Sprint("after:", i), "x", 0).Err(); err != nil {
			t.Fatalf("SET after:%d with node-3 down: %v", i, err)
		}
	}
	victim.Restart()
	vc := victim.Shared(t)
	poll.Until(t, 60*time.Second, "node-3 holding what it missed", func() bool {
		for i := range 30 {
			if _, ok, _ := holdsLocally(ctx, vc, fmt.Sprint("after:", i), "x"); !ok {
				return false
			}
		}
		return true
	})
	for _, p := range procs {
		if strings.Contains(p.Output(), "wrong cluster secret") || strings.Contains(p.Output(), "TLS:") {
			t.Errorf("%s logged a handshake failure:\n%s", p.Addr(), tail(p.Output(), 4096))
		}
	}
}
