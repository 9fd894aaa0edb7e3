package controller_test

import (
	"strings"
	"testing"

	"github.com/fluxcd/pkg/git/signature"
	. "github.com/onsi/gomega"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	gatev1 "github.com/promotion-gate/promotion-gate/flux-gate/api/v1alpha1"
	"github.com/promotion-gate/promotion-gate/flux-gate/internal/gittest"
	"github.com/promotion-gate/promotion-gate/shared/commitsig/commitsigtest"
)

// signedPromotions adds to basePolicy a rule that the promoted commit be signed by the
// release bot, whose OpenPGP key is in a Secret and whose SSH key is in a ConfigMap of
// the gate's namespace.
const signedPromotions = `    - name: prod-signed-promotions
      environments: [prod]
      enforcement: deny
      commitSignatures:
        keys:
          - name: release-bot-openpgp
            openpgp: {secretRef: {name: commit-signers, key: release-bot.asc}}
          - name: release-bot-ssh
            ssh: {configMapRef: {name: commit-signers, key: release-bot.pub}}
`

// The proposal commit must be signed by an allowed key: unsigned → held with a
// commitSignatures finding; signed with the OpenPGP key (by Flux's own signer, as
// image-automation-controller signs) or the SSH key → promoted.
func TestCommitSignatures(t *testing.T) {
	pgp := commitsigtest.NewOpenPGPKey(t, "Release Bot", botEmail)
	pgpSigner, err := signature.NewOpenPGPSigner(pgp.Entity)
	if err != nil {
		t.Fatal(err)
	}
	sshKey := commitsigtest.NewSSHKey(t)
	stranger := commitsigtest.NewSSHKey(t)

	for _, tc := range []struct {
		name    string
		signer  signature.Signer
		promote bool
		message string
		// allCommits checks every commit of the promotion; an unsigned commit is
		// pushed first, under the signed head.
		allCommits bool
		// noSecret leaves the Secret holding the OpenPGP key out: fail closed.
		noSecret bool
		// elsewhere names the Secret in another namespace than the policy's: refused,
		// since only the policy namespace is the platform team's.
		elsewhere bool
	}{
		{name: "unsigned", message: "unsigned"},
		{name: "signed by an unknown key", signer: stranger, message: "signed by an unknown key SHA256:"},
		{name: "openpgp", signer: pgpSigner, promote: true},
		{name: "ssh", signer: sshKey, promote: true},
		{name: "all commits: an unsigned one under a signed head", signer: sshKey, allCommits: true, message: "unsigned"},
		{name: "signer key Secret missing", signer: sshKey, noSecret: true, message: "Secret %s/commit-signers not found"},
		{name: "signer key in another namespace", signer: sshKey, elsewhere: true,
			message: "flux-gate reads trust material only from the policy namespace %s"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h := newHarness(t)
			if !tc.noSecret {
				h.g.Expect(k8s.Create(h.ctx, &corev1.Secret{
					ObjectMeta: metav1.ObjectMeta{Name: "commit-signers", Namespace: h.ns},
					Data:       map[string][]byte{"release-bot.asc": pgp.Public},
				})).To(Succeed())
			}
			h.g.Expect(k8s.Create(h.ctx, &corev1.ConfigMap{
				ObjectMeta: metav1.ObjectMeta{Name: "commit-signers", Namespace: h.ns},
				Data:       map[string]string{"release-bot.pub": "# release bot\n" + string(sshKey.AuthorizedKey)},
			})).To(Succeed())
			srv := gittest.NewHTTP(t, "", "")
			f := h.newFleet(srv.URL("fleet.git"), nil, "payments-api")
			rules := signedPromotions
			if tc.allCommits {
				rules = strings.Replace(rules, "      commitSignatures:\n", "      commitSignatures:\n        allCommits: true\n", 1)
			}
			if tc.elsewhere {
				rules = strings.Replace(rules, "{name: commit-signers, key: release-bot.asc}", "{namespace: team-x, name: commit-signers, key: release-bot.asc}", 1)
			}
			h.setPolicy(basePolicy + rules)
			a := h.automation(f, "payments-api-prod", "payments-api")
			h.gate("payments-api-prod", a.Name)
			target := h.head(f, "main")

			culprit := ""
			if tc.allCommits {
				culprit = h.iacPush(f, a, map[string]string{
					overlayPath("payments-api"): prodOverlay("payments-api", "ghcr.io/example/payments-api", "1.8.9", digestC),
				})
				h.waitReady("payments-api-prod", metav1.ConditionFalse, gatev1.PolicyViolationReason)
			}
			f.bot.Signer = tc.signer
			p := h.iacPush(f, a, map[string]string{
				overlayPath("payments-api"): prodOverlay("payments-api", "ghcr.io/example/payments-api", "1.9.0", digestB),
			})
			if culprit == "" {
				culprit = p
			}

			if tc.promote {
				g := h.waitReady("payments-api-prod", metav1.ConditionTrue, gatev1.PromotedReason)
				h.g.Expect(h.head(f, "main")).To(Equal(p))
				h.g.Expect(g.Status.LastEvaluation.Findings).To(BeEmpty())
				return
			}
			var g *gatev1.PromotionGate
			h.g.Eventually(func() string {
				g = h.waitReady("payments-api-prod", metav1.ConditionFalse, gatev1.PolicyViolationReason)
				return g.Status.LastEvaluation.Commit
			}).Should(Equal(p))
			h.g.Expect(h.head(f, "main")).To(Equal(target), "held")
			h.g.Expect(g.Status.LastEvaluation.Findings).To(HaveLen(1))
			finding := g.Status.LastEvaluation.Findings[0]
			h.g.Expect(finding.Rule).To(Equal("prod-signed-promotions"))
			h.g.Expect(finding.Check).To(Equal("commitSignatures"))
			h.g.Expect(finding.Enforcement).To(Equal("deny"))
			h.g.Expect(finding.Message).To(ContainSubstring(strings.ReplaceAll(tc.message, "%s", h.ns)))
			if tc.noSecret || tc.elsewhere {
				h.g.Expect(finding.Message).To(HavePrefix("commitSignatures check failed: read OpenPGP key release-bot-openpgp"))
				return
			}
			h.g.Expect(finding.Message).To(ContainSubstring(culprit[:12]))
			h.g.Expect(finding.Fix).To(ContainSubstring("release-bot-openpgp, release-bot-ssh"))
			h.conformant("payments-api-prod")
			h.waitEvent("payments-api-prod", corev1.EventTypeWarning, gatev1.PolicyViolationReason, "prod-signed-promotions", culprit[:12])
		})
	}
}

