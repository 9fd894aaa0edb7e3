package controller_test

import (
	"context"
	"testing"
	"time"

	. "github.com/onsi/gomega"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	gatev1 "github.com/promotion-gate/promotion-gate/flux-gate/api/v1alpha1"
	"github.com/promotion-gate/promotion-gate/flux-gate/internal/git"
	"github.com/promotion-gate/promotion-gate/flux-gate/internal/gittest"
)

// The controller stops after it pushed a promotion but before it wrote the status
// (simulated: the push is made by hand and the status holds only the evaluation).
// The restarted controller reaches the same end state, records the promotion with
// its rollback point, and pushes nothing twice.
func TestRestartAfterPushBeforeStatus(t *testing.T) {
	h := newHarness(t)
	srv := gittest.NewHTTP(t, "", "")
	f := h.newFleet(srv.URL("fleet.git"), nil, "payments-api")
	h.setPolicy(basePolicy)
	a := h.automation(f, "payments-api-prod", "payments-api")
	h.stopManager()

	target := h.head(f, "main")
	p, err := f.bot.Commit(h.ctx, "main", "automation/payments-api-prod", map[string]string{
		overlayPath("payments-api"): prodOverlay("payments-api", "ghcr.io/example/payments-api", "1.9.0", digestB),
	}, "Update image")
	h.g.Expect(err).NotTo(HaveOccurred())
	h.setLastPush(a, p)
	// What the controller did before it stopped: evaluated, recorded, pushed.
	gate := h.gate("payments-api-prod", a.Name)
	gate.Status.ObservedGeneration = -1
	gate.Status.LastEvaluation = &gatev1.Evaluation{
		Commit: p, TargetCommit: target, Verdict: "Allowed", Environment: "prod", Protected: true,
		PolicyRevision: "sha256:before", Images: []string{"ghcr.io/example/payments-api:1.9.0@" + digestB},
		Time: metav1.Now(),
	}
	h.g.Expect(k8s.Status().Update(h.ctx, gate)).To(Succeed())
	pushByHand(t, f, p, "main", target)

	h.startManager()
	g := h.waitReady("payments-api-prod", metav1.ConditionTrue, gatev1.PromotedReason)
	h.g.Expect(h.head(f, "main")).To(Equal(p))
	h.g.Expect(g.Status.LastPromotion).NotTo(BeNil())
	h.g.Expect(g.Status.LastPromotion.Commit).To(Equal(p))
	h.g.Expect(g.Status.LastPromotion.PreviousCommit).To(Equal(target))
	h.g.Expect(h.counter(h.metrics.Promotions, h.ns, "payments-api-prod", "promoted")).To(BeZero(), "no second push")
	h.conformant("payments-api-prod")
}

// A plain restart (new process, fresh clone cache) after a promotion changes
// nothing: same refs, same status, no new promotion.
func TestRestartAfterPromotionIsIdempotent(t *testing.T) {
	h := newHarness(t)
	f, a := h.paymentsGate()
	p := h.iacPush(f, a, map[string]string{
		overlayPath("payments-api"): prodOverlay("payments-api", "ghcr.io/example/payments-api", "1.9.0", digestB),
	})
	before := h.waitReady("payments-api-prod", metav1.ConditionTrue, gatev1.PromotedReason)

	h.cacheDir = t.TempDir()
	h.restartManager()
	g := h.waitHandled("payments-api-prod", h.poke("payments-api-prod"))
	h.g.Expect(g.Status.LastPromotion).NotTo(BeNil())
	g = h.waitReady("payments-api-prod", metav1.ConditionTrue, gatev1.PromotedReason)
	h.g.Expect(h.head(f, "main")).To(Equal(p))
	h.g.Expect(g.Status.LastPromotion).To(Equal(before.Status.LastPromotion))
	h.g.Expect(h.counter(h.metrics.Promotions, h.ns, "payments-api-prod", "promoted")).To(BeZero())
}

// pushByHand fast-forwards branch from expected to commit, as the stopped
// controller had done.
func pushByHand(t *testing.T, f *fleet, commit, branch, expected string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	auth, err := git.NewAuth(f.url, f.data)
	if err != nil {
		t.Fatal(err)
	}
	auth.AllowInsecureHTTP = true
	s, err := git.NewCache(t.TempDir()).Open(ctx, f.url, auth)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if _, err := s.Fetch(ctx); err != nil {
		t.Fatal(err)
	}
	if err := s.Push(ctx, commit, branch, expected); err != nil {
		t.Fatal(err)
	}
}
