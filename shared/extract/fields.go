package extract

import (
	"strings"

	"go.yaml.in/yaml/v3"

	"github.com/promotion-gate/promotion-gate/shared/policy"
)

// segment is one step of an imageFields path: a mapping key, and whether "[]" after it
// walks every item of the list found there.
type segment struct {
	key  string
	each bool
}

type compiledField struct {
	apiVersion string
	segs       []segment
}

// compileFields groups the policy's imageFields by kind and splits their paths once per
// call, not once per document.
func compileFields(fields []policy.ImageField) map[string][]compiledField {
	out := map[string][]compiledField{}
	for _, f := range fields {
		segs, ok := splitPath(f.Path)
		if !ok || f.Kind == "" {
			continue
		}
		out[f.Kind] = append(out[f.Kind], compiledField{apiVersion: f.APIVersion, segs: segs})
	}
	return out
}

// splitPath reads the imageFields path grammar: keys separated by ".", each optionally
// followed by "[]" to walk every item of a list, e.g. "spec.template.spec.containers[].image".
// Keys cannot contain "." or "[": there is no quoting, to keep the grammar one line long.
// A malformed path (an empty key, a "[" elsewhere) matches nothing; the policy package's
// validation is where it should be refused with a message.
func splitPath(p string) ([]segment, bool) {
	if p == "" {
		return nil, false
	}
	parts := strings.Split(p, ".")
	segs := make([]segment, 0, len(parts))
	for _, part := range parts {
		key, each := strings.CutSuffix(part, "[]")
		if key == "" || strings.ContainsAny(key, "[]") {
			return nil, false
		}
		segs = append(segs, segment{key: key, each: each})
	}
	return segs, true
}

// field walks one compiled imageFields path from obj. Missing fields end the walk
// silently: a policy names fields that many objects of a kind leave out.
func (x *extractor) field(n *yaml.Node, segs []segment, path string, m meta, first int) {
	if len(segs) == 0 {
		x.fieldValue(n, path, m, first)
		return
	}
	s := segs[0]
	v := lookup(n, s.key)
	if v == nil {
		return
	}
	p := JoinKey(path, s.key)
	if !s.each {
		x.field(v, segs[1:], p, m, first)
		return
	}
	if v.Kind != yaml.SequenceNode {
		return
	}
	for i, it := range v.Content {
		if it = deref(it); it != nil {
			x.field(it, segs[1:], JoinIndex(p, i), m, first)
		}
	}
}

// fieldValue reads the image at the end of an imageFields path: a reference string, or
// a Helm-style mapping {registry, repository, tag, digest} joined into one reference.
func (x *extractor) fieldValue(n *yaml.Node, path string, m meta, first int) {
	if n == nil || isNull(n) {
		return
	}
	for _, seen := range x.out[first:] {
		if seen.Source.FieldPath == path {
			return // already read as a container image of this object
		}
	}
	switch n.Kind {
	case yaml.ScalarNode:
		if n.Value != "" {
			x.add(n.Value, x.source(m, path, n.Line))
		}
	case yaml.MappingNode:
		repo := lookup(n, "repository")
		raw := joinParts(str(lookup(n, "registry")), str(repo), str(lookup(n, "tag")), str(lookup(n, "digest")))
		if raw != "" {
			x.add(raw, x.source(m, path, repo.Line))
		}
	case yaml.SequenceNode:
		x.out = append(x.out, Image{
			ParseError: "imageFields path ends at a list: add [] after the last field name to read every item",
			Source:     x.source(m, path, n.Line),
		})
	}
}

// joinParts builds one reference from split fields: [registry "/"] repository [":" tag]
// ["@" digest]. Without a repository there is no image to name: "".
func joinParts(registry, repository, tag, digest string) string {
	if repository == "" {
		return ""
	}
	var b strings.Builder
	if registry != "" {
		b.WriteString(strings.TrimSuffix(registry, "/"))
		b.WriteByte('/')
	}
	b.WriteString(repository)
	if tag != "" {
		b.WriteByte(':')
		b.WriteString(tag)
	}
	if digest != "" {
		b.WriteByte('@')
		b.WriteString(digest)
	}
	return b.String()
}
