// Package verifiers builds flux-gate's registry verifier: the one place where the
// controller's signature and attestation checks meet the shared supply-chain code.
package verifiers

import (
	"net/http"
	"time"

	"github.com/google/go-containerregistry/pkg/authn"

	"github.com/promotion-gate/promotion-gate/flux-gate/internal/controller"
	"github.com/promotion-gate/promotion-gate/shared/evaluate"
	"github.com/promotion-gate/promotion-gate/shared/registry"
	"github.com/promotion-gate/promotion-gate/shared/supplychain"
	"github.com/promotion-gate/promotion-gate/shared/trust"
)

// Options configure the registry checks of one flux-gate process.
type Options struct {
	// Timeout bounds each registry call; zero means registry.DefaultTimeout.
	Timeout time.Duration
	// CacheTTL is how long a verified digest is remembered; zero means
	// supplychain.DefaultCacheTTL.
	CacheTTL time.Duration
	// Transport is the HTTP transport to registries; nil means the default.
	Transport http.RoundTripper
}

// NewFactory returns the factory the controller uses: a registry client with each
// evaluation's credentials, over one verification cache for the whole process, so that
// a digest verified for one gate or at one interval is not fetched again.
func NewFactory(o Options) controller.VerifierFactory {
	cache := supplychain.NewCache(o.CacheTTL)
	return func(kc authn.Keychain, tr trust.Resolver) (evaluate.ImageVerifier, error) {
		reg, err := registry.New(registry.Options{Keychain: kc, Timeout: o.Timeout, Transport: o.Transport, UserAgent: controller.ControllerName})
		if err != nil {
			return nil, err
		}
		return supplychain.New(supplychain.Options{Registry: reg, Trust: tr, Cache: cache}), nil
	}
}
