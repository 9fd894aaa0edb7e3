package policy

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"reflect"
	"strconv"
	"strings"

	yaml "go.yaml.in/yaml/v3"
)

// document is one decoded policy document with the line of every field path, so that
// validation errors found after decoding can still point at the line to fix.
type document struct {
	Document
	source string
	line   int            // line of the document's first key
	lines  map[string]int // field path ("spec.rules[2].tagPattern") -> line
}

// lineOf returns the line of the field path, or of its nearest recorded parent.
func (d *document) lineOf(path string) int {
	for p := path; p != ""; p = parentPath(p) {
		if l, ok := d.lines[p]; ok {
			return l
		}
	}
	return d.line
}

// parentPath drops the last segment of a field path: "a.b[2].c" -> "a.b[2]" -> "a.b" -> "a".
func parentPath(p string) string {
	i := strings.LastIndexAny(p, ".[")
	if i < 0 {
		return ""
	}
	return p[:i]
}

// decodeSource splits a source into its YAML documents and strictly decodes each
// non-empty one. Strictness is ours rather than yaml's KnownFields, so the message can
// say which kind of object the unknown field was in and where the user should look.
func decodeSource(src Source) ([]*document, error) {
	dec := yaml.NewDecoder(bytes.NewReader(src.Data))
	var docs []*document
	for {
		var root yaml.Node
		err := dec.Decode(&root)
		if errors.Is(err, io.EOF) {
			return docs, nil
		}
		if err != nil {
			return nil, fmt.Errorf("policy %s: %s", src.Name, yamlMessage(err))
		}
		if isEmptyDocument(&root) {
			continue
		}
		d, err := decodeDocument(src.Name, &root)
		if err != nil {
			return nil, err
		}
		docs = append(docs, d)
	}
}

// isEmptyDocument reports a document holding nothing, or only comments: such documents
// appear between "---" separators and at the end of streams and mean nothing.
func isEmptyDocument(root *yaml.Node) bool {
	if root.Kind != yaml.DocumentNode {
		return false
	}
	return len(root.Content) == 0 || (root.Content[0].Kind == yaml.ScalarNode && root.Content[0].ShortTag() == "!!null")
}

func decodeDocument(source string, root *yaml.Node) (*document, error) {
	body := root
	if root.Kind == yaml.DocumentNode && len(root.Content) > 0 {
		body = root.Content[0]
	}
	d := &document{source: source, line: body.Line, lines: map[string]int{}}
	if body.Kind != yaml.MappingNode {
		return nil, fmt.Errorf("policy %s: line %d: expected a %s document (a mapping), got %s",
			source, body.Line, Kind, describeNode(body))
	}
	w := walker{lines: d.lines, seen: map[walkKey]bool{}}
	if err := w.walk(body, reflect.TypeFor[Document](), ""); err != nil {
		return nil, fmt.Errorf("policy %s: %w", source, err)
	}
	if err := body.Decode(&d.Document); err != nil {
		return nil, fmt.Errorf("policy %s: %s", source, yamlMessage(err))
	}
	if d.APIVersion != APIVersion || d.Kind != Kind {
		return nil, fmt.Errorf("policy %s: line %d: apiVersion %q and kind %q are not a policy document; use apiVersion: %s and kind: %s",
			source, d.line, d.APIVersion, d.Kind, APIVersion, Kind)
	}
	return d, nil
}

// yamlMessage turns a yaml error into one line without the library's "yaml: " prefix.
func yamlMessage(err error) string {
	var te *yaml.TypeError
	if errors.As(err, &te) {
		return strings.Join(strings.Fields(strings.Join(te.Errors, "; ")), " ")
	}
	msg := strings.TrimPrefix(err.Error(), "yaml: ")
	return strings.Join(strings.Fields(msg), " ")
}

// objectNames name the policy's object types in messages the way docs/policy.md does.
var objectNames = map[reflect.Type]string{
	reflect.TypeFor[Document]():    "document",
	reflect.TypeFor[Metadata]():    "metadata",
	reflect.TypeFor[Spec]():        "spec",
	reflect.TypeFor[Environment](): "environment",
	reflect.TypeFor[Match]():       "match",
	reflect.TypeFor[Rule]():        "rule",
	reflect.TypeFor[ImageField]():  "imageField",
	reflect.TypeFor[Exemption]():   "exemption",

	reflect.TypeFor[Signatures]():           "signatures",
	reflect.TypeFor[Authority]():            "authority",
	reflect.TypeFor[Keyless]():              "keyless",
	reflect.TypeFor[Material]():             "key material",
	reflect.TypeFor[ObjectKeyRef]():         "reference",
	reflect.TypeFor[Attestation]():          "attestation",
	reflect.TypeFor[SLSAProvenance]():       "slsaProvenance",
	reflect.TypeFor[VulnerabilityScan]():    "vulnerabilityScan",
	reflect.TypeFor[IgnoredVulnerability](): "ignored vulnerability",
	reflect.TypeFor[Plugin]():               "plugin",
	reflect.TypeFor[CommitSignatures]():     "commitSignatures",
	reflect.TypeFor[CommitKey]():            "commit key",
}

type walkKey struct {
	node *yaml.Node
	typ  reflect.Type
}

