package charts

import (
	"context"
	"fmt"
	"github.com/promotion-gate/promotion-gate/test/internal/manifests"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"helm.sh/helm/v3/pkg/action"
	"helm.sh/helm/v3/pkg/chart"
	"helm.sh/helm/v3/pkg/chart/loader"
	"helm.sh/helm/v3/pkg/chartutil"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
)

// repoRoot is the repository root, seen from this package's directory.
const repoRoot = "../.."

// kubeVersion is the Kubernetes version the charts are rendered for: the version of the
// envtest kube-apiserver the output is applied to.
var kubeVersion = &chartutil.KubeVersion{Version: "v1.34.4", Major: "1", Minor: "34"}

// chartCase is one rendering of one chart: its default values, or a ci/*.yaml on top.
type chartCase struct {
	Chart      string // directory name under charts/, e.g. "flux-gate"
	Name       string // "default", or the ci file name without "-values.yaml"/".yaml"
	ValuesFile string // path of the ci file; "" for the defaults
}

// Namespace is where the case is installed: the namespace each chart is meant for.
func (c chartCase) Namespace() string {
	if c.Chart == "argocd-promotion-gate" {
		return "argocd"
	}
	return "flux-system"
}

// Release names the Helm release after the case, so that the cluster-scoped objects of
// two cases never share a name on one API server.
func (c chartCase) Release() string { return c.Name }

// Dir is the chart directory.
func (c chartCase) Dir() string { return filepath.Join(repoRoot, "charts", c.Chart) }

func (c chartCase) String() string { return c.Chart + "/" + c.Name }

// Values are the case's values (nil for the defaults), as Helm reads a -f file.
func (c chartCase) Values(t testing.TB) map[string]any {
	t.Helper()
	if c.ValuesFile == "" {
		return map[string]any{}
	}
	v, err := chartutil.ReadValuesFile(c.ValuesFile)
	if err != nil {
		t.Fatalf("read values %s: %v", c.ValuesFile, err)
	}
	return v.AsMap()
}

// allCases lists every chart under charts/ with its default values and each ci/*.yaml.
func allCases(t testing.TB) []chartCase {
	t.Helper()
	charts, err := filepath.Glob(filepath.Join(repoRoot, "charts", "*", "Chart.yaml"))
	if err != nil || len(charts) == 0 {
		t.Fatalf("no charts under %s/charts (err %v)", repoRoot, err)
	}
	var cases []chartCase
	for _, c := range charts {
		dir := filepath.Dir(c)
		name := filepath.Base(dir)
		cases = append(cases, chartCase{Chart: name, Name: "default"})
		files, _ := filepath.Glob(filepath.Join(dir, "ci", "*.yaml"))
		sort.Strings(files)
		for _, f := range files {
			base := strings.TrimSuffix(strings.TrimSuffix(filepath.Base(f), ".yaml"), "-values")
			cases = append(cases, chartCase{Chart: name, Name: base, ValuesFile: f})
		}
	}
	return cases
}

// findCase returns the case chart/name, failing the test when it does not exist.
func findCase(t testing.TB, chartName, name string) chartCase {
	t.Helper()
	for _, c := range allCases(t) {
		if c.Chart == chartName && c.Name == name {
			return c
		}
	}
	t.Fatalf("no case %s/%s: is charts/%s/ci/%s-values.yaml missing?", chartName, name, chartName, name)
	return chartCase{}
}

// rendered is a chart rendered the way `helm install` would send it.
type rendered struct {
	Manifest string                       // the templates, as `helm template` prints them
	Notes    string                       // NOTES.txt
	CRDs     []*unstructured.Unstructured // crds/, installed by Helm before the templates
	Objects  []*unstructured.Unstructured // the templates' objects, in Helm's install order
}

// renderCase renders c with the Helm SDK, as `helm install --dry-run` does without a
// cluster: values schema validation included.
func renderCase(t testing.TB, c chartCase) rendered {
	t.Helper()
	r, err := renderChart(c.Dir(), c.Release(), c.Namespace(), c.Values(t))
	if err != nil {
		t.Fatalf("render %s: %v", c, err)
	}
	return r
}

// renderChart renders the chart in dir with values for the release name and namespace.
func renderChart(dir, releaseName, namespace string, values map[string]any) (rendered, error) {
	ch, err := loader.Load(dir)
	if err != nil {
		return rendered{}, fmt.Errorf("load chart %s: %w", dir, err)
	}
	install := action.NewInstall(&action.Configuration{Log: func(string, ...any) {}})
	install.DryRun = true
	install.ClientOnly = true
	install.ReleaseName = releaseName
	install.Namespace = namespace
	install.KubeVersion = kubeVersion
	// The ServiceMonitor API is what a cluster with prometheus-operator offers.
	install.APIVersions = chartutil.VersionSet{"monitoring.coreos.com/v1", "monitoring.coreos.com/v1/ServiceMonitor"}
	rel, err := install.RunWithContext(context.Background(), ch, values)
	if err != nil {
		return rendered{}, err
	}
	objs, err := manifests.Decode(rel.Manifest)
	if err != nil {
		return rendered{}, fmt.Errorf("decode rendered manifest of %s: %w", dir, err)
	}
	crds, err := chartCRDs(ch)
	if err != nil {
		return rendered{}, err
	}
	return rendered{Manifest: rel.Manifest, Notes: rel.Info.Notes, CRDs: crds, Objects: objs}, nil
}

// chartCRDs decodes the chart's crds/ files.
func chartCRDs(ch *chart.Chart) ([]*unstructured.Unstructured, error) {
	var out []*unstructured.Unstructured
	for _, f := range ch.CRDObjects() {
		objs, err := manifests.Decode(string(f.File.Data))
		if err != nil {
			return nil, fmt.Errorf("decode %s: %w", f.Filename, err)
		}
		out = append(out, objs...)
	}
	return out, nil
}

// objectsOfKind returns the objects of kind, in order.
func objectsOfKind(objs []*unstructured.Unstructured, kind string) []*unstructured.Unstructured {
	var out []*unstructured.Unstructured
	for _, o := range objs {
		if o.GetKind() == kind {
			out = append(out, o)
		}
	}
	return out
}

// readFile reads a repository file, failing the test with the fix when it is missing.
func readFile(t testing.TB, path, fix string) []byte {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("read %s: %v (%s)", path, err, fix)
	}
	return b
}
