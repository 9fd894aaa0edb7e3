package controller_test

import (
	"testing"

	imagev1 "github.com/fluxcd/image-automation-controller/api/v1"
	"github.com/fluxcd/pkg/apis/meta"
	"github.com/fluxcd/pkg/runtime/conditions"
	. "github.com/onsi/gomega"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	gatev1 "github.com/promotion-gate/promotion-gate/flux-gate/api/v1alpha1"
	"github.com/promotion-gate/promotion-gate/flux-gate/internal/gittest"
)

// A compliant digest is promoted: the target fast-forwards to exactly the proposal
// commit, and the status, the event and the metrics say what, from and to. Over
// plain HTTP, HTTPS with basic auth and a CA, and SSH.
func TestPromotesCompliantDigest(t *testing.T) {
	for _, tc := range []struct {
		name   string
		server func(t *testing.T) (url string, data map[string][]byte)
	}{
		{"http", func(t *testing.T) (string, map[string][]byte) {
			srv := gittest.NewHTTP(t, "", "")
			return srv.URL("fleet.git"), nil
		}},
		{"https-basic-auth", func(t *testing.T) (string, map[string][]byte) {
			srv := gittest.NewHTTPS(t, "gate", "s3cret")
			return srv.URL("fleet.git"), srv.SecretData()
		}},
		{"ssh", func(t *testing.T) (string, map[string][]byte) {
			srv := gittest.NewSSH(t)
			return srv.SSHURL("fleet.git"), srv.SSHSecretData(t)
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h := newHarness(t)
			url, data := tc.server(t)
			f := h.newFleet(url, data, "payments-api")
			h.setPolicy(basePolicy)
			a := h.automation(f, "payments-api-prod", "payments-api")
			h.gate("payments-api-prod", a.Name)
			h.waitReady("payments-api-prod", metav1.ConditionTrue, gatev1.UpToDateReason)
			target := h.head(f, "main")

			p := h.iacPush(f, a, map[string]string{
				overlayPath("payments-api"): prodOverlay("payments-api", "ghcr.io/example/payments-api", "1.9.0", digestB),
			})

			g := h.waitReady("payments-api-prod", metav1.ConditionTrue, gatev1.PromotedReason)
			h.g.Expect(h.head(f, "main")).To(Equal(p), "target fast-forwarded to exactly the proposal commit")
			h.g.Expect(g.Status.LastPromotion).NotTo(BeNil())
			h.g.Expect(g.Status.LastPromotion.Commit).To(Equal(p))
			h.g.Expect(g.Status.LastPromotion.PreviousCommit).To(Equal(target))
			h.g.Expect(g.Status.LastPromotion.Images).To(ConsistOf("ghcr.io/example/payments-api:1.9.0@" + digestB))
			h.g.Expect(g.Status.LastPromotion.PolicyRevision).To(HavePrefix("sha256:"))
			h.g.Expect(g.Status.LastEvaluation.Verdict).To(Equal("Allowed"))
			h.g.Expect(g.Status.LastEvaluation.Environment).To(Equal("prod"))
			h.g.Expect(g.Status.LastEvaluation.Files).To(ConsistOf(overlayPath("payments-api")))
			h.g.Expect(g.Status.Proposal).To(Equal(&gatev1.Proposal{Branch: "automation/payments-api-prod", Commit: p}))
			h.conformant("payments-api-prod")

			h.waitEvent("payments-api-prod", corev1.EventTypeNormal, gatev1.PromotedReason, p, target, digestB)
			h.g.Expect(h.counter(h.metrics.Promotions, h.ns, "payments-api-prod", "promoted")).To(Equal(1.0))
			h.g.Expect(h.counter(h.metrics.Evaluations, h.ns, "payments-api-prod", "Allowed")).To(Equal(1.0))
			h.g.Expect(h.held("payments-api-prod")).To(BeZero())
		})
	}
}

