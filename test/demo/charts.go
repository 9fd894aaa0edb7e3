package demo

import (
	"context"
	"fmt"
	"github.com/promotion-gate/promotion-gate/test/internal/manifests"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"

	"helm.sh/helm/v3/pkg/action"
	"helm.sh/helm/v3/pkg/chart/loader"
	"helm.sh/helm/v3/pkg/chartutil"
	apiextensionsv1 "k8s.io/apiextensions-apiserver/pkg/apis/apiextensions/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/client-go/discovery"
	"k8s.io/client-go/rest"
)

// rendered is a chart rendered the way `helm install` sends it to a cluster.
type rendered struct {
	CRDs    []*apiextensionsv1.CustomResourceDefinition // crds/, installed first
	Objects []*unstructured.Unstructured                // the templates, in Helm's order
}

// policyValues reads the example policy directory, and extra policy files, into the
// charts' `policies` value: one entry per file, the file's text, as
// `--set-file policies.<name>=<file>` gives it.
func policyValues(dir string, extra ...string) (map[string]any, error) {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil, fmt.Errorf("read the example policy %s: %w", dir, err)
	}
	files := slices.Clone(extra)
	for _, e := range entries {
		ext := filepath.Ext(e.Name())
		if !e.IsDir() && (ext == ".yaml" || ext == ".yml") {
			files = append(files, filepath.Join(dir, e.Name()))
		}
	}
	if len(files) == len(extra) {
		return nil, fmt.Errorf("no policy file (*.yaml) in %s", dir)
	}
	policies := map[string]any{}
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			return nil, fmt.Errorf("read the example policy %s: %w", f, err)
		}
		policies[strings.TrimSuffix(filepath.Base(f), filepath.Ext(f))] = string(b)
	}
	return map[string]any{"policies": policies}, nil
}

// renderChart renders the chart in dir for a release in namespace, with the cluster's
// version (kubeVersion when the server reports none) and API groups as Helm's Capabilities, as `helm install` would.
func renderChart(ctx context.Context, cfg *rest.Config, kubeVersion, dir, release, namespace string, values map[string]any) (*rendered, error) {
	ch, err := loader.Load(dir)
	if err != nil {
		return nil, fmt.Errorf("load chart %s: %w", dir, err)
	}
	kv, apiVersions, err := capabilities(cfg, kubeVersion)
	if err != nil {
		return nil, err
	}
	install := action.NewInstall(&action.Configuration{Log: func(string, ...any) {}})
	install.DryRun = true
	install.ClientOnly = true
	install.ReleaseName = release
	install.Namespace = namespace
	install.KubeVersion = kv
	install.APIVersions = apiVersions
	rel, err := install.RunWithContext(ctx, ch, values)
	if err != nil {
		return nil, fmt.Errorf("render chart %s: %w", dir, err)
	}
	out := &rendered{}
	if out.Objects, err = manifests.Decode(rel.Manifest); err != nil {
		return nil, fmt.Errorf("decode the manifest of chart %s: %w", dir, err)
	}
	for _, f := range ch.CRDObjects() {
		objs, err := manifests.Decode(string(f.File.Data))
		if err != nil {
			return nil, fmt.Errorf("decode %s of chart %s: %w", f.Filename, dir, err)
		}
		for _, o := range objs {
			crd := &apiextensionsv1.CustomResourceDefinition{}
			if err := runtime.DefaultUnstructuredConverter.FromUnstructured(o.Object, crd); err != nil {
				return nil, fmt.Errorf("decode CRD %s of chart %s: %w", f.Filename, dir, err)
			}
			out.CRDs = append(out.CRDs, crd)
		}
	}
	return out, nil
}

// capabilities asks the API server for its version and API groups, as Helm does.
func capabilities(cfg *rest.Config, kubeVersion string) (*chartutil.KubeVersion, chartutil.VersionSet, error) {
	dc, err := discovery.NewDiscoveryClientForConfig(cfg)
	if err != nil {
		return nil, nil, fmt.Errorf("discovery client: %w", err)
	}
	info, err := dc.ServerVersion()
	if err != nil {
		return nil, nil, fmt.Errorf("read the API server version: %w", err)
	}
	version := info.GitVersion
	if kv, err := chartutil.ParseKubeVersion(version); err != nil || kv.Major == "0" {
		// A kube-apiserver built with `go build` (hack/envtest-assets.sh) has no version
		// stamped in; the version of the k8s.io/kubernetes module it was built from is
		// what it runs.
		version = kubeVersion
	}
	kv, err := chartutil.ParseKubeVersion(version)
	if err != nil {
		return nil, nil, fmt.Errorf("parse the API server version %q: %w", version, err)
	}
	_, lists, err := dc.ServerGroupsAndResources()
	if err != nil && !discovery.IsGroupDiscoveryFailedError(err) {
		return nil, nil, fmt.Errorf("discover the API groups: %w", err)
	}
	seen := map[string]bool{}
	for _, l := range lists {
		seen[l.GroupVersion] = true
		for _, r := range l.APIResources {
			seen[l.GroupVersion+"/"+r.Kind] = true
		}
	}
	versions := make([]string, 0, len(seen))
	for v := range seen {
		versions = append(versions, v)
	}
	sort.Strings(versions)
	return kv, chartutil.VersionSet(versions), nil
}

// kindSummary lists objects briefly: ConfigMaps by name (they hold the policy and the
// plugin), other kinds with their count.
func kindSummary(objs []*unstructured.Unstructured) string {
	var kinds []string
	count := map[string]int{}
	var parts []string
	for _, o := range objs {
		if o.GetKind() == "ConfigMap" {
			parts = append(parts, "ConfigMap "+o.GetNamespace()+"/"+o.GetName())
			continue
		}
		if count[o.GetKind()] == 0 {
			kinds = append(kinds, o.GetKind())
		}
		count[o.GetKind()]++
	}
	for _, k := range kinds {
		if count[k] > 1 {
			k = fmt.Sprintf("%d %ss", count[k], k)
		}
		parts = append(parts, k)
	}
	return strings.Join(parts, ", ")
}

// objectNames lists objects as kind/name, for the output.
func objectNames(objs []*unstructured.Unstructured) string {
	var names []string
	for _, o := range objs {
		names = append(names, o.GetKind()+"/"+o.GetName())
	}
	return strings.Join(names, ", ")
}
