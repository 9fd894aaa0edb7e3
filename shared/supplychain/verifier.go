// Package supplychain checks the signatures and attestations of images against a rule's
// authorities, at the registry, with sigstore-go. It implements evaluate.ImageVerifier:
// an image that is not compliant (unsigned, signed by someone else, for another digest,
// an attestation whose predicate fails its profile) is a violation; a check that cannot
// decide (registry unreachable or slow, unreadable trust material) is an error, which
// the evaluator turns into a fail-closed finding.
package supplychain

import (
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/google/go-containerregistry/pkg/name"
	"github.com/sigstore/sigstore-go/pkg/root"

	"github.com/promotion-gate/promotion-gate/shared/evaluate"
	"github.com/promotion-gate/promotion-gate/shared/registry"
	"github.com/promotion-gate/promotion-gate/shared/trust"
)

// Options configure a Verifier.
type Options struct {
	// Registry reads digests, referrers and legacy signature tags. Required.
	Registry *registry.Client
	// Trust resolves the keys and trusted roots the policy names. Required.
	Trust trust.Resolver
	// Cache remembers successes by digest; nil verifies every time.
	Cache *Cache
}

// Verifier checks images' signatures and attestations. It is safe for concurrent use.
type Verifier struct {
	reg   *registry.Client
	trust trust.Resolver
	cache *Cache

	mu    sync.Mutex
	roots map[[sha256.Size]byte]*root.TrustedRoot
}

var _ evaluate.ImageVerifier = (*Verifier)(nil)

// New returns a Verifier.
func New(o Options) *Verifier {
	return &Verifier{
		reg: o.Registry, trust: o.Trust, cache: o.Cache,
		roots: map[[sha256.Size]byte]*root.TrustedRoot{},
	}
}

// target is the image being checked: the reference as written and the digest it has now.
type target struct {
	ref    string
	digest name.Digest
	now    time.Time
}

// display names the image in messages: as written, with the digest when it was resolved.
func (t target) display() string {
	if d := t.digest.DigestStr(); d != "" && !containsDigest(t.ref, d) {
		return t.ref + " (" + d + ")"
	}
	return t.ref
}

func containsDigest(ref, d string) bool {
	return len(ref) >= len(d) && ref[len(ref)-len(d):] == d
}

// target resolves the image's digest: a digest reference as it is, a tag at the
// registry, every time, so that a moved tag is never answered from the cache.
func (v *Verifier) target(ctx context.Context, c evaluate.ImageCheck) (target, error) {
	if v.reg == nil || v.trust == nil {
		return target{}, errors.New("supply-chain verifier is not set up: it needs a registry client and a trust resolver")
	}
	ref := c.Ref.String()
	if c.Ref.Original != "" {
		ref = c.Ref.Original
	}
	now := c.Now
	if now.IsZero() {
		now = time.Now()
	}
	lookup := c.Ref.Name() + ":" + c.Ref.Tag
	if c.Ref.Digest != "" {
		lookup = c.Ref.Name() + "@" + c.Ref.Digest
	}
	d, err := v.reg.Resolve(ctx, lookup)
	if err != nil {
		return target{}, err
	}
	return target{ref: ref, digest: d, now: now}, nil
}

// trustedRoot parses a trusted_root.json once per content.
func (v *Verifier) trustedRoot(data []byte) (*root.TrustedRoot, error) {
	key := sha256.Sum256(data)
	v.mu.Lock()
	tr, ok := v.roots[key]
	v.mu.Unlock()
	if ok {
		return tr, nil
	}
	tr, err := root.NewTrustedRootFromJSON(data)
	if err != nil {
		return nil, fmt.Errorf("not a Sigstore trusted_root.json: %w", err)
	}
	v.mu.Lock()
	if len(v.roots) > 64 {
		// Trust material rarely changes; a bound keeps rotated roots from piling up.
		clear(v.roots)
	}
	v.roots[key] = tr
	v.mu.Unlock()
	return tr, nil
}
