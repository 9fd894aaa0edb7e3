package render

import (
	"errors"
	"fmt"
	"path/filepath"

	"sigs.k8s.io/kustomize/api/krusty"
	"sigs.k8s.io/kustomize/api/resmap"
	"sigs.k8s.io/kustomize/api/types"
	"sigs.k8s.io/kustomize/kyaml/filesys"
)

// renderKustomize builds a kustomization in-process with krusty, on a file system
// confined to the repository root.
//
// Load restrictions: kustomize's own LoadRestrictionsRootOnly would confine every
// kustomization to its own directory; here the repository root is the boundary
// instead (the file system enforces it, symlinks included), so an overlay may read
// ../../base files as with `kustomize build --load-restrictor LoadRestrictionsNone`,
// the option Argo CD users commonly set, and nothing outside the repository.
//
// With origins, kustomize is asked to annotate where each resource and image came
// from, so that findings name the file to edit (takeOrigins). The annotations cost a
// large kustomization several times the build's time and memory, so a door asks for
// them only to explain findings it already has (check.Run renders again then).
func renderKustomize(c *confinement, a app, origins bool) (*Result, error) {
	fs := newConfinedFS(c)
	if err := checkRemote(fs, a.dir, map[string]bool{}); err != nil {
		return nil, err
	}
	opts := krusty.MakeDefaultOptions()
	opts.LoadRestrictions = types.LoadRestrictionsNone
	// Unspecified sorts as `kustomize build` does: by the kustomization's sortOptions,
	// else in kustomize's legacy kind order.
	opts.Reorder = krusty.ReorderOptionUnspecified
	type built struct {
		m       resmap.ResMap
		out     []byte
		origins []*Origin
	}
	select {
	case krustyTurn <- struct{}{}:
	case <-c.ctx.Done():
		return nil, fmt.Errorf("render canceled while another kustomize build ran: %w", c.ctx.Err())
	}
	b, err := abandon(c.ctx, func() (built, error) {
		// An abandoned build keeps its turn until it ends.
		defer func() { <-krustyTurn }()
		var kfs filesys.FileSystem = fs
		var ofs *originFS
		if origins {
			ofs = trackOrigins(fs, a.dir)
			kfs = ofs
		}
		m, err := krusty.MakeKustomizer(opts).Run(kfs, a.dir)
		if err != nil {
			return built{}, err
		}
		var taken []*Origin
		if ofs != nil {
			if taken, err = takeOrigins(c, a, ofs, m); err != nil {
				return built{}, err
			}
		}
		out, err := m.AsYaml()
		return built{m: m, out: out, origins: taken}, err
	})
	if errors.Is(err, errAbandoned) {
		// The build may still run in the background: leave the confinement to it.
		return nil, err
	}
	if c.sticky != nil {
		return nil, c.sticky
	}
	if err != nil {
		return nil, err
	}
	res, err := kustomizeResult(c, a, b.m, b.out)
	if err != nil {
		return nil, err
	}
	for i := range b.origins {
		res.Documents[i].Origin = b.origins[i]
	}
	return res, nil
}

// krustyTurn lets one kustomize build run at a time in the process: krusty keeps its
// OpenAPI schema in package variables, so concurrent builds (a controller reconciling
// several gates) would race on them.
var krustyTurn = make(chan struct{}, 1)

// kustomizeResult checks the resource map against the limits and returns the
// documents parsed back from kustomize's output (see emitted). kustomize keeps no
// source file per resource unless the kustomization asks for origin annotations, so
// File is the application path.
func kustomizeResult(c *confinement, a app, m resmap.ResMap, out []byte) (*Result, error) {
	if int64(len(out)) > c.limits.MaxTotalBytes {
		return nil, fmt.Errorf("the rendered output is %d bytes, over the limit of %d bytes: %w", len(out), c.limits.MaxTotalBytes, ErrLimit)
	}
	resources := m.Resources()
	if len(resources) > c.limits.MaxDocuments {
		return nil, fmt.Errorf("the rendered output has %d documents, over the limit of %d: %w", len(resources), c.limits.MaxDocuments, ErrLimit)
	}
	docs := make([]Document, 0, len(resources))
	for i, r := range resources {
		n := r.RNode.YNode()
		if err := checkKeys(n); err != nil {
			return nil, fmt.Errorf("resource %s: %w", r.CurId(), err)
		}
		docs = append(docs, Document{File: a.rel, Index: i, Node: n})
	}
	// kustomize writes keys in an order of its own, not its nodes', so the caller's
	// digest comparison needs the documents parsed back here, in the output's order
	// (a cost lost in kustomize's own).
	return emitted(RendererKustomize, out, docs, c.limits)
}

// checkRemote walks the kustomizations reachable from dir and refuses any remote
// base, component or file before kustomize would clone or download it. Fields that
// kustomize validates itself are left to it; a kustomization that does not parse
// here gets kustomize's own error later.
func checkRemote(fs confinedFS, dir string, seen map[string]bool) error {
	if seen[dir] {
		return nil
	}
	seen[dir] = true
	k, file, err := readKustomization(fs, dir)
	if err != nil || k == nil {
		return err
	}
	name := fs.c.display(file)
	for _, ref := range kustomizationFiles(k) {
		if isRemote(ref.value) {
			return fmt.Errorf("%s: %s %q is remote: %w; vendor it into the repository and refer to it by a relative path",
				name, ref.field, ref.value, ErrRemote)
		}
		if !ref.local {
			continue
		}
		p := ref.value
		if !filepath.IsAbs(p) {
			p = filepath.Join(dir, p)
		}
		if _, err := fs.c.resolve(p); isNotExist(err) {
			return fmt.Errorf("%s: %s %q: %s does not exist; fix the path or add the file",
				name, ref.field, ref.value, fs.c.display(p))
		} else if err != nil {
			return err
		}
	}
	if len(k.HelmCharts) > 0 || len(k.HelmChartInflationGenerator) > 0 {
		return fmt.Errorf("%s: helmCharts needs the helm binary and a chart download: %w; vendor the chart into the repository and render it as its own application, or commit its output",
			name, ErrRemote)
	}
	for _, base := range append(append(append([]string{}, k.Resources...), k.Bases...), k.Components...) {
		p := filepath.Join(dir, base)
		if !fs.IsDir(p) {
			if fs.c.sticky != nil {
				return fs.c.sticky
			}
			continue
		}
		real, err := fs.c.resolve(p)
		if err != nil {
			return err
		}
		if err := checkRemote(fs, real, seen); err != nil {
			return err
		}
	}
	return nil
}

// readKustomization reads the kustomization file of dir, or returns nil when there
// is none or it does not parse.
func readKustomization(fs confinedFS, dir string) (*types.Kustomization, string, error) {
	for _, name := range kustomizationFileNames() {
		file := filepath.Join(dir, name)
		data, err := fs.ReadFile(file)
		if isNotExist(err) {
			continue
		}
		if err != nil {
			return nil, file, err
		}
		var k types.Kustomization
		if err := k.Unmarshal(data); err != nil {
			return nil, file, nil
		}
		return &k, file, nil
	}
	return nil, "", nil
}
