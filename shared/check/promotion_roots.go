package check

import (
	"fmt"
	"os"
	"path"
	"slices"
	"strings"

	"sigs.k8s.io/kustomize/api/konfig"
	"sigs.k8s.io/kustomize/api/types"

	"github.com/promotion-gate/promotion-gate/shared/gitrev"
	"github.com/promotion-gate/promotion-gate/shared/policy"
)

// maxTreeFiles bounds the files of a revision the engine lists to find its roots.
const maxTreeFiles = 200_000

// tree is what the engine knows of the head revision without writing it: its file
// names, and the render roots among them (kustomization directories, Helm charts).
type tree struct {
	files          map[string]bool
	dirs           map[string]bool // every directory that holds a file, at any depth
	kustomizations []string        // repository-relative directories with a kustomization file
	charts         []string        // repository-relative directories with a Chart.yaml
	// values are the values files (values*.yaml but values.yaml) of each directory.
	values map[string][]string
}

// listTree lists the files of a revision: Export's filter sees every name and keeps
// none, so nothing is read or written but the tree itself.
func listTree(revs Revisions, rev string, lim gitrev.Limits) (*tree, error) {
	t := &tree{files: map[string]bool{}, dirs: map[string]bool{".": true}, values: map[string][]string{}}
	names := konfig.RecognizedKustomizationFileNames()
	kustomized := map[string]bool{}
	var tooMany bool
	err := revs.Export(rev, os.DevNull, lim, func(f string) bool {
		if len(t.files) == maxTreeFiles {
			tooMany = true
			return false
		}
		t.files[f] = true
		dir := path.Dir(f)
		for d := dir; d != "." && !t.dirs[d]; d = path.Dir(d) {
			t.dirs[d] = true
		}
		switch base := path.Base(f); {
		case slices.Contains(names, base):
			if !kustomized[dir] {
				kustomized[dir] = true
				t.kustomizations = append(t.kustomizations, dir)
			}
		case base == "Chart.yaml":
			t.charts = append(t.charts, dir)
		case base != "values.yaml" && strings.HasPrefix(base, "values") &&
			(strings.HasSuffix(base, ".yaml") || strings.HasSuffix(base, ".yml")):
			t.values[dir] = append(t.values[dir], base)
		}
		return false
	})
	if err == nil && tooMany {
		err = fmt.Errorf("more than %d files: %w", maxTreeFiles, gitrev.ErrLimit)
	}
	return t, err
}

// template reports whether file is a template of a chart of the tree: Helm text, not
// YAML, until it is rendered.
func (t *tree) template(file string) bool {
	if t == nil {
		return false
	}
	for _, c := range t.charts {
		if strings.HasPrefix(file, path.Join(c, "templates")+"/") || (c == "." && strings.HasPrefix(file, "templates/")) {
			return true
		}
	}
	return false
}

// root is one render root: what the CLI and the plugin render for one application.
type root struct {
	path        string
	valuesFiles []string
	cls         policy.Classification
	reach       reachSet
	// byEffect marks a root that its own path does not protect: it is rendered because
	// the promotion changes what it reads, and judged only when its render turns out
	// protected by what it read or the namespaces it renders into (ByEffect).
	byEffect bool
}

func (r root) String() string {
	if len(r.valuesFiles) > 0 {
		return r.path + " with " + strings.Join(r.valuesFiles, ", ")
	}
	return r.path
}

