package node

import (
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"os"

	"github.com/dynakv/dynakv/conf"
)

// clientTLS returns the TLS configuration of the client port, read from the
// files cfg names, or nil when tls_port is off. Errors name the setting
// whose file is at fault.
func clientTLS(cfg conf.Config) (*tls.Config, error) {
	if cfg.TLSPort == 0 {
		return nil, nil
	}
	cert, err := tls.LoadX509KeyPair(cfg.TLSCertFile, cfg.TLSKeyFile)
	if err != nil {
		return nil, fmt.Errorf("node: tls_cert_file %s, tls_key_file %s: %w", cfg.TLSCertFile, cfg.TLSKeyFile, err)
	}
	tc := &tls.Config{
		// Redis's default tls-protocols: TLSv1.2 and TLSv1.3.
		MinVersion:   tls.VersionTLS12,
		Certificates: []tls.Certificate{cert},
	}
	if cfg.TLSCACertFile != "" {
		pem, err := os.ReadFile(cfg.TLSCACertFile)
		if err != nil {
			return nil, fmt.Errorf("node: tls_ca_cert_file: %w", err)
		}
		pool := x509.NewCertPool()
		if !pool.AppendCertsFromPEM(pem) {
			return nil, fmt.Errorf("node: tls_ca_cert_file %s: no PEM certificate in it", cfg.TLSCACertFile)
		}
		tc.ClientCAs = pool
	}
	switch cfg.TLSAuthClients {
	case "yes":
		tc.ClientAuth = tls.RequireAndVerifyClientCert
	case "optional":
		tc.ClientAuth = tls.VerifyClientCertIfGiven
	default:
		tc.ClientAuth = tls.NoClientCert
	}
	return tc, nil
}
