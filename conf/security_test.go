package conf

import (
	"strings"
	"testing"
)

func TestValidateSecurity(t *testing.T) {
	tls := func(f func(*Config)) Config {
		c := Default()
		c.TLSPort, c.TLSCertFile, c.TLSKeyFile, c.TLSCACertFile = 6380, "c.pem", "k.pem", "ca.pem"
		f(&c)
		return c
	}
	for _, tc := range []struct {
		name string
		c    Config
		want string // "" for valid
	}{
		{"tls off", Default(), ""},
		{"tls on", tls(func(*Config) {}), ""},
		{"no client auth needs no CA", tls(func(c *Config) { c.TLSAuthClients, c.TLSCACertFile = "no", "" }), ""},
		{"protected mode value", func() Config { c := Default(); c.ProtectedMode = "off"; return c }(), "conf: protected_mode: must be yes or no"},
		{"auth clients value", tls(func(c *Config) { c.TLSAuthClients = "maybe" }), "conf: tls_auth_clients: must be one of yes, no, optional"},
		{"port range", tls(func(c *Config) { c.TLSPort = 70000 }), "conf: tls_port: must be between 0 (off) and 65535"},
		{"no cert", tls(func(c *Config) { c.TLSCertFile = "" }), "conf: tls_port: needs tls_cert_file and tls_key_file"},
		{"no key", tls(func(c *Config) { c.TLSKeyFile = "" }), "conf: tls_port: needs tls_cert_file and tls_key_file"},
		{"auth without CA", tls(func(c *Config) { c.TLSCACertFile = "" }), "conf: tls_ca_cert_file: must be set to check client certificates"},
		{"optional auth without CA", tls(func(c *Config) { c.TLSAuthClients, c.TLSCACertFile = "optional", "" }), "conf: tls_ca_cert_file: must be set"},
	} {
		err := tc.c.Validate()
		switch {
		case tc.want == "" && err != nil:
			t.Errorf("%s: Validate() = %v, want nil", tc.name, err)
		case tc.want != "" && (err == nil || !strings.HasPrefix(err.Error(), tc.want)):
			t.Errorf("%s: Validate() = %v, want %q...", tc.name, err, tc.want)
		}
	}
	c := tls(func(c *Config) { c.Listen = "10.1.2.3:7000" })
	if got := c.TLSListen(); got != "10.1.2.3:6380" {
		t.Errorf("TLSListen() = %q", got)
	}
	if got := Default().TLSListen(); got != "" {
		t.Errorf("TLSListen() with the port off = %q", got)
	}
}

// TestCheckExposure: without a cluster secret, only a node that is reached
// from its own machine alone and has no password may start.
func TestCheckExposure(t *testing.T) {
	for _, tc := range []struct {
		name string
		f    func(*Config)
		want []string // parts of the error; nil for none
	}{
		{"default: loopback, no password", func(*Config) {}, nil},
		{"localhost", func(c *Config) { c.Listen, c.GossipListen = "localhost:6379", "localhost:7946" }, nil},
		{"ipv6 loopback", func(c *Config) { c.Listen, c.GossipListen = "[::1]:6379", "[::1]:7946" }, nil},
		{"requirepass", func(c *Config) { c.RequirePass = "pw" }, []string{"conf: cluster_secret: must be set: requirepass is set", "127.0.0.1:16379", "127.0.0.1:7946", "protected_mode no"}},
		{"all interfaces", func(c *Config) { c.Listen = "0.0.0.0:6379" }, []string{"listen 0.0.0.0:6379 is not a loopback address; peer_listen 0.0.0.0:16379 is not a loopback address"}},
		{"gossip exposed", func(c *Config) { c.GossipListen = "10.0.0.1:7946" }, []string{"gossip_listen 10.0.0.1:7946 is not a loopback address"}},
		{"peer exposed", func(c *Config) { c.PeerListen = "192.168.1.5:16379" }, []string{"peer_listen 192.168.1.5:16379 is not a loopback address"}},
		{"tls port on all interfaces", func(c *Config) {
			c.Listen, c.PeerListen, c.TLSPort = "0.0.0.0:6379", "127.0.0.1:16379", 6380
		}, []string{"listen 0.0.0.0:6379", "tls_port 0.0.0.0:6380 is not a loopback address"}},
		{"host name", func(c *Config) { c.Listen = "db1.example:6379" }, []string{"listen db1.example:6379 is not a loopback address"}},
		{"secret set", func(c *Config) { c.RequirePass, c.Listen, c.ClusterSecret = "pw", "0.0.0.0:6379", "s" }, nil},
		{"protected mode off", func(c *Config) { c.RequirePass, c.Listen, c.ProtectedMode = "pw", "0.0.0.0:6379", "no" }, nil},
	} {
		c := Default()
		tc.f(&c)
		err := c.CheckExposure()
		if tc.want == nil {
			if err != nil {
				t.Errorf("%s: CheckExposure() = %v, want nil", tc.name, err)
			}
			continue
		}
		if err == nil {
			t.Errorf("%s: CheckExposure() = nil, want an error", tc.name)
			continue
		}
		for _, w := range tc.want {
			if !strings.Contains(err.Error(), w) {
				t.Errorf("%s: CheckExposure() = %v\nwant it to contain %q", tc.name, err, w)
			}
		}
	}
}
