package render

import (
	"context"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"testing"

	. "github.com/onsi/gomega"
	"sigs.k8s.io/kustomize/kyaml/yaml"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/golden")

// repo is the fixture repository; tests render paths inside it.
const repo = "testdata/repo"

func TestRender(t *testing.T) {
	tests := []struct {
		name     string
		opts     Options
		renderer string
		docs     []string // "file kind/name" per document, in order
		golden   string
		check    func(g *WithT, res *Result)
	}{
		{
			name:     "kustomize overlay over a base",
			opts:     Options{Path: repo + "/apps/web/overlays/prod", RepoRoot: repo},
			renderer: RendererKustomize,
			docs: []string{
				"apps/web/overlays/prod Service/web",
				"apps/web/overlays/prod Deployment/web",
			},
			golden: "kustomize-prod.yaml",
			check: func(g *WithT, res *Result) {
				g.Expect(field(res.Documents[1], "spec", "replicas")).To(Equal("4"))
				g.Expect(string(res.YAML)).To(ContainSubstring("image: ghcr.io/example/web:1.4.0@sha256:0f0e"))
				g.Expect(res.Documents[1].Node.Line).To(BeNumerically(">", 0))
			},
		},
		{
			name:     "kustomize overlay reading a shared file elsewhere in the repository",
			opts:     Options{Path: repo + "/apps/web/overlays/dev", RepoRoot: repo},
			renderer: RendererKustomize,
			docs: []string{
				"apps/web/overlays/dev ConfigMap/web-config-47668c6k28",
				"apps/web/overlays/dev Service/web",
				"apps/web/overlays/dev Deployment/web",
			},
			golden: "kustomize-dev.yaml",
		},
		{
			name:     "a kustomization file names its directory",
			opts:     Options{Path: repo + "/apps/web/overlays/prod/kustomization.yaml", RepoRoot: repo},
			renderer: RendererKustomize,
			docs:     []string{"apps/web/overlays/prod Service/web", "apps/web/overlays/prod Deployment/web"},
		},
		{
			name:     "plain YAML files, non-recursive, by name",
			opts:     Options{Path: repo + "/apps/plain", RepoRoot: repo},
			renderer: RendererYAML,
			docs: []string{
				"apps/plain/10-deployment.yaml Deployment/worker",
				"apps/plain/10-deployment.yaml ConfigMap/worker-config",
				"apps/plain/20-service.json Service/worker",
			},
			golden: "plain.yaml",
			check: func(g *WithT, res *Result) {
				// The merge key is expanded: readers see what the cluster sees.
				g.Expect(field(res.Documents[1], "data", "settings", "retries")).To(Equal("3"))
				g.Expect(res.Documents[0].Node.Line).To(Equal(3))
			},
		},
		{
			name:     "one plain file",
			opts:     Options{Path: repo + "/apps/plain/20-service.json"},
			renderer: RendererYAML,
			docs:     []string{"20-service.json Service/worker"},
		},
		{
			name:     "helm chart with its defaults",
			opts:     Options{Path: repo + "/charts/web", RepoRoot: repo},
			renderer: RendererHelm,
			docs: []string{
				"charts/web/crds/widgets.yaml CustomResourceDefinition/widgets.example.com",
				"charts/web/templates/service.yaml Service/release-name-web",
				"charts/web/templates/deployment.yaml Deployment/release-name-web",
			},
			check: func(g *WithT, res *Result) {
				g.Expect(string(res.YAML)).NotTo(ContainSubstring("Thank you"))
				g.Expect(field(res.Documents[2], "metadata", "namespace")).To(Equal("default"))
			},
		},
		{
			name: "helm chart with values, release, namespace, kube version",
			opts: Options{
				Path: repo + "/charts/web", RepoRoot: repo, ValuesFiles: []string{"values-prod.yaml"},
				ReleaseName: "web", Namespace: "web-prod", KubeVersion: "1.31",
			},
			renderer: RendererHelm,
			docs: []string{
				"charts/web/crds/widgets.yaml CustomResourceDefinition/widgets.example.com",
				"charts/web/templates/service.yaml ConfigMap/web-new-cluster",
				"charts/web/templates/service.yaml Service/web-web",
				"charts/web/templates/deployment.yaml Deployment/web-web",
				"charts/web/templates/migrate-job.yaml Job/web-migrate",
			},
			golden: "helm-prod.yaml",
		},
		{
			name: "helm values files merge in order",
			opts: Options{
				Path: repo + "/charts/web", RepoRoot: repo,
				ValuesFiles: []string{"/charts/web/values-prod.yaml", "values-canary.yaml"},
			},
			renderer: RendererHelm,
			docs: []string{
				"charts/web/crds/widgets.yaml CustomResourceDefinition/widgets.example.com",
				"charts/web/templates/service.yaml Service/release-name-web",
				"charts/web/templates/deployment.yaml Deployment/release-name-web",
				"charts/web/templates/migrate-job.yaml Job/release-name-migrate",
			},
			check: func(g *WithT, res *Result) {
				g.Expect(field(res.Documents[2], "spec", "replicas")).To(Equal("1"))
				g.Expect(string(res.YAML)).To(ContainSubstring(`image: ghcr.io/example/web:1.5.0-rc.1@sha256:0f0e`))
			},
		},
		{
			name:     "helm chart with a vendored subchart",
			opts:     Options{Path: repo + "/charts/umbrella", RepoRoot: repo},
			renderer: RendererHelm,
			docs: []string{
				"charts/umbrella/templates/configmap.yaml ConfigMap/release-name-umbrella",
				"charts/umbrella/charts/cache/templates/statefulset.yaml StatefulSet/release-name-cache",
			},
			check: func(g *WithT, res *Result) {
				g.Expect(string(res.YAML)).To(ContainSubstring("image: ghcr.io/example/cache:7.2"))
				g.Expect(string(res.YAML)).To(ContainSubstring("# Source: umbrella/charts/cache/templates/statefulset.yaml"))
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			g := NewWithT(t)
			res, err := Render(context.Background(), tt.opts)
			g.Expect(err).NotTo(HaveOccurred())
			g.Expect(res.Renderer).To(Equal(tt.renderer))
			g.Expect(summary(res)).To(Equal(tt.docs))
			for i, d := range res.Documents {
				g.Expect(d.Index).To(Equal(i))
				g.Expect(d.Node.Kind).To(Equal(yaml.MappingNode))
			}
			// The stream and the documents agree: the YAML parses back to the same list.
			back, err := ParseDocuments("out", res.YAML, Limits{})
			g.Expect(err).NotTo(HaveOccurred())
			g.Expect(back).To(HaveLen(len(res.Documents)))
			if tt.check != nil {
				tt.check(g, res)
			}
			if tt.golden != "" {
				compareGolden(t, tt.golden, res.YAML)
			}
		})
	}
}

// summary lists "file kind/name" for every document.
func summary(res *Result) []string {
	var out []string
	for _, d := range res.Documents {
		rn := yaml.NewRNode(d.Node)
		out = append(out, fmt.Sprintf("%s %s/%s", d.File, rn.GetKind(), rn.GetName()))
	}
	return out
}

// field reads a scalar at a path of mapping keys.
func field(d Document, path ...string) string {
	n, err := yaml.NewRNode(d.Node).Pipe(yaml.Lookup(path...))
	if err != nil || n == nil {
		return "<missing>"
	}
	return n.YNode().Value
}

func compareGolden(t *testing.T, name string, got []byte) {
	t.Helper()
	path := filepath.Join("testdata", "golden", name)
	if *update {
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("read golden file (run with -update to create it): %v", err)
	}
	if string(want) != string(got) {
		t.Errorf("%s differs from the render (run with -update to accept):\n--- want\n%s\n--- got\n%s", path, want, got)
	}
}
