package controller_test

import (
	"path/filepath"
	"testing"

	. "github.com/onsi/gomega"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	gatev1 "github.com/promotion-gate/promotion-gate/flux-gate/api/v1alpha1"
	"github.com/promotion-gate/promotion-gate/flux-gate/internal/git"
	"github.com/promotion-gate/promotion-gate/flux-gate/internal/gittest"
	"github.com/promotion-gate/promotion-gate/shared/check"
	"github.com/promotion-gate/promotion-gate/shared/gitrev"
	"github.com/promotion-gate/promotion-gate/shared/policy"
)

// clusterPolicy protects the cluster tree as well as the prod overlays.
const clusterPolicy = `apiVersion: promotion-gate.io/v1alpha1
kind: PromotionPolicy
metadata:
  name: platform-baseline
spec:
  environments:
    - name: prod
      protected: true
      match:
        paths: ["apps/*/overlays/prod/**", "clusters/prod/**"]
  rules:
    - name: prod-immutable-images
      environments: [prod]
      enforcement: deny
      requireDigest: true
      denyTags: ["latest", "main"]
      allowedRegistries: ["ghcr.io/example/**"]
`

func workload(name, image string) string {
	return `apiVersion: apps/v1
kind: Deployment
metadata:
  name: ` + name + `
spec:
  selector: {matchLabels: {app: ` + name + `}}
  template:
    metadata: {labels: {app: ` + name + `}}
    spec:
      containers:
        - name: main
          image: ` + image + "\n"
}

// Everything a promotion changes is judged, wherever it is and whoever wrote it: a
// person's file outside the automation's update path, a base that reaches prod through
// the overlay, and a JSON manifest under the update path. A compliant base change that
// reaches prod is promoted.
func TestJudgesEverythingAPromotionChanges(t *testing.T) {
	for _, tc := range []struct {
		name string
		// person's commit on the proposal branch, on top of the automation's compliant one
		person map[string]string
		// the automation's own commit; nil means a compliant digest bump
		automation map[string]string
		reason     string
		file       string // the file a finding names; "" when promoted
	}{
		{
			name:   "a protected file outside update.path, pushed by a person",
			person: map[string]string{"clusters/prod/extra.yaml": workload("evil", "ghcr.io/example/evil:latest")},
			reason: gatev1.PolicyViolationReason, file: "clusters/prod/extra.yaml",
		},
		{
			name: "a base change that brings a mutable image to prod through the overlay",
			person: map[string]string{
				"apps/payments-api/base/kustomization.yaml": "resources: [sidecar.yaml]\n",
				"apps/payments-api/base/sidecar.yaml":       workload("sidecar", "ghcr.io/example/sidecar:1.0.0"),
			},
			// Found by rendering the prod overlay; the finding names the file to edit.
			reason: gatev1.PolicyViolationReason, file: "apps/payments-api/base/sidecar.yaml",
		},
		{
			name: "a compliant base change that reaches prod through the overlay",
			person: map[string]string{
				"apps/payments-api/base/kustomization.yaml": "resources: [deployment.yaml]\n",
				// The overlay's images: entry pins this image by digest.
				"apps/payments-api/base/deployment.yaml": workload("payments-api", "ghcr.io/example/payments-api:1.0.0"),
			},
			reason: gatev1.PromotedReason,
		},
		{
			name: "a JSON manifest under update.path",
			automation: map[string]string{
				"apps/payments-api/overlays/prod/extra.json": `{"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "p"},` +
					` "spec": {"containers": [{"name": "c", "image": "ghcr.io/example/payments-api:1.9.0"}]}}`,
			},
			reason: gatev1.PolicyViolationReason, file: "apps/payments-api/overlays/prod/extra.json",
		},
		{
			name:   "a prod file that cannot be judged",
			person: map[string]string{"clusters/prod/broken.yaml": "kind: [\n"},
			reason: gatev1.EvaluationFailedReason,
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h := newHarness(t)
			srv := gittest.NewHTTP(t, "", "")
			f := h.newFleet(srv.URL("fleet.git"), nil, "payments-api")
			h.setPolicy(clusterPolicy)
			a := h.automation(f, "payments-api-prod", "payments-api")
			h.gate("payments-api-prod", a.Name)
			h.waitReady("payments-api-prod", metav1.ConditionTrue, gatev1.UpToDateReason)
			target := h.head(f, "main")

			files := tc.automation
			if files == nil {
				files = map[string]string{
					overlayPath("payments-api"): prodOverlay("payments-api", "ghcr.io/example/payments-api", "1.9.0", digestB),
				}
			}
			if tc.person != nil {
				// The person pushes first; the automation's commit lands on top, so the
				// automation's push is what triggers the gate, as it would in a cluster.
				_, err := f.human.Commit(h.ctx, "main", "automation/payments-api-prod", tc.person, "Add things")
				h.g.Expect(err).NotTo(HaveOccurred())
			}
			p := h.iacPush(f, a, files)

			if tc.reason == gatev1.PromotedReason {
				g := h.waitReady("payments-api-prod", metav1.ConditionTrue, gatev1.PromotedReason)
				h.g.Expect(h.head(f, "main")).To(Equal(p))
				h.g.Expect(g.Status.LastEvaluation.Verdict).To(Or(Equal("Allowed"), Equal("Warned")))
				return
			}
			g := h.waitReady("payments-api-prod", metav1.ConditionFalse, tc.reason)
			h.g.Expect(h.head(f, "main")).To(Equal(target), "target unchanged")
			ev := g.Status.LastEvaluation
			h.g.Expect(ev.Commit).To(Equal(p))
			h.g.Expect(ev.Verdict).To(Equal("Denied"))
			h.g.Expect(ev.Environment).To(Equal("prod"))
			if tc.file != "" {
				h.g.Expect(ev.Findings).To(ContainElement(HaveField("File", tc.file)), "%+v", ev.Findings)
			} else {
				h.g.Expect(ev.Error).To(ContainSubstring("clusters/prod/broken.yaml"))
			}
			h.g.Expect(h.held("payments-api-prod")).To(Equal(1.0))
		})
	}
}

