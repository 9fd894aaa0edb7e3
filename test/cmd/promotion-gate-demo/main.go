// Command promotion-gate-demo plays the whole promotion story on this machine with real
// parts (make demo runs it): a digest promoted by flux-gate, a :latest proposal held,
// Argo CD's sidecar rendering prod and refusing the held proposal, the rollback point,
// and the supply chain: an unsigned digest held and refused until it is signed. It exits 0 when every step did what it should, 1 naming the step that failed,
// 2 when a part is missing.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"path/filepath"
	"syscall"
	"time"

	"github.com/promotion-gate/promotion-gate/test/demo"
)

func main() {
	root, rootErr := repoRoot()
	cfg := demo.Config{Out: os.Stdout}
	flag.StringVar(&cfg.RepoRoot, "repo", root, "the promotion-gate repository (default: found above the working directory)")
	flag.StringVar(&cfg.Assets, "assets", os.Getenv("KUBEBUILDER_ASSETS"), "directory with kube-apiserver and etcd (default $KUBEBUILDER_ASSETS; bash hack/envtest-assets.sh prints it)")
	flag.StringVar(&cfg.ArgoCDBin, "argocd-bin", os.Getenv("PROMOTION_GATE_ARGOCD_BIN"), "directory with argocd-cmp-server and cmp-client (default $PROMOTION_GATE_ARGOCD_BIN; bash hack/argocd-harness.sh prints it)")
	flag.StringVar(&cfg.FluxGate, "flux-gate", inRepo(root, "bin/flux-gate"), "the flux-gate binary")
	flag.StringVar(&cfg.Plugin, "plugin", inRepo(root, "bin/argocd-promotion-gate"), "the argocd-promotion-gate binary")
	flag.DurationVar(&cfg.Timeout, "timeout", 3*time.Minute, "the longest any single wait may take")
	flag.Parse()
	if cfg.RepoRoot == "" && rootErr != nil {
		fmt.Fprintln(os.Stderr, "promotion-gate-demo:", rootErr)
		os.Exit(2)
	}

	// Ctrl-C stops the story at the next wait and still tears every part down.
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	_, err := demo.Run(ctx, cfg)
	var step *demo.StepError
	switch {
	case err == nil:
	case errors.As(err, &step) && step.Step == "check the parts":
		fmt.Fprintln(os.Stderr, "promotion-gate-demo:", err)
		os.Exit(2)
	default:
		fmt.Fprintln(os.Stderr, "promotion-gate-demo:", err)
		os.Exit(1)
	}
}

// repoRoot finds the repository (the directory with go.work and examples/) above the
// working directory.
func repoRoot() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		if fileExists(filepath.Join(dir, "go.work")) && fileExists(filepath.Join(dir, "examples", "platform-config")) {
			return dir, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", errors.New("the promotion-gate repository was not found above the working directory: run from inside it or pass -repo")
		}
		dir = parent
	}
}

func inRepo(root, rel string) string {
	if root == "" {
		return ""
	}
	return filepath.Join(root, filepath.FromSlash(rel))
}

func fileExists(p string) bool {
	_, err := os.Stat(p)
	return err == nil
}
