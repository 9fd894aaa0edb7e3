package demo

import (
	"context"
	"fmt"
	"io"
	"log"
	"net/http/httptest"
	"strings"
	"time"

	"github.com/google/go-containerregistry/pkg/name"
	"github.com/google/go-containerregistry/pkg/registry"
	"github.com/google/go-containerregistry/pkg/v1/random"
	"github.com/google/go-containerregistry/pkg/v1/remote"
)

// ociRegistry is go-containerregistry's registry, in process, on loopback.
type ociRegistry struct {
	srv  *httptest.Server
	host string // 127.0.0.1:port
}

func startRegistry() *ociRegistry {
	srv := httptest.NewServer(registry.New(registry.Logger(log.New(io.Discard, "", 0))))
	return &ociRegistry{srv: srv, host: strings.TrimPrefix(srv.URL, "http://")}
}

func (r *ociRegistry) stop() {
	if r != nil && r.srv != nil {
		r.srv.Close()
		r.srv = nil
	}
}

// push uploads a new image (random layers: what matters here is that its digest is
// real) as repository:tag, and returns the digest the registry reports for that tag.
func (r *ociRegistry) push(ctx context.Context, repository, tag string, seed int64, timeout time.Duration) (string, error) {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	ref, err := name.NewTag(r.host+"/"+repository+":"+tag, name.Insecure)
	if err != nil {
		return "", err
	}
	img, err := random.Image(2048+seed, 2)
	if err != nil {
		return "", fmt.Errorf("make image %s: %w", ref, err)
	}
	if err := remote.Write(ref, img, remote.WithContext(ctx)); err != nil {
		return "", fmt.Errorf("push %s: %w", ref, err)
	}
	desc, err := remote.Head(ref, remote.WithContext(ctx))
	if err != nil {
		return "", fmt.Errorf("read back %s: %w", ref, err)
	}
	return desc.Digest.String(), nil
}