// imagesOnly adds to basePolicy a rule that a prod promotion change image fields only.
const imagesOnly = `    - name: prod-images-only
      environments: [prod]
      enforcement: deny
      changeScope: imagesOnly
`

// deploymentPatch is a patch in the prod overlay that sets the replica count.
func deploymentPatch(replicas string) string {
	return `apiVersion: apps/v1
kind: Deployment
metadata:
  name: payments-api
  namespace: payments-api-prod
spec:
  replicas: ` + replicas + "\n"
}

// A promotion may change image fields only: a proposal that also scales the
// Deployment is held with the field named; one that changes only the kustomization's
// image tag and digest is promoted.
func TestChangeScope(t *testing.T) {
	for _, tc := range []struct {
		name     string
		replicas string
		promote  bool
	}{
		{name: "image and replicas", replicas: "5"},
		{name: "image only", replicas: "2", promote: true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h := newHarness(t)
			srv := gittest.NewHTTP(t, "", "")
			f := h.newFleet(srv.URL("fleet.git"), nil, "payments-api")
			patch := "apps/payments-api/overlays/prod/deployment-patch.yaml"
			_, err := f.human.Commit(h.ctx, "main", "main", map[string]string{patch: deploymentPatch("2")}, "prod: two replicas")
			h.g.Expect(err).NotTo(HaveOccurred())
			h.setPolicy(basePolicy + imagesOnly)
			a := h.automation(f, "payments-api-prod", "payments-api")
			h.gate("payments-api-prod", a.Name)
			target := h.head(f, "main")

			p := h.iacPush(f, a, map[string]string{
				overlayPath("payments-api"): prodOverlay("payments-api", "ghcr.io/example/payments-api", "1.9.0", digestB),
				patch:                       deploymentPatch(tc.replicas),
			})

			if tc.promote {
				h.waitReady("payments-api-prod", metav1.ConditionTrue, gatev1.PromotedReason)
				h.g.Expect(h.head(f, "main")).To(Equal(p))
				return
			}
			g := h.waitReady("payments-api-prod", metav1.ConditionFalse, gatev1.PolicyViolationReason)
			h.g.Expect(h.head(f, "main")).To(Equal(target), "held")
			h.g.Expect(g.Status.LastEvaluation.Findings).To(HaveLen(1))
			finding := g.Status.LastEvaluation.Findings[0]
			h.g.Expect(finding.Rule).To(Equal("prod-images-only"))
			h.g.Expect(finding.Check).To(Equal("changeScope"))
			h.g.Expect(finding.File).To(Equal(patch))
			h.g.Expect(finding.Field).To(Equal("spec.replicas"))
			h.g.Expect(finding.Message).To(Equal("Deployment payments-api-prod/payments-api spec.replicas changed 2 → 5"))
			h.g.Expect(readyCondition(g).Message).To(ContainSubstring("spec.replicas changed 2 → 5"))
			h.waitEvent("payments-api-prod", corev1.EventTypeWarning, gatev1.PolicyViolationReason, "spec.replicas")
		})
	}
}

// readyCondition returns the gate's Ready condition.
func readyCondition(g *gatev1.PromotionGate) metav1.Condition {
	for _, c := range g.Status.Conditions {
		if c.Type == "Ready" {
			return c
		}
	}
	return metav1.Condition{}
}