// candidates are the render roots of the tree: each kustomization directory, and each
// chart alone or with one of its values files (charts/x with values-prod.yaml). Those
// the policy classifies into a protected environment by their own path (and branch)
// are protected roots; the others are candidates by effect, rendered only when the
// promotion changes what they read, since a dev overlay that includes the prod overlay
// or renders into a prod namespace is a prod render (ByEffect).
func (j *judgement) candidates() ([]root, error) {
	var out []root
	add := func(p string, values []string) error {
		q := policy.Query{Path: p, Branch: j.req.Branch}
		cls, err := Classify(j.req.Policy, q, values)
		if err != nil {
			return errPolicy{fmt.Errorf("classify %s: %w", p, err)}
		}
		out = append(out, root{path: p, valuesFiles: values, cls: cls, byEffect: !cls.Protected})
		return nil
	}
	for _, k := range j.tree.kustomizations {
		if err := add(k, nil); err != nil {
			return nil, err
		}
		// A component is rendered as part of the kustomizations that use it, never alone.
		if n := len(out); n > 0 && out[n-1].path == k {
			if kz := j.kustomization(k); kz != nil && kz.Kind == types.ComponentKind {
				out = out[:n-1]
			}
		}
	}
	for _, c := range j.tree.charts {
		if slices.Contains(j.tree.kustomizations, c) {
			continue // rendered as the kustomization it also is
		}
		if err := add(c, nil); err != nil {
			return nil, err
		}
		for _, n := range j.tree.values[c] {
			if err := add(c, []string{n}); err != nil {
				return nil, err
			}
		}
	}
	return out, nil
}

// selectRoots keeps the roots whose render may read a changed file, within
// Bounds.MaxRoots protected roots and as many more by effect.
func (j *judgement) selectRoots() error {
	if j.tree == nil {
		return nil
	}
	cands, err := j.candidates()
	if err != nil {
		return err
	}
	var protected, byEffect int
	for _, r := range cands {
		reach, err := j.reach(r)
		if err != nil {
			return fmt.Errorf("follow the references of %s: %w", r, err)
		}
		if !slices.ContainsFunc(j.changed, reach.covers) {
			continue
		}
		if r.byEffect && !j.mayBeProtected(reach) {
			continue
		}
		count, kind := &protected, "protected render roots"
		if r.byEffect {
			count, kind = &byEffect, "render roots that may read a protected file or render into a protected namespace"
		}
		if *count == j.req.Bounds.MaxRoots {
			return fmt.Errorf("the promotion reaches more than %d %s (bound MaxRoots); "+
				"split it, or judge it in smaller promotions", j.req.Bounds.MaxRoots, kind)
		}
		*count++
		r.reach = reach
		j.roots = append(j.roots, r)
	}
	return nil
}

// mayBeProtected reports whether a render that may read what reach covers could count
// as a protected environment by its effect: it may read a file that a protected
// environment's paths match, or a kustomization on the way sets a namespace that a
// protected environment's namespaces match. (An object's own metadata.namespace is
// only known once rendered; a changed file that sets one is judged as a changed file.)
func (j *judgement) mayBeProtected(reach reachSet) bool {
	protected := func(q policy.Query) bool {
		c, err := j.req.Policy.Classify(q)
		return err == nil && c.Protected
	}
	for f := range j.tree.files {
		if reach.covers(f) && slices.ContainsFunc(trailingParts(f), func(p string) bool { return protected(policy.Query{Path: p}) }) {
			return true
		}
	}
	for _, d := range reach.dirs {
		if kz := j.kustomization(d); kz != nil && kz.Namespace != "" && protected(policy.Query{Namespace: kz.Namespace}) {
			return true
		}
	}
	return false
}

// reachSet is what a root's render may read: whole directories and single files,
// repository-relative. It approximates "whose render reads a changed file" from the
// root's directory tree and its kustomizations' references, from above: it may select
// a root whose render reads no changed file, never miss one that does. It also bounds
// what is written to render the selected roots. The exact answer is the render's own
// list of files read: see readsChanged.
type reachSet struct {
	dirs  []string
	files []string
}

func (s reachSet) covers(file string) bool {
	if slices.Contains(s.files, file) {
		return true
	}
	return slices.ContainsFunc(s.dirs, func(d string) bool { return d == "." || strings.HasPrefix(file, d+"/") })
}

// reached reports whether a selected root's render may read file.
func (j *judgement) reached(file string) bool {
	return slices.ContainsFunc(j.roots, func(r root) bool { return r.reach.covers(file) })
}

