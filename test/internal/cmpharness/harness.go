// Package cmpharness runs Argo CD's real argocd-cmp-server with the promotion-gate
// plugin.yaml and drives it with the cmp-client repo-server stand-in, both built by
// hack/argocd-harness.sh from test/argocd-harness. Tests skip, saying how to build the
// harness, only when PROMOTION_GATE_ARGOCD_BIN is unset; `make e2e` and `make test` set it.
package cmpharness

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// BinEnv names the directory that holds argocd-cmp-server and cmp-client.
const BinEnv = "PROMOTION_GATE_ARGOCD_BIN"

// PluginName is the name an Application uses for the plugin: <name>-<version> of
// plugin.yaml, which is also the name of its socket.
const PluginName = "promotion-gate-v1"

// Bin returns the harness binaries' directory. It skips the test when BinEnv is unset
// and fails it when the directory lacks a binary: a set variable means the harness must run.
func Bin(t testing.TB) string {
	t.Helper()
	dir := os.Getenv(BinEnv)
	if dir == "" {
		t.Skipf("%s is not set: these tests need the real argocd-cmp-server. Run `make e2e`, or export %s=$(hack/argocd-harness.sh)", BinEnv, BinEnv)
	}
	for _, name := range []string{"argocd-cmp-server", "cmp-client"} {
		if _, err := os.Stat(filepath.Join(dir, name)); err != nil {
			t.Fatalf("%s=%s: %v; rebuild with hack/argocd-harness.sh", BinEnv, dir, err)
		}
	}
	return dir
}

// RepoRoot finds the repository root (the directory holding go.work) above the current
// directory.
func RepoRoot() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.work")); err == nil {
			if _, err := os.Stat(filepath.Join(dir, "argocd-plugin", "plugin.yaml")); err == nil {
				return dir, nil
			}
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", errors.New("repository root not found: run the tests inside the promotion-gate repository")
		}
		dir = parent
	}
}

// BuildPlugin builds argocd-promotion-gate into dir and returns its path.
func BuildPlugin(repo, dir string) (string, error) {
	return build(filepath.Join(repo, "argocd-plugin"), "./cmd/argocd-promotion-gate", filepath.Join(dir, "argocd-promotion-gate"))
}

// BuildCLI builds the promotion-gate CLI into dir and returns its path.
func BuildCLI(repo, dir string) (string, error) {
	return build(filepath.Join(repo, "shared"), "./cmd/promotion-gate", filepath.Join(dir, "promotion-gate"))
}

func build(moduleDir, pkg, out string) (string, error) {
	cmd := exec.Command("go", "build", "-o", out, pkg)
	cmd.Dir = moduleDir
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
	if b, err := cmd.CombinedOutput(); err != nil {
		return "", fmt.Errorf("go build %s in %s: %w\n%s", pkg, moduleDir, err, b)
	}
	return out, nil
}

// cleanEnviron is the test process's environment without anything that could change
// what the plugin or the CMP server does, so that each test states all of it.
func cleanEnviron() []string {
	var env []string
	for _, kv := range os.Environ() {
		name, _, _ := strings.Cut(kv, "=")
		if strings.HasPrefix(name, "PROMOTION_GATE_") || strings.HasPrefix(name, "ARGOCD_") ||
			strings.HasPrefix(name, "PARAM_") || strings.HasPrefix(name, "KUBE_") || name == "PATH" {
			continue
		}
		env = append(env, kv)
	}
	return env
}