// The gate's verdict and findings for a base change that reaches prod are what the CLI's
// request path (check.Run on P with the base revision, as `promotion-gate check
// apps/payments-api/overlays/prod --base T` runs it) gives for the prod overlay.
func TestGateAgreesWithTheCLIOnTheReachedRoot(t *testing.T) {
	for _, image := range []string{"ghcr.io/example/sidecar:1.0.0", "docker.io/library/nginx"} {
		t.Run(image, func(t *testing.T) {
			h := newHarness(t)
			srv := gittest.NewHTTP(t, "", "")
			f := h.newFleet(srv.URL("fleet.git"), nil, "payments-api")
			h.setPolicy(clusterPolicy)
			a := h.automation(f, "payments-api-prod", "payments-api")
			h.gate("payments-api-prod", a.Name)
			h.waitReady("payments-api-prod", metav1.ConditionTrue, gatev1.UpToDateReason)
			target := h.head(f, "main")
			_, err := f.human.Commit(h.ctx, "main", "automation/payments-api-prod", map[string]string{
				"apps/payments-api/base/kustomization.yaml": "resources: [sidecar.yaml]\n",
				"apps/payments-api/base/sidecar.yaml":       workload("sidecar", image),
			}, "Add a sidecar")
			h.g.Expect(err).NotTo(HaveOccurred())
			p := h.iacPush(f, a, map[string]string{
				overlayPath("payments-api"): prodOverlay("payments-api", "ghcr.io/example/payments-api", "1.9.0", digestB),
			})
			g := h.waitReady("payments-api-prod", metav1.ConditionFalse, gatev1.PolicyViolationReason)

			// The CLI's path: P and T written out, the prod overlay checked at P.
			auth, err := git.NewAuth(f.url, nil)
			h.g.Expect(err).NotTo(HaveOccurred())
			auth.AllowInsecureHTTP = true
			sess, err := git.NewCache(t.TempDir()).Open(h.ctx, f.url, auth)
			h.g.Expect(err).NotTo(HaveOccurred())
			defer sess.Close()
			_, err = sess.Fetch(h.ctx)
			h.g.Expect(err).NotTo(HaveOccurred())
			head, base := t.TempDir(), t.TempDir()
			h.g.Expect(sess.Export(p, head, gitrev.DefaultLimits, nil)).To(Succeed())
			h.g.Expect(sess.Export(target, base, gitrev.DefaultLimits, nil)).To(Succeed())
			set, err := policy.Parse(policy.Source{Name: "base.yaml", Data: []byte(clusterPolicy)})
			h.g.Expect(err).NotTo(HaveOccurred())
			cli := check.Run(h.ctx, check.Request{
				Path: filepath.Join(head, "apps/payments-api/overlays/prod"), RepoRoot: head, BaseRoot: base,
				Policy: set, Query: policy.Query{Branch: "main"},
			})
			h.g.Expect(cli.Err).NotTo(HaveOccurred())

			ev := g.Status.LastEvaluation
			h.g.Expect(ev.Verdict).To(Equal(string(cli.Result.Verdict)))
			h.g.Expect(ev.Environment).To(Equal(cli.Result.Environment))
			var want []gatev1.Finding
			for _, f := range cli.Result.Findings {
				want = append(want, gatev1.Finding{Rule: f.Rule, Check: f.Check, Enforcement: string(f.Enforcement),
					Image: f.Image, File: f.Source.File, Field: f.Source.FieldPath, Message: f.Message, Fix: f.Fix})
			}
			h.g.Expect(want).NotTo(BeEmpty())
			h.g.Expect(ev.Findings).To(Equal(want), "the gate's findings are the CLI's for the reached root")
		})
	}
}
