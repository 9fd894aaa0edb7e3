package cmp

import (
	"fmt"
	"time"

	"github.com/promotion-gate/promotion-gate/shared/check"
)

// userAgent is what the sidecar tells registries it is.
const userAgent = "argocd-promotion-gate"

// closeGrace bounds how long a render waits for its plugin processes to stop. A plugin
// that is still starting when the render runs out of time holds its slot until its own
// start timeout; the answer must reach Argo CD before the repo-server's deadline, so
// the render waits this long at most and then exits.
const closeGrace = 5 * time.Second

// verifiers sets up the signature, attestation and plugin checks of one render from
// the sidecar settings. Registry credentials come from the docker config.json in
// $DOCKER_CONFIG (go-containerregistry's default keychain reads it), where the chart
// mounts a pull secret; without one, registries are read anonymously. Each registry
// call is bounded by the registry timeout, and all of them by the render's context.
func verifiers(s Settings) (check.Verifiers, func(), error) {
	v, closeFn, err := check.NewVerifiers(check.VerifierOptions{
		TrustDir:        s.TrustDir,
		RegistryTimeout: s.RegistryTimeout,
		PluginDir:       check.PolicyDir(s.PolicyDir),
		UserAgent:       userAgent,
		CacheDir:        s.VerifyCacheDir,
	})
	if err != nil {
		return check.Verifiers{}, func() {}, fmt.Errorf("set up the supply-chain checks (%s, %s): %w", EnvTrustDir, EnvRegistryTimeout, err)
	}
	return v, func() { closeWithin(closeFn, closeGrace) }, nil
}

// closeWithin runs closeFn and waits for it at most d.
func closeWithin(closeFn func(), d time.Duration) {
	done := make(chan struct{})
	go func() {
		defer close(done)
		closeFn()
	}()
	timer := time.NewTimer(d)
	defer timer.Stop()
	select {
	case <-done:
	case <-timer.C:
	}
}
