package controller_test

import (
	"testing"
	"time"

	"github.com/fluxcd/pkg/apis/meta"
	sourcev1 "github.com/fluxcd/source-controller/api/v1"
	. "github.com/onsi/gomega"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	gatev1 "github.com/promotion-gate/promotion-gate/flux-gate/api/v1alpha1"
	"github.com/promotion-gate/promotion-gate/flux-gate/internal/gittest"
)

// sent counts the events of a reason, with the API server's aggregation of repeats.
func (h *harness) sent(name, reason string) int32 {
	var n int32
	for _, e := range h.events(name, reason) {
		n += max(e.Count, 1)
	}
	return n
}

// Events leave through one notify: a Warning on the transition to a held proposal,
// sent once for the commit and reason however often the gate looks again, and a
// Warning on a failed Git operation, sent once however often it is retried.
func TestEventsOncePerCommitAndReason(t *testing.T) {
	t.Run("held proposal", func(t *testing.T) {
		h := newHarness(t)
		f, a := h.paymentsGate()
		h.waitReady("payments-api-prod", metav1.ConditionTrue, gatev1.UpToDateReason)
		h.iacPush(f, a, map[string]string{
			overlayPath("payments-api"): prodOverlay("payments-api", "ghcr.io/example/payments-api", "1.9.0", ""),
		})
		h.waitReady("payments-api-prod", metav1.ConditionFalse, gatev1.PolicyViolationReason)
		h.waitEvent("payments-api-prod", corev1.EventTypeWarning, gatev1.PolicyViolationReason, "prod-immutable-images")
		for range 2 {
			h.waitHandled("payments-api-prod", h.poke("payments-api-prod"))
		}
		h.g.Consistently(func() int32 { return h.sent("payments-api-prod", gatev1.PolicyViolationReason) },
			2*time.Second, 200*time.Millisecond).Should(Equal(int32(1)))
		h.g.Expect(h.sent("payments-api-prod", gatev1.UpToDateReason)).To(BeZero(), "no event for a no-op")
	})
	t.Run("git operation failed", func(t *testing.T) {
		h := newHarness(t)
		srv := gittest.NewHTTP(t, "", "")
		f := &fleet{url: srv.URL("missing.git"), repo: "missing"}
		h.g.Expect(k8s.Create(h.ctx, &sourcev1.GitRepository{
			ObjectMeta: metav1.ObjectMeta{Name: f.repo, Namespace: h.ns},
			Spec: sourcev1.GitRepositorySpec{URL: f.url, Interval: metav1.Duration{Duration: time.Minute},
				Reference: &sourcev1.GitRepositoryRef{Branch: "main"}},
		})).To(Succeed())
		h.setPolicy(basePolicy)
		a := h.automation(f, "payments-api-prod", "payments-api")
		h.gate("payments-api-prod", a.Name)
		h.g.Eventually(func() string {
			g := h.getGate("payments-api-prod")
			for _, c := range g.Status.Conditions {
				if c.Type == meta.ReadyCondition {
					return c.Reason
				}
			}
			return ""
		}).Should(Equal(gatev1.GitOperationFailedReason))
		h.waitEvent("payments-api-prod", corev1.EventTypeWarning, gatev1.GitOperationFailedReason, "missing.git")
		// controller-runtime retries with backoff meanwhile: still one event.
		h.g.Consistently(func() int32 { return h.sent("payments-api-prod", gatev1.GitOperationFailedReason) },
			3*time.Second, 200*time.Millisecond).Should(Equal(int32(1)))
	})
}
