package check

import (
	"fmt"
	"io"
	"os"
	"path/filepath"
	"time"

	"github.com/google/go-containerregistry/pkg/authn"

	"github.com/promotion-gate/promotion-gate/shared/plugin"
	"github.com/promotion-gate/promotion-gate/shared/registry"
	"github.com/promotion-gate/promotion-gate/shared/supplychain"
	"github.com/promotion-gate/promotion-gate/shared/trust"
)

// VerifierOptions configure the checks that reach outside the process, for the CLI and
// the Argo CD plugin (flux-gate builds its own, with Kubernetes pull secrets).
type VerifierOptions struct {
	// TrustDir resolves the key material the policy names (see trust.Dir).
	TrustDir string
	// RegistryTimeout bounds each registry call; zero means registry.DefaultTimeout.
	RegistryTimeout time.Duration
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

// NewVerifiers returns the registry verifier and the plugin runner. Call close when the
// checks are done: it stops the plugin processes.
func NewVerifiers(o VerifierOptions) (v Verifiers, close func(), err error) {
	kc := o.Keychain
	if kc == nil {
		kc = authn.DefaultKeychain
	}
	reg, err := registry.New(registry.Options{Keychain: kc, Timeout: o.RegistryTimeout, UserAgent: o.UserAgent})
	if err != nil {
		return Verifiers{}, func() {}, fmt.Errorf("set up registry access: %w", err)
	}
	cache := supplychain.NewCache(0)
	if o.CacheDir != "" {
		if cache, err = supplychain.NewDirCache(o.CacheDir, 0); err != nil {
			return Verifiers{}, func() {}, err
		}
	}
	runner := plugin.NewRunner(plugin.Options{Dir: o.PluginDir, Log: o.Log})
	v = Verifiers{
		Images:  supplychain.New(supplychain.Options{Registry: reg, Trust: trust.Dir(o.TrustDir), Cache: cache}),
		Plugins: runner,
	}
	return v, func() { _ = runner.Close() }, nil
}

// PolicyDir is the directory of a policy path (itself when it is a directory): relative
// plugin paths in the policy are resolved against it.
func PolicyDir(p string) string {
	if fi, err := os.Stat(p); err == nil && fi.IsDir() {
		return p
	}
	return filepath.Dir(p)
}
