package conf

import (
	"fmt"
	"net"
	"strings"
)

// validateSecurity checks the settings of the TLS client port and of
// protected mode (the values, not the files: the node reads those when it
// starts).
func (c Config) validateSecurity() error {
	switch c.ProtectedMode {
	case "yes", "no":
	default:
		return problem("protected_mode", "must be yes or no, got %q", c.ProtectedMode)
	}
	switch c.TLSAuthClients {
	case "yes", "no", "optional":
	default:
		return problem("tls_auth_clients", "must be one of yes, no, optional, got %q", c.TLSAuthClients)
	}
	if c.TLSPort < 0 || c.TLSPort > 65535 {
		return problem("tls_port", "must be between 0 (off) and 65535, got %d", c.TLSPort)
	}
	if c.TLSPort == 0 {
		return nil
	}
	if c.TLSCertFile == "" || c.TLSKeyFile == "" {
		return problem("tls_port", "needs tls_cert_file and tls_key_file")
	}
	if c.TLSAuthClients != "no" && c.TLSCACertFile == "" {
		return problem("tls_ca_cert_file", "must be set to check client certificates (tls_auth_clients %s); set it, or tls_auth_clients no", c.TLSAuthClients)
	}
	return nil
}

// TLSListen returns the address of the TLS client port: the listen host
// with tls_port, or "" when the port is off.
func (c Config) TLSListen() string {
	if c.TLSPort == 0 {
		return ""
	}
	host, _, err := net.SplitHostPort(c.Listen)
	if err != nil {
		return ""
	}
	return net.JoinHostPort(host, fmt.Sprint(c.TLSPort))
}

// CheckExposure reports why c must not start as it is: without a
// cluster_secret, the peer and gossip ports accept any node as a member,
// and a member reads and writes every key without a password. That is
// acceptable only for a node that nothing but its own machine can reach and
// that holds nothing a password protects; anything else needs the secret
// (or protected_mode no, which accepts the risk). CheckExposure is separate
// from Validate: c may be well-formed and still unsafe to expose.
func (c Config) CheckExposure() error {
	r := c.Resolve()
	if r.ClusterSecret != "" || r.ProtectedMode == "no" {
		return nil
	}
	var why []string
	if r.RequirePass != "" {
		why = append(why, "requirepass is set")
	}
	for _, a := range []struct{ key, addr string }{
		{"listen", r.Listen}, {"gossip_listen", r.GossipListen}, {"peer_listen", r.PeerListen}, {"tls_port", r.TLSListen()},
	} {
		if a.addr != "" && !loopback(a.addr) {
			why = append(why, fmt.Sprintf("%s %s is not a loopback address", a.key, a.addr))
		}
	}
	if len(why) == 0 {
		return nil
	}
	return problem("cluster_secret", "must be set: %s, and without a secret the peer port (%s) and the gossip port (%s) "+
		"accept any node as a member, which then reads and writes every key without a password. "+
		"Set the same cluster_secret on every node (or protected_mode no to accept the risk)",
		strings.Join(why, "; "), r.PeerListen, r.GossipListen)
}

// loopback reports whether addr's host is a loopback address or localhost.
func loopback(addr string) bool {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return false
	}
	if strings.EqualFold(host, "localhost") {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}
