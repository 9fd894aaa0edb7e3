package check_test

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	gogit "github.com/go-git/go-git/v5"
	"github.com/go-git/go-git/v5/plumbing/object"
	. "github.com/onsi/gomega"

	"github.com/promotion-gate/promotion-gate/shared/check"
	"github.com/promotion-gate/promotion-gate/shared/evaluate"
	"github.com/promotion-gate/promotion-gate/shared/gitrev"
	"github.com/promotion-gate/promotion-gate/shared/policy"
)

const enginePolicy = `apiVersion: promotion-gate.io/v1alpha1
kind: PromotionPolicy
metadata: {name: engine}
spec:
  environments:
    - name: prod
      protected: true
      match: {paths: ["apps/*/overlays/prod/**", "clusters/prod/**", "charts/*/values-prod.yaml"], namespaces: ["*-prod"]}
    - name: staging
      match: {paths: ["apps/*/overlays/staging/**"]}
  rules:
    - name: prod-immutable-images
      environments: [prod]
      enforcement: deny
      requireDigest: true
      denyTags: ["latest"]
      allowedRegistries: ["ghcr.io/example/**"]
`

const (
	pinned  = "sha256:8d3f8f5a2e0d6c7e9d6b4f0b3e83b6d9a3b2f0d6f7a6c5e4d3c2b1a0f9e8d7c6"
	overlay = `resources: [../../base]
images:
  - name: ghcr.io/example/api
    newTag: 1.8.3
    digest: ` + pinned + "\n"
)

func deployment(name, image string) string {
	return `apiVersion: apps/v1
kind: Deployment
metadata: {name: ` + name + `}
spec:
  template:
    spec:
      containers:
        - name: main
          image: ` + image + "\n"
}

// fleetRepo commits the initial tree and returns the repository and its commit.
func fleetRepo(t *testing.T) (string, *gogit.Repository, string) {
	t.Helper()
	dir := t.TempDir()
	repo, err := gogit.PlainInit(dir, false)
	if err != nil {
		t.Fatal(err)
	}
	base := commit(t, repo, dir, map[string]string{
		"apps/api/base/kustomization.yaml":             "resources: [deployment.yaml]\n",
		"apps/api/base/deployment.yaml":                deployment("api", "ghcr.io/example/api:1.8.3"),
		"apps/api/overlays/prod/kustomization.yaml":    overlay,
		"apps/api/overlays/staging/kustomization.yaml": "resources: [../../base]\n",
		"apps/web/base/kustomization.yaml":             "resources: []\n",
		"apps/web/overlays/prod/kustomization.yaml":    "resources: [../../base]\n",
		"README.md":                            "fleet\n",
		"charts/pay/Chart.yaml":                "apiVersion: v2\nname: pay\nversion: 0.1.0\n",
		"charts/pay/values.yaml":               "image: ghcr.io/example/pay:1.0.0\n",
		"charts/pay/values-prod.yaml":          "image: ghcr.io/example/pay@" + pinned + "\n",
		"charts/pay/templates/deployment.yaml": deployment("pay", "{{ .Values.image }}"),
	})
	return dir, repo, base
}

func commit(t *testing.T, repo *gogit.Repository, dir string, files map[string]string) string {
	t.Helper()
	wt, err := repo.Worktree()
	if err != nil {
		t.Fatal(err)
	}
	for name, data := range files {
		p := filepath.Join(dir, filepath.FromSlash(name))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(data), 0o644); err != nil {
			t.Fatal(err)
		}
		if _, err := wt.Add(name); err != nil {
			t.Fatal(err)
		}
	}
	h, err := wt.Commit("change", &gogit.CommitOptions{Author: &object.Signature{Name: "Dana", Email: "dana@example.com", When: time.Now()}})
	if err != nil {
		t.Fatal(err)
	}
	return h.String()
}

