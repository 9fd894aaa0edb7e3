package demo

import (
	"context"
	"github.com/promotion-gate/promotion-gate/test/internal/manifests"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	. "github.com/onsi/gomega"
)

// TestDemo runs the whole story, as make demo does, and asserts every step: the parts
// are real (envtest, gittestserver, go-containerregistry's registry, the flux-gate and
// argocd-cmp-server binaries), so it needs KUBEBUILDER_ASSETS and
// PROMOTION_GATE_ARGOCD_BIN; make test sets both.
func TestDemo(t *testing.T) {
	assets, argoBin := os.Getenv("KUBEBUILDER_ASSETS"), os.Getenv("PROMOTION_GATE_ARGOCD_BIN")
	if assets == "" || argoBin == "" {
		t.Skip("KUBEBUILDER_ASSETS and PROMOTION_GATE_ARGOCD_BIN must both be set to run the demo: " +
			"export KUBEBUILDER_ASSETS=$(bash hack/envtest-assets.sh) PROMOTION_GATE_ARGOCD_BIN=$(bash hack/argocd-harness.sh)")
	}
	g := NewWithT(t)
	root, err := filepath.Abs(filepath.Join("..", ".."))
	g.Expect(err).NotTo(HaveOccurred())
	bin := t.TempDir()
	// flux-gate is built as its own tests build it, the plugin as test/argocd builds it,
	// so that both come from the build cache.
	fluxGate := build(t, filepath.Join(root, "flux-gate"), "./cmd/flux-gate", filepath.Join(bin, "flux-gate"))
	plugin := build(t, filepath.Join(root, "argocd-plugin"), "./cmd/argocd-promotion-gate", filepath.Join(bin, "argocd-promotion-gate"), "CGO_ENABLED=0")

	var out strings.Builder
	rep, err := Run(context.Background(), Config{
		RepoRoot: root, Assets: assets, ArgoCDBin: argoBin, FluxGate: fluxGate, Plugin: plugin,
		Out: &out, Timeout: 4 * time.Minute,
	})
	t.Log("\n" + out.String())
	g.Expect(err).NotTo(HaveOccurred())

	// The registry's digests are real sha256 digests.
	g.Expect(rep.Digests).To(HaveKey("1.9.0"))
	g.Expect(rep.Digests["1.9.0"]).To(MatchRegexp(`^sha256:[0-9a-f]{64}$`))
	g.Expect(rep.Digests["latest"]).To(MatchRegexp(`^sha256:[0-9a-f]{64}$`))

	// 1. The digest is promoted: main is exactly the proposal commit.
	p := rep.Promoted
	g.Expect(p.MainAfter).To(Equal(p.Proposal))
	g.Expect(p.ReadyStatus).To(Equal("True"))
	g.Expect(p.ReadyReason).To(BeElementOf("Promoted", "UpToDate")) // UpToDate once the gate looked again
	g.Expect(p.Images).To(ContainElement("ghcr.io/example/payments-api:1.9.0@" + rep.Digests["1.9.0"]))

	// 2. :latest is held on the proposal branch with the finding.
	h := rep.Held
	g.Expect(h.MainAfter).To(Equal(p.Proposal), "main did not move")
	g.Expect(h.ProposalBranch).To(Equal(h.Proposal), "the held commit is on the proposal branch")
	g.Expect(h.ReadyStatus).To(Equal("False"))
	g.Expect(h.ReadyReason).To(Equal("PolicyViolation"))
	g.Expect(h.Verdict).To(Equal("Denied"))
	g.Expect(h.FindingRules).To(ContainElement("prod-immutable-images"))
	g.Expect(h.FindingImages).To(ContainElement(ContainSubstring("payments-api:latest")))
	g.Expect(h.Event).To(ContainSubstring("prod-immutable-images"))
	g.Expect(h.Event).To(ContainSubstring("payments-api:latest"))

	// 3. Argo CD renders prod from main with the promoted digest, and is refused the held proposal.
	g.Expect(rep.Render.Revision).To(Equal(p.Proposal))
	objs, err := manifests.Decode(rep.Render.Manifests)
	g.Expect(err).NotTo(HaveOccurred())
	g.Expect(objectNames(objs)).To(ContainSubstring("Deployment/payments-api"))
	g.Expect(images(objs)).To(Equal([]string{"ghcr.io/example/payments-api:1.9.0@" + rep.Digests["1.9.0"]}))
	r := rep.Refusal
	g.Expect(r.Revision).To(Equal(h.Proposal))
	g.Expect(r.ExitCode).To(Equal(1))
	g.Expect(r.SidecarError).To(ContainSubstring("`argocd-promotion-gate generate` failed exit status 1: promotion-gate refused to render " + prodOverlay))
	g.Expect(r.SidecarError).To(ContainSubstring("prod-immutable-images"))
	g.Expect(r.SidecarError).To(ContainSubstring("payments-api:latest"))
	g.Expect(r.ComparisonError).To(HavePrefix("Failed to load target state: "))
	g.Expect(r.ComparisonError).To(HaveSuffix(r.SidecarError))

	// 4. The rollback point is the commit main had before the promotion.
	b := rep.Rollback
	g.Expect(b.Commit).To(Equal(p.Proposal))
	g.Expect(b.PreviousCommit).To(Equal(rep.InitialMain))
	g.Expect(b.Parent).To(Equal(rep.InitialMain))
	g.Expect(b.Files).To(Equal([]string{prodKustomize}))

	// Every step was told, and every part stopped.
	for _, s := range []string{"The demo plays Flux's image-automation-controller", "The demo plays Argo CD's repo-server",
		"git revert " + p.Proposal, "flux-gate stopped", "argocd-cmp-server stopped", "kube-apiserver and etcd stopped"} {
		g.Expect(out.String()).To(ContainSubstring(s))
	}
}

// build compiles a command of a workspace module into out, with env added.
func build(t *testing.T, moduleDir, pkg, out string, env ...string) string {
	t.Helper()
	cmd := exec.Command("go", "build", "-o", out, pkg)
	cmd.Dir = moduleDir
	cmd.Env = append(os.Environ(), env...)
	if b, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go build %s in %s: %v\n%s", pkg, moduleDir, err, b)
	}
	return out
}
