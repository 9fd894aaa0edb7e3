package extract

import (
	"fmt"
	"strings"

	"go.yaml.in/yaml/v3"
)

// partGroup collects the marked parts of one policy in one mapping. Its slot in the
// output is reserved when the first part is met, so joined images keep document order.
type partGroup struct {
	policy string
	slot   int
	line   int
	vals   [3]*yaml.Node // indexed like partNames
	keys   [3]string
	paths  [3]string
}

func (w *setterWalk) newGroup(policy string, line int) *partGroup {
	g := &partGroup{policy: policy, slot: len(w.x.out), line: line}
	w.x.out = append(w.x.out, Image{})
	return g
}

func (g *partGroup) set(part int, key, path string, v *yaml.Node) {
	g.vals[part], g.keys[part], g.paths[part] = v, key, path
}

// joined builds the reference of a group; m is the mapping holding it (nil for a part
// in a list), whose unmarked sibling fields fill the parts that are not marked.
func (w *setterWalk) joined(m *yaml.Node, path, container string, g *partGroup) Image {
	var used []string // keys read, marked or not, for the field path
	marked := func(part int) (string, bool) {
		if g.vals[part] == nil {
			return "", false
		}
		used = append(used, g.keys[part])
		return str(g.vals[part]), true
	}
	sibling := func(keys ...string) string {
		for _, k := range keys {
			if v := str(lookup(m, k)); v != "" {
				used = append(used, k)
				return v
			}
		}
		return ""
	}
	name, ok := marked(0)
	if !ok {
		if repo := sibling("repository"); repo != "" {
			name = joinParts(sibling("registry"), repo, "", "")
		} else {
			name = sibling("newName", "name")
		}
	}
	tag, ok := marked(1)
	if !ok {
		tag = sibling("tag", "newTag")
	}
	digest, ok := marked(2)
	if !ok {
		digest = sibling("digest")
	}

	src := w.source(groupPath(m, path, g, used), g.line, container, g.policy)
	if name == "" {
		raw := ""
		if tag != "" {
			raw = ":" + tag
		}
		if digest != "" {
			raw += "@" + digest
		}
		return Image{Raw: raw, Source: src, ParseError: fmt.Sprintf(
			`setter markers of image policy %s hold no image name: mark the image name field with {"$imagepolicy": "%s:name"}`,
			g.policy, g.policy)}
	}
	return w.x.image(joinParts("", name, tag, digest), src)
}

// groupPath is the field path of a joined reference: the one field read, or the fields
// read listed in braces after their mapping, in document order: "image.{repository,tag}".
func groupPath(m *yaml.Node, path string, g *partGroup, used []string) string {
	if m == nil {
		for _, p := range g.paths {
			if p != "" {
				return p
			}
		}
		return path
	}
	var keys []string
	for i := 0; i+1 < len(m.Content); i += 2 {
		k := m.Content[i].Value
		for _, u := range used {
			if u == k {
				keys = append(keys, k)
				break
			}
		}
	}
	if len(keys) == 1 {
		return JoinKey(path, keys[0])
	}
	list := "{" + strings.Join(keys, ",") + "}"
	if path == "" {
		return list
	}
	return path + "." + list
}
