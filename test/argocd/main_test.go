// Package argocd holds the end-to-end tests of the Argo CD plugin: the real
// argocd-cmp-server runs argocd-promotion-gate with the repository's plugin.yaml, and
// argo-cd's own client code streams example repositories to it, as the repo-server does.
package argocd

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"testing"

	"github.com/promotion-gate/promotion-gate/shared/check"
	"github.com/promotion-gate/promotion-gate/shared/policy"
	"github.com/promotion-gate/promotion-gate/shared/render"
	"github.com/promotion-gate/promotion-gate/test/internal/cmpharness"
)

var (
	repo      string // the promotion-gate repository
	pluginBin string // argocd-promotion-gate, built for this run
	setupErr  error
)

func TestMain(m *testing.M) {
	render.ServeWorker() // checkInProcess renders in a sandboxed worker: this binary
	repo, setupErr = cmpharness.RepoRoot()
	var tmp string
	// Build the plugin only when the harness is there to run it; otherwise every test
	// skips with the reason.
	if setupErr == nil && os.Getenv(cmpharness.BinEnv) != "" {
		if tmp, setupErr = os.MkdirTemp("", "pgplugin"); setupErr == nil {
			pluginBin, setupErr = cmpharness.BuildPlugin(repo, tmp)
		}
	}
	code := m.Run()
	if tmp != "" {
		_ = os.RemoveAll(tmp)
	}
	os.Exit(code)
}

// gate starts a sidecar serving the repository's plugin.yaml with the given policy
// directory mounted, plus more sidecar environment.
func gate(t *testing.T, policyDir string, env ...string) *cmpharness.Server {
	t.Helper()
	bin := cmpharness.Bin(t)
	if setupErr != nil {
		t.Fatalf("set up: %v", setupErr)
	}
	return cmpharness.StartServer(t, bin, cmpharness.ServerOptions{
		PluginBinDir: filepath.Dir(pluginBin),
		PluginYAML:   filepath.Join(repo, "argocd-plugin", "plugin.yaml"),
		Env:          append([]string{"PROMOTION_GATE_POLICY_DIR=" + policyDir}, env...),
	})
}

func examples() string                 { return filepath.Join(repo, "examples", "platform-config") }
func policyDir() string                { return filepath.Join(repo, "examples", "policy") }
func examplesCopy(t *testing.T) string { return cmpharness.CopyTree(t, examples()) }

// checkInProcess runs the shared check the way the promotion-gate CLI does, for the
// expected side of a comparison.
func checkInProcess(t *testing.T, root, path string, q policy.Query, valuesFiles []string, releaseName string) check.Outcome {
	t.Helper()
	set, err := policy.Load(policyDir())
	if err != nil {
		t.Fatalf("load the example policy: %v", err)
	}
	q.Path = path
	req := check.Request{
		Path:     filepath.Join(root, filepath.FromSlash(path)),
		RepoRoot: root,
		Policy:   set,
		Query:    q,
	}
	req.Render.ValuesFiles = valuesFiles
	req.Render.ReleaseName = releaseName
	req.Render.Namespace = q.Namespace
	req.Render.KubeVersion = "1.31.0"
	return check.Run(context.Background(), req)
}

// pluginEnv is the environment Argo CD gives the plugin for an application, for running
// the plugin binary directly in a test.
func pluginEnv(policyDir, path, app, namespace string) []string {
	return []string{
		"PROMOTION_GATE_POLICY_DIR=" + policyDir,
		"ARGOCD_APP_NAME=" + app,
		"ARGOCD_APP_NAMESPACE=" + namespace,
		"ARGOCD_APP_SOURCE_PATH=" + path,
		"KUBE_VERSION=1.31.0",
		fmt.Sprintf("KUBE_API_VERSIONS=%s", "v1,apps/v1"),
	}
}
