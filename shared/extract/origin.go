package extract

import (
	"strconv"
	"strings"

	"go.yaml.in/yaml/v3"

	"github.com/promotion-gate/promotion-gate/shared/render"
)

// Relocate names the file to edit for an image found at src in a render without
// origins, given the same render's documents with origins (render.Options.Origins):
// the document is the one at src.Document.
func Relocate(src Source, raw string, docs []render.Document) Source {
	if src.Document < 0 || src.Document >= len(docs) {
		return src
	}
	return locate(nil, docs[src.Document].Origin, raw, src)
}

// locate names the file a person edits to change the image found at src, when the
// renderer knows where the resource came from (kustomize's origin tracking): the
// images: entry of the kustomization that set it last, when one did; else the line of
// the field in the resource's own file (in the base or component) when it holds the
// image; else the patch that wrote it (a patch may set an image or add a container);
// else the resource's file. Without an origin, src is returned as it is.
func locate(idx valueIndexes, o *render.Origin, raw string, src Source) Source {
	if o == nil {
		return src
	}
	name := imageName(raw)
	var set *render.ImageEntry
	for i, e := range o.Images {
		target := e.NewName
		if target == "" {
			target = e.Name
		}
		if target == name && (e.NewName != "" || e.NewTag != "" || e.Digest != "") {
			set = &o.Images[i] // the last one applied wins
		}
	}
	if len(o.Values) > 0 {
		return locateValue(idx, o.Values, raw, src)
	}
	var field *yaml.Node
	if o.File != "" {
		field = fieldNode(o.Source, src.FieldPath, src.Container)
	}
	switch {
	case set != nil:
		src.File, src.Line = set.File, set.Line
	case field != nil && field.Value == raw:
		src.File, src.Line = o.File, field.Line
	default:
		if file, line, ok := inPatches(o.Patches, raw); ok {
			src.File, src.Line = file, line
		} else if o.File != "" {
			src.File, src.Line = o.File, 0
			if field != nil {
				src.Line = field.Line
			}
		}
	}
	return src
}

// imageName is the reference without its tag and digest, as kustomize's images: name
// matches it.
func imageName(raw string) string {
	if i := strings.IndexByte(raw, '@'); i >= 0 {
		raw = raw[:i]
	}
	if i := strings.LastIndexByte(raw, ':'); i > strings.LastIndexByte(raw, '/') {
		raw = raw[:i]
	}
	return raw
}

// fieldNode follows a Source.FieldPath ("spec.template.spec.containers[0].image",
// with ["key"] for unusual keys) through a document. A container list is searched by
// the container's name, since a patch may have reordered it. Split fields
// ("image.{repository,tag}") resolve to their mapping. nil when the path is not there.
func fieldNode(doc *yaml.Node, path, container string) *yaml.Node {
	n := doc
	segs, ok := splitFieldPath(path)
	if !ok {
		return nil
	}
	for i, seg := range segs {
		if n == nil {
			return nil
		}
		switch {
		case seg.index >= 0:
			if n.Kind != yaml.SequenceNode {
				return nil
			}
			next := (*yaml.Node)(nil)
			if seg.index < len(n.Content) {
				next = n.Content[seg.index]
			}
			if container != "" && i+1 < len(segs) && segs[i+1].key == "image" {
				for _, it := range n.Content {
					if str(lookup(it, "name")) == container {
						next = it
					}
				}
			}
			n = next
		default:
			n = lookupNode(n, seg.key)
		}
	}
	return n
}

type fieldSeg struct {
	key   string
	index int // -1 for a key
}

// splitFieldPath splits a field path; false when it does not read as one.
func splitFieldPath(p string) ([]fieldSeg, bool) {
	var out []fieldSeg
	for p != "" {
		switch {
		case strings.HasPrefix(p, "."):
			p = p[1:]
		case strings.HasPrefix(p, "{"):
			return out, true // split fields: their mapping is the place
		case strings.HasPrefix(p, "[\""):
			end := strings.Index(p, "\"]")
			for end > 0 && p[end-1] == '\\' {
				next := strings.Index(p[end+2:], "\"]")
				if next < 0 {
					return nil, false
				}
				end += 2 + next
			}
			if end < 0 {
				return nil, false
			}
			key, err := strconv.Unquote(p[1 : end+1])
			if err != nil {
				return nil, false
			}
			out = append(out, fieldSeg{key: key, index: -1})
			p = p[end+2:]
		case strings.HasPrefix(p, "["):
			end := strings.IndexByte(p, ']')
			i, err := strconv.Atoi(p[1:max(end, 1)])
			if end < 0 || err != nil {
				return nil, false
			}
			out = append(out, fieldSeg{index: i})
			p = p[end+1:]
		default:
			end := strings.IndexAny(p, ".[")
			if end < 0 {
				end = len(p)
			}
			out = append(out, fieldSeg{key: p[:end], index: -1})
			p = p[end:]
		}
	}
	return out, true
}

func inPatches(patches []render.Patch, raw string) (string, int, bool) {
	for i := len(patches) - 1; i >= 0; i-- {
		p := patches[i]
		if p.Docs == nil {
			if p.Inline != "" && strings.Contains(p.Inline, raw) {
				return p.File, p.Line, true
			}
			continue
		}
		for _, d := range p.Docs {
			if n := imageValue(d, raw); n != nil {
				return p.File, n.Line, true
			}
		}
	}
	return "", 0, false
}

// imageValue finds an "image" (or "value", for a JSON patch) field holding raw.
func imageValue(n *yaml.Node, raw string) *yaml.Node {
	switch n.Kind {
	case yaml.MappingNode:
		for i := 0; i+1 < len(n.Content); i += 2 {
			k, v := n.Content[i], n.Content[i+1]
			if v.Kind == yaml.ScalarNode && v.Value == raw && (k.Value == "image" || k.Value == "value") {
				return v
			}
			if f := imageValue(v, raw); f != nil {
				return f
			}
		}
	case yaml.SequenceNode:
		for _, it := range n.Content {
			if f := imageValue(it, raw); f != nil {
				return f
			}
		}
	}
	return nil
}
