package controller_test

import (
	"strings"
	"testing"

	. "github.com/onsi/gomega"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	gatev1 "github.com/promotion-gate/promotion-gate/flux-gate/api/v1alpha1"
	"github.com/promotion-gate/promotion-gate/flux-gate/internal/gittest"
)

// A broken policy holds even a compliant proposal (fail closed); fixing the
// ConfigMap re-evaluates at once and promotes.
func TestBrokenPolicyHoldsUntilFixed(t *testing.T) {
	h := newHarness(t)
	srv := gittest.NewHTTP(t, "", "")
	f := h.newFleet(srv.URL("fleet.git"), nil, "payments-api")
	h.setPolicy(strings.Replace(basePolicy, "requireDigest: true", "requireDigest: true\n      requireSignature: true", 1))
	a := h.automation(f, "payments-api-prod", "payments-api")
	h.gate("payments-api-prod", a.Name)
	target := h.head(f, "main")

	p := h.iacPush(f, a, map[string]string{
		overlayPath("payments-api"): prodOverlay("payments-api", "ghcr.io/example/payments-api", "1.9.0", digestB),
	})
	g := h.waitReady("payments-api-prod", metav1.ConditionFalse, gatev1.PolicyInvalidReason)
	h.g.Expect(h.head(f, "main")).To(Equal(target), "held: fail closed")
	h.g.Expect(g.Status.LastEvaluation.Commit).To(Equal(p))
	h.g.Expect(g.Status.LastEvaluation.Verdict).To(Equal("Denied"))
	h.g.Expect(g.Status.LastEvaluation.Error).To(ContainSubstring("requireSignature"))
	h.conformant("payments-api-prod")
	h.waitEvent("payments-api-prod", corev1.EventTypeWarning, gatev1.PolicyInvalidReason, "requireSignature")

	h.setPolicy(basePolicy)
	g = h.waitReady("payments-api-prod", metav1.ConditionTrue, gatev1.PromotedReason)
	h.g.Expect(h.head(f, "main")).To(Equal(p))
	h.g.Expect(g.Status.LastPromotion.PreviousCommit).To(Equal(target))
}

// A policy change re-evaluates a held proposal: an exemption lets it through.
func TestPolicyChangeReevaluates(t *testing.T) {
	h := newHarness(t)
	f, a := h.paymentsGate()

	p := h.iacPush(f, a, map[string]string{
		overlayPath("payments-api"): prodOverlay("payments-api", "ghcr.io/example/payments-api", "1.9.0", ""),
	})
	first := h.waitReady("payments-api-prod", metav1.ConditionFalse, gatev1.PolicyViolationReason)

	h.setPolicy(basePolicy + `  exemptions:
    - rule: prod-immutable-images
      images: ["ghcr.io/example/payments-api:*"]
      reason: "digest pinning tracked in PLAT-123"
      owner: team-payments
      expires: "2099-01-31"
`)
	g := h.waitReady("payments-api-prod", metav1.ConditionTrue, gatev1.PromotedReason)
	h.g.Expect(h.head(f, "main")).To(Equal(p))
	h.g.Expect(g.Status.LastPromotion.PolicyRevision).NotTo(Equal(first.Status.LastEvaluation.PolicyRevision))
}

// No policy ConfigMap at all: fail closed.
func TestMissingPolicyHolds(t *testing.T) {
	h := newHarness(t)
	srv := gittest.NewHTTP(t, "", "")
	f := h.newFleet(srv.URL("fleet.git"), nil, "payments-api")
	a := h.automation(f, "payments-api-prod", "payments-api")
	h.gate("payments-api-prod", a.Name)
	target := h.head(f, "main")
	h.iacPush(f, a, map[string]string{
		overlayPath("payments-api"): prodOverlay("payments-api", "ghcr.io/example/payments-api", "1.9.0", digestB),
	})
	h.waitReady("payments-api-prod", metav1.ConditionFalse, gatev1.PolicyInvalidReason)
	h.g.Expect(h.head(f, "main")).To(Equal(target))
	h.g.Expect(h.held("payments-api-prod")).To(Equal(1.0))
}
