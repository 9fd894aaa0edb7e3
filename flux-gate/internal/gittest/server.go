// Package gittest starts real Git servers (Flux's gittestserver, over HTTP, HTTPS
// and SSH) and writes commits to them the way Flux's image-automation-controller
// does, with Flux's own Git client. It is for tests only.
package gittest

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"math/big"
	"net"
	"net/url"
	"path/filepath"
	"testing"
	"time"

	"github.com/fluxcd/pkg/gittestserver"
	fluxssh "github.com/fluxcd/pkg/ssh"
)

// Server is a Git server for one test, stopped when the test ends.
type Server struct {
	*gittestserver.GitServer
	// Username and Password are the HTTP basic auth credentials, empty for none.
	Username, Password string
	// CA is the PEM CA certificate of an HTTPS server.
	CA []byte
	// KnownHosts is the known_hosts line of an SSH server.
	KnownHosts []byte
}

// NewHTTP starts a smart-HTTP Git server; with a username it requires basic auth.
// Repositories are created on first push. Middlewares see every request first.
func NewHTTP(t testing.TB, username, password string, middlewares ...gittestserver.HTTPMiddleware) *Server {
	t.Helper()
	srv := newServer(t, username, password)
	srv.AddHTTPMiddlewares(middlewares...)
	if err := srv.StartHTTP(); err != nil {
		t.Fatalf("start git HTTP server: %v", err)
	}
	t.Cleanup(srv.StopHTTP)
	return srv
}

// NewHTTPS starts a smart-HTTP Git server over TLS with a certificate for 127.0.0.1
// from a CA made for this test (Server.CA).
func NewHTTPS(t testing.TB, username, password string) *Server {
	t.Helper()
	srv := newServer(t, username, password)
	ca, cert, key := selfSignedCert(t)
	if err := srv.StartHTTPS(cert, key, ca, "127.0.0.1"); err != nil {
		t.Fatalf("start git HTTPS server: %v", err)
	}
	srv.CA = ca
	t.Cleanup(srv.StopHTTP)
	return srv
}

// NewSSH starts a Git server over SSH (and HTTP without auth, for fixtures). Its
// host key is in Server.KnownHosts; every client key is accepted.
func NewSSH(t testing.TB) *Server {
	t.Helper()
	srv := newServer(t, "", "")
	srv.KeyDir(filepath.Join(srv.Root(), "keys"))
	if err := srv.StartHTTP(); err != nil {
		t.Fatalf("start git HTTP server: %v", err)
	}
	t.Cleanup(srv.StopHTTP)
	if err := srv.ListenSSH(); err != nil {
		t.Fatalf("listen git SSH server: %v", err)
	}
	go func() { _ = srv.StartSSH() }()
	t.Cleanup(func() { _ = srv.StopSSH() })
	u, err := url.Parse(srv.SSHAddress())
	if err != nil {
		t.Fatalf("parse SSH address: %v", err)
	}
	kh, err := fluxssh.ScanHostKey(u.Host, 10*time.Second, nil, false)
	if err != nil {
		t.Fatalf("scan SSH host key of %s: %v", u.Host, err)
	}
	srv.KnownHosts = kh
	return srv
}

func newServer(t testing.TB, username, password string) *Server {
	t.Helper()
	gs := gittestserver.NewGitServer(t.TempDir()).AutoCreate()
	if username != "" {
		gs.Auth(username, password)
	}
	return &Server{GitServer: gs, Username: username, Password: password}
}

// URL is the address of repository name (e.g. "fleet.git") over HTTP(S), without
// credentials.
func (s *Server) URL(name string) string {
	return s.HTTPAddress() + "/" + name
}

// SSHURL is the address of repository name over SSH.
func (s *Server) SSHURL(name string) string {
	return s.SSHAddress() + "/" + name
}

// SecretData is what a GitRepository Secret for this server holds.
func (s *Server) SecretData() map[string][]byte {
	data := map[string][]byte{}
	if s.Username != "" {
		data["username"] = []byte(s.Username)
		data["password"] = []byte(s.Password)
	}
	if s.CA != nil {
		data["ca.crt"] = s.CA
	}
	return data
}

// SSHSecretData is a GitRepository Secret for SSH with a fresh client key.
func (s *Server) SSHSecretData(t testing.TB) map[string][]byte {
	t.Helper()
	kp, err := fluxssh.GenerateKeyPair(fluxssh.ED25519)
	if err != nil {
		t.Fatalf("generate SSH key: %v", err)
	}
	return map[string][]byte{
		"identity":     kp.PrivateKey,
		"identity.pub": kp.PublicKey,
		"known_hosts":  s.KnownHosts,
	}
}

// selfSignedCert makes a CA-signed-by-itself certificate for 127.0.0.1: the CA and
// the server certificate are the same, which is enough for a client that trusts it.
func selfSignedCert(t testing.TB) (caPEM, certPEM, keyPEM []byte) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatalf("generate TLS key: %v", err)
	}
	tmpl := &x509.Certificate{
		SerialNumber:          big.NewInt(1),
		Subject:               pkix.Name{CommonName: "gittest"},
		NotBefore:             time.Now().Add(-time.Hour),
		NotAfter:              time.Now().Add(24 * time.Hour),
		IsCA:                  true,
		BasicConstraintsValid: true,
		KeyUsage:              x509.KeyUsageCertSign | x509.KeyUsageDigitalSignature,
		ExtKeyUsage:           []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		IPAddresses:           []net.IP{net.ParseIP("127.0.0.1")},
		DNSNames:              []string{"localhost"},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatalf("create TLS certificate: %v", err)
	}
	keyDER, err := x509.MarshalECPrivateKey(key)
	if err != nil {
		t.Fatalf("marshal TLS key: %v", err)
	}
	certPEM = pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})
	keyPEM = pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: keyDER})
	return certPEM, certPEM, keyPEM
}
