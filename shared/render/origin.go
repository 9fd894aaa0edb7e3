package render

import (
	"bytes"
	"errors"
	"io"
	"path/filepath"
	"slices"

	"go.yaml.in/yaml/v3"
	"sigs.k8s.io/kustomize/api/resmap"
	"sigs.k8s.io/kustomize/api/types"
	"sigs.k8s.io/kustomize/kyaml/filesys"
	kyaml "sigs.k8s.io/kustomize/kyaml/yaml"
)

// Origin says where a rendered resource was written, so that a finding can name the
// file a person edits rather than a line of the rendered stream. For kustomize it comes
// from kustomize's own origin tracking (the config.kubernetes.io/origin and
// alpha.config.kubernetes.io/transformations annotations), which the renderer asks for
// and strips again: the rendered output does not change. For Helm it is the values
// files.
type Origin struct {
	// File is the repository-relative file the resource was read from; "" for a
	// generated resource.
	File string
	// Source is the resource's document in File, for the lines of its fields; nil when
	// it could not be told apart from the other documents of File.
	Source *yaml.Node
	// Images are the images: entries of the kustomizations whose image transformer the
	// resource went through, in the order they applied (the last one wins).
	Images []ImageEntry
	// Patches are the patches of the kustomizations whose patch transformers the
	// resource went through, in the order they applied: a patch may set an image, or add
	// a container.
	Patches []Patch
	// Values are the values files of a Helm render, in the order they apply.
	Values []ValuesFile
}

// Patch is one patch of a kustomization: a patch file's documents, or an inline patch.
type Patch struct {
	// File is the repository-relative patch file, or the kustomization of an inline patch.
	File string
	// Docs are the documents of a patch file.
	Docs []*yaml.Node
	// Inline is the text of an inline patch, Line the line where it starts in File.
	Inline string
	Line   int
}

// ImageEntry is one entry of a kustomization's images: list.
type ImageEntry struct {
	// File is the repository-relative kustomization file, Line the line of the entry.
	File                          string
	Line                          int
	Name, NewName, NewTag, Digest string
}

// originFS adds originAnnotations and transformerAnnotations to the buildMetadata of
// the kustomization being built, as it is read: kustomize tracks origins only when the
// root kustomization asks. It remembers what it added, so that takeOrigins strips
// exactly that.
type originFS struct {
	confinedFS
	roots []string // the application directory, as given and as kustomize cleans it
	added []string
}

func trackOrigins(fs confinedFS, dir string) *originFS {
	f := &originFS{confinedFS: fs, roots: []string{filepath.Clean(dir)}}
	if d, _, err := fs.CleanedAbs(dir); err == nil {
		f.roots = append(f.roots, filepath.Clean(string(d)))
	}
	return f
}

var _ filesys.FileSystem = (*originFS)(nil)

// ReadFile reads through the confined file system, and adds the build metadata to the
// root kustomization. A kustomization that does not parse is returned as it is, for
// kustomize to report.
func (f *originFS) ReadFile(path string) ([]byte, error) {
	data, err := f.confinedFS.ReadFile(path)
	if err != nil || !slices.Contains(f.roots, filepath.Dir(filepath.Clean(path))) ||
		!slices.Contains(kustomizationFileNames(), filepath.Base(path)) {
		return data, err
	}
	rn, perr := kyaml.Parse(string(data))
	if perr != nil || rn.YNode().Kind != kyaml.MappingNode {
		return data, nil
	}
	seq, perr := rn.Pipe(kyaml.LookupCreate(kyaml.SequenceNode, "buildMetadata"))
	if perr != nil || seq == nil {
		return data, nil
	}
	present := map[string]bool{}
	for _, n := range seq.YNode().Content {
		present[n.Value] = true
	}
	f.added = nil
	for _, want := range []string{types.OriginAnnotations, types.TransformerAnnotations} {
		if !present[want] {
			seq.YNode().Content = append(seq.YNode().Content, &kyaml.Node{Kind: kyaml.ScalarNode, Tag: kyaml.NodeTagString, Value: want})
			f.added = append(f.added, want)
		}
	}
	out, perr := rn.String()
	if perr != nil {
		return data, nil
	}
	return []byte(out), nil
}

