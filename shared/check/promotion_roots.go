package check

import (
	"context"
	"fmt"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"slices"
	"strings"

	"sigs.k8s.io/kustomize/api/konfig"
	"sigs.k8s.io/kustomize/api/types"

	"github.com/promotion-gate/promotion-gate/shared/policy"
)

// tree is what a revision written by Revisions.Export holds that the engine needs:
// its render roots (kustomization directories, Helm charts) and their files.
type tree struct {
	dir            string
	kustomizations []string // repository-relative directories with a kustomization file
	charts         []string // repository-relative directories with a Chart.yaml
}

// scanTree finds the render roots of a written revision.
func scanTree(ctx context.Context, dir string) (*tree, error) {
	t := &tree{dir: dir}
	names := konfig.RecognizedKustomizationFileNames()
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if err := ctx.Err(); err != nil {
			return err
		}
		if d.IsDir() || !d.Type().IsRegular() {
			return nil
		}
		rel, err := filepath.Rel(dir, filepath.Dir(p))
		if err != nil {
			return err
		}
		rel = filepath.ToSlash(rel)
		switch name := d.Name(); {
		case slices.Contains(names, name):
			if !slices.Contains(t.kustomizations, rel) {
				t.kustomizations = append(t.kustomizations, rel)
			}
		case name == "Chart.yaml":
			t.charts = append(t.charts, rel)
		}
		return nil
	})
	return t, err
}

// skeleton reports whether a file is one of those that say where the render roots are
// and what they reference: kustomization files, Chart.yaml and values files.
func skeleton(file string) bool {
	name := path.Base(file)
	if slices.Contains(konfig.RecognizedKustomizationFileNames(), name) || name == "Chart.yaml" {
		return true
	}
	return strings.HasPrefix(name, "values") && (strings.HasSuffix(name, ".yaml") || strings.HasSuffix(name, ".yml"))
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
}

func (r root) String() string {
	if len(r.valuesFiles) > 0 {
		return r.path + " with " + strings.Join(r.valuesFiles, ", ")
	}
	return r.path
}

// candidates are the roots of the tree that the policy classifies into a protected
// environment by their own path (and branch): each kustomization directory, and each
// chart alone or with one of its values files (charts/x with values-prod.yaml).
func (j *judgement) candidates() ([]root, error) {
	var out []root
	add := func(p string, values []string) error {
		q := policy.Query{Path: p, Branch: j.req.Branch}
		cls, err := Classify(j.req.Policy, q, values)
		if err != nil {
			return errPolicy{fmt.Errorf("classify %s: %w", p, err)}
		}
		if cls.Protected {
			out = append(out, root{path: p, valuesFiles: values, cls: cls})
		}
		return nil
	}
	for _, k := range j.tree.kustomizations {
		if err := add(k, nil); err != nil {
			return nil, err
		}
	}
	for _, c := range j.tree.charts {
		if slices.Contains(j.tree.kustomizations, c) {
			continue // rendered as the kustomization it also is
		}
		if err := add(c, nil); err != nil {
			return nil, err
		}
		entries, err := os.ReadDir(filepath.Join(j.headDir, filepath.FromSlash(c)))
		if err != nil {
			return nil, err
		}
		for _, e := range entries {
			n := e.Name()
			if e.Type().IsRegular() && n != "values.yaml" && strings.HasPrefix(n, "values") &&
				(strings.HasSuffix(n, ".yaml") || strings.HasSuffix(n, ".yml")) {
				if err := add(c, []string{n}); err != nil {
					return nil, err
				}
			}
		}
	}
	return out, nil
}

// selectRoots keeps the protected roots whose render reads a changed file, within
// Bounds.MaxRoots.
func (j *judgement) selectRoots() error {
	if j.tree == nil {
		return nil
	}
	cands, err := j.candidates()
	if err != nil {
		return err
	}
	for _, r := range cands {
		reach, err := j.reach(r)
		if err != nil {
			return fmt.Errorf("follow the references of %s: %w", r, err)
		}
		if !slices.ContainsFunc(j.changed, reach.covers) {
			continue
		}
		if len(j.roots) == j.req.Bounds.MaxRoots {
			return fmt.Errorf("the promotion reaches more than %d protected render roots (bound MaxRoots); "+
				"split it, or judge it in smaller promotions", j.req.Bounds.MaxRoots)
		}
		r.reach = reach
		j.roots = append(j.roots, r)
	}
	return nil
}

// reachSet is what a root's render may read: whole directories and single files,
// repository-relative.
//
// TODO(render.Result read list): this approximates "whose render reads a changed
// file" from the root's directory tree and its kustomizations' references. When
// render.Result lists the repository-relative files a render read, render every
// candidate root and keep it when slices.ContainsFunc(j.changed, readList.Contains)
// — the one line in selectRoots that calls reach.covers — and drop reach.
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
			fi, err := os.Stat(filepath.Join(j.headDir, filepath.FromSlash(p)))
			switch {
			case err != nil:
				// Missing at the head: a deleted reference still reaches the file.
				s.files = append(s.files, p)
			case fi.IsDir():
				queue = append(queue, p)
			default:
				s.files = append(s.files, p)
			}
		}
	}
	return s, nil
}

// references lists the path-like entries of dir's kustomization; none when it has no
// kustomization or it does not parse (the render then fails and says why).
func (j *judgement) references(dir string) []string {
	var k types.Kustomization
	found := false
	for _, name := range konfig.RecognizedKustomizationFileNames() {
		data, err := os.ReadFile(filepath.Join(j.headDir, filepath.FromSlash(dir), name))
		if err != nil {
			continue
		}
		if k.Unmarshal(data) == nil {
			found = true
		}
		break
	}
	if !found {
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
