package publish

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"os"
)

// TLSFiles names the PEM files of a TLS connection to the broker. All
// are optional: without CA the system's roots are trusted; Cert and Key
// (a client certificate, for brokers that require one) come together.
type TLSFiles struct {
	CA         string
	Cert, Key  string
	ServerName string // expected in the broker's certificate; default: the broker URL's host
}

// Config loads the files into a TLS configuration (TLS 1.2 or newer).
func (f TLSFiles) Config() (*tls.Config, error) {
	c := &tls.Config{ServerName: f.ServerName, MinVersion: tls.VersionTLS12}
	if f.CA != "" {
		pem, err := os.ReadFile(f.CA)
		if err != nil {
			return nil, fmt.Errorf("publish: TLS CA: %w", err)
		}
		c.RootCAs = x509.NewCertPool()
		if !c.RootCAs.AppendCertsFromPEM(pem) {
			return nil, fmt.Errorf("publish: TLS CA %s holds no PEM certificate (want the broker's CA certificate, -----BEGIN CERTIFICATE-----)", f.CA)
		}
	}
	switch {
	case f.Cert == "" && f.Key == "":
	case f.Cert == "" || f.Key == "":
		return nil, errors.New("publish: a TLS client certificate needs both its certificate and its key file")
	default:
		pair, err := tls.LoadX509KeyPair(f.Cert, f.Key)
		if err != nil {
			return nil, fmt.Errorf("publish: TLS client certificate %s with key %s: %w", f.Cert, f.Key, err)
		}
		c.Certificates = []tls.Certificate{pair}
	}
	return c, nil
}
