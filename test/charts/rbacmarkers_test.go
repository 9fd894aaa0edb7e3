package charts

import (
	"path/filepath"
	"testing"

	rbacv1 "k8s.io/api/rbac/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"sigs.k8s.io/yaml"
)

// TestRBACMatchesControllerMarkers checks that the chart grants exactly what the
// controller declares it needs (its +kubebuilder:rbac markers, generated into
// flux-gate/config/rbac/role.yaml), in some Role or ClusterRole of every case: a new
// permission in the code cannot be forgotten in the chart, and the chart grants nothing
// the code does not ask for. Where it grants it (which namespaces) the envtest RBAC tests
// check.
func TestRBACMatchesControllerMarkers(t *testing.T) {
	path := filepath.Join(repoRoot, "flux-gate", "config", "rbac", "role.yaml")
	var role rbacv1.ClusterRole
	if err := yaml.Unmarshal(readFile(t, path, "make generate writes it"), &role); err != nil {
		t.Fatalf("read %s: %v", path, err)
	}
	for _, c := range allCases(t) {
		if c.Chart != "flux-gate" {
			continue
		}
		granted := map[string]bool{}
		r := renderCase(t, c)
		for _, o := range append(objectsOfKind(r.Objects, "ClusterRole"), objectsOfKind(r.Objects, "Role")...) {
			var cr rbacv1.ClusterRole
			if err := runtime.DefaultUnstructuredConverter.FromUnstructured(o.Object, &cr); err != nil {
				t.Fatal(err)
			}
			for _, k := range ruleKeys(cr.Rules) {
				granted[k] = true
			}
		}
		needed := map[string]bool{}
		for _, k := range ruleKeys(role.Rules) {
			needed[k] = true
			if !granted[k] {
				t.Errorf("%s: the controller needs %s (%s), which no Role or ClusterRole of the chart grants", c, k, path)
			}
		}
		for k := range granted {
			if !needed[k] {
				t.Errorf("%s: the chart grants %s, which the controller does not declare in %s", c, k, path)
			}
		}
	}
}

// ruleKeys flattens rules into "verb group/resource" strings.
func ruleKeys(rules []rbacv1.PolicyRule) []string {
	var out []string
	for _, r := range rules {
		for _, g := range r.APIGroups {
			for _, res := range r.Resources {
				for _, v := range r.Verbs {
					out = append(out, v+" "+g+"/"+res)
				}
			}
		}
	}
	return out
}
