package main

import (
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"time"

	"github.com/spf13/cobra"

	"github.com/promotion-gate/promotion-gate/shared/check"
	"github.com/promotion-gate/promotion-gate/shared/gitrev"
)

// envTrustDir names the trust directory when --trust-dir is not given, as in the Argo
// CD sidecar.
const envTrustDir = "PROMOTION_GATE_TRUST_DIR"

// supplyChainFlags say where the checks that reach outside the process find what they
// need: key material, registry limits, and the base revision for changeScope.
type supplyChainFlags struct {
	trustDir        string
	registryTimeout time.Duration
	base            string
	cacheDir        string
}

func (f *supplyChainFlags) register(cmd *cobra.Command) {
	fl := cmd.Flags()
	fl.StringVar(&f.trustDir, "trust-dir", "", "directory of the key material the policy names: file paths are relative to it, and "+
		"secretRef/configMapRef read <dir>/<name>/<key> (default $"+envTrustDir+", else the policy's directory)")
	fl.DurationVar(&f.registryTimeout, "registry-timeout", 10*time.Second, "time limit of each registry call of the signature and attestation checks")
	fl.StringVar(&f.cacheDir, "verify-cache-dir", "", "private directory (mode 0700) where verified digests are remembered between runs (default: this run only)")
	fl.StringVar(&f.base, "base", "", "Git revision the change is promoted onto (e.g. origin/main): rules with changeScope compare each PATH with it")
}

// verifiers sets up the registry verifier and the plugin runner. Registry credentials
// come from the docker config.json ($DOCKER_CONFIG), as for docker and crane.
func (f *supplyChainFlags) verifiers(policyPath string) (check.Verifiers, func(), error) {
	dir := check.PolicyDir(policyPath)
	trustDir := f.trustDir
	if trustDir == "" {
		trustDir = os.Getenv(envTrustDir)
	}
	if trustDir == "" {
		trustDir = dir
	}
	return check.NewVerifiers(check.VerifierOptions{
		TrustDir: trustDir, RegistryTimeout: f.registryTimeout, PluginDir: dir, CacheDir: f.cacheDir,
		UserAgent: "promotion-gate/" + buildVersion(),
	})
}

// bases exports the --base revision once per Git work tree, into a temporary directory
// that cleanup removes.
type bases struct {
	rev  string
	tmp  string
	dirs map[string]string // export directory by work tree
}

// root returns the directory that holds repoRoot as it is at the base revision.
func (b *bases) root(repoRoot string) (string, error) {
	abs, err := filepath.Abs(repoRoot)
	if err != nil {
		return "", err
	}
	for wt, dir := range b.dirs {
		if rel, err := filepath.Rel(wt, abs); err == nil && filepath.IsLocal(rel) {
			return filepath.Join(dir, rel), nil
		}
	}
	if b.tmp == "" {
		if b.tmp, err = os.MkdirTemp("", "promotion-gate-base-"); err != nil {
			return "", fmt.Errorf("--base: %w", err)
		}
		b.dirs = map[string]string{}
	}
	dir := filepath.Join(b.tmp, strconv.Itoa(len(b.dirs)))
	ex, err := gitrev.Export(abs, b.rev, dir, gitrev.DefaultLimits)
	if err != nil {
		return "", fmt.Errorf("--base %s: %w", b.rev, err)
	}
	b.dirs[ex.WorkTree] = dir
	rel, err := filepath.Rel(ex.WorkTree, abs)
	if err != nil {
		return "", fmt.Errorf("--base: %w", err)
	}
	return filepath.Join(dir, rel), nil
}

func (b *bases) cleanup() {
	if b.tmp != "" {
		_ = os.RemoveAll(b.tmp)
	}
}
