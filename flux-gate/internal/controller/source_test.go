package controller_test

import (
	"strings"
	"testing"
	"time"

	"github.com/fluxcd/pkg/apis/meta"
	sourcev1 "github.com/fluxcd/source-controller/api/v1"
	. "github.com/onsi/gomega"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	gatev1 "github.com/promotion-gate/promotion-gate/flux-gate/api/v1alpha1"
	"github.com/promotion-gate/promotion-gate/flux-gate/internal/gittest"
	"github.com/promotion-gate/promotion-gate/shared/record"
)

func branchSource(repo, source, target string) func(*gatev1.PromotionGate) {
	return func(g *gatev1.PromotionGate) {
		g.Spec.AutomationRef = meta.LocalObjectReference{}
		g.Spec.SourceRef = &meta.LocalObjectReference{Name: repo}
		g.Spec.Source = &gatev1.BranchSource{Branch: source}
		g.Spec.TargetBranch = target
	}
}

// staging → production: the gate judges the staging head for production's
// environment, fast-forwards production to exactly it and writes the record with
// the source head's author. When production has a commit staging lacks, it holds
// with TargetAhead naming it, and pushes nothing. The server never sees a
// non-fast-forward update.
func TestBranchPromotionFastForwardsAndHoldsDrift(t *testing.T) {
	h := newHarness(t)
	srv := gittest.NewGuardedHTTP(t)
	f := h.newFleet(srv.URL("fleet.git"), nil, "payments-api")
	h.setPolicy(basePolicy)
	prod, err := f.human.Commit(h.ctx, "main", "production", map[string]string{"README.md": "production\n"}, "Start production")
	h.g.Expect(err).NotTo(HaveOccurred())
	staged, err := f.human.Commit(h.ctx, "production", "staging", map[string]string{
		overlayPath("payments-api"): prodOverlay("payments-api", "ghcr.io/example/payments-api", "1.9.0", digestB)}, "Promote payments-api 1.9.0")
	h.g.Expect(err).NotTo(HaveOccurred())

	h.gate("payments-api-production", "", branchSource(f.repo, "staging", "production"))
	g := h.waitReady("payments-api-production", metav1.ConditionTrue, gatev1.PromotedReason)
	h.g.Expect(h.head(f, "production")).To(Equal(staged), "production fast-forwarded to exactly the staging head")
	h.g.Expect(g.Status.LastPromotion.PreviousCommit).To(Equal(prod))
	h.g.Expect(g.Status.LastEvaluation.Environment).To(Equal("prod"))
	r := h.recordOn(f, record.Promotion, staged)
	h.g.Expect(r.rec.Branch).To(Equal("production"))
	h.g.Expect(r.rec.RollbackCommit).To(Equal(prod))
	h.g.Expect(r.rec.Approval.Source).To(Equal(&record.Source{Branch: "staging", Commit: staged, Author: humanName + " <" + humanEmail + ">"}))
	h.g.Expect(r.tag.Name).To(MatchRegexp(`^prod-\d{4}-\d{2}-\d{2}-001$`))

	// A hotfix straight on production: staging no longer contains production.
	hotfix, err := f.human.Commit(h.ctx, "production", "production", map[string]string{"README.md": "hotfix\n"}, "Hotfix README")
	h.g.Expect(err).NotTo(HaveOccurred())
	next, err := f.human.Commit(h.ctx, "staging", "staging", map[string]string{
		overlayPath("payments-api"): prodOverlay("payments-api", "ghcr.io/example/payments-api", "1.9.1", digestC)}, "Promote payments-api 1.9.1")
	h.g.Expect(err).NotTo(HaveOccurred())
	h.poke("payments-api-production")
	g = h.waitReady("payments-api-production", metav1.ConditionFalse, gatev1.TargetAheadReason)
	h.g.Expect(g.Status.Proposal.Commit).To(Equal(next))
	ready := readyMessage(g)
	h.g.Expect(ready).To(ContainSubstring(hotfix[:12]))
	h.g.Expect(ready).To(ContainSubstring("Hotfix README"))
	h.g.Expect(h.head(f, "production")).To(Equal(hotfix), "nothing pushed: never a merge, never a force")
	h.waitEvent("payments-api-production", corev1.EventTypeWarning, gatev1.TargetAheadReason, hotfix[:12])
	h.conformant("payments-api-production")
	h.g.Expect(srv.NonFastForwards(t, "fleet.git")).To(BeEmpty())
}

