package extract

import (
	"strconv"
	"strings"

	"go.yaml.in/yaml/v3"
)

// The walkers read yaml.v3 nodes (kyaml's yaml.Node is the same type) in place: no
// decoding into Go values, no re-marshalling. That keeps extraction a small fraction of
// the render on thousands of documents, and keeps every node's line for provenance.

// maxMergeVisits bounds how many mappings one lookup visits through "<<" merge keys, so
// crafted merge chains (each merging many aliases) cannot make a lookup expensive.
const maxMergeVisits = 64

// deref follows aliases to the anchored node. yaml.v3 does not let an anchor hold an
// alias to itself, but the loop is bounded anyway.
func deref(n *yaml.Node) *yaml.Node {
	for i := 0; n != nil && n.Kind == yaml.AliasNode && i < 8; i++ {
		n = n.Alias
	}
	if n != nil && n.Kind == yaml.AliasNode {
		return nil
	}
	return n
}

// root unwraps a document node to its content.
func root(n *yaml.Node) *yaml.Node {
	n = deref(n)
	if n != nil && n.Kind == yaml.DocumentNode {
		if len(n.Content) == 0 {
			return nil
		}
		return deref(n.Content[0])
	}
	return n
}

// lookup returns the value of key in mapping m (aliases followed), or nil. Keys merged
// in with "<<" count too, as Kubernetes' YAML decoder applies them: an image hidden
// behind a merge key is still an image the cluster runs.
func lookup(m *yaml.Node, key string) *yaml.Node {
	return deref(lookupNode(m, key))
}

// lookupNode is lookup without following an alias value, for the line it is written on.
func lookupNode(m *yaml.Node, key string) *yaml.Node {
	budget := maxMergeVisits
	return lookupMerged(deref(m), key, &budget)
}

func lookupMerged(m *yaml.Node, key string, budget *int) *yaml.Node {
	if m == nil || m.Kind != yaml.MappingNode || *budget <= 0 {
		return nil
	}
	*budget--
	c := m.Content
	hasMerge := false
	for i := 0; i+1 < len(c); i += 2 {
		k := c[i]
		if k.Kind != yaml.ScalarNode {
			continue
		}
		if k.Value == key {
			return c[i+1]
		}
		if k.Tag == "!!merge" {
			hasMerge = true
		}
	}
	if !hasMerge {
		return nil
	}
	// Keys written in the mapping win over merged ones; earlier merges win over later.
	for i := 0; i+1 < len(c); i += 2 {
		if c[i].Kind != yaml.ScalarNode || c[i].Tag != "!!merge" {
			continue
		}
		v := deref(c[i+1])
		if v == nil {
			continue
		}
		if v.Kind == yaml.SequenceNode {
			for _, s := range v.Content {
				if r := lookupMerged(deref(s), key, budget); r != nil {
					return r
				}
			}
			continue
		}
		if r := lookupMerged(v, key, budget); r != nil {
			return r
		}
	}
	return nil
}

// str returns a scalar's text, or "" for a missing, null or non-scalar node.
func str(n *yaml.Node) string {
	if n == nil || n.Kind != yaml.ScalarNode || isNull(n) {
		return ""
	}
	return n.Value
}

// isNull reports a YAML null: tagged !!null by the parser, or an untagged node built in
// code with a null spelling.
func isNull(n *yaml.Node) bool {
	switch n.Tag {
	case "!!null":
		return true
	case "":
		switch n.Value {
		case "", "~", "null", "Null", "NULL":
			return true
		}
	}
	return false
}

// JoinKey appends a mapping key to a field path, as Source.FieldPath writes it. Keys that
// would make the path ambiguous (empty, or holding '.', '[', ']', quotes or spaces) are
// written as ["key"]. Other packages that name fields (changescope) use it so that their
// paths match the extractor's.
func JoinKey(path, key string) string {
	if key == "" || strings.ContainsAny(key, ".[]\" '") {
		return path + "[" + strconv.Quote(key) + "]"
	}
	if path == "" {
		return key
	}
	return path + "." + key
}

// JoinIndex appends a list index to a field path, as Source.FieldPath writes it.
func JoinIndex(path string, i int) string {
	return path + "[" + strconv.Itoa(i) + "]"
}

// meta reads the identity of a Kubernetes object; all empty for other documents.
type meta struct {
	apiVersion, kind, namespace, name string
}

func objectMeta(obj *yaml.Node) meta {
	m := meta{apiVersion: str(lookup(obj, "apiVersion")), kind: str(lookup(obj, "kind"))}
	if md := lookup(obj, "metadata"); md != nil {
		m.namespace = str(lookup(md, "namespace"))
		m.name = str(lookup(md, "name"))
	}
	return m
}
