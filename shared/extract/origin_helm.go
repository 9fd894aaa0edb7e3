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
// comes from the template, and src is returned as it is.
func locateValue(files []render.ValuesFile, raw string, src Source) Source {
	name, tag, digest := splitRef(raw)
	for _, want := range []string{raw, digest, tag, name} {
		if want == "" {
			continue
		}
		for _, hinted := range []bool{true, false} {
			for i := len(files) - 1; i >= 0; i-- {
				if n, key := findValue(files[i].Root, want, "", hinted); n != nil {
					src.File, src.Line, src.ValuesKey = files[i].File, n.Line, key
					return src
				}
			}
		}
	}
	return src
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
	switch n.Kind {
	case yaml.MappingNode:
		for i := 0; i+1 < len(n.Content); i += 2 {
			k := n.Content[i].Value
			if f, fk := findValue(n.Content[i+1], want, joinKey(key, k), hinted); f != nil {
				return f, fk
			}
		}
	case yaml.SequenceNode:
		for i, it := range n.Content {
			if f, fk := findValue(it, want, JoinIndex(key, i), hinted); f != nil {
				return f, fk
			}
		}
	case yaml.ScalarNode:
		if n.Value == want && n.Tag == "!!str" && (!hinted || imageKey(key)) {
			return n, key
		}
	}
	return nil, ""
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