// A mutable tag, or a registry outside the allow-list, is held on the proposal
// branch; a later compliant push on top of it is promoted.
func TestHoldsViolationThenPromotesCompliantPush(t *testing.T) {
	for _, tc := range []struct {
		name, image, tag, digest, rule string
	}{
		{"mutable tag", "ghcr.io/example/payments-api", "1.9.0", "", "requireDigest"},
		{"registry outside the allow-list", "docker.io/someone/payments-api", "1.9.0", digestB, "allowedRegistries"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h := newHarness(t)
			srv := gittest.NewHTTP(t, "", "")
			f := h.newFleet(srv.URL("fleet.git"), nil, "payments-api")
			h.setPolicy(basePolicy)
			a := h.automation(f, "payments-api-prod", "payments-api")
			h.gate("payments-api-prod", a.Name)
			target := h.head(f, "main")

			bad := h.iacPush(f, a, map[string]string{
				overlayPath("payments-api"): prodOverlay("payments-api", tc.image, tc.tag, tc.digest),
			})
			g := h.waitReady("payments-api-prod", metav1.ConditionFalse, gatev1.PolicyViolationReason)
			h.g.Expect(h.head(f, "main")).To(Equal(target), "target unchanged")
			h.g.Expect(h.head(f, "automation/payments-api-prod")).To(Equal(bad), "held on the proposal branch")
			ev := g.Status.LastEvaluation
			h.g.Expect(ev.Commit).To(Equal(bad))
			h.g.Expect(ev.Verdict).To(Equal("Denied"))
			h.g.Expect(ev.Findings).NotTo(BeEmpty())
			h.g.Expect(ev.Findings[0].Rule).To(Equal("prod-immutable-images"))
			h.g.Expect(ev.Findings[0].File).To(Equal(overlayPath("payments-api")))
			h.g.Expect(g.Status.LastPromotion).To(BeNil())
			h.conformant("payments-api-prod")
			h.waitEvent("payments-api-prod", corev1.EventTypeWarning, gatev1.PolicyViolationReason,
				"prod-immutable-images", overlayPath("payments-api"), tc.image)
			h.g.Expect(h.held("payments-api-prod")).To(Equal(1.0))
			h.g.Expect(h.counter(h.metrics.Evaluations, h.ns, "payments-api-prod", "Denied")).To(BeNumerically(">=", 1))

			good := h.iacPush(f, a, map[string]string{
				overlayPath("payments-api"): prodOverlay("payments-api", "ghcr.io/example/payments-api", "1.9.1", digestC),
			})
			g = h.waitReady("payments-api-prod", metav1.ConditionTrue, gatev1.PromotedReason)
			h.g.Expect(h.head(f, "main")).To(Equal(good))
			h.g.Expect(g.Status.LastPromotion.PreviousCommit).To(Equal(target))
			h.g.Expect(h.held("payments-api-prod")).To(BeZero())
			h.g.Expect(h.counter(h.metrics.Promotions, h.ns, "payments-api-prod", "promoted")).To(Equal(1.0))
		})
	}
}

// An automation that pushes straight to the target branch holds nothing: that is a
// configuration error, Stalled with the fix in the message.
func TestAutomationPushingToTargetStalls(t *testing.T) {
	h := newHarness(t)
	srv := gittest.NewHTTP(t, "", "")
	f := h.newFleet(srv.URL("fleet.git"), nil, "payments-api")
	h.setPolicy(basePolicy)
	a := h.automation(f, "payments-api-prod", "payments-api", func(a *imagev1.ImageUpdateAutomation) {
		a.Spec.GitSpec.Push.Branch = "main"
	})
	h.gate("payments-api-prod", a.Name)
	g := h.waitReady("payments-api-prod", metav1.ConditionFalse, gatev1.AutomationMisconfiguredReason)
	stalled := conditions.Get(g, meta.StalledCondition)
	h.g.Expect(stalled).NotTo(BeNil())
	h.g.Expect(stalled.Status).To(Equal(metav1.ConditionTrue))
	h.g.Expect(stalled.Message).To(ContainSubstring("spec.git.push.branch"))
	h.conformant("payments-api-prod")
	h.waitEvent("payments-api-prod", corev1.EventTypeWarning, gatev1.AutomationMisconfiguredReason, "spec.git.push.branch")
}
