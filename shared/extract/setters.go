package extract

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"

	"go.yaml.in/yaml/v3"

	"github.com/promotion-gate/promotion-gate/shared/render"
)

// Setters returns the images that Flux's image-automation-controller writes into file:
// every scalar whose line comment is a setter marker, in any YAML file (manifests, Helm
// values, a kustomization's images:), in document order.
//
// A marker {"$imagepolicy": "ns:policy"} marks a whole reference. The markers
// "ns:policy:name", "ns:policy:tag" and "ns:policy:digest" mark parts; the parts of one
// policy in one mapping are joined into name[:tag][@digest]. When a part is not marked,
// the usual sibling field fills it, as the chart or kustomize will: the name from
// registry + repository (Helm), newName or name (kustomize images:); the tag from tag or
// newTag; the digest from digest. Parts without any name become an Image with
// ParseError set. Markers that Flux would not act on (another shape of value) are not
// markers. Aliases are not followed: a marked scalar is reported where it is written.
//
// Source.Document counts documents as render.ParseDocuments does (empty and non-mapping
// documents are not counted), so the images of one file from Images and Setters agree
// and Merge can drop the duplicates. Source.Kind, Namespace and Name are set when the
// document is a Kubernetes object; Source.ImagePolicy names the marker's policy.
//
// Malformed YAML is an error naming the file and the line.
func Setters(file string, data []byte) ([]Image, error) {
	x := extractor{parsed: map[string]parsed{}}
	dec := yaml.NewDecoder(bytes.NewReader(data))
	index := 0
	for n := 1; ; n++ {
		var doc yaml.Node
		err := dec.Decode(&doc)
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, fmt.Errorf("read image setter markers in %s: document %d: %w", file, n, err)
		}
		top := &doc
		if doc.Kind == yaml.DocumentNode {
			if len(doc.Content) == 0 {
				continue
			}
			top = doc.Content[0]
		}
		x.doc = render.Document{File: file, Index: index}
		w := setterWalk{x: &x}
		if top.Kind == yaml.MappingNode {
			index++
			if m := objectMeta(top); m.apiVersion != "" && m.kind != "" {
				w.m = m
			}
		}
		w.node(top, "", "")
	}
	return x.out, nil
}

// marker is a parsed setter marker: the ImagePolicy "namespace:name" and the part
// ("" for a whole reference, or "name", "tag", "digest").
type marker struct {
	policy string
	part   string
}

// parseMarker reads a line comment as Flux does: the text after '#' is a YAML (JSON)
// mapping whose "$imagepolicy" value is "ns:policy" or "ns:policy:part".
func parseMarker(comment string) (marker, bool) {
	if !strings.Contains(comment, "$imagepolicy") {
		return marker{}, false
	}
	text := strings.TrimSpace(strings.TrimLeft(strings.TrimSpace(comment), "#"))
	var fields map[string]any
	if err := yaml.Unmarshal([]byte(text), &fields); err != nil {
		return marker{}, false
	}
	v, ok := fields["$imagepolicy"].(string)
	if !ok {
		return marker{}, false
	}
	parts := strings.Split(v, ":")
	if len(parts) < 2 || len(parts) > 3 || parts[0] == "" || parts[1] == "" {
		return marker{}, false
	}
	m := marker{policy: parts[0] + ":" + parts[1]}
	if len(parts) == 3 {
		if partIndex(parts[2]) < 0 {
			return marker{}, false
		}
		m.part = parts[2]
	}
	return m, true
}

// The parts of a split reference, in the order they are joined.
var partNames = []string{"name", "tag", "digest"}

func partIndex(part string) int { return slices.Index(partNames, part) }

type setterWalk struct {
	x *extractor
	m meta
}

func (w *setterWalk) node(n *yaml.Node, path, container string) {
	switch n.Kind {
	case yaml.MappingNode:
		w.mapping(n, path, container)
	case yaml.SequenceNode:
		w.sequence(n, path, container, false)
	case yaml.ScalarNode:
		w.scalar(n, path, container)
	}
}

func (w *setterWalk) mapping(n *yaml.Node, path, container string) {
	var groups []*partGroup
	c := n.Content
	for i := 0; i+1 < len(c); i += 2 {
		k, v := c[i], c[i+1]
		p := JoinKey(path, k.Value)
		switch v.Kind {
		case yaml.MappingNode:
			w.mapping(v, p, container)
		case yaml.SequenceNode:
			w.sequence(v, p, container, slices.Contains(containerLists, k.Value))
		case yaml.ScalarNode:
			mk, ok := parseMarker(v.LineComment)
			if !ok {
				continue
			}
			if mk.part == "" {
				w.whole(v, p, container, mk.policy)
				continue
			}
			part := partIndex(mk.part)
			idx := slices.IndexFunc(groups, func(g *partGroup) bool { return g.policy == mk.policy && g.vals[part] == nil })
			if idx < 0 {
				groups = append(groups, w.newGroup(mk.policy, v.Line))
				idx = len(groups) - 1
			}
			groups[idx].set(part, k.Value, p, v)
		}
	}
	for _, g := range groups {
		w.x.out[g.slot] = w.joined(n, path, container, g)
	}
}

// sequence walks a list. Items of containers/initContainers/ephemeralContainers lists
// name the container for the images below them.
func (w *setterWalk) sequence(n *yaml.Node, path, container string, containers bool) {
	for i, it := range n.Content {
		p := JoinIndex(path, i)
		switch it.Kind {
		case yaml.MappingNode:
			c := container
			if containers {
				c = str(lookup(it, "name"))
			}
			w.mapping(it, p, c)
		case yaml.SequenceNode:
			w.sequence(it, p, container, false)
		case yaml.ScalarNode:
			w.scalar(it, p, container)
		}
	}
}

// scalar handles a marked scalar outside a mapping: a part has no siblings to join.
func (w *setterWalk) scalar(n *yaml.Node, path, container string) {
	mk, ok := parseMarker(n.LineComment)
	switch {
	case !ok:
	case path == "":
		// A whole document that is one marked scalar: "." names the document root.
		w.scalar(n, ".", container)
	case mk.part == "":
		w.whole(n, path, container, mk.policy)
	default:
		g := w.newGroup(mk.policy, n.Line)
		g.set(partIndex(mk.part), "", path, n)
		w.x.out[g.slot] = w.joined(nil, path, container, g)
	}
}

func (w *setterWalk) whole(v *yaml.Node, path, container, policy string) {
	if isNull(v) || v.Value == "" {
		return // nothing deployed yet; the automation fills it
	}
	w.x.out = append(w.x.out, w.x.image(v.Value, w.source(path, v.Line, container, policy)))
}

func (w *setterWalk) source(path string, line int, container, policy string) Source {
	src := w.x.source(w.m, path, line)
	src.Container = container
	src.ImagePolicy = policy
	return src
}
