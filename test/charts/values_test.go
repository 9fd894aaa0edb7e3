package charts

import (
	"encoding/json"
	"regexp"
	"testing"

	"github.com/bmatcuk/doublestar/v4"
	. "github.com/onsi/gomega"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
)

// TestValuesRejected: values a person could get wrong fail at `helm install` with a
// message that names the value, instead of rendering something that breaks later.
func TestValuesRejected(t *testing.T) {
	for _, tt := range []struct {
		name, chart string
		values      map[string]any
		want        string
	}{
		{"typo at the top", "flux-gate", map[string]any{"polices": map[string]any{}}, "additional properties 'polices' not allowed"},
		{"typo in controller", "flux-gate", map[string]any{"controller": map[string]any{"watchNamespace": "a"}}, "watchNamespace"},
		{"policy of another kind", "flux-gate", map[string]any{"policies": map[string]any{"p": map[string]any{
			"apiVersion": "promotion-gate.io/v1alpha1", "kind": "Policy", "spec": map[string]any{}}}}, "PromotionPolicy"},
		{"policy name not a DNS label", "argocd-promotion-gate", map[string]any{"policies": map[string]any{"Prod_Policy": "x: y"}}, "Prod_Policy"},
		{"empty policy", "flux-gate", map[string]any{"policies": map[string]any{"p": ""}}, "policies"},
		{"two replicas without leader election", "flux-gate", map[string]any{"replicaCount": 2,
			"controller": map[string]any{"leaderElection": false}}, "needs controller.leaderElection"},
		{"disruption budget that blocks every drain", "flux-gate", map[string]any{"replicaCount": 2,
			"podDisruptionBudget": map[string]any{"minAvailable": 2}}, "podDisruptionBudget.minAvailable must be less than replicaCount"},
		{"ServiceMonitor without Service", "flux-gate", map[string]any{"metrics": map[string]any{
			"service": map[string]any{"enabled": false}, "serviceMonitor": map[string]any{"enabled": true}}}, "needs metrics.service.enabled"},
		{"image digest malformed", "flux-gate", map[string]any{"image": map[string]any{"repository": "r", "digest": "latest"}}, "digest"},
		{"admission policy with nothing to guard", "argocd-promotion-gate", map[string]any{"admissionPolicy": map[string]any{"enabled": true}},
			"no protected path, application, namespace or project to guard"},
		{"admission glob with a class", "argocd-promotion-gate", map[string]any{"admissionPolicy": map[string]any{"enabled": true,
			"protectedPaths": []any{"apps/[ab]/prod/**"}}}, "protectedPaths"},
		{"admission glob with a class from the policy", "argocd-promotion-gate", map[string]any{
			"admissionPolicy": map[string]any{"enabled": true},
			"policies":        map[string]any{"p": "apiVersion: promotion-gate.io/v1alpha1\nkind: PromotionPolicy\nspec:\n  environments:\n  - name: prod\n    protected: true\n    match: {paths: ['apps/[ab]/prod/**']}\n"}},
			"uses a character class"},
		{"admission glob with nested braces", "argocd-promotion-gate", map[string]any{"admissionPolicy": map[string]any{"enabled": true,
			"protectedPaths": []any{"apps/{a,{b,c}}/prod"}}}, "unbalanced or nested"},
		{"admission glob with braces across segments", "argocd-promotion-gate", map[string]any{"admissionPolicy": map[string]any{"enabled": true,
			"protectedPaths": []any{"{apps/prod,clusters/prod}/**"}}}, "spans a '/'"},
		{"admission without a plugin name", "argocd-promotion-gate", map[string]any{"admissionPolicy": map[string]any{"enabled": true,
			"protectedPaths": []any{"prod/**"}, "pluginNames": []any{}}}, "pluginNames"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			_, err := renderChart(chartCase{Chart: tt.chart}.Dir(), "x", "ns", tt.values)
			NewWithT(t).Expect(err).To(MatchError(ContainSubstring(tt.want)))
		})
	}
}

// TestAdmissionGlobsMatchPolicyCore: the admission policy turns the policy's doublestar
// globs into RE2 expressions (CEL's matches() is RE2, as Go's regexp is); on every sample
// path they must agree with doublestar, which the policy core classifies with.
func TestAdmissionGlobsMatchPolicyCore(t *testing.T) {
	globs := []string{
		"apps/*/overlays/prod/**", "clusters/prod/**", "charts/*/values-prod.yaml", "**/prod/**",
		"**", "**/values-prod.yaml", "envs/{prod,production}/**", "apps/**/prod", "apps/x?/prod",
		"apps/*", "a.b+c/(x)/$y^", "apps/pay*-api/**",
	}
	paths := []string{
		"", "apps", "apps/x", "apps/x/overlays/prod", "apps/x/overlays/prod/kustomization.yaml",
		"apps/x/y/overlays/prod", "apps/x/overlays/production", "apps/x/overlays/staging",
		"clusters/prod", "clusters/prod/a/b/c", "clusters/production", "charts/pay/values-prod.yaml",
		"charts/pay/values-prod.yaml.bak", "charts/a/b/values-prod.yaml", "prod", "x/prod/y", "prod/y",
		"envs/prod", "envs/production/x", "envs/prodx", "apps/prod", "apps/a/b/prod", "apps/xy/prod",
		"apps/xyz/prod", "apps/x/prod", "a.b+c/(x)/$y^", "aXb+c/(x)/$y^", "apps/payments-api/a", "apps/pay-api",
		".hidden/prod/x", "apps/.x/overlays/prod",
	}
	r, err := renderChart(chartCase{Chart: "argocd-promotion-gate"}.Dir(), "x", "argocd", map[string]any{
		"admissionPolicy": map[string]any{"enabled": true, "protectedPaths": toAny(globs),
			"fromPolicies": map[string]any{"paths": false}}})
	if err != nil {
		t.Fatal(err)
	}
	exprs := admissionVariable(t, r, "pathRegexes")
	if len(exprs) != len(globs) {
		t.Fatalf("want %d expressions, got %d: %q", len(globs), len(exprs), exprs)
	}
	for i, glob := range globs {
		re := regexp.MustCompile(exprs[i])
		for _, p := range paths {
			want, err := doublestar.Match(glob, p)
			if err != nil {
				t.Fatalf("doublestar %q: %v", glob, err)
			}
			if got := re.MatchString(p); got != want {
				t.Errorf("glob %q as %q on path %q: admission policy says %v, policy core says %v", glob, exprs[i], p, got, want)
			}
		}
	}
}

// admissionVariable returns the JSON list held by the named variable of the rendered
// ValidatingAdmissionPolicy.
func admissionVariable(t *testing.T, r rendered, name string) []string {
	t.Helper()
	for _, vap := range objectsOfKind(r.Objects, "ValidatingAdmissionPolicy") {
		vars, _, _ := unstructured.NestedSlice(vap.Object, "spec", "variables")
		for _, v := range vars {
			m := v.(map[string]any)
			if m["name"] != name {
				continue
			}
			var out []string
			if err := json.Unmarshal([]byte(m["expression"].(string)), &out); err != nil {
				t.Fatalf("variable %s: %v", name, err)
			}
			return out
		}
	}
	t.Fatalf("no ValidatingAdmissionPolicy variable %s", name)
	return nil
}

func toAny(s []string) []any {
	out := make([]any, len(s))
	for i, v := range s {
		out[i] = v
	}
	return out
}