// maxReach bounds the kustomizations followed from one root.
const maxReach = 1000

// reach collects the root's directory tree, its values files, and — for a
// kustomization — every local path its kustomizations reference, followed through
// referenced directories. A referenced directory counts whole, so a sibling file
// that is not (yet) referenced is over-approximated, never missed.
func (j *judgement) reach(r root) (reachSet, error) {
	var s reachSet
	for _, v := range r.valuesFiles {
		if strings.HasPrefix(v, "/") {
			s.files = append(s.files, strings.TrimPrefix(v, "/"))
		}
	}
	queue := []string{r.path}
	for len(queue) > 0 {
		dir := queue[0]
		queue = queue[1:]
		if slices.Contains(s.dirs, dir) {
			continue
		}
		if len(s.dirs) == maxReach {
			return s, fmt.Errorf("more than %d directories referenced", maxReach)
		}
		s.dirs = append(s.dirs, dir)
		for _, ref := range j.references(dir) {
			p := path.Clean(path.Join(dir, ref))
			if p == ".." || strings.HasPrefix(p, "../") || path.IsAbs(p) {
				continue // outside the repository: the renderer refuses it
			}
			if j.tree.dirs[p] {
				queue = append(queue, p)
				continue
			}
			// A file, or missing at the head: a deleted reference still reaches it.
			s.files = append(s.files, p)
		}
	}
	return s, nil
}

// kustomization returns the kustomization of dir at the head, read once; nil when dir
// has none or it does not parse (a render of it then fails and says why).
func (j *judgement) kustomization(dir string) *types.Kustomization {
	if k, ok := j.kustomizations[dir]; ok {
		return k
	}
	var k *types.Kustomization
	for _, name := range konfig.RecognizedKustomizationFileNames() {
		file := path.Join(dir, name)
		if !j.tree.files[file] {
			continue
		}
		data, err := j.req.Revisions.ReadFile(j.req.Head, file, j.limits.MaxFileBytes)
		if err == nil {
			k = &types.Kustomization{}
			if k.Unmarshal(data) != nil {
				k = nil
			}
		}
		break
	}
	if j.kustomizations == nil {
		j.kustomizations = map[string]*types.Kustomization{}
	}
	j.kustomizations[dir] = k
	return k
}

// references lists the path-like entries of dir's kustomization; none when it has no
// kustomization or it does not parse (the render then fails and says why).
func (j *judgement) references(dir string) []string {
	k := j.kustomization(dir)
	if k == nil {
		return nil
	}
	refs := slices.Concat(k.Resources, k.Bases, k.Components, k.Crds, k.Configurations,
		k.Generators, k.Transformers, k.Validators)
	if p := k.OpenAPI["path"]; p != "" {
		refs = append(refs, p)
	}
	for _, p := range k.PatchesStrategicMerge {
		refs = append(refs, string(p))
	}
	for _, p := range slices.Concat(k.Patches, k.PatchesJson6902) {
		refs = append(refs, p.Path)
	}
	for _, r := range k.Replacements {
		refs = append(refs, r.Path)
	}
	for _, g := range k.ConfigMapGenerator {
		refs = append(refs, sources(g.KvPairSources)...)
	}
	for _, g := range k.SecretGenerator {
		refs = append(refs, sources(g.KvPairSources)...)
	}
	for _, h := range k.HelmCharts {
		refs = append(refs, h.ValuesFile)
		refs = append(refs, h.AdditionalValuesFiles...)
	}
	return slices.DeleteFunc(refs, func(s string) bool {
		return s == "" || strings.Contains(s, "\n") || strings.Contains(s, "://")
	})
}

func sources(s types.KvPairSources) []string {
	var out []string
	for _, f := range s.FileSources {
		if _, file, ok := strings.Cut(f, "="); ok {
			f = file
		}
		out = append(out, f)
	}
	out = append(out, s.EnvSources...)
	return append(out, s.EnvSource)
}
