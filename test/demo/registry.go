package demo

import (
	"bufio"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/subtle"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"io"
	"log"
	"math/big"
	"net"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"os"
	"path/filepath"
	"sync/atomic"
	"time"

	"github.com/promotion-gate/promotion-gate/shared/registry/registrytest"
)

// publicRegistry is the registry the example platform repository names its images in.
// The demo's registry answers for it, to flux-gate and the sidecar only.
const publicRegistry = "ghcr.io"

// ociRegistry is go-containerregistry's registry, in process, on loopback (through
// shared/registry/registrytest, which also counts the requests it serves). The demo
// pushes to it directly. flux-gate and the sidecar read the images by the names the
// platform repository uses, ghcr.io/example/...: they are started with HTTPS_PROXY set
// to proxy, which answers CONNECT for ghcr.io:443 only, and tunnels it to front, a TLS
// server with a certificate for ghcr.io from a CA made for this run (SSL_CERT_FILE),
// which asks for credentials, as a private repository does, and forwards to the
// registry. Nothing leaves the machine.
type ociRegistry struct {
	reg    *registrytest.Registry
	tb     *helperTB
	host   string // 127.0.0.1:port, where the demo pushes
	front  *httptest.Server
	proxy  *httptest.Server
	caFile string // the CA's certificate, PEM
	// user and password are what the front requires, as a private ghcr.io repository
	// does; authorized and refused count the requests it let through and turned away.
	user, password      string
	authorized, refused atomic.Int64
}

// startRegistry starts the registry, its TLS front and the proxy; the CA certificate
// is written into dir.
func startRegistry(dir string) (*ociRegistry, error) {
	r := &ociRegistry{tb: &helperTB{}, user: "payments-ci", password: rand.Text()}
	if err := r.tb.run(func() { r.reg = registrytest.New(r.tb) }); err != nil {
		return nil, fmt.Errorf("start the OCI registry: %w", err)
	}
	r.host = r.reg.Host
	caPEM, leaf, err := newServingCert(publicRegistry)
	if err != nil {
		r.stop()
		return nil, fmt.Errorf("make a certificate for %s: %w", publicRegistry, err)
	}
	r.caFile = filepath.Join(dir, "registry-ca.pem")
	if err := os.WriteFile(r.caFile, caPEM, 0o644); err != nil {
		r.stop()
		return nil, err
	}
	quiet := log.New(io.Discard, "", 0)
	forward := httputil.NewSingleHostReverseProxy(&url.URL{Scheme: "http", Host: r.host})
	forward.ErrorLog = quiet
	r.front = httptest.NewUnstartedServer(r.requireCredentials(forward))
	r.front.Config.ErrorLog = quiet
	r.front.TLS = &tls.Config{Certificates: []tls.Certificate{leaf}, MinVersion: tls.VersionTLS12}
	r.front.StartTLS()
	r.proxy = httptest.NewUnstartedServer(http.HandlerFunc(r.connect))
	r.proxy.Config.ErrorLog = quiet
	r.proxy.Start()
	return r, nil
}

// proxyURL is the HTTPS_PROXY of flux-gate and the sidecar.
func (r *ociRegistry) proxyURL() string { return r.proxy.URL }

// env is what a process needs to reach ghcr.io at the demo's registry. Go's HTTP
// client never proxies loopback addresses, so the API server and the Git server are
// reached directly.
func (r *ociRegistry) env() []string {
	return []string{"HTTPS_PROXY=" + r.proxyURL(), "SSL_CERT_FILE=" + r.caFile}
}

// requireCredentials answers a request without the registry's user and password with
// 401 and a Basic challenge, as a private registry does.
func (r *ociRegistry) requireCredentials(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		user, password, ok := req.BasicAuth()
		if !ok || subtle.ConstantTimeCompare([]byte(user), []byte(r.user)) != 1 ||
			subtle.ConstantTimeCompare([]byte(password), []byte(r.password)) != 1 {
			r.refused.Add(1)
			w.Header().Set("WWW-Authenticate", `Basic realm="`+publicRegistry+`"`)
			http.Error(w, "authentication required: a pull secret for "+publicRegistry, http.StatusUnauthorized)
			return
		}
		r.authorized.Add(1)
		next.ServeHTTP(w, req)
	})
}

