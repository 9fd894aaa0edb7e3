package render

import (
	"bytes"
	"errors"
	"fmt"
	"io"

	"sigs.k8s.io/kustomize/kyaml/yaml"
)

// ParseDocuments parses a YAML stream of Kubernetes objects into documents with line
// numbers. Empty and comments-only documents are skipped, and so are documents that
// are not mappings (a JSON 6902 patch file is a sequence; no such document is a
// Kubernetes object). Index counts the documents returned.
//
// The stream is untrusted: it is refused when it is over limits.MaxFileBytes, holds
// more than limits.MaxDocuments documents, or its aliases expand to more than
// limits.MaxAliases nodes. Aliases and merge keys ("<<") are expanded in the returned
// nodes, so that readers see what the cluster will see; duplicate mapping keys are
// refused, because tools disagree on which value wins.
func ParseDocuments(file string, data []byte, limits Limits) ([]Document, error) {
	limits = limits.withDefaults()
	if int64(len(data)) > limits.MaxFileBytes {
		return nil, fmt.Errorf("%s is %d bytes, over the limit of %d bytes per file: %w", file, len(data), limits.MaxFileBytes, ErrLimit)
	}
	anchored := mayHaveAliases(data)
	aliases := newAliasCounter(file, limits.MaxAliases)
	dec := yaml.NewDecoder(bytes.NewReader(data))
	var docs []Document
	for n := 1; ; n++ {
		var doc yaml.Node
		err := dec.Decode(&doc)
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, fmt.Errorf("parse %s: document %d: %w", file, n, err)
		}
		root := documentRoot(&doc)
		if root == nil {
			continue
		}
		if len(docs) == limits.MaxDocuments {
			return nil, fmt.Errorf("%s has more than %d documents: %w", file, limits.MaxDocuments, ErrLimit)
		}
		if anchored {
			if err := aliases.count(root); err != nil {
				return nil, err
			}
			if root, err = deAnchor(root); err != nil {
				return nil, fmt.Errorf("parse %s: document %d: %w", file, n, err)
			}
		}
		if err := checkKeys(root); err != nil {
			return nil, fmt.Errorf("parse %s: document %d: %w", file, n, err)
		}
		docs = append(docs, Document{File: file, Index: len(docs), Node: root})
	}
	return docs, nil
}

// documentRoot returns the mapping a document holds, or nil for an empty,
// comments-only, null or non-mapping document.
func documentRoot(doc *yaml.Node) *yaml.Node {
	n := doc
	if n.Kind == yaml.DocumentNode {
		if len(n.Content) == 0 {
			return nil
		}
		n = n.Content[0]
	}
	if n.Kind == yaml.AliasNode && n.Alias != nil {
		n = n.Alias
	}
	if n.Kind != yaml.MappingNode {
		return nil
	}
	return n
}

// mayHaveAliases is a cheap pre-test: without '*' there is no alias, without "<<" no
// merge key, and most manifests have neither.
func mayHaveAliases(data []byte) bool {
	return bytes.IndexByte(data, '*') >= 0 || bytes.Contains(data, []byte("<<"))
}

// deAnchor replaces aliases and merge keys by copies of what they stand for. The
// caller has bounded the expansion with an aliasCounter. A "<<" left after that is not
// a merge key (it stands as a value, say): it is the string "<<", and is tagged so,
// that every reader takes it as the same thing.
func deAnchor(n *yaml.Node) (*yaml.Node, error) {
	rn := yaml.NewRNode(n)
	if err := rn.DeAnchor(); err != nil {
		return nil, err
	}
	plainMerges(rn.YNode())
	return rn.YNode(), nil
}

// plainMerges tags every remaining merge scalar as a string.
func plainMerges(n *yaml.Node) {
	if n.Kind == yaml.ScalarNode && n.Tag == "!!merge" {
		n.Tag = yaml.NodeTagString
	}
	for _, c := range n.Content {
		plainMerges(c)
	}
}

// aliasCounter adds up the nodes that aliases stand for, without expanding them:
// the size of an anchored node is computed once and reused for every alias to it, so
// counting is linear in the size of the file even for a "billion laughs".
type aliasCounter struct {
	file  string
	max   int64
	total int64
	size  map[*yaml.Node]int64
}