// The CRD takes exactly one of automationRef and sourceRef, and a branch promotion
// needs its source and target branches.
func TestGateSourceValidation(t *testing.T) {
	h := newBareHarness(t)
	for _, tc := range []struct {
		name   string
		mutate func(*gatev1.PromotionGate)
		want   string
	}{
		{"both", func(g *gatev1.PromotionGate) {
			g.Spec.SourceRef = &meta.LocalObjectReference{Name: "fleet"}
			g.Spec.Source = &gatev1.BranchSource{Branch: "staging"}
		}, "exactly one of automationRef"},
		{"neither", func(g *gatev1.PromotionGate) { g.Spec.AutomationRef = meta.LocalObjectReference{} }, "exactly one of automationRef"},
		{"no source branch", func(g *gatev1.PromotionGate) {
			g.Spec.AutomationRef = meta.LocalObjectReference{}
			g.Spec.SourceRef = &meta.LocalObjectReference{Name: "fleet"}
		}, "needs source.branch and targetBranch"},
		{"same branches", branchSource("fleet", "main", "main"), "must differ"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			g := &gatev1.PromotionGate{
				ObjectMeta: metav1.ObjectMeta{Name: "invalid", Namespace: h.ns},
				Spec:       gatev1.PromotionGateSpec{AutomationRef: meta.LocalObjectReference{Name: "auto"}, TargetBranch: "main"},
			}
			tc.mutate(g)
			err := k8s.Create(h.ctx, g)
			h.g.Expect(err).To(HaveOccurred())
			h.g.Expect(err.Error()).To(ContainSubstring(tc.want))
		})
	}
}

func readyMessage(g *gatev1.PromotionGate) string {
	for _, c := range g.Status.Conditions {
		if c.Type == meta.ReadyCondition {
			return c.Message
		}
	}
	return ""
}

// A branch promotion is woken by its GitRepository: when source-controller records a
// new artifact revision (the source branch moved), the gate promotes at once, not at
// its interval (an hour here).
func TestBranchPromotionWokenByGitRepository(t *testing.T) {
	h := newHarness(t)
	srv := gittest.NewGuardedHTTP(t)
	f := h.newFleet(srv.URL("fleet.git"), nil, "payments-api")
	h.setPolicy(basePolicy)
	_, err := f.human.Commit(h.ctx, "main", "production", map[string]string{"README.md": "production\n"}, "Start production")
	h.g.Expect(err).NotTo(HaveOccurred())
	staged, err := f.human.Commit(h.ctx, "production", "staging", map[string]string{
		overlayPath("payments-api"): prodOverlay("payments-api", "ghcr.io/example/payments-api", "1.9.0", digestB)}, "Promote payments-api 1.9.0")
	h.g.Expect(err).NotTo(HaveOccurred())
	h.gate("payments-api-production", "", branchSource(f.repo, "staging", "production"), func(g *gatev1.PromotionGate) {
		g.Spec.Interval = metav1.Duration{Duration: time.Hour}
	})
	h.waitReady("payments-api-production", metav1.ConditionTrue, gatev1.PromotedReason)
	h.g.Expect(h.head(f, "production")).To(Equal(staged))

	next, err := f.human.Commit(h.ctx, "staging", "staging", map[string]string{
		overlayPath("payments-api"): prodOverlay("payments-api", "ghcr.io/example/payments-api", "1.9.1", digestC)}, "Promote payments-api 1.9.1")
	h.g.Expect(err).NotTo(HaveOccurred())
	// source-controller fetched staging: a new artifact revision in the status.
	repo := &sourcev1.GitRepository{}
	h.g.Expect(k8s.Get(h.ctx, client.ObjectKey{Namespace: h.ns, Name: f.repo}, repo)).To(Succeed())
	before := repo.DeepCopy()
	repo.Status.Artifact = &meta.Artifact{Path: "gitrepository/fleet/" + next + ".tar.gz", URL: "http://source-controller/fleet.tar.gz",
		Revision: "staging@sha1:" + next, Digest: "sha256:" + strings.Repeat("0", 64), LastUpdateTime: metav1.Now()}
	h.g.Expect(k8s.Status().Patch(h.ctx, repo, client.MergeFrom(before))).To(Succeed())

	h.g.Eventually(func() string { return h.head(f, "production") }, 30*time.Second).Should(Equal(next),
		"the new artifact revision woke the gate; its interval is an hour")
	h.recordOn(f, record.Promotion, next)
	h.g.Expect(srv.NonFastForwards(t, "fleet.git")).To(BeEmpty())
}