// takeOrigins reads each resource's origin, in the order of m.Resources(), and strips
// the annotations the user did not ask for.
func takeOrigins(c *confinement, a app, f *originFS, m resmap.ResMap) ([]*Origin, error) {
	files := map[string][]*yaml.Node{}
	read := func(rel string) []*yaml.Node {
		if docs, ok := files[rel]; ok {
			return docs
		}
		files[rel] = nil
		data, err := f.confinedFS.ReadFile(filepath.Join(a.dir, rel))
		if err != nil {
			return nil
		}
		dec := yaml.NewDecoder(bytes.NewReader(data))
		for {
			var n yaml.Node
			if err := dec.Decode(&n); err != nil {
				if !errors.Is(err, io.EOF) {
					files[rel] = nil
				}
				break
			}
			if len(n.Content) == 1 {
				files[rel] = append(files[rel], n.Content[0])
			}
		}
		return files[rel]
	}
	repoPath := func(rel string) string { return c.display(filepath.Join(a.dir, rel)) }
	var out []*Origin
	for _, r := range m.Resources() {
		o := &Origin{}
		if ko, err := r.GetOrigin(); err == nil && ko != nil && ko.Path != "" && ko.Repo == "" {
			o.File = repoPath(ko.Path)
			o.Source = sourceDocument(read(ko.Path), r.GetKind(), r.GetName())
		}
		if trs, err := r.GetTransformations(); err == nil {
			patched := map[string]bool{}
			for _, t := range trs {
				if t == nil || t.ConfiguredIn == "" || t.Repo != "" {
					continue
				}
				switch t.ConfiguredBy.Kind {
				case "ImageTagTransformer":
					o.Images = append(o.Images, imageEntries(repoPath(t.ConfiguredIn), read(t.ConfiguredIn))...)
				case "PatchTransformer", "PatchStrategicMergeTransformer", "PatchJson6902Transformer":
					if !patched[t.ConfiguredIn] {
						patched[t.ConfiguredIn] = true
						o.Patches = append(o.Patches, patches(t.ConfiguredIn, read, repoPath)...)
					}
				}
			}
		}
		out = append(out, o)
	}
	if slices.Contains(f.added, types.OriginAnnotations) {
		if err := m.RemoveOriginAnnotations(); err != nil {
			return nil, err
		}
	}
	if slices.Contains(f.added, types.TransformerAnnotations) {
		if err := m.RemoveTransformerAnnotations(); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// sourceDocument finds the resource among the documents of its file: the one of its
// kind whose name is the rendered name, or is part of it (a namePrefix or nameSuffix
// may have been added), the longest such.
func sourceDocument(docs []*yaml.Node, kind, name string) *yaml.Node {
	var best *yaml.Node
	bestLen := -1
	for _, d := range docs {
		if d.Kind != yaml.MappingNode || scalar(d, "kind") != kind {
			continue
		}
		var n string
		if md := child(d, "metadata"); md != nil {
			n = scalar(md, "name")
		}
		if n == name {
			return d
		}
		if n != "" && len(n) > bestLen && bytes.Contains([]byte(name), []byte(n)) {
			best, bestLen = d, len(n)
		}
	}
	return best
}

// imageEntries reads the images: list of a kustomization.
func imageEntries(file string, docs []*yaml.Node) []ImageEntry {
	if len(docs) == 0 {
		return nil
	}
	list := child(docs[0], "images")
	if list == nil || list.Kind != yaml.SequenceNode {
		return nil
	}
	var out []ImageEntry
	for _, it := range list.Content {
		if it.Kind != yaml.MappingNode {
			continue
		}
		out = append(out, ImageEntry{File: file, Line: it.Line,
			Name: scalar(it, "name"), NewName: scalar(it, "newName"), NewTag: scalar(it, "newTag"), Digest: scalar(it, "digest")})
	}
	return out
}

func child(m *yaml.Node, key string) *yaml.Node {
	if m == nil || m.Kind != yaml.MappingNode {
		return nil
	}
	for i := 0; i+1 < len(m.Content); i += 2 {
		if m.Content[i].Value == key {
			return m.Content[i+1]
		}
	}
	return nil
}

func scalar(m *yaml.Node, key string) string {
	if n := child(m, key); n != nil && n.Kind == yaml.ScalarNode {
		return n.Value
	}
	return ""
}

// patches reads the patches a kustomization lists (patches, patchesStrategicMerge,
// patchesJson6902): the documents of each patch file, the text of each inline one.
func patches(kustomization string, read func(string) []*yaml.Node, repoPath func(string) string) []Patch {
	docs := read(kustomization)
	if len(docs) == 0 {
		return nil
	}
	dir := filepath.Dir(kustomization)
	var out []Patch
	file := func(rel string) {
		p := filepath.Join(dir, rel)
		out = append(out, Patch{File: repoPath(p), Docs: read(p)})
	}
	inline := func(n *yaml.Node) {
		out = append(out, Patch{File: repoPath(kustomization), Inline: n.Value, Line: n.Line})
	}
	for _, key := range []string{"patches", "patchesStrategicMerge", "patchesJson6902"} {
		list := child(docs[0], key)
		if list == nil || list.Kind != yaml.SequenceNode {
			continue
		}
		for _, it := range list.Content {
			switch {
			case it.Kind == yaml.ScalarNode && key == "patchesStrategicMerge":
				if bytes.ContainsAny([]byte(it.Value), "\n:") {
					inline(it)
				} else {
					file(it.Value)
				}
			case it.Kind == yaml.MappingNode && scalar(it, "path") != "":
				file(scalar(it, "path"))
			case it.Kind == yaml.MappingNode && child(it, "patch") != nil:
				inline(child(it, "patch"))
			}
		}
	}
	return out
}
