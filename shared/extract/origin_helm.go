package extract

import (
	"strings"

	"go.yaml.in/yaml/v3"

	"github.com/promotion-gate/promotion-gate/shared/render"
)

// locateValue names the values file and key that set the image of a Helm render: the
// whole reference when a value holds it, else its digest, its tag, or its repository,
// in that order (the part that differs between environments is the part to edit), in
// the last values file that has it (the one that wins). Without such a value the image
// comes from the template, and src is returned as it is. idx keeps each values file's
// index across the images of one render.
func locateValue(idx valueIndexes, files []render.ValuesFile, raw string, src Source) Source {
	name, tag, digest := splitRef(raw)
	for _, want := range []string{raw, digest, tag, name} {
		if want == "" {
			continue
		}
		for _, hinted := range []bool{true, false} {
			for i := len(files) - 1; i >= 0; i-- {
				if h := idx.of(files[i].Root).find(want, hinted); h.node != nil {
					src.File, src.Line, src.ValuesKey = files[i].File, h.node.Line, h.key
					return src
				}
			}
		}
	}
	return src
}

// valueIndexes are the indexes of the values files met so far, by root node: every
// document of a Helm render shares its values files, so each is walked once, not once
// per image (which made a chart of thousands of workloads quadratic).
type valueIndexes map[*yaml.Node]*valueIndex

func (v valueIndexes) of(root *yaml.Node) *valueIndex {
	if v == nil {
		return indexValues(root, "")
	}
	idx, ok := v[root]
	if !ok {
		idx = indexValues(root, "")
		v[root] = idx
	}
	return idx
}

// valueIndex maps each string value of a values file to its first occurrence in
// document order, and to its first under a key that names an image part.
type valueIndex struct {
	first, hinted map[string]valueHit
}

type valueHit struct {
	node *yaml.Node
	key  string
}

func (x *valueIndex) find(want string, hinted bool) valueHit {
	if hinted {
		return x.hinted[want]
	}
	return x.first[want]
}

func indexValues(root *yaml.Node, key string) *valueIndex {
	x := &valueIndex{first: map[string]valueHit{}, hinted: map[string]valueHit{}}
	x.add(root, key)
	return x
}

func (x *valueIndex) add(n *yaml.Node, key string) {
	switch n.Kind {
	case yaml.MappingNode:
		for i := 0; i+1 < len(n.Content); i += 2 {
			x.add(n.Content[i+1], joinKey(key, n.Content[i].Value))
		}
	case yaml.SequenceNode:
		for i, it := range n.Content {
			x.add(it, JoinIndex(key, i))
		}
	case yaml.ScalarNode:
		if n.Tag != "!!str" {
			return
		}
		if _, ok := x.first[n.Value]; !ok {
			x.first[n.Value] = valueHit{n, key}
		}
		if _, ok := x.hinted[n.Value]; !ok && imageKey(key) {
			x.hinted[n.Value] = valueHit{n, key}
		}
	}
}

// splitRef splits an image reference into its name, tag and digest, as written.
func splitRef(raw string) (name, tag, digest string) {
	name = raw
	if i := strings.IndexByte(name, '@'); i >= 0 {
		name, digest = name[:i], name[i+1:]
	}
	if i := strings.LastIndexByte(name, ':'); i > strings.LastIndexByte(name, '/') {
		name, tag = name[:i], name[i+1:]
	}
	return name, tag, digest
}

// findValue finds the first string value equal to want, in document order, and its
// dotted key. With hinted, only under a key that names an image part (image,
// repository, tag, digest, version), so that "1" does not match a replica count.
func findValue(n *yaml.Node, want, key string, hinted bool) (*yaml.Node, string) {
	h := indexValues(n, key).find(want, hinted)
	return h.node, h.key
}

func joinKey(prefix, k string) string {
	if prefix == "" {
		return k
	}
	return prefix + "." + k
}

func imageKey(key string) bool {
	last := strings.ToLower(key[strings.LastIndexByte(key, '.')+1:])
	for _, hint := range []string{"image", "repository", "repo", "tag", "digest", "version"} {
		if strings.Contains(last, hint) {
			return true
		}
	}
	return false
}
