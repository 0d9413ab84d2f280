package peer

import (
	"bytes"
	"errors"
	"io"
	"net"
	"sync"
	"testing"
)

// zeroes is a deterministic nonce source.
type zeroes struct{}

func (zeroes) Read(p []byte) (int, error) {
	clear(p)
	return len(p), nil
}

// pipeRW joins a reader of scripted input and a writer that records
// output, standing in for a connection.
type pipeRW struct {
	io.Reader
	out bytes.Buffer
}

func (p *pipeRW) Write(b []byte) (int, error) { return p.out.Write(b) }

// validClientHello is what a client holding secret sends to a server whose
// nonce is all zeroes, with an all-zero nonce of its own.
func validClientHello(secret string) []byte {
	b := []byte(handshakeMagic + string(rune(protocolVersion)))
	b = append(b, handshakeMAC(secret, clientLabel, make([]byte, nonceLen))...)
	return append(b, make([]byte, nonceLen)...)
}

// validServerStream is what a server holding secret sends to a client whose
// nonce is all zeroes.
func validServerStream(secret string) []byte {
	b := []byte(handshakeMagic + string(rune(protocolVersion)))
	b = append(b, make([]byte, nonceLen)...)
	b = append(b, handshakeOK)
	return append(b, handshakeMAC(secret, serverLabel, make([]byte, nonceLen))...)
}

func TestHandshake(t *testing.T) {
	for _, tc := range []struct {
		client, server string
		ok             bool
	}{
		{"s", "s", true},
		{"", "", true},
		{"a", "b", false},
		{"", "b", false},
		{"a", "", false},
	} {
		c, s := net.Pipe()
		var wg sync.WaitGroup
		var serverErr error
		wg.Go(func() {
			defer s.Close()
			serverErr = serverHandshake(s, tc.server, zeroes{})
		})
		clientErr := clientHandshake(c, tc.client, zeroes{})
		c.Close()
		wg.Wait()
		if tc.ok && (clientErr != nil || serverErr != nil) {
			t.Errorf("%q/%q: client %v, server %v; want success", tc.client, tc.server, clientErr, serverErr)
		}
		if !tc.ok && (!errors.Is(clientErr, ErrAuth) || !errors.Is(serverErr, ErrAuth)) {
			t.Errorf("%q/%q: client %v, server %v; want ErrAuth on both", tc.client, tc.server, clientErr, serverErr)
		}
	}
}

func TestHandshakeMalformed(t *testing.T) {
	for _, in := range [][]byte{
		[]byte("HTTP/1.1 200 OK\r\n" + string(make([]byte, 64))),
		append([]byte("DKVP\x01"), make([]byte, 64)...), // the version before TLS
	} {
		if err := serverHandshake(&pipeRW{Reader: bytes.NewReader(in)}, "s", zeroes{}); !errors.Is(err, errProtocol) {
			t.Errorf("serverHandshake(%q...) = %v, want errProtocol", in[:5], err)
		}
		if err := clientHandshake(&pipeRW{Reader: bytes.NewReader(in)}, "s", zeroes{}); !errors.Is(err, errProtocol) {
			t.Errorf("clientHandshake(%q...) = %v, want errProtocol", in[:5], err)
		}
	}
	bad := validServerStream("s")
	bad[serverHelloLen] = 7 // status
	if err := clientHandshake(&pipeRW{Reader: bytes.NewReader(bad)}, "s", zeroes{}); !errors.Is(err, errProtocol) {
		t.Errorf("clientHandshake(status 7) = %v, want errProtocol", err)
	}
}

// FuzzServerHandshake feeds arbitrary client bytes to the server side. It
// must not panic, must accept exactly the streams that start with a client
// hello carrying the right MAC (whatever the client's nonce), and must
// answer a refusal with status 1.
func FuzzServerHandshake(f *testing.F) {
	f.Add(validClientHello("s"))
	f.Add(validClientHello("t"))
	f.Add([]byte("DKVP\x02"))
	f.Add([]byte{})
	f.Fuzz(func(t *testing.T, data []byte) {
		rw := &pipeRW{Reader: bytes.NewReader(data)}
		err := serverHandshake(rw, "s", zeroes{})
		// Any client nonce will do; the MAC must match the server's.
		valid := len(data) >= clientHelloLen && bytes.HasPrefix(data, validClientHello("s")[:preambleLen+macLen])
		if valid != (err == nil) {
			t.Fatalf("valid hello %v, serverHandshake() = %v", valid, err)
		}
		out := rw.out.Bytes()
		if !bytes.HasPrefix(out, []byte(handshakeMagic+string(rune(protocolVersion)))) || len(out) < serverHelloLen {
			t.Fatalf("server hello %q", out)
		}
		if errors.Is(err, ErrAuth) && !bytes.Equal(out[serverHelloLen:], []byte{handshakeRefused}) {
			t.Fatalf("refusal answered with %q", out[serverHelloLen:])
		}
	})
}

// FuzzClientHandshake feeds arbitrary server bytes to the client side. It
// must not panic and must succeed exactly on a well-formed server stream
// whose MAC proves the secret, whatever the server's nonce.
func FuzzClientHandshake(f *testing.F) {
	f.Add(validServerStream("s"))
	f.Add(validServerStream("t"))
	f.Add(append([]byte("DKVP\x02"), make([]byte, nonceLen+1)...))
	f.Add([]byte{})
	f.Fuzz(func(t *testing.T, data []byte) {
		err := clientHandshake(&pipeRW{Reader: bytes.NewReader(data)}, "s", zeroes{})
		// Any server nonce will do; the reply must prove the secret.
		want := validServerStream("s")
		valid := len(data) >= len(want) && bytes.HasPrefix(data, want[:preambleLen]) &&
			bytes.Equal(data[serverHelloLen:len(want)], want[serverHelloLen:])
		if valid != (err == nil) {
			t.Fatalf("valid stream %v, clientHandshake() = %v", valid, err)
		}
	})
}
