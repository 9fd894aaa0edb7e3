package controller_test

import (
	"strings"

	"github.com/fluxcd/pkg/apis/meta"
	"github.com/fluxcd/pkg/runtime/conditions"
	"github.com/fluxcd/pkg/runtime/conditions/check"
	. "github.com/onsi/gomega"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	gatev1 "github.com/promotion-gate/promotion-gate/flux-gate/api/v1alpha1"
)

// waitReady waits until the gate's Ready condition has status and reason for the
// current generation, and returns the gate.
func (h *harness) waitReady(name string, status metav1.ConditionStatus, reason string) *gatev1.PromotionGate {
	h.t.Helper()
	var g *gatev1.PromotionGate
	h.g.Eventually(func(gm Gomega) {
		g = &gatev1.PromotionGate{}
		gm.Expect(k8s.Get(h.ctx, client.ObjectKey{Namespace: h.ns, Name: name}, g)).To(Succeed())
		c := conditions.Get(g, meta.ReadyCondition)
		gm.Expect(c).NotTo(BeNil(), "no Ready condition yet")
		gm.Expect(c.Reason).To(Equal(reason), "Ready: %s", c.Message)
		gm.Expect(c.Status).To(Equal(status), "Ready: %s", c.Message)
		gm.Expect(g.Status.ObservedGeneration).To(Equal(g.Generation))
		// Flux's patch helper writes the conditions before the rest of the status:
		// wait until the status fields that go with the reason have arrived too.
		switch reason {
		case gatev1.PromotedReason:
			gm.Expect(g.Status.Proposal).NotTo(BeNil())
			gm.Expect(g.Status.LastPromotion).NotTo(BeNil())
			gm.Expect(g.Status.LastPromotion.Commit).To(Equal(g.Status.Proposal.Commit))
		case gatev1.PolicyViolationReason, gatev1.PolicyInvalidReason, gatev1.EvaluationFailedReason:
			gm.Expect(g.Status.Proposal).NotTo(BeNil())
			gm.Expect(g.Status.LastEvaluation).NotTo(BeNil())
			gm.Expect(g.Status.LastEvaluation.Commit).To(Equal(g.Status.Proposal.Commit))
			gm.Expect(c.Message).To(ContainSubstring(g.Status.Proposal.Commit[:12]))
		}
	}).Should(Succeed())
	return g
}

// conformant checks the gate's conditions with Flux's kstatus conformance checker.
func (h *harness) conformant(name string) {
	h.t.Helper()
	checker := check.NewChecker(k8s, &check.Conditions{
		NegativePolarity: []string{meta.StalledCondition, meta.ReconcilingCondition},
	}).WithT(h.g)
	checker.CheckErr(h.ctx, h.getGate(name))
}

// events returns the gate's Kubernetes events with a reason.
func (h *harness) events(name, reason string) []corev1.Event {
	var list corev1.EventList
	h.g.Expect(k8s.List(h.ctx, &list, client.InNamespace(h.ns))).To(Succeed())
	var out []corev1.Event
	for _, e := range list.Items {
		if e.InvolvedObject.Kind == gatev1.PromotionGateKind && e.InvolvedObject.Name == name && e.Reason == reason {
			out = append(out, e)
		}
	}
	return out
}

// waitEvent waits for an event of type and reason whose message has every part.
func (h *harness) waitEvent(name, eventType, reason string, parts ...string) corev1.Event {
	h.t.Helper()
	var found corev1.Event
	h.g.Eventually(func() bool {
		for _, e := range h.events(name, reason) {
			ok := e.Type == eventType
			for _, p := range parts {
				ok = ok && strings.Contains(e.Message, p)
			}
			if ok {
				found = e
				return true
			}
		}
		return false
	}).Should(BeTrue(), "no %s event %s on %s with %q", eventType, reason, name, parts)
	return found
}

func (h *harness) counter(c *prometheus.CounterVec, labels ...string) float64 {
	return testutil.ToFloat64(c.WithLabelValues(labels...))
}

func (h *harness) held(name string) float64 {
	return testutil.ToFloat64(h.metrics.Held.WithLabelValues(h.ns, name))
}
