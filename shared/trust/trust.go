// Package trust turns the key and trust material a policy names (inline data, a file, a
// Secret or ConfigMap key) into bytes. Each door of promotion-gate resolves references
// its own way: the CLI and the Argo CD plugin read files under a trust directory, where
// projected Secret and ConfigMap volumes put them; flux-gate reads the API server.
package trust

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/promotion-gate/promotion-gate/shared/policy"
)

// Resolver returns the bytes of one piece of material.
type Resolver interface {
	Material(ctx context.Context, m policy.Material) ([]byte, error)
}

// MaxMaterialSize bounds what a resolver reads: keys and trusted roots are small, and a
// reference to a huge or endless file must not exhaust memory.
const MaxMaterialSize = 1 << 20

// DefaultDir is where the Argo CD plugin looks for projected Secrets and ConfigMaps.
const DefaultDir = "/etc/promotion-gate/trust"

// Dir resolves material from files: Data as given, File as a path (relative paths are
// relative to the directory), and secretRef/configMapRef as <dir>/<name>/<key>.
type Dir string

// Material implements Resolver.
func (d Dir) Material(_ context.Context, m policy.Material) ([]byte, error) {
	switch {
	case m.Data != "":
		return []byte(m.Data), nil
	case m.File != "":
		p := m.File
		if !filepath.IsAbs(p) {
			p = filepath.Join(string(d), p)
		}
		return readFile(p, "file "+m.File)
	case m.SecretRef != nil:
		return d.ref("secret", m.SecretRef)
	case m.ConfigMapRef != nil:
		return d.ref("configmap", m.ConfigMapRef)
	}
	return nil, errors.New("key material is empty: set data, file, secretRef or configMapRef")
}

func (d Dir) ref(kind string, r *policy.ObjectKeyRef) ([]byte, error) {
	if !safeName(r.Name) || !safeName(r.Key) {
		return nil, fmt.Errorf("%s %s key %s: not a valid object name and key", kind, r.Name, r.Key)
	}
	p := filepath.Join(string(d), r.Name, r.Key)
	return readFile(p, fmt.Sprintf("%s %s key %s (mount it at %s)", kind, r.Name, r.Key, p))
}

// safeName rejects names that would leave the trust directory.
func safeName(s string) bool {
	return s != "" && s != "." && s != ".." && !strings.ContainsAny(s, `/\`)
}

func readFile(p, what string) ([]byte, error) {
	f, err := os.Open(p)
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", what, err)
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, MaxMaterialSize+1))
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", what, err)
	}
	if len(data) > MaxMaterialSize {
		return nil, fmt.Errorf("read %s: larger than %d bytes; key material is small, check the reference", what, MaxMaterialSize)
	}
	return data, nil
}
