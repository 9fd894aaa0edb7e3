package check

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"sigs.k8s.io/kustomize/kyaml/yaml"

	"github.com/promotion-gate/promotion-gate/shared/policy"
	"github.com/promotion-gate/promotion-gate/shared/render"
)

// maxBecause bounds the reasons a classification by effect lists; the rest are counted.
const maxBecause = 3

// ByEffect classifies a render by what it read and what it produced, not only by what
// was asked: the environment is the strictest of cls (the request's), of every file
// the render read, classified by its repository-relative path (and its trailing parts,
// as the application path), and of every namespace its objects land in (an object
// without one lands in the request's namespace, which cls has counted). A render that
// reads a prod overlay, or puts a Deployment into a prod namespace, is a prod render
// whatever its application path says. It returns the new classification and the
// reasons it is stricter than cls; it can never be weaker.
func ByEffect(set *policy.Set, cls policy.Classification, res *render.Result) (policy.Classification, []string) {
	type evidence struct {
		what string
		q    policy.Query
	}
	var all []evidence
	for _, f := range render.Files(res.Inputs) {
		for _, p := range trailingParts(f) {
			all = append(all, evidence{"the render read " + f, policy.Query{Path: p}})
		}
	}
	for _, ns := range namespaces(res.Documents) {
		all = append(all, evidence{"a rendered object lands in namespace " + ns, policy.Query{Namespace: ns}})
	}
	best := cls
	var because []string
	for _, e := range all {
		c, err := set.Classify(e.q)
		if err != nil || c.Environment == "" || c.Environment == cls.Environment {
			continue
		}
		switch {
		case set.Stricter(c.Environment, best.Environment):
			best = policy.Classification{Environment: c.Environment, Protected: c.Protected, MatchedBy: slices.Clone(cls.MatchedBy)}
			because = because[:0]
		case c.Environment != best.Environment:
			continue
		}
		because = append(because, e.what+": "+strings.Join(c.MatchedBy, "; "))
	}
	if best.Environment == cls.Environment {
		return cls, nil
	}
	if n := len(because); n > maxBecause {
		because = append(because[:maxBecause], fmt.Sprintf("and %d more", n-maxBecause))
	}
	best.MatchedBy = append(best.MatchedBy, because...)
	return best, because
}

// namespaces lists the namespaces the documents' objects land in, in order of first
// appearance: metadata.namespace, and the name of a Namespace object.
func namespaces(docs []render.Document) []string {
	var out []string
	seen := map[string]bool{}
	for _, d := range docs {
		rn := yaml.NewRNode(d.Node)
		ns := rn.GetNamespace()
		if rn.GetKind() == "Namespace" && rn.GetApiVersion() == "v1" {
			ns = rn.GetName()
		}
		if ns != "" && !seen[ns] {
			seen[ns] = true
			out = append(out, ns)
		}
	}
	return out
}

// ErrNothingRendered is wrapped when an application renders no Kubernetes object.
var ErrNothingRendered = errors.New("renders no Kubernetes object")

// nothingRendered says why the application rel (repository-relative; dir on disk)
// rendered nothing, naming a source promotion-gate does not render.
func nothingRendered(rel, dir string, res *render.Result) error {
	what := fmt.Sprintf("the %s render produced no object", res.Renderer)
	if res.Renderer == render.RendererYAML {
		what = describeDir(dir)
	}
	return fmt.Errorf("%s %w: %s; Argo CD would prune every object of the application. "+
		"Point the application at the directory that holds its manifests (a kustomization, a Helm chart or plain YAML files)",
		rel, ErrNothingRendered, what)
}

// describeDir names what a directory without manifests holds.
func describeDir(dir string) string {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return "its YAML files hold no Kubernetes object"
	}
	var names, jsonnet []string
	for _, e := range entries {
		switch ext := filepath.Ext(e.Name()); {
		case ext == ".jsonnet" || ext == ".libsonnet":
			jsonnet = append(jsonnet, e.Name())
		case ext == ".yaml" || ext == ".yml" || ext == ".json":
			return "its YAML files hold no Kubernetes object"
		case !e.IsDir() && len(names) < 5:
			names = append(names, e.Name())
		}
	}
	switch {
	case len(jsonnet) > 0:
		return fmt.Sprintf("it is a Jsonnet directory (%s), which promotion-gate does not render", strings.Join(jsonnet, ", "))
	case len(names) > 0:
		return fmt.Sprintf("the directory holds no *.yaml, *.yml or *.json file (it holds %s), and neither a kustomization nor a Chart.yaml", strings.Join(names, ", "))
	}
	return "the directory holds no *.yaml, *.yml or *.json file, and neither a kustomization nor a Chart.yaml"
}
