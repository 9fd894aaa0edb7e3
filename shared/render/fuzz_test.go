package render

import (
	"testing"

	"sigs.k8s.io/kustomize/kyaml/yaml"
)

// FuzzParseDocuments feeds untrusted streams to the parser: it must never panic,
// and what it returns must be what it promises — mappings without aliases, indexed
// in order, that encode back into a stream of the same length.
func FuzzParseDocuments(f *testing.F) {
	f.Add([]byte("apiVersion: v1\nkind: Pod\nmetadata: {name: a}\n"))
	f.Add([]byte("a: &a [1, 2]\nb: [*a, *a]\nc: {<<: {x: 1}}\n"))
	f.Add([]byte("---\n---\n# only a comment\n"))
	limits := Limits{MaxFileBytes: 1 << 20, MaxDocuments: 100, MaxAliases: 1000}
	f.Fuzz(func(t *testing.T, data []byte) {
		docs, err := ParseDocuments("fuzz.yaml", data, limits)
		if err != nil {
			return
		}
		s := &stream{limits: limits.withDefaults()}
		if err := s.add("fuzz.yaml", docs); err != nil {
			t.Fatalf("add %d documents: %v", len(docs), err)
		}
		for i, d := range docs {
			if d.Index != i || d.Node == nil || d.Node.Kind != yaml.MappingNode {
				t.Fatalf("document %d: index %d, node %v", i, d.Index, d.Node)
			}
			if !noAliases(d.Node) {
				t.Fatalf("document %d keeps an alias or merge key", i)
			}
		}
		out, err := s.encode()
		if err != nil {
			// yaml.v3 cannot write every node it reads back (odd tags, keys);
			// the renderers then fail with an error, which is safe.
			return
		}
		back, err := ParseDocuments("out", out, Limits{})
		if err != nil {
			t.Fatalf("re-parse the encoded stream: %v\n%s", err, out)
		}
		if len(back) != len(docs) {
			t.Fatalf("encoded %d documents, read back %d:\n%s", len(docs), len(back), out)
		}
	})
}
