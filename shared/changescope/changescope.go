// Package changescope lists what a promotion changes besides images: every field that
// differs between two revisions of a set of YAML files, except the fields that hold
// image references. A promotion to a protected environment that claims to move an
// image must not also scale it, change its environment or its resources.
package changescope

import (
	"encoding/json"
	"fmt"
	"strings"
	"unicode/utf8"

	"go.yaml.in/yaml/v3"

	"github.com/promotion-gate/promotion-gate/shared/policy"
	"github.com/promotion-gate/promotion-gate/shared/render"
)

// Op is what happened to a field, document or file.
type Op string

const (
	// Changed: the value differs.
	Changed Op = "changed"
	// Added: the field or document exists only in the new revision.
	Added Op = "added"
	// Removed: the field or document exists only in the old revision.
	Removed Op = "removed"
)

// Change is one difference that is not an image field.
type Change struct {
	// File is the repository-relative file.
	File string
	// Document is the index of the document in File (in the new revision, or the old
	// one for a removed document); -1 means the file as a whole.
	Document int
	// Kind, Namespace and Name identify a Kubernetes object; empty for other YAML.
	Kind, Namespace, Name string
	// Field is the path of the field, as extract writes field paths
	// ("spec.template.spec.containers[0].env[1].value"); empty for a whole document.
	Field string
	Op    Op
	// Old and New are the values, compact and truncated; empty when absent.
	Old, New string
}

// String says in one line what changed, naming the object and the field:
// "Deployment payments/payments-api spec.replicas changed 2 → 5".
func (c Change) String() string {
	what := c.object()
	if c.Document < 0 {
		return fmt.Sprintf("%s %s", what, or(string(c.Op), string(Changed)))
	}
	if c.Field != "" {
		what += " " + c.Field
	}
	switch c.Op {
	case Added:
		if c.Field == "" {
			return what + " added"
		}
		return fmt.Sprintf("%s added: %s", what, c.New)
	case Removed:
		if c.Field == "" {
			return what + " removed"
		}
		return fmt.Sprintf("%s removed (was %s)", what, c.Old)
	}
	return fmt.Sprintf("%s changed %s → %s", what, c.Old, c.New)
}

// object names what changed: the Kubernetes object, else the file and document.
func (c Change) object() string {
	switch {
	case c.Document < 0:
		return "file " + c.File
	case c.Kind != "" && c.Name != "":
		if c.Namespace != "" {
			return fmt.Sprintf("%s %s/%s", c.Kind, c.Namespace, c.Name)
		}
		return fmt.Sprintf("%s %s", c.Kind, c.Name)
	case c.Document > 0:
		return fmt.Sprintf("%s (document %d)", c.File, c.Document+1)
	}
	return c.File
}

func or(s, def string) string {
	if s == "" {
		return def
	}
	return s
}

// FileChanged is the change for a file that cannot be compared field by field (it is
// not YAML); such a change is never only an image update.
func FileChanged(file string) Change {
	return Change{File: file, Document: -1, Op: Changed}
}

// Diff returns every difference between base and head that is not an image field.
// Files are matched by path and documents within a file by apiVersion, kind,
// namespace and name (by index when a document has no such identity); a file or
// document on one side only yields one Added or Removed change per document. Image
// fields are those extract.Images reports (workload containers and the policy's
// imageFields) and those extract.Setters reports (Flux setter markers, including
// split name/tag/digest parts), plus kustomization images: entries; a field that is
// an image field in either revision is skipped.
func Diff(base, head []render.Document, fields []policy.ImageField) []Change {
	var out []Change
	files, byFile := group(base, head)
	for _, f := range files {
		pair := byFile[f]
		out = append(out, diffFile(pair[0], pair[1], fields)...)
	}
	return out
}

// group collects documents by file, in the order files first appear (head first).
func group(base, head []render.Document) ([]string, map[string]*[2][]render.Document) {
	byFile := map[string]*[2][]render.Document{}
	var files []string
	add := func(side int, docs []render.Document) {
		for _, d := range docs {
			p := byFile[d.File]
			if p == nil {
				p = &[2][]render.Document{}
				byFile[d.File] = p
				files = append(files, d.File)
			}
			p[side] = append(p[side], d)
		}
	}
	add(1, head)
	add(0, base)
	return files, byFile
}

// diffFile matches the documents of one file and diffs each pair.
func diffFile(base, head []render.Document, fields []policy.ImageField) []Change {
	baseKeys := keys(base)
	headKeys := keys(head)
	baseBy := map[string]render.Document{}
	for i, k := range baseKeys {
		baseBy[k] = base[i]
	}
	var out []Change
	seen := map[string]bool{}
	for i, k := range headKeys {
		h := head[i]
		seen[k] = true
		b, ok := baseBy[k]
		if !ok {
			out = append(out, docChange(h, Added))
			continue
		}
		d := differ{file: h.File, doc: h.Index, id: identify(h.Node), images: imagePaths(b, fields)}
		for p := range imagePaths(h, fields) {
			d.images[p] = true
		}
		d.node(rootOf(b.Node), rootOf(h.Node), "")
		out = append(out, d.out...)
	}
	for i, k := range baseKeys {
		if !seen[k] {
			out = append(out, docChange(base[i], Removed))
		}
	}
	return out
}

// keys gives each document its matching key: its identity, or its index when it has
// none or shares it with an earlier document.
func keys(docs []render.Document) []string {
	out := make([]string, len(docs))
	used := map[string]bool{}
	for i, d := range docs {
		id := identify(d.Node)
		k := fmt.Sprintf("#%d", d.Index)
		if id.kind != "" && id.name != "" {
			k = strings.Join([]string{id.apiVersion, id.kind, id.namespace, id.name}, "/")
		}
		if used[k] {
			k = fmt.Sprintf("%s#%d", k, d.Index)
		}
		used[k] = true
		out[i] = k
	}
	return out
}

func docChange(d render.Document, op Op) Change {
	id := identify(d.Node)
	return Change{File: d.File, Document: d.Index, Kind: id.kind, Namespace: id.namespace, Name: id.name, Op: op}
}

// maxValue bounds how much of a value a change quotes: enough to recognise it.
const maxValue = 60

// show renders a value compactly: a scalar as written, anything else as JSON.
func show(n *yaml.Node) string {
	var s string
	switch {
	case n == nil:
		return ""
	case n.Kind == yaml.ScalarNode:
		s = n.Value
		// Quote what was quoted, so that 2 → "2" (a number become a string) reads as a change.
		if n.Style&(yaml.DoubleQuotedStyle|yaml.SingleQuotedStyle) != 0 || s == "" || strings.TrimSpace(s) != s {
			s = fmt.Sprintf("%q", s)
		}
	case n.Kind == yaml.AliasNode:
		s = "*" + n.Value
	default:
		var v any
		if err := n.Decode(&v); err != nil {
			return "(" + err.Error() + ")"
		}
		b, err := json.Marshal(v)
		if err != nil {
			return "(" + err.Error() + ")"
		}
		s = string(b)
	}
	if len(s) > maxValue {
		cut := maxValue
		for cut > 0 && !utf8.RuneStart(s[cut]) {
			cut--
		}
		s = s[:cut] + "…"
	}
	return s
}
