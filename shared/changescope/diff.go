package changescope

import (
	"go.yaml.in/yaml/v3"

	"github.com/promotion-gate/promotion-gate/shared/extract"
)

// identity is a document's Kubernetes identity; all empty for other YAML.
type identity struct {
	apiVersion, kind, namespace, name string
}

func identify(n *yaml.Node) identity {
	m := rootOf(n)
	id := identity{apiVersion: scalar(get(m, "apiVersion")), kind: scalar(get(m, "kind"))}
	if md := get(m, "metadata"); md != nil {
		id.namespace = scalar(get(md, "namespace"))
		id.name = scalar(get(md, "name"))
	}
	return id
}

// rootOf returns the content of a document node, or the node itself.
func rootOf(n *yaml.Node) *yaml.Node {
	if n != nil && n.Kind == yaml.DocumentNode {
		if len(n.Content) == 0 {
			return nil
		}
		return n.Content[0]
	}
	return n
}

// get returns the value of key in mapping m, or nil. Aliases are not followed: a
// change is reported where it is written.
func get(m *yaml.Node, key string) *yaml.Node {
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

func scalar(n *yaml.Node) string {
	if n == nil || n.Kind != yaml.ScalarNode {
		return ""
	}
	return n.Value
}

// differ walks two revisions of one document side by side.
type differ struct {
	file   string
	doc    int
	id     identity
	images map[string]bool
	out    []Change
}

func (d *differ) add(path string, op Op, old, new *yaml.Node) {
	if d.images[path] {
		return
	}
	d.out = append(d.out, Change{
		File: d.file, Document: d.doc, Kind: d.id.kind, Namespace: d.id.namespace, Name: d.id.name,
		Field: or(path, "."), Op: op, Old: show(old), New: show(new),
	})
}

func (d *differ) node(a, b *yaml.Node, path string) {
	switch {
	case a == nil && b == nil:
	case a == nil:
		d.add(path, Added, nil, b)
	case b == nil:
		d.add(path, Removed, a, nil)
	case a.Kind == yaml.MappingNode && b.Kind == yaml.MappingNode:
		d.mapping(a, b, path)
	case a.Kind == yaml.SequenceNode && b.Kind == yaml.SequenceNode:
		for i := 0; i < max(len(a.Content), len(b.Content)); i++ {
			d.node(at(a.Content, i), at(b.Content, i), extract.JoinIndex(path, i))
		}
	case a.Kind == yaml.ScalarNode && b.Kind == yaml.ScalarNode:
		if a.Value != b.Value || a.ShortTag() != b.ShortTag() {
			d.add(path, Changed, a, b)
		}
	case a.Kind == yaml.AliasNode && b.Kind == yaml.AliasNode:
		if a.Value != b.Value {
			d.add(path, Changed, a, b)
		}
	default:
		d.add(path, Changed, a, b)
	}
}

func (d *differ) mapping(a, b *yaml.Node, path string) {
	inB := map[string]bool{}
	for i := 0; i+1 < len(b.Content); i += 2 {
		k := b.Content[i].Value
		inB[k] = true
		d.node(get(a, k), b.Content[i+1], extract.JoinKey(path, k))
	}
	for i := 0; i+1 < len(a.Content); i += 2 {
		if k := a.Content[i].Value; !inB[k] {
			d.add(extract.JoinKey(path, k), Removed, a.Content[i+1], nil)
		}
	}
}

func at(ns []*yaml.Node, i int) *yaml.Node {
	if i < len(ns) {
		return ns[i]
	}
	return nil
}