func newAliasCounter(file string, max int) *aliasCounter {
	return &aliasCounter{file: file, max: int64(max), size: map[*yaml.Node]int64{}}
}

// inProgress marks an anchored node whose size is being computed: meeting it again
// means an alias inside its own anchor.
const inProgress = -1

func (a *aliasCounter) count(n *yaml.Node) error {
	_, err := a.nodes(n)
	return err
}

// nodes returns the expanded size of n and adds every alias expansion to the total.
func (a *aliasCounter) nodes(n *yaml.Node) (int64, error) {
	if n == nil {
		return 0, nil
	}
	switch n.Kind {
	case yaml.ScalarNode:
		return 1, nil
	case yaml.AliasNode:
		s, err := a.nodes(n.Alias)
		if err != nil {
			return 0, err
		}
		a.total += s
		if a.total > a.max {
			return 0, fmt.Errorf("%s: YAML aliases expand to more than %d nodes (line %d): refusing a possible alias bomb: %w",
				a.file, a.max, n.Line, ErrLimit)
		}
		return s, nil
	}
	if n.Anchor != "" {
		switch s, seen := a.size[n]; {
		case seen && s == inProgress:
			return 0, fmt.Errorf("%s: line %d: anchor %q contains an alias to itself", a.file, n.Line, n.Anchor)
		case seen:
			return s, nil
		}
		a.size[n] = inProgress
	}
	var s int64 = 1
	for _, c := range n.Content {
		cs, err := a.nodes(c)
		if err != nil {
			return 0, err
		}
		// Saturate: the total check above stops the walk long before an overflow
		// matters, but a size is also stored for later aliases.
		if s += cs; s > a.max+1 {
			s = a.max + 1
		}
	}
	if n.Anchor != "" {
		a.size[n] = s
	}
	return s, nil
}

// checkKeys refuses a mapping with the same key twice anywhere in n: Kubernetes
// clients disagree on which value wins, so a checker could read another image than
// the cluster runs.
func checkKeys(n *yaml.Node) error {
	switch n.Kind {
	case yaml.MappingNode:
		if err := uniqueKeys(n); err != nil {
			return err
		}
	case yaml.SequenceNode, yaml.DocumentNode:
	default:
		return nil
	}
	for _, c := range n.Content {
		if err := checkKeys(c); err != nil {
			return err
		}
	}
	return nil
}

// smallMapping is the size up to which comparing every pair of keys is cheaper than
// a map; almost every Kubernetes mapping is smaller.
const smallMapping = 16

func uniqueKeys(m *yaml.Node) error {
	keys := len(m.Content) / 2
	dup := func(i, j int) error {
		k, first := m.Content[2*i], m.Content[2*j]
		return fmt.Errorf("line %d: mapping key %q is already defined at line %d", k.Line, k.Value, first.Line)
	}
	if keys <= smallMapping {
		for i := 1; i < keys; i++ {
			for j := 0; j < i; j++ {
				if sameKey(m.Content[2*i], m.Content[2*j]) {
					return dup(i, j)
				}
			}
		}
		return nil
	}
	seen := make(map[string]int, keys)
	for i := 0; i < keys; i++ {
		k := m.Content[2*i]
		if k.Kind != yaml.ScalarNode {
			continue
		}
		if j, ok := seen[k.Value]; ok && sameKey(k, m.Content[2*j]) {
			return dup(i, j)
		}
		seen[k.Value] = i
	}
	return nil
}

func sameKey(a, b *yaml.Node) bool {
	return a.Kind == yaml.ScalarNode && b.Kind == yaml.ScalarNode && a.Value == b.Value && a.ShortTag() == b.ShortTag()
}

// checkAliases bounds the alias expansion of a file that another parser (kustomize,
// Helm) will read, before it gets the file. Files that are not YAML are left to that
// parser's own error.
func checkAliases(file string, data []byte, limits Limits) error {
	if bytes.IndexByte(data, '*') < 0 {
		return nil
	}
	aliases := newAliasCounter(file, limits.MaxAliases)
	dec := yaml.NewDecoder(bytes.NewReader(data))
	for {
		var doc yaml.Node
		if err := dec.Decode(&doc); err != nil {
			return nil
		}
		if err := aliases.count(&doc); err != nil {
			return err
		}
	}
}
