// Package registrytest runs go-containerregistry's in-process OCI registry on a loopback
// httptest server for tests, counts the requests it serves, can be made slow or
// unreachable, and pushes images, Sigstore bundles (as OCI referrers) and legacy cosign
// signature tags to it. Signing helpers make real keyed and keyless signatures with
// sigstore-go, logged in an in-process transparency log.
package registrytest

import (
	"io"
	"log"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/go-containerregistry/pkg/registry"
)

// Registry is an in-process OCI registry on loopback.
type Registry struct {
	// Host is "127.0.0.1:<port>", the registry part of image references.
	Host string

	srv    *httptest.Server
	delay  atomic.Int64
	total  atomic.Int64
	mu     sync.Mutex
	counts map[string]int
	closed atomic.Bool
}

// Option configures New.
type Option func(*config)

type config struct{ referrers bool }

// WithoutReferrersAPI makes the registry answer the OCI referrers API with 404, as older
// registries do, so that clients must use the referrers tag schema.
func WithoutReferrersAPI() Option { return func(c *config) { c.referrers = false } }

// New starts a registry and stops it when the test ends.
func New(t testing.TB, opts ...Option) *Registry {
	t.Helper()
	cfg := config{referrers: true}
	for _, o := range opts {
		o(&cfg)
	}
	h := registry.New(registry.WithReferrersSupport(cfg.referrers), registry.Logger(log.New(io.Discard, "", 0)))
	r := &Registry{counts: map[string]int{}}
	r.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		r.total.Add(1)
		r.mu.Lock()
		r.counts[req.Method+" "+req.URL.Path]++
		r.mu.Unlock()
		if d := time.Duration(r.delay.Load()); d > 0 {
			select {
			case <-time.After(d):
			case <-req.Context().Done():
				return
			}
		}
		h.ServeHTTP(w, req)
	}))
	r.Host = strings.TrimPrefix(r.srv.URL, "http://")
	t.Cleanup(r.Close)
	return r
}

// Requests is how many requests the registry has received since it started or since the
// last ResetCounts.
func (r *Registry) Requests() int { return int(r.total.Load()) }

// RequestsTo counts requests whose method is method ("" for any) and whose path contains
// part, e.g. RequestsTo("GET", "/referrers/").
func (r *Registry) RequestsTo(method, part string) int {
	r.mu.Lock()
	defer r.mu.Unlock()
	n := 0
	for k, c := range r.counts {
		m, p, _ := strings.Cut(k, " ")
		if (method == "" || m == method) && strings.Contains(p, part) {
			n += c
		}
	}
	return n
}

// Counts returns a copy of the request counts by "METHOD /path".
func (r *Registry) Counts() map[string]int {
	r.mu.Lock()
	defer r.mu.Unlock()
	out := make(map[string]int, len(r.counts))
	for k, v := range r.counts {
		out[k] = v
	}
	return out
}

// ResetCounts forgets the requests counted so far.
func (r *Registry) ResetCounts() {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.total.Store(0)
	r.counts = map[string]int{}
}

// SetDelay makes every later request wait d before it is served (or until the client
// gives up): a registry slower than the client's timeout.
func (r *Registry) SetDelay(d time.Duration) { r.delay.Store(int64(d)) }

// Close stops the registry: later requests find nothing listening. It is safe to call
// more than once.
func (r *Registry) Close() {
	if r.closed.Swap(true) {
		return
	}
	r.delay.Store(0)
	r.srv.CloseClientConnections()
	r.srv.Close()
}

// Ref is the reference "<Host>/<repo><suffix>", e.g. Ref("app", ":1.0").
func (r *Registry) Ref(repo, suffix string) string { return r.Host + "/" + repo + suffix }
