package render

import (
	"errors"
	"os"
	"strings"
	"testing"

	. "github.com/onsi/gomega"
	"sigs.k8s.io/kustomize/kyaml/yaml"
)

func TestParseDocuments(t *testing.T) {
	bomb, err := os.ReadFile(repo + "/apps/bomb-plain/bomb.yaml")
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name   string
		data   string
		limits Limits
		names  []string // metadata.name of each document
		lines  []int    // line of each document's mapping, when set
		err    string   // the error says this
		is     error
	}{
		{name: "empty stream", data: "", names: nil},
		{name: "comments only", data: "# nothing\n---\n# still nothing\n", names: nil},
		{
			name:  "documents with empty ones between",
			data:  "---\nmetadata: {name: a}\n---\n---\n\n---\nmetadata: {name: b}\n...\n",
			names: []string{"a", "b"},
			lines: []int{2, 7},
		},
		{name: "null document", data: "null\n---\nmetadata: {name: a}\n", names: []string{"a"}},
		{name: "sequence and scalar documents are skipped", data: "- op: add\n---\nhello\n---\nmetadata: {name: a}\n", names: []string{"a"}},
		{name: "JSON", data: `{"metadata": {"name": "j"}}`, names: []string{"j"}},
		{name: "tabs in JSON", data: "{\n\t\"metadata\": {\"name\": \"tab\"}\n}\n", names: []string{"tab"}},
		{
			name:  "aliases and merge keys are expanded",
			data:  "metadata: &m {name: a}\nspec:\n  copy: *m\n  merged:\n    <<: *m\n    extra: x\n",
			names: []string{"a"},
		},
		{name: "syntax error names the line", data: "metadata:\n  name: [a\n", err: "parse f.yaml: document 1: yaml: line"},
		{name: "duplicate key", data: "metadata:\n  name: a\n  name: b\n", err: `line 3: mapping key "name" is already defined at line 2`},
		{name: "alias bomb", data: string(bomb), is: ErrLimit, err: "f.yaml: YAML aliases expand to more than 100000 nodes"},
		{
			name:   "alias expansion limit",
			data:   "a: &a [1, 2, 3]\nb: [*a, *a]\n",
			limits: Limits{MaxAliases: 7},
			is:     ErrLimit, err: "more than 7 nodes",
		},
		{name: "alias inside its own anchor", data: "a: &a [1, *a]\n", err: `anchor "a" contains an alias to itself`},
		{name: "too many documents", data: "a: 1\n---\nb: 2\n", limits: Limits{MaxDocuments: 1}, is: ErrLimit, err: "more than 1 documents"},
		{name: "too big", data: "a: 12345\n", limits: Limits{MaxFileBytes: 4}, is: ErrLimit, err: "f.yaml is 9 bytes, over the limit of 4 bytes"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			g := NewWithT(t)
			docs, err := ParseDocuments("f.yaml", []byte(tt.data), tt.limits)
			if tt.err != "" || tt.is != nil {
				g.Expect(err).To(HaveOccurred())
				g.Expect(err.Error()).To(ContainSubstring(tt.err))
				if tt.is != nil {
					g.Expect(errors.Is(err, tt.is)).To(BeTrue())
				}
				return
			}
			g.Expect(err).NotTo(HaveOccurred())
			var names []string
			for i, d := range docs {
				g.Expect(d.File).To(Equal("f.yaml"))
				g.Expect(d.Index).To(Equal(i))
				g.Expect(noAliases(d.Node)).To(BeTrue())
				names = append(names, field(d, "metadata", "name"))
				if tt.lines != nil {
					g.Expect(d.Node.Line).To(Equal(tt.lines[i]))
				}
			}
			g.Expect(names).To(Equal(tt.names))
		})
	}
}

func TestParseDocumentsMergeKeys(t *testing.T) {
	g := NewWithT(t)
	docs, err := ParseDocuments("f.yaml", []byte(`base: &base
  image: ghcr.io/example/app:latest
  name: a
spec:
  containers:
    - <<: *base
      name: b
`), Limits{})
	g.Expect(err).NotTo(HaveOccurred())
	c, err := yaml.NewRNode(docs[0].Node).Pipe(yaml.Lookup("spec", "containers", "[name=b]", "image"))
	g.Expect(err).NotTo(HaveOccurred())
	g.Expect(c).NotTo(BeNil(), "the merged image is a plain field of the container")
	g.Expect(c.YNode().Value).To(Equal("ghcr.io/example/app:latest"))
}

func noAliases(n *yaml.Node) bool {
	if n.Kind == yaml.AliasNode || n.Tag == "!!merge" {
		return false
	}
	for _, c := range n.Content {
		if !noAliases(c) {
			return false
		}
	}
	return true
}

// TestCheckAliases covers the pre-check for files that kustomize and Helm parse.
func TestCheckAliases(t *testing.T) {
	bomb, err := os.ReadFile(repo + "/apps/bomb-plain/bomb.yaml")
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		data string
		err  string
	}{
		{name: "no aliases", data: "a: 1\n"},
		{name: "a star in a string", data: "schedule: '*/5 * * * *'\n"},
		{name: "not YAML is left to its parser", data: "a: [*\n"},
		{name: "bomb in the second document", data: "a: 1\n---\n" + string(bomb), err: "alias bomb"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			g := NewWithT(t)
			err := checkAliases("f", []byte(tt.data), DefaultLimits())
			if tt.err == "" {
				g.Expect(err).NotTo(HaveOccurred())
				return
			}
			g.Expect(err).To(MatchError(ContainSubstring(tt.err)))
		})
	}
}

func TestIsRemote(t *testing.T) {
	for ref, want := range map[string]bool{
		"../../base":      false,
		"deployment.yaml": false,
		"https://github.com/org/repo//base?ref=v1":       true,
		"HTTP://example.com/x.yaml":                      true,
		"github.com/org/repo/base?ref=v1":                true,
		"git@github.com:org/repo.git/base":               true,
		"git::https://example.com/org/repo.git":          true,
		"ssh://git@example.com/org/repo.git":             true,
		"file:///etc/kustomize":                          true,
		"example.com/not-a-url-without-scheme/or-github": false,
	} {
		if got := isRemote(ref); got != want {
			t.Errorf("isRemote(%q) = %v, want %v", ref, got, want)
		}
	}
}

func TestMergeValues(t *testing.T) {
	g := NewWithT(t)
	got := mergeValues(
		map[string]interface{}{"a": map[string]interface{}{"x": 1, "y": 2}, "l": []interface{}{1, 2}, "s": "base"},
		map[string]interface{}{"a": map[string]interface{}{"y": 3}, "l": []interface{}{9}, "n": true},
	)
	g.Expect(got).To(Equal(map[string]interface{}{
		"a": map[string]interface{}{"x": 1, "y": 3}, "l": []interface{}{9}, "s": "base", "n": true,
	}))
}

func TestDefaultLimits(t *testing.T) {
	g := NewWithT(t)
	g.Expect(Limits{}.withDefaults()).To(Equal(DefaultLimits()))
	g.Expect(Limits{MaxDocuments: 3}.withDefaults().MaxDocuments).To(Equal(3))
	g.Expect(strings.Contains(ErrLimit.Error(), "limit")).To(BeTrue())
}