// walker checks a node tree against a Go type before yaml decodes it: unknown or
// repeated fields and values of the wrong shape become errors with a line and a field
// path. seen makes aliases cost one visit each, so an alias bomb cannot blow up the walk.
type walker struct {
	lines map[string]int
	seen  map[walkKey]bool
}

func (w *walker) walk(n *yaml.Node, t reflect.Type, path string) error {
	if n.Kind == yaml.AliasNode {
		if n.Alias == nil {
			return fmt.Errorf("line %d: %s: alias without an anchor", n.Line, pathOrTop(path))
		}
		n = n.Alias
	}
	if path != "" {
		if _, ok := w.lines[path]; !ok {
			w.lines[path] = n.Line
		}
	}
	if w.seen[walkKey{n, t}] {
		return nil
	}
	w.seen[walkKey{n, t}] = true
	if n.Kind == yaml.ScalarNode && n.ShortTag() == "!!null" {
		return nil // an empty value leaves the zero value
	}
	switch t.Kind() {
	case reflect.Struct:
		return w.walkStruct(n, t, path)
	case reflect.Slice:
		if n.Kind != yaml.SequenceNode {
			return wrongShape(n, path, "a list")
		}
		for i, item := range n.Content {
			if err := w.walk(item, t.Elem(), path+"["+strconv.Itoa(i)+"]"); err != nil {
				return err
			}
		}
		return nil
	case reflect.Map:
		if n.Kind != yaml.MappingNode {
			return wrongShape(n, path, "a mapping")
		}
		for i := 0; i+1 < len(n.Content); i += 2 {
			if err := w.walk(n.Content[i+1], t.Elem(), path+"."+n.Content[i].Value); err != nil {
				return err
			}
		}
		return nil
	case reflect.Pointer:
		return w.walk(n, t.Elem(), path)
	case reflect.Int:
		if n.Kind != yaml.ScalarNode || n.ShortTag() != "!!int" {
			return wrongShape(n, path, "a whole number")
		}
		return nil
	case reflect.Bool:
		if n.Kind != yaml.ScalarNode || n.ShortTag() != "!!bool" {
			return wrongShape(n, path, "true or false")
		}
		return nil
	default: // strings
		if n.Kind != yaml.ScalarNode {
			return wrongShape(n, path, "a string")
		}
		return nil
	}
}

func (w *walker) walkStruct(n *yaml.Node, t reflect.Type, path string) error {
	if n.Kind != yaml.MappingNode {
		return wrongShape(n, path, "a mapping")
	}
	seen := map[string]int{}
	for i := 0; i+1 < len(n.Content); i += 2 {
		key, value := n.Content[i], n.Content[i+1]
		if key.Kind != yaml.ScalarNode {
			return fmt.Errorf("line %d: %s: a key must be a string, got %s", key.Line, pathOrTop(path), describeNode(key))
		}
		if key.Value == "<<" && key.ShortTag() == "!!merge" {
			if err := w.walkMerge(value, t, path); err != nil {
				return err
			}
			continue
		}
		if first, ok := seen[key.Value]; ok {
			return fmt.Errorf("line %d: field %q is set twice in %s (first at line %d)", key.Line, key.Value, objectName(t), first)
		}
		seen[key.Value] = key.Line
		field, ok := fieldByTag(t, key.Value)
		if !ok {
			return fmt.Errorf("line %d: unknown field %q in %s; check the spelling against docs/policy.md",
				key.Line, key.Value, objectName(t))
		}
		if err := w.walk(value, field.Type, joinPath(path, key.Value)); err != nil {
			return err
		}
	}
	return nil
}

// walkMerge checks the value of a YAML merge key ("<<: *base"), which must be a mapping
// or a list of mappings with the same fields as the object merged into.
func (w *walker) walkMerge(n *yaml.Node, t reflect.Type, path string) error {
	if n.Kind == yaml.AliasNode && n.Alias != nil {
		n = n.Alias
	}
	if n.Kind != yaml.SequenceNode {
		return w.walk(n, t, path)
	}
	for _, item := range n.Content {
		if err := w.walk(item, t, path); err != nil {
			return err
		}
	}
	return nil
}

func fieldByTag(t reflect.Type, key string) (reflect.StructField, bool) {
	for i := range t.NumField() {
		f := t.Field(i)
		name, _, _ := strings.Cut(f.Tag.Get("yaml"), ",")
		if name == key {
			return f, true
		}
	}
	return reflect.StructField{}, false
}

func objectName(t reflect.Type) string {
	if name, ok := objectNames[t]; ok {
		return name
	}
	return strings.ToLower(t.Name())
}

func joinPath(path, key string) string {
	if path == "" {
		return key
	}
	return path + "." + key
}

func pathOrTop(path string) string {
	if path == "" {
		return "document"
	}
	return path
}

func wrongShape(n *yaml.Node, path, want string) error {
	return fmt.Errorf("line %d: %s: expected %s, got %s", n.Line, pathOrTop(path), want, describeNode(n))
}

// describeNode names what a node holds in words a policy author recognises.
func describeNode(n *yaml.Node) string {
	switch n.Kind {
	case yaml.MappingNode:
		return "a mapping"
	case yaml.SequenceNode:
		return "a list"
	case yaml.ScalarNode:
		v := n.Value
		if len(v) > 40 {
			v = v[:40] + "..."
		}
		return strconv.Quote(v)
	default:
		return "an unsupported YAML node"
	}
}
