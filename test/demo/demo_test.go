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
	g.Expect(rep.Digests[unsignedTag]).To(MatchRegexp(`^sha256:[0-9a-f]{64}$`))
	// The release pipeline signed 1.9.0 and latest: a bundle artifact attached to each.
	g.Expect(rep.Signatures).To(HaveLen(2))
	g.Expect(rep.Signatures["1.9.0"]).To(MatchRegexp(`^sha256:[0-9a-f]{64}$`))
	g.Expect(rep.Signatures["latest"]).To(MatchRegexp(`^sha256:[0-9a-f]{64}$`))

	// 1. The digest is promoted: main is exactly the proposal commit.
	p := rep.Promoted
	g.Expect(p.MainAfter).To(Equal(p.Proposal))
	g.Expect(p.ReadyStatus).To(Equal("True"))
	g.Expect(p.ReadyReason).To(BeElementOf("Promoted", "UpToDate")) // UpToDate once the gate looked again
	g.Expect(p.Images).To(ContainElement("ghcr.io/example/payments-api:1.9.0@" + rep.Digests["1.9.0"]))
	g.Expect(p.SignatureReads).To(BeNumerically(">=", 1), "flux-gate looked for the signature of the promoted digest")

	// 2. :latest is held on the proposal branch with the finding.
	h := rep.Held
	g.Expect(h.MainAfter).To(Equal(p.Proposal), "main did not move")
	g.Expect(h.ProposalBranch).To(Equal(h.Proposal), "the held commit is on the proposal branch")
	g.Expect(h.ReadyStatus).To(Equal("False"))
	g.Expect(h.ReadyReason).To(Equal("PolicyViolation"))
	g.Expect(h.Verdict).To(Equal("Denied"))
	g.Expect(h.FindingRules).To(ContainElement("prod-immutable-images"))
	g.Expect(h.FindingRules).To(HaveEach(Equal("prod-immutable-images")), "latest is signed: no signatures finding")
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
	// 4. A person reverts the 1.9.0 promotion; Flux proposes 1.9.0 again and the
	// gate holds it as rolled back, naming the revert and how to release it.
	rv := b.Revert
	g.Expect(rv.Commit).NotTo(BeEmpty())
	g.Expect(rv.Digest).To(Equal(rep.Digests["1.9.0"]))
	g.Expect(rv.RolledBack).To(ContainElement(rv.Digest))
	g.Expect(rv.RollbackTag).To(MatchRegexp(`^prod-\d{4}-\d{2}-\d{2}-\d{3}$`))
	g.Expect(rv.ReadyReason).To(Equal("RolledBack"))
	g.Expect(rv.MainAfter).To(Equal(rv.Commit), "main stays at the revert")
	g.Expect(rv.Proposal).NotTo(Equal(p.Proposal), "Flux proposed 1.9.0 again in a new commit")
	g.Expect(rv.Event).To(ContainSubstring(rv.Commit))
	g.Expect(rv.Event).To(ContainSubstring(short(rv.Proposal)))
	g.Expect(rv.Event).To(ContainSubstring("promotion-gate.io/release-rollback=" + rv.Digest))

	// 5. A digest nobody signed is held, with the signatures finding naming the image.
	sc := rep.SupplyChain
	unsigned := "ghcr.io/example/payments-api:" + unsignedTag + "@" + rep.Digests[unsignedTag]
	u := sc.Unsigned
	g.Expect(u.MainAfter).To(Equal(rv.Commit), "main did not move from the revert")
	g.Expect(u.ProposalBranch).To(Equal(u.Proposal))
	g.Expect(u.ReadyStatus).To(Equal("False"))
	g.Expect(u.ReadyReason).To(Equal("PolicyViolation"))
	g.Expect(u.Verdict).To(Equal("Denied"))
	g.Expect(u.FindingRules).To(Equal([]string{signedRule}))
	g.Expect(u.FindingChecks).To(Equal([]string{"signatures"}))
	g.Expect(u.FindingImages).To(Equal([]string{unsigned}))
	g.Expect(u.FindingMessages[0]).To(ContainSubstring("is unsigned"))
	g.Expect(u.FindingMessages[0]).To(ContainSubstring(`authority "release-pipeline" (key) did not sign it`))
	g.Expect(u.Event).To(ContainSubstring(signedRule))
	g.Expect(u.Event).To(ContainSubstring(unsigned))

	// 6. The sidecar refuses prod at the unsigned digest, with the signatures finding.
	sr := sc.Refusal
	g.Expect(sr.Revision).To(Equal(u.Proposal))
	g.Expect(sr.ExitCode).To(Equal(1))
	g.Expect(sr.SidecarError).To(ContainSubstring("promotion-gate refused to render " + prodOverlay))
	g.Expect(sr.SidecarError).To(ContainSubstring("image " + unsigned + ": rule " + signedRule + ": image " + unsigned + " is unsigned"))
	g.Expect(sr.ComparisonError).To(HavePrefix("Failed to load target state: "))
	g.Expect(sr.ComparisonError).To(HaveSuffix(sr.SidecarError))
	g.Expect(sc.RefusalReads).To(BeNumerically(">=", 1), "the sidecar looked for the signature itself")

	// 7. Signed, the same proposal commit is promoted, and Argo CD renders it from main.
	g.Expect(sc.Bundle).To(MatchRegexp(`^sha256:[0-9a-f]{64}$`))
	sp := sc.Promoted
	g.Expect(sp.Proposal).To(Equal(u.Proposal))
	g.Expect(sp.MainAfter).To(Equal(u.Proposal))
	g.Expect(sp.ReadyStatus).To(Equal("True"))
	g.Expect(sp.ReadyReason).To(BeElementOf("Promoted", "UpToDate"))
	g.Expect(sp.Images).To(Equal([]string{unsigned}))
	g.Expect(sp.SignatureReads).To(BeNumerically(">=", 1), "the gate read the referrers again after the signing")
	g.Expect(sc.Render.Revision).To(Equal(u.Proposal))
	objs, err = manifests.Decode(sc.Render.Manifests)
	g.Expect(err).NotTo(HaveOccurred())
	g.Expect(images(objs)).To(Equal([]string{unsigned}))
	g.Expect(sc.RenderReads).To(BeNumerically(">=", 1), "the sidecar verified the signature itself")

	// Chapter 8: history reads the promotions (1.9.0 and 1.9.1) and the rollback from Git.
	rc := rep.Records
	g.Expect(rc.RolledBack).To(Equal([]string{rv.Digest}), "1.9.1, a different digest, was promoted without a release")
	g.Expect(rc.Tag).To(Equal(rv.RollbackTag))
	g.Expect(rc.History).To(MatchRegexp(`promotion\s+prod-\d{4}-\d{2}-\d{2}-001`))
	g.Expect(strings.Count(rc.History, " promotion ")).To(Equal(2))
	g.Expect(strings.Count(rc.History, " rollback ")).To(Equal(1))
	g.Expect(rc.History).To(ContainSubstring(rv.RollbackTag))
	// Each line names its rollback commit: 1.9.0's is the initial main, the rollback's
	// is the 1.9.0 promotion it undid, 1.9.1's is the person's revert.
	g.Expect(rc.History).To(MatchRegexp(`(?m)^.* promotion .*:1\.9\.0@` + rv.Digest + `\s+` + short(rep.InitialMain) + `\b`))
	g.Expect(rc.History).To(MatchRegexp(`(?m)^.* rollback .*` + rv.RollbackTag + `\s.*\s` + short(p.Proposal) + `\b`))
	g.Expect(rc.History).To(MatchRegexp(`(?m)^.* promotion .*:` + unsignedTag + `@` + rep.Digests[unsignedTag] + `\s+` + short(rv.Commit) + `\b`))
	g.Expect(rc.Show).To(ContainSubstring(rv.Commit))

	// flux-gate and the sidecar read the registry with the pull secret's credentials.
	g.Expect(rep.Authorized).To(BeNumerically(">=", 6))

	// --- 9. Pull-request mode on a real Gitea (pullrequest.go) ---
	pr := rep.PullRequests
	g.Expect(pr.Forge).To(HavePrefix("https://127.0.0.1:"))
	g.Expect(pr.Number).To(BeNumerically(">", 0))
	g.Expect(pr.HeldStatus).To(HavePrefix("failure — Denied in prod"))
	g.Expect(pr.HeldReady).To(HavePrefix("False PolicyViolation"))
	g.Expect(pr.HeldBody).To(ContainSubstring("**Held**"))
	g.Expect(pr.HeldMergeCode).To(Equal(405), "Gitea refuses the merge while the status is failure")
	g.Expect(pr.MainAfterHeld).To(Equal(pr.InitialMain))
	g.Expect(pr.PassedStatus).To(HavePrefix("success — Allowed in prod"))
	g.Expect(pr.PassedReady).To(HavePrefix("True AwaitingMerge"))
	g.Expect(pr.MainBeforeMerge).To(Equal(pr.InitialMain), "the gate never writes main in pullRequest mode")
	g.Expect(pr.MergeCode).To(Equal(200))
	g.Expect(pr.MainAfter).To(Equal(pr.Passed), "a fast-forward merge: main is exactly the commit judged")
	g.Expect(pr.PromotedReady).To(HavePrefix("True Promoted"))
	g.Expect(pr.MergedBy).To(Equal(prMerger))
	g.Expect(pr.ApprovedBy).To(Equal([]string{prApprover}))
	g.Expect(pr.Event).To(ContainSubstring("merged by " + prMerger + ", approved by " + prApprover))
	g.Expect(pr.Event).To(ContainSubstring("record " + pr.RecordTag))
	g.Expect(pr.RecordTag).To(MatchRegexp(`^prod-\d{4}-\d{2}-\d{2}-001$`))
	g.Expect(pr.RecordCommit).To(Equal(pr.Passed), "the record tag is on the merged commit")
	g.Expect(pr.RecordMergedBy).To(Equal(prMerger))
	g.Expect(pr.RecordApprovedBy).To(Equal([]string{prApprover}))
	g.Expect(pr.RecordWhoApproved).To(ContainSubstring("- Merged by " + prMerger))
	g.Expect(out.String()).To(ContainSubstring("Gitea stopped"))

	// Every step was told, and every part stopped.
	for _, s := range []string{"The demo plays Flux's image-automation-controller", "The demo plays Argo CD's repo-server",
		"git revert " + p.Proposal, "the demo has no Rekor", "answers only for ghcr.io:443", "Secret flux-system/ghcr-pull",
		"flux-gate stopped", "argocd-cmp-server stopped", "OCI registry stopped", "kube-apiserver and etcd stopped"} {
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