// dockerConfigJSON is a docker config.json with the registry's credentials for
// ghcr.io: the content of a kubernetes.io/dockerconfigjson pull secret.
func (r *ociRegistry) dockerConfigJSON() ([]byte, error) {
	auth := base64.StdEncoding.EncodeToString([]byte(r.user + ":" + r.password))
	return json.Marshal(map[string]any{"auths": map[string]any{
		publicRegistry: map[string]string{"username": r.user, "password": r.password, "auth": auth},
	}})
}

// connect is the proxy: CONNECT ghcr.io:443 is tunnelled to the TLS front; anything
// else is refused, so that no request leaves the machine.
func (r *ociRegistry) connect(w http.ResponseWriter, req *http.Request) {
	if req.Method != http.MethodConnect || req.Host != publicRegistry+":443" {
		http.Error(w, "the promotion-gate demo's proxy answers only CONNECT "+publicRegistry+":443", http.StatusForbidden)
		return
	}
	upstream, err := net.DialTimeout("tcp", r.front.Listener.Addr().String(), 10*time.Second)
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadGateway)
		return
	}
	hj, ok := w.(http.Hijacker)
	if !ok {
		upstream.Close()
		http.Error(w, "cannot tunnel", http.StatusInternalServerError)
		return
	}
	client, buf, err := hj.Hijack()
	if err != nil {
		upstream.Close()
		return
	}
	if _, err := client.Write([]byte("HTTP/1.1 200 Connection established\r\n\r\n")); err != nil {
		client.Close()
		upstream.Close()
		return
	}
	go tunnel(client, buf.Reader, upstream)
}

// tunnel copies bytes both ways until either side closes.
func tunnel(client net.Conn, fromClient *bufio.Reader, upstream net.Conn) {
	done := make(chan struct{}, 2)
	go func() { _, _ = io.Copy(upstream, fromClient); done <- struct{}{} }()
	go func() { _, _ = io.Copy(client, upstream); done <- struct{}{} }()
	<-done
	client.Close()
	upstream.Close()
	<-done
}

func (r *ociRegistry) stop() {
	if r == nil {
		return
	}
	for _, s := range []*httptest.Server{r.proxy, r.front} {
		if s != nil {
			s.CloseClientConnections()
			s.Close()
		}
	}
	r.proxy, r.front = nil, nil
	r.tb.cleanup()
}

// push uploads a new image (random content: what matters is that its digest is real)
// as example/payments-api:tag.
func (r *ociRegistry) push(repository, tag string) (registrytest.Image, error) {
	var img registrytest.Image
	err := r.tb.run(func() { img = r.reg.PushImage(r.tb, repository, tag) })
	if err != nil {
		return img, fmt.Errorf("push %s/%s:%s: %w", r.host, repository, tag, err)
	}
	return img, nil
}

// newServingCert makes a CA and a certificate for host signed by it, valid for a day.
func newServingCert(host string) (caPEM []byte, leaf tls.Certificate, err error) {
	caKey, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, leaf, err
	}
	now := time.Now()
	ca := &x509.Certificate{
		SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "promotion-gate demo CA"},
		NotBefore: now.Add(-time.Hour), NotAfter: now.Add(24 * time.Hour),
		IsCA: true, BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign,
	}
	caDER, err := x509.CreateCertificate(rand.Reader, ca, ca, &caKey.PublicKey, caKey)
	if err != nil {
		return nil, leaf, err
	}
	ca, err = x509.ParseCertificate(caDER)
	if err != nil {
		return nil, leaf, err
	}
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, leaf, err
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(2), Subject: pkix.Name{CommonName: host}, DNSNames: []string{host},
		NotBefore: now.Add(-time.Hour), NotAfter: now.Add(24 * time.Hour),
		KeyUsage: x509.KeyUsageDigitalSignature, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, ca, &key.PublicKey, caKey)
	if err != nil {
		return nil, leaf, err
	}
	leaf = tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key}
	return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: caDER}), leaf, nil
}
