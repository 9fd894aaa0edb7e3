package controller_test

import (
	"context"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"

	imagev1 "github.com/fluxcd/image-automation-controller/api/v1"
	"github.com/fluxcd/pkg/apis/meta"
	. "github.com/onsi/gomega"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	gatev1 "github.com/promotion-gate/promotion-gate/flux-gate/api/v1alpha1"
	"github.com/promotion-gate/promotion-gate/flux-gate/internal/gittest"
)

// requestedAt reads the automation's reconcile request annotation.
func (h *harness) requestedAt(a *imagev1.ImageUpdateAutomation) string {
	cur := &imagev1.ImageUpdateAutomation{}
	h.g.Expect(k8s.Get(h.ctx, client.ObjectKeyFromObject(a), cur)).To(Succeed())
	return cur.Annotations[meta.ReconcileRequestAnnotation]
}

// The target moved and the proposal holds only automation commits: the gate deletes
// the proposal branch and asks the automation to run again; the rebuilt proposal is
// promoted.
func TestStaleAutomationProposalIsRebuilt(t *testing.T) {
	h := newHarness(t)
	f, a := h.paymentsGate()

	// Held first (a mutable tag), so the target can move under it.
	stale := h.iacPush(f, a, map[string]string{
		overlayPath("payments-api"): prodOverlay("payments-api", "ghcr.io/example/payments-api", "1.9.0", ""),
	})
	h.waitReady("payments-api-prod", metav1.ConditionFalse, gatev1.PolicyViolationReason)
	moved, err := f.human.Commit(h.ctx, "main", "main", map[string]string{"README.md": "moved\n"}, "docs")
	h.g.Expect(err).NotTo(HaveOccurred())
	h.poke("payments-api-prod")

	g := h.waitReady("payments-api-prod", metav1.ConditionFalse, gatev1.ProposalStaleReason)
	h.g.Expect(h.head(f, "automation/payments-api-prod")).To(BeEmpty(), "stale proposal branch deleted")
	h.g.Expect(h.head(f, "main")).To(Equal(moved), "target untouched")
	h.g.Expect(h.requestedAt(a)).NotTo(BeEmpty(), "automation asked for a new run")
	h.g.Expect(g.Status.Proposal.Commit).To(BeEmpty())
	h.conformant("payments-api-prod")
	h.waitEvent("payments-api-prod", corev1.EventTypeNormal, gatev1.ProposalStaleReason, stale[:12])

	// IAC runs on the request and rebuilds the branch on the new target.
	rebuilt := h.iacPush(f, a, map[string]string{
		overlayPath("payments-api"): prodOverlay("payments-api", "ghcr.io/example/payments-api", "1.9.0", digestB),
	})
	g = h.waitReady("payments-api-prod", metav1.ConditionTrue, gatev1.PromotedReason)
	h.g.Expect(h.head(f, "main")).To(Equal(rebuilt))
	h.g.Expect(g.Status.LastPromotion.PreviousCommit).To(Equal(moved))
}

// With a person's commit on the stale proposal, the gate holds it as diverged and
// deletes nothing.
func TestDivergedProposalWithHumanCommitIsKept(t *testing.T) {
	h := newHarness(t)
	f, a := h.paymentsGate()

	h.iacPush(f, a, map[string]string{
		overlayPath("payments-api"): prodOverlay("payments-api", "ghcr.io/example/payments-api", "1.9.0", ""),
	})
	h.waitReady("payments-api-prod", metav1.ConditionFalse, gatev1.PolicyViolationReason)
	human, err := f.human.Commit(h.ctx, "automation/payments-api-prod", "automation/payments-api-prod",
		map[string]string{"apps/payments-api/overlays/prod/NOTES.md": "pinned by hand\n"}, "hand edit")
	h.g.Expect(err).NotTo(HaveOccurred())
	_, err = f.human.Commit(h.ctx, "main", "main", map[string]string{"README.md": "moved\n"}, "docs")
	h.g.Expect(err).NotTo(HaveOccurred())
	h.poke("payments-api-prod")

	g := h.waitReady("payments-api-prod", metav1.ConditionFalse, gatev1.ProposalDivergedReason)
	h.g.Expect(h.head(f, "automation/payments-api-prod")).To(Equal(human), "nothing deleted")
	h.g.Expect(h.requestedAt(a)).To(BeEmpty())
	h.g.Expect(g.Status.Proposal.Commit).To(Equal(human))
	h.conformant("payments-api-prod")
	h.waitEvent("payments-api-prod", corev1.EventTypeWarning, gatev1.ProposalDivergedReason, humanEmail)
	h.g.Expect(h.held("payments-api-prod")).To(Equal(1.0))
}

// The target moves between the evaluation and the push: the push is refused,
// nothing is forced, and the next attempt evaluates again (here: finds the proposal
// stale and has it rebuilt, then promotes the rebuilt one).
func TestTargetMovedDuringPushIsNotForced(t *testing.T) {
	h := newHarness(t)
	// The server moves main just before it runs the next receive-pack it is armed for:
	// after the gate has read the heads and evaluated, before its update lands.
	var armed atomic.Bool
	var moved atomic.Value
	var f *fleet
	srv := gittest.NewHTTP(t, "", "", func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if r.Method == http.MethodPost && strings.HasSuffix(r.URL.Path, "/git-receive-pack") && armed.CompareAndSwap(true, false) {
				c, err := f.human.Commit(context.Background(), "main", "main", map[string]string{"README.md": "raced\n"}, "race")
				if err != nil {
					t.Errorf("move main: %v", err)
				}
				moved.Store(c)
			}
			next.ServeHTTP(w, r)
		})
	})
	f = h.newFleet(srv.URL("fleet.git"), nil, "payments-api")

	h.setPolicy(basePolicy)
	a := h.automation(f, "payments-api-prod", "payments-api")
	h.gate("payments-api-prod", a.Name)
	h.waitReady("payments-api-prod", metav1.ConditionTrue, gatev1.UpToDateReason)

	p, err := f.bot.Commit(h.ctx, "main", "automation/payments-api-prod", map[string]string{
		overlayPath("payments-api"): prodOverlay("payments-api", "ghcr.io/example/payments-api", "1.9.0", digestB),
	}, "Update image")
	h.g.Expect(err).NotTo(HaveOccurred())
	armed.Store(true)
	h.setLastPush(a, p)

	h.g.Eventually(func() float64 {
		return h.counter(h.metrics.Promotions, h.ns, "payments-api-prod", "target_moved")
	}).Should(Equal(1.0))
	h.g.Expect(h.head(f, "main")).To(Equal(moved.Load()), "nothing forced over the moved target")
	h.g.Expect(h.counter(h.metrics.Promotions, h.ns, "payments-api-prod", "promoted")).To(BeZero())

	// Evaluated again: stale, rebuilt by IAC on request, promoted.
	h.waitReady("payments-api-prod", metav1.ConditionFalse, gatev1.ProposalStaleReason)
	rebuilt := h.iacPush(f, a, map[string]string{
		overlayPath("payments-api"): prodOverlay("payments-api", "ghcr.io/example/payments-api", "1.9.0", digestB),
	})
	g := h.waitReady("payments-api-prod", metav1.ConditionTrue, gatev1.PromotedReason)
	h.g.Expect(h.head(f, "main")).To(Equal(rebuilt))
	h.g.Expect(g.Status.LastPromotion.PreviousCommit).To(Equal(moved.Load()))
}