func TestRunPromotion(t *testing.T) {
	set, err := policy.Parse(policy.Source{Name: "engine.yaml", Data: []byte(enginePolicy)})
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name        string
		change      map[string]string
		environment string
		noPolicy    bool
		bounds      check.Bounds
		verdict     evaluate.Verdict
		reason      check.Reason
		roots       []string
		findingIn   string // a finding's file, or "" for none
		errContains string
	}{
		{
			name:    "a protected file outside the automation's path, with a mutable image",
			change:  map[string]string{"clusters/prod/extra.yaml": deployment("evil", "ghcr.io/example/evil:latest")},
			verdict: evaluate.Denied, reason: check.ReasonPolicyViolation, findingIn: "clusters/prod/extra.yaml",
		},
		{
			name:    "a JSON manifest in prod",
			change:  map[string]string{"clusters/prod/extra.json": `{"apiVersion":"v1","kind":"Pod","metadata":{"name":"p"},"spec":{"containers":[{"name":"c","image":"ghcr.io/example/p:1.0.0"}]}}`},
			verdict: evaluate.Denied, reason: check.ReasonPolicyViolation, findingIn: "clusters/prod/extra.json",
		},
		{
			name:    "a base change that reaches prod through an overlay, with a mutable image",
			change:  map[string]string{"apps/api/base/sidecar.yaml": deployment("sidecar", "ghcr.io/example/sidecar:latest"), "apps/api/base/kustomization.yaml": "resources: [deployment.yaml, sidecar.yaml]\n"},
			verdict: evaluate.Denied, reason: check.ReasonPolicyViolation, roots: []string{"apps/api/overlays/prod"},
			// The finding names the file to edit: the base file that sets the image.
			findingIn: "apps/api/base/sidecar.yaml",
		},
		{
			name: "a dev overlay that renders the prod overlay on latest",
			change: map[string]string{"apps/evil/overlays/dev/kustomization.yaml": "resources: [../../../api/overlays/prod]\n" +
				"images: [{name: ghcr.io/example/api, newTag: latest, digest: ''}]\n"},
			verdict: evaluate.Denied, reason: check.ReasonPolicyViolation, roots: []string{"apps/evil/overlays/dev"},
		},
		{
			name:    "a dev overlay that renders into a prod namespace",
			change:  map[string]string{"apps/evil/overlays/dev/kustomization.yaml": "namespace: api-prod\nresources: [../../../api/base]\n"},
			verdict: evaluate.Denied, reason: check.ReasonPolicyViolation, roots: []string{"apps/evil/overlays/dev"},
		},
		{
			name: "a changed file outside any protected path that puts a Deployment into a prod namespace",
			change: map[string]string{"clusters/dev/evil.yaml": strings.Replace(deployment("evil", "ghcr.io/example/evil:latest"),
				"metadata: {name: evil}", "metadata: {name: evil, namespace: api-prod}", 1)},
			verdict: evaluate.Denied, reason: check.ReasonPolicyViolation, findingIn: "clusters/dev/evil.yaml",
		},
		{
			name:    "a dev overlay that reads no protected file stays out of the judgement",
			change:  map[string]string{"apps/api/overlays/dev/kustomization.yaml": "resources: [../../base]\n"},
			verdict: evaluate.Allowed,
		},
		{
			name:    "a file beside the prod overlay that its render does not read",
			change:  map[string]string{"apps/api/overlays/prod/notes/extra.yaml": "note: the overlay does not list this file\n"},
			verdict: evaluate.Allowed,
		},
		{
			name:    "a compliant base change that reaches prod through an overlay",
			change:  map[string]string{"apps/api/base/deployment.yaml": deployment("api", "ghcr.io/example/api:1.8.0")},
			verdict: evaluate.Allowed, roots: []string{"apps/api/overlays/prod"},
		},
		{
			name: "a component that the prod overlay takes in, rendered only as part of it",
			change: map[string]string{
				"apps/api/overlays/prod/components/debug/kustomization.yaml": "apiVersion: kustomize.config.k8s.io/v1alpha1\n" +
					"kind: Component\nresources: [debug.yaml]\n",
				"apps/api/overlays/prod/components/debug/debug.yaml": deployment("debug", "ghcr.io/example/debug:latest"),
				"apps/api/overlays/prod/kustomization.yaml":          overlay + "components: [components/debug]\n",
			},
			verdict: evaluate.Denied, reason: check.ReasonPolicyViolation, roots: []string{"apps/api/overlays/prod"},
			findingIn: "apps/api/overlays/prod/components/debug/debug.yaml",
		},
		{
			name:    "a chart template change that reaches prod through its prod values",
			change:  map[string]string{"charts/pay/templates/deployment.yaml": deployment("pay", "{{ .Values.image | replace \"@\" \":latest@\" }}")},
			verdict: evaluate.Denied, reason: check.ReasonPolicyViolation, roots: []string{"charts/pay"}, findingIn: "charts/pay/templates/deployment.yaml",
		},
		{
			name:    "a base that breaks the prod render",
			change:  map[string]string{"apps/api/base/kustomization.yaml": "resources: [missing.yaml]\n"},
			verdict: evaluate.Denied, reason: check.ReasonEvaluationFailed, roots: []string{"apps/api/overlays/prod"},
			errContains: "apps/api/overlays/prod",
		},
		{
			name:    "a prod file that cannot be parsed",
			change:  map[string]string{"clusters/prod/broken.yaml": "a: [\n"},
			verdict: evaluate.Denied, reason: check.ReasonEvaluationFailed, errContains: "clusters/prod/broken.yaml",
		},
		{
			name:    "as many protected roots as the bound",
			change:  map[string]string{"apps/api/base/deployment.yaml": deployment("api", "ghcr.io/example/api:1.8.0")},
			bounds:  check.Bounds{MaxRoots: 1},
			verdict: evaluate.Allowed, roots: []string{"apps/api/overlays/prod"},
		},
		{
			name:    "a root whose files are over the export bound",
			change:  map[string]string{"apps/api/base/deployment.yaml": deployment("api", "ghcr.io/example/api:1.8.0")},
			bounds:  check.Bounds{Export: gitrev.Limits{MaxFiles: 2}},
			verdict: evaluate.Denied, reason: check.ReasonEvaluationFailed, errContains: "more than 2 files",
		},
		{
			name:    "a change that reaches no protected root",
			change:  map[string]string{"README.md": "fleet, documented\n"},
			verdict: evaluate.Allowed,
		},
		{
			name:        "an environment the policy does not define",
			change:      map[string]string{"README.md": "x\n"},
			environment: "production",
			verdict:     evaluate.Denied, reason: check.ReasonPolicyInvalid, errContains: "production",
		},
		{
			name:     "no policy",
			change:   map[string]string{"README.md": "x\n"},
			noPolicy: true,
			verdict:  evaluate.Denied, reason: check.ReasonPolicyInvalid, errContains: "no policy",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			g := NewWithT(t)
			dir, repo, base := fleetRepo(t)
			head := commit(t, repo, dir, tt.change)
			revs, err := gitrev.Open(dir)
			g.Expect(err).NotTo(HaveOccurred())
			req := check.PromotionCheck{Policy: set, Revisions: revs, Base: base, Head: head, Branch: "main",
				Environment: tt.environment, Scope: "apps/api/overlays/prod", Bounds: tt.bounds, WorkDir: t.TempDir()}
			if tt.noPolicy {
				req.Policy = nil
			}
			out := check.RunPromotion(context.Background(), req)
			g.Expect(out.Result.Verdict).To(Equal(tt.verdict), "%+v", out.Result)
			g.Expect(out.Reason).To(Equal(tt.reason))
			var roots []string
			for _, r := range out.Roots {
				roots = append(roots, r.Path)
			}
			g.Expect(roots).To(Equal(tt.roots))
			if tt.findingIn != "" {
				g.Expect(out.Result.Findings).To(ContainElement(HaveField("Source.File", tt.findingIn)))
			}
			if tt.errContains != "" {
				g.Expect(out.Result.Error).To(ContainSubstring(tt.errContains))
			} else {
				g.Expect(out.Result.Error).To(BeEmpty())
			}
			entries, err := os.ReadDir(req.WorkDir)
			g.Expect(err).NotTo(HaveOccurred())
			g.Expect(entries).To(BeEmpty(), "the check removes what it wrote")
		})
	}
}

