package controller_test

import (
	"encoding/base64"
	"fmt"
	"strings"
	"testing"
	"time"

	reflectorv1 "github.com/fluxcd/image-reflector-controller/api/v1"
	"github.com/fluxcd/pkg/apis/meta"
	. "github.com/onsi/gomega"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	gatev1 "github.com/promotion-gate/promotion-gate/flux-gate/api/v1alpha1"
	"github.com/promotion-gate/promotion-gate/flux-gate/internal/gittest"
	"github.com/promotion-gate/promotion-gate/shared/check"
	"github.com/promotion-gate/promotion-gate/shared/registry/registrytest"
)

// signedImagesPolicy requires prod images to be signed by the release key, which is in
// a Secret of the gate's namespace. The key signs without a transparency log.
const signedImagesPolicy = `apiVersion: promotion-gate.io/v1alpha1
kind: PromotionPolicy
metadata:
  name: signed-images
spec:
  environments:
    - name: prod
      protected: true
      match:
        paths: ["apps/*/overlays/prod/**"]
  rules:
    - name: prod-signed-images
      environments: [prod]
      enforcement: deny
      requireDigest: true
      signatures:
        transparencyLog: ignore
        authorities:
          - name: release
            key: {secretRef: {name: image-signers, key: cosign.pub}}
`

// The registry checks run with the pull credentials of the ImageRepository behind the
// setter markers' ImagePolicy and the trust material of the gate's namespace: an
// unsigned image is held with a signatures finding, a signed one is promoted.
func TestImageSignatures(t *testing.T) {
	for _, tc := range []struct {
		name         string
		signed       bool
		noPullSecret bool
	}{
		{name: "unsigned"},
		{name: "signed", signed: true},
		{name: "pull secret missing", signed: true, noPullSecret: true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			reg := registrytest.New(t)
			signer := registrytest.NewSigstore(t).NewKey(t).WithoutLog()
			img := reg.PushImage(t, "example/payments-api", "1.9.0")
			if tc.signed {
				reg.PushBundle(t, img, signer.SignImage(t, img))
			}

			h := newBareHarness(t)
			h.verifiers = &check.VerifierOptions{RegistryTimeout: 5 * time.Second}
			h.startManager()
			t.Cleanup(h.stopManager)
			h.imageRepository(reg.Host, "payments-api", img.Repository, !tc.noPullSecret)
			h.g.Expect(k8s.Create(h.ctx, &corev1.Secret{
				ObjectMeta: metav1.ObjectMeta{Name: "image-signers", Namespace: h.ns},
				Data:       map[string][]byte{"cosign.pub": signer.PublicKeyPEM(t)},
			})).To(Succeed())
			srv := gittest.NewHTTP(t, "", "")
			f := h.newFleet(srv.URL("fleet.git"), nil, "payments-api")
			h.setPolicy(signedImagesPolicy)
			a := h.automation(f, "payments-api-prod", "payments-api")
			h.gate("payments-api-prod", a.Name)
			h.waitReady("payments-api-prod", metav1.ConditionTrue, gatev1.UpToDateReason)
			target := h.head(f, "main")

			overlay := prodOverlay("payments-api", img.Repository, img.Tag, img.Digest)
			overlay = strings.ReplaceAll(overlay, "flux-system:", h.ns+":")
			p := h.iacPush(f, a, map[string]string{overlayPath("payments-api"): overlay})

			if tc.noPullSecret {
				// The credentials the checks need cannot be read: fail closed, naming them.
				g := h.waitReady("payments-api-prod", metav1.ConditionFalse, gatev1.EvaluationFailedReason)
				h.g.Expect(h.head(f, "main")).To(Equal(target), "held")
				h.g.Expect(g.Status.LastEvaluation.Error).To(ContainSubstring("get pull Secret " + h.ns + "/payments-api-pull"))
				return
			}
			if tc.signed {
				g := h.waitReady("payments-api-prod", metav1.ConditionTrue, gatev1.PromotedReason)
				h.g.Expect(h.head(f, "main")).To(Equal(p))
				h.g.Expect(g.Status.LastPromotion.Images).To(ConsistOf(img.Repository + ":1.9.0@" + img.Digest))
				return
			}
			g := h.waitReady("payments-api-prod", metav1.ConditionFalse, gatev1.PolicyViolationReason)
			h.g.Expect(h.head(f, "main")).To(Equal(target), "held")
			h.g.Expect(g.Status.LastEvaluation.Findings).To(HaveLen(1))
			finding := g.Status.LastEvaluation.Findings[0]
			h.g.Expect(finding.Check).To(Equal("signatures"))
			h.g.Expect(finding.Rule).To(Equal("prod-signed-images"))
			h.g.Expect(finding.Message).To(ContainSubstring("release"))
		})
	}
}

// imageRepository creates an ImageRepository for image with a docker-registry pull
// Secret for host (unless pullSecret is false: the reference dangles), and the ImagePolicy <app>-prod on it that the setter markers name.
func (h *harness) imageRepository(host, app, image string, pullSecret bool) {
	h.t.Helper()
	auth := base64.StdEncoding.EncodeToString([]byte("puller:s3cret"))
	if pullSecret {
		h.g.Expect(k8s.Create(h.ctx, &corev1.Secret{
			ObjectMeta: metav1.ObjectMeta{Name: app + "-pull", Namespace: h.ns},
			Type:       corev1.SecretTypeDockerConfigJson,
			Data: map[string][]byte{corev1.DockerConfigJsonKey: fmt.Appendf(nil,
				`{"auths": {%q: {"auth": %q}}}`, host, auth)},
		})).To(Succeed())
	}
	h.g.Expect(k8s.Create(h.ctx, &reflectorv1.ImageRepository{
		ObjectMeta: metav1.ObjectMeta{Name: app, Namespace: h.ns},
		Spec: reflectorv1.ImageRepositorySpec{Image: image, Interval: metav1.Duration{Duration: time.Hour},
			SecretRef: &meta.LocalObjectReference{Name: app + "-pull"}},
	})).To(Succeed())
	h.g.Expect(k8s.Create(h.ctx, &reflectorv1.ImagePolicy{
		ObjectMeta: metav1.ObjectMeta{Name: app + "-prod", Namespace: h.ns},
		Spec: reflectorv1.ImagePolicySpec{
			ImageRepositoryRef: meta.NamespacedObjectReference{Name: app},
			Policy:             reflectorv1.ImagePolicyChoice{SemVer: &reflectorv1.SemVerPolicy{Range: ">=1.0.0"}},
		},
	})).To(Succeed())
}
