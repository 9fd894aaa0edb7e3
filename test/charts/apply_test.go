package charts

import (
	"context"
	"strings"
	"testing"

	. "github.com/onsi/gomega"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"sigs.k8s.io/yaml"
)

// TestApplyToAPIServer installs every case on a real kube-apiserver with server-side
// apply and strict field validation: a field the API does not know, a wrong type or an
// invalid value (a CEL expression that does not compile, a bad label) fails here.
func TestApplyToAPIServer(t *testing.T) {
	s := needCluster(t)
	for _, c := range allCases(t) {
		t.Run(c.String(), func(t *testing.T) {
			s.install(t, renderCase(t, c))
		})
	}
}

// TestArgoCDValuesSnippet applies the repo-server sidecar that NOTES.txt tells the admin
// to add with the argo-cd chart, as a repo-server Deployment with the argo-cd chart's own
// var-files and plugins volumes, so that the snippet is valid Kubernetes, not just YAML.
func TestArgoCDValuesSnippet(t *testing.T) {
	s := needCluster(t)
	for _, c := range allCases(t) {
		if c.Chart != "argocd-promotion-gate" {
			continue
		}
		t.Run(c.String(), func(t *testing.T) {
			g := NewWithT(t)
			r := renderCase(t, c)
			snippet := argoCDValues(t, r.Notes)
			repoServer, _ := snippet["repoServer"].(map[string]any)
			g.Expect(repoServer).To(HaveKey("extraContainers"))
			g.Expect(repoServer).To(HaveKey("volumes"))

			containers := append([]any{map[string]any{
				"name": "repo-server", "image": "quay.io/argoproj/argocd:v2.14.21",
				"volumeMounts": []any{
					map[string]any{"name": "var-files", "mountPath": "/var/run/argocd"},
					map[string]any{"name": "plugins", "mountPath": "/home/argocd/cmp-server/plugins"},
				},
			}}, repoServer["extraContainers"].([]any)...)
			volumes := append([]any{
				map[string]any{"name": "var-files", "emptyDir": map[string]any{}},
				map[string]any{"name": "plugins", "emptyDir": map[string]any{}},
			}, repoServer["volumes"].([]any)...)
			labels := map[string]any{"app.kubernetes.io/name": "argocd-repo-server"}
			deploy := &unstructured.Unstructured{Object: map[string]any{
				"apiVersion": "apps/v1", "kind": "Deployment",
				"metadata": map[string]any{"name": "argocd-repo-server-" + c.Name, "namespace": c.Namespace()},
				"spec": map[string]any{
					"selector": map[string]any{"matchLabels": labels},
					"template": map[string]any{
						"metadata": map[string]any{"labels": labels},
						"spec":     map[string]any{"containers": containers, "volumes": volumes},
					},
				},
			}}
			ctx := context.Background()
			g.Expect(s.ensureNamespaces(ctx, []*unstructured.Unstructured{deploy})).To(Succeed())
			g.Expect(s.apply(ctx, deploy)).To(Succeed())
			t.Cleanup(func() { _ = s.remove(ctx, deploy) })
		})
	}
}

// argoCDValues extracts the argo-cd chart values between the markers of NOTES.txt.
func argoCDValues(t *testing.T, notes string) map[string]any {
	t.Helper()
	const begin, end = "# --- argo-cd chart values ---\n", "# --- end ---"
	i, j := strings.Index(notes, begin), strings.Index(notes, end)
	if i < 0 || j < i {
		t.Fatalf("NOTES.txt has no argo-cd chart values between %q and %q:\n%s", begin, end, notes)
	}
	var v map[string]any
	if err := yaml.Unmarshal([]byte(notes[i+len(begin):j]), &v); err != nil {
		t.Fatalf("the argo-cd chart values in NOTES.txt are not YAML: %v", err)
	}
	return v
}