// TestRunPromotionBoundHolds: a promotion that reaches more protected roots than the
// bound holds, naming the bound.
func TestRunPromotionBoundHolds(t *testing.T) {
	g := NewWithT(t)
	set, err := policy.Parse(policy.Source{Name: "engine.yaml", Data: []byte(enginePolicy)})
	g.Expect(err).NotTo(HaveOccurred())
	dir, repo, base := fleetRepo(t)
	// One shared file that both prod overlays read.
	head := commit(t, repo, dir, map[string]string{
		"apps/shared/kustomization.yaml":            "resources: []\n",
		"apps/api/overlays/prod/kustomization.yaml": strings.Replace(overlay, "[../../base]", "[../../base, ../../shared]", 1),
		"apps/web/overlays/prod/kustomization.yaml": "resources: [../../base, ../../shared]\n",
	})
	revs, err := gitrev.Open(dir)
	g.Expect(err).NotTo(HaveOccurred())
	out := check.RunPromotion(context.Background(), check.PromotionCheck{Policy: set, Revisions: revs, Base: base, Head: head,
		Branch: "main", Bounds: check.Bounds{MaxRoots: 1}})
	g.Expect(out.Result.Verdict).To(Equal(evaluate.Denied))
	g.Expect(out.Reason).To(Equal(check.ReasonEvaluationFailed))
	g.Expect(out.Result.Error).To(ContainSubstring("more than 1 protected render roots"))
}

func TestWarmUp(t *testing.T) {
	if err := check.WarmUp(context.Background()); err != nil {
		t.Fatalf("WarmUp: %v", err)
	}
}
