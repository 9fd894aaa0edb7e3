package extract

import (
	"strings"

	"go.yaml.in/yaml/v3"

	"github.com/promotion-gate/promotion-gate/shared/imageref"
	"github.com/promotion-gate/promotion-gate/shared/policy"
	"github.com/promotion-gate/promotion-gate/shared/render"
)

// podSpecPaths says where each workload kind keeps its pod spec. Kinds are matched
// without their API group so that every version of a workload (and look-alikes from
// other groups, which is the safe side) is read.
var podSpecPaths = map[string][]string{
	"Pod":                   {"spec"},
	"PodTemplate":           {"template", "spec"},
	"ReplicationController": {"spec", "template", "spec"},
	"ReplicaSet":            {"spec", "template", "spec"},
	"Deployment":            {"spec", "template", "spec"},
	"StatefulSet":           {"spec", "template", "spec"},
	"DaemonSet":             {"spec", "template", "spec"},
	"Job":                   {"spec", "template", "spec"},
	"CronJob":               {"spec", "jobTemplate", "spec", "template", "spec"},
	"Rollout":               {"spec", "template", "spec"}, // Argo Rollouts
}

// containerLists are the pod spec fields that hold containers, in the order reported.
var containerLists = []string{"containers", "initContainers", "ephemeralContainers"}

// maxListDepth bounds List-in-List nesting; real Lists do not nest at all.
const maxListDepth = 8

// Images returns every image reference in docs: the containers, initContainers and
// ephemeralContainers of Pods, PodTemplates, ReplicationControllers, ReplicaSets,
// Deployments, StatefulSets, DaemonSets, Jobs, CronJobs and Argo Rollouts, in the items
// of List and *List documents (the item index is part of the field path), and the
// fields named by the policy's imageFields. The order is document order, then within an
// object: containers, initContainers, ephemeralContainers, then imageFields in policy
// order. An imageField that points at a field already read as a container image adds
// nothing. Empty or missing image fields are skipped; a value that is not a valid
// reference becomes an Image with ParseError set, for the evaluation to report.
func Images(docs []render.Document, fields []policy.ImageField) []Image {
	x := extractor{fields: compileFields(fields), parsed: map[string]parsed{}, values: valueIndexes{}}
	for _, d := range docs {
		obj := root(d.Node)
		if obj == nil || obj.Kind != yaml.MappingNode {
			continue
		}
		x.doc = d
		x.object(obj, "", 0)
	}
	return x.out
}

// parsed caches imageref.Parse: thousands of rendered workloads share a few images.
type parsed struct {
	ref imageref.Ref
	err string
}

type extractor struct {
	fields  map[string][]compiledField
	parsed  map[string]parsed
	doc     render.Document
	out     []Image
	visited map[*yaml.Node]bool // List items already read (aliases can repeat them)
	values  valueIndexes
}

// object extracts the images of one Kubernetes object whose field paths start with
// prefix ("" for a document, "items[3]." for a List item).
func (x *extractor) object(obj *yaml.Node, prefix string, depth int) {
	m := objectMeta(obj)
	first := len(x.out)
	if path, ok := podSpecPaths[m.kind]; ok {
		spec := obj
		for _, k := range path {
			spec = lookup(spec, k)
		}
		if spec != nil {
			x.podSpec(spec, prefix+strings.Join(path, "."), m)
		}
	}
	for _, f := range x.fields[m.kind] {
		if f.apiVersion == "" || f.apiVersion == m.apiVersion {
			x.field(obj, f.segs, strings.TrimSuffix(prefix, "."), m, first)
		}
	}
	if m.kind == "List" || strings.HasSuffix(m.kind, "List") {
		x.list(obj, prefix, depth)
	}
}

func (x *extractor) list(obj *yaml.Node, prefix string, depth int) {
	items := lookup(obj, "items")
	if items == nil || items.Kind != yaml.SequenceNode || depth >= maxListDepth {
		return
	}
	for i, it := range items.Content {
		it = deref(it)
		if it == nil || it.Kind != yaml.MappingNode {
			continue
		}
		// An alias can list one item many times; reading it once keeps a crafted List
		// linear, and its images are all reported already.
		if x.visited == nil {
			x.visited = map[*yaml.Node]bool{}
		}
		if x.visited[it] {
			continue
		}
		x.visited[it] = true
		x.object(it, JoinIndex(prefix+"items", i)+".", depth+1)
	}
}

func (x *extractor) podSpec(spec *yaml.Node, path string, m meta) {
	for _, key := range containerLists {
		list := lookup(spec, key)
		if list == nil || list.Kind != yaml.SequenceNode {
			continue
		}
		for i, c := range list.Content {
			c = deref(c)
			if c == nil || c.Kind != yaml.MappingNode {
				continue
			}
			written := lookupNode(c, "image")
			img := deref(written)
			if img == nil || isNull(img) {
				continue
			}
			src := x.source(m, JoinIndex(path+"."+key, i)+".image", written.Line)
			src.Container = str(lookup(c, "name"))
			if img.Kind != yaml.ScalarNode {
				x.out = append(x.out, Image{ParseError: "image is not a string: write the image reference as text", Source: src})
				continue
			}
			if img.Value == "" {
				continue
			}
			x.add(img.Value, src)
		}
	}
}

func (x *extractor) source(m meta, fieldPath string, line int) Source {
	return Source{
		File:       x.doc.File,
		Document:   x.doc.Index,
		Line:       line,
		APIVersion: m.apiVersion,
		Kind:       m.kind,
		Namespace:  m.namespace,
		Name:       m.name,
		FieldPath:  fieldPath,
	}
}

// add parses raw and appends the image.
func (x *extractor) add(raw string, src Source) {
	x.out = append(x.out, x.image(raw, src))
}

// image parses raw into an Image found at src.
func (x *extractor) image(raw string, src Source) Image {
	p, ok := x.parsed[raw]
	if !ok {
		ref, err := imageref.Parse(raw)
		p = parsed{ref: ref}
		if err != nil {
			p.err = err.Error()
		}
		x.parsed[raw] = p
	}
	img := Image{Raw: raw, Source: locate(x.values, x.doc.Origin, raw, src), ParseError: p.err}
	if p.err == "" {
		ref := p.ref // each Image owns its Ref
		img.Ref = &ref
	}
	return img
}
