package charts

import (
	"encoding/json"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"testing"

	"github.com/fluxcd/pkg/runtime/leaderelection"
	"github.com/fluxcd/pkg/runtime/logger"
	. "github.com/onsi/gomega"
	"github.com/spf13/pflag"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"

	"github.com/promotion-gate/promotion-gate/shared/policy"
)

const syncFix = "run hack/charts-sync.sh to copy it into the chart"

// TestChartCopiesInSync keeps the files the charts carry a copy of identical to their
// sources: a chart cannot read outside its directory, so it holds copies.
func TestChartCopiesInSync(t *testing.T) {
	t.Run("PromotionGate CRD", func(t *testing.T) {
		g := NewWithT(t)
		src, _ := filepath.Glob(filepath.Join(repoRoot, "flux-gate", "config", "crd", "bases", "*.yaml"))
		g.Expect(src).NotTo(BeEmpty(), "no generated CRD in flux-gate/config/crd/bases (make generate)")
		dst, _ := filepath.Glob(filepath.Join(repoRoot, "charts", "flux-gate", "crds", "*.yaml"))
		g.Expect(baseNames(dst)).To(Equal(baseNames(src)), syncFix)
		for _, s := range src {
			d := filepath.Join(repoRoot, "charts", "flux-gate", "crds", filepath.Base(s))
			g.Expect(string(readFile(t, d, syncFix))).To(Equal(string(readFile(t, s, "make generate"))),
				"%s differs from %s: %s", d, s, syncFix)
		}
	})
	t.Run("plugin.yaml", func(t *testing.T) {
		src := filepath.Join(repoRoot, "argocd-plugin", "plugin.yaml")
		dst := filepath.Join(repoRoot, "charts", "argocd-promotion-gate", "files", "plugin.yaml")
		NewWithT(t).Expect(string(readFile(t, dst, syncFix))).To(Equal(string(readFile(t, src, "the plugin's own file"))),
			"%s differs from %s: %s", dst, src, syncFix)
	})
	t.Run("policy values format", func(t *testing.T) {
		g := NewWithT(t)
		a := filepath.Join(repoRoot, "charts", "flux-gate", "templates", "_policy.tpl")
		b := filepath.Join(repoRoot, "charts", "argocd-promotion-gate", "templates", "_policy.tpl")
		g.Expect(string(readFile(t, b, ""))).To(Equal(string(readFile(t, a, ""))),
			"the charts share one policy values format: keep %s and %s identical", a, b)
		g.Expect(schemaDefinition(t, "argocd-promotion-gate", "policies")).To(Equal(schemaDefinition(t, "flux-gate", "policies")),
			"the charts share one policy values format: keep definitions.policies of both values.schema.json identical")
	})
}

// TestFluxGateFlagsKnown checks that every flag the Deployment passes is one the
// controller defines (in flux-gate/cmd/flux-gate, or through the Flux runtime options it
// binds: logging and leader election), so that a renamed flag cannot crash-loop an
// installation.
func TestFluxGateFlagsKnown(t *testing.T) {
	g := NewWithT(t)
	srcFiles, _ := filepath.Glob(filepath.Join(repoRoot, "flux-gate", "cmd", "flux-gate", "*.go"))
	g.Expect(srcFiles).NotTo(BeEmpty(), "flux-gate/cmd/flux-gate has no source to check the chart's flags against")
	var src strings.Builder
	for _, f := range srcFiles {
		if !strings.HasSuffix(f, "_test.go") {
			src.Write(readFile(t, f, ""))
		}
	}
	g.Expect(src.String()).To(And(ContainSubstring("logOptions.BindFlags"), ContainSubstring("leaderElection.BindFlags")),
		"flux-gate no longer binds the Flux runtime's log and leader-election flags: update this test and the chart")
	runtimeFlags := pflag.NewFlagSet("flux-runtime", pflag.ContinueOnError)
	(&logger.Options{}).BindFlags(runtimeFlags)
	(&leaderelection.Options{}).BindFlags(runtimeFlags)

	flagName := regexp.MustCompile(`^--([a-z0-9-]+)(=|$)`)
	for _, c := range allCases(t) {
		if c.Chart != "flux-gate" {
			continue
		}
		for _, d := range objectsOfKind(renderCase(t, c).Objects, "Deployment") {
			containers, _, _ := unstructured.NestedSlice(d.Object, "spec", "template", "spec", "containers")
			for _, ctr := range containers {
				args, _ := ctr.(map[string]any)["args"].([]any)
				for _, a := range args {
					m := flagName.FindStringSubmatch(a.(string))
					g.Expect(m).NotTo(BeNil(), "%s: argument %q is not a --flag", c, a)
					known := runtimeFlags.Lookup(m[1]) != nil || strings.Contains(src.String(), `"`+m[1]+`"`)
					g.Expect(known).To(BeTrue(), "%s: the chart passes --%s, which flux-gate does not define", c, m[1])
				}
			}
		}
	}
}

// TestPoliciesFromValuesAreValid loads the policy ConfigMaps each case renders with the
// same loader flux-gate uses, so that the values format cannot drift from the policy core.
func TestPoliciesFromValuesAreValid(t *testing.T) {
	seen := 0
	for _, c := range allCases(t) {
		var cms []policy.ConfigMap
		for _, o := range objectsOfKind(renderCase(t, c).Objects, "ConfigMap") {
			if o.GetLabels()["promotion-gate.io/policy"] != "true" {
				continue
			}
			var cm corev1.ConfigMap
			if err := runtime.DefaultUnstructuredConverter.FromUnstructured(o.Object, &cm); err != nil {
				t.Fatalf("%s: ConfigMap %s: %v", c, o.GetName(), err)
			}
			for key := range cm.Data {
				if !strings.HasSuffix(key, ".yaml") {
					t.Errorf("%s: ConfigMap %s key %q: policy keys end in .yaml", c, cm.Name, key)
				}
			}
			cms = append(cms, policy.ConfigMap{Namespace: cm.Namespace, Name: cm.Name, Labels: cm.Labels, Data: cm.Data})
		}
		if len(cms) == 0 {
			continue
		}
		seen++
		set, err := policy.FromConfigMaps(cms)
		if err != nil {
			t.Errorf("%s: the rendered policy ConfigMaps do not load: %v", c, err)
			continue
		}
		t.Logf("%s: policy %s from %v", c, set.Revision, set.Sources)
	}
	if seen == 0 {
		t.Fatal("no case renders a policy ConfigMap: add policies to a charts/*/ci/*.yaml")
	}
}

func baseNames(paths []string) []string {
	out := make([]string, 0, len(paths))
	for _, p := range paths {
		out = append(out, filepath.Base(p))
	}
	sort.Strings(out)
	return out
}

// schemaDefinition returns definitions.<name> of a chart's values.schema.json.
func schemaDefinition(t *testing.T, chartName, name string) any {
	t.Helper()
	path := filepath.Join(repoRoot, "charts", chartName, "values.schema.json")
	var s struct {
		Definitions map[string]any `json:"definitions"`
	}
	b, err := os.ReadFile(path)
	if err == nil {
		err = json.Unmarshal(b, &s)
	}
	if err != nil {
		t.Fatalf("read %s: %v", path, err)
	}
	return s.Definitions[name]
}
