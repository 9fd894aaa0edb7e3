package charts

import (
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"sigs.k8s.io/yaml"
)

// TestValuesDocumented checks that docs/install.md names every value of both charts, so
// that the values reference cannot fall behind the charts.
func TestValuesDocumented(t *testing.T) {
	doc := string(readFile(t, filepath.Join(repoRoot, "docs", "install.md"), "the install guide"))
	// Values whose content is a Kubernetes structure are documented as a whole.
	opaque := map[string]bool{"resources": true, "podSecurityContext": true, "securityContext": true,
		"sidecar.resources": true, "admissionPolicy.namespaceSelector": true}
	for _, chartName := range []string{"flux-gate", "argocd-promotion-gate"} {
		var values map[string]any
		path := filepath.Join(repoRoot, "charts", chartName, "values.yaml")
		if err := yaml.Unmarshal(readFile(t, path, ""), &values); err != nil {
			t.Fatalf("%s: %v", path, err)
		}
		for _, key := range valueKeys("", values, opaque) {
			if !strings.Contains(doc, "`"+key+"`") {
				t.Errorf("docs/install.md does not document %s value `%s`", chartName, key)
			}
		}
	}
}

// valueKeys lists the dotted paths of the leaves of values (an empty map is a leaf).
func valueKeys(prefix string, values map[string]any, opaque map[string]bool) []string {
	var out []string
	for k, v := range values {
		key := k
		if prefix != "" {
			key = prefix + "." + k
		}
		if m, ok := v.(map[string]any); ok && len(m) > 0 && !opaque[key] {
			out = append(out, valueKeys(key, m, opaque)...)
			continue
		}
		out = append(out, key)
	}
	sort.Strings(out)
	return out
}
