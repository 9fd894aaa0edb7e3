package check

import (
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"time"

	"github.com/google/go-containerregistry/pkg/authn"

	"github.com/promotion-gate/promotion-gate/shared/evaluate"
	"github.com/promotion-gate/promotion-gate/shared/plugin"
	"github.com/promotion-gate/promotion-gate/shared/registry"
	"github.com/promotion-gate/promotion-gate/shared/supplychain"
	"github.com/promotion-gate/promotion-gate/shared/trust"
)

// VerifierOptions configure the checks that reach outside the process, for every door:
// the CLI, the Argo CD plugin and flux-gate (which adds per-request pull secrets through
// PromotionCheck.Credentials).
type VerifierOptions struct {
	// TrustDir resolves the key material the policy names (see trust.Dir).
	TrustDir string
	// Trust, when set, resolves the key material instead of TrustDir (flux-gate reads
	// Secrets and ConfigMaps of its policy namespace).
	Trust trust.Resolver
	// RegistryTimeout bounds each registry call; zero means registry.DefaultTimeout.
	RegistryTimeout time.Duration
	// Transport is the HTTP transport to registries; nil means the default.
	Transport http.RoundTripper
	// CacheTTL is how long a verified digest is remembered in memory; zero means
	// supplychain.DefaultCacheTTL. Ignored with CacheDir.
	CacheTTL time.Duration
	// Plugins, when set, runs the plugin checks instead of a runner made here.
	Plugins evaluate.PluginRunner
	// Keychain provides registry credentials; nil means the docker config.json of the
	// user, or of $DOCKER_CONFIG (where the sidecar mounts a pull secret).
	Keychain authn.Keychain
	// PluginDir is what a relative plugin path is relative to (the policy's directory).
	PluginDir string
	// Log receives plugin processes' log lines; nil discards them.
	Log io.Writer
	// UserAgent is sent to registries.
	UserAgent string
	// CacheDir, when set, keeps verified digests in a private directory so that later
	// processes (the sidecar's next render) need not verify them again.
	CacheDir string
}

// NewVerifiers returns the registry verifier and the plugin runner: the one
// constructor of every door. Call close when the checks are done: it stops the plugin
// processes. The verification cache lives as long as v, across requests, and
// v.WithCredentials shares it.
func NewVerifiers(o VerifierOptions) (v Verifiers, close func(), err error) {
	kc := o.Keychain
	if kc == nil {
		kc = authn.DefaultKeychain
	}
	cache := supplychain.NewCache(o.CacheTTL)
	if o.CacheDir != "" {
		if cache, err = supplychain.NewDirCache(o.CacheDir, 0); err != nil {
			return Verifiers{}, func() {}, err
		}
	}
	res := o.Trust
	if res == nil {
		res = trust.Dir(o.TrustDir)
	}
	build := func(kc authn.Keychain) (evaluate.ImageVerifier, error) {
		reg, err := registry.New(registry.Options{Keychain: kc, Timeout: o.RegistryTimeout, Transport: o.Transport, UserAgent: o.UserAgent})
		if err != nil {
			return nil, fmt.Errorf("set up registry access: %w", err)
		}
		return supplychain.New(supplychain.Options{Registry: reg, Trust: res, Cache: cache}), nil
	}
	images, err := build(kc)
	if err != nil {
		return Verifiers{}, func() {}, err
	}
	v = Verifiers{Images: &credentialed{ImageVerifier: images, keychain: kc, build: build}, Plugins: o.Plugins}
	if o.Plugins != nil {
		return v, func() {}, nil
	}
	runner := plugin.NewRunner(plugin.Options{Dir: o.PluginDir, Log: o.Log})
	v.Plugins = runner
	return v, func() { _ = runner.Close() }, nil
}

// WithCredentials returns v with an image verifier that reads registries with kc
// first and v's own keychain after, over the same verification cache. Verifiers that
// NewVerifiers did not make are returned as they are.
func (v Verifiers) WithCredentials(kc authn.Keychain) (Verifiers, error) {
	c, ok := v.Images.(*credentialed)
	if !ok || kc == nil {
		return v, nil
	}
	images, err := c.build(authn.NewMultiKeychain(kc, c.keychain))
	if err != nil {
		return v, err
	}
	v.Images = &credentialed{ImageVerifier: images, keychain: c.keychain, build: c.build}
	return v, nil
}

// credentialed is the image verifier NewVerifiers makes, with what WithCredentials
// needs to make another over the same cache.
type credentialed struct {
	evaluate.ImageVerifier
	keychain authn.Keychain
	build    func(authn.Keychain) (evaluate.ImageVerifier, error)
}

// PolicyDir is the directory of a policy path (itself when it is a directory): relative
// plugin paths in the policy are resolved against it.
func PolicyDir(p string) string {
	if fi, err := os.Stat(p); err == nil && fi.IsDir() {
		return p
	}
	return filepath.Dir(p)
}
