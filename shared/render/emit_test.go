package render

import (
	"encoding/json"
	"fmt"
	"reflect"
	"testing"

	. "github.com/onsi/gomega"
	yaml3 "go.yaml.in/yaml/v3"
	sigsyaml "sigs.k8s.io/yaml"
)

// TestPlainYAML: what plainYAML writes parses back to the same document, and YAML 1.1
// (Kubernetes' reader, which Argo CD uses) and 1.2 readers read the same object from it;
// what it cannot write plainly it refuses, for the YAML library to write.
func TestPlainYAML(t *testing.T) {
	tests := []struct {
		name, doc string
		plain     bool
		want      string
	}{
		{"a Deployment", "apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: web, labels: {app: web}}\nspec:\n  replicas: 2\n  template:\n    spec:\n      containers:\n      - name: app\n        image: \"ghcr.io/example/web:1.0@sha256:00\"\n        args: [\"--port=80\", \"-v\"]\n        resources: {}\n        ports: []\n", true,
			"apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: web\n  labels:\n    app: web\nspec:\n  replicas: 2\n  template:\n    spec:\n      containers:\n      - name: app\n        image: ghcr.io/example/web:1.0@sha256:00\n        args:\n        - \"--port=80\"\n        - \"-v\"\n        resources: {}\n        ports: []\n"},
		{"strings a YAML 1.1 reader takes for something else", "a: \"yes\"\nb: \"on\"\nc: \"N\"\nd: \"1.0\"\ne: \"0x1F\"\nf: \"1:30\"\ng: \"null\"\nh: \"~\"\ni: \"\"\nj: \"2001-12-14\"\n", true,
			"a: \"yes\"\nb: \"on\"\nc: \"N\"\nd: \"1.0\"\ne: \"0x1F\"\nf: \"1:30\"\ng: \"null\"\nh: \"~\"\ni: \"\"\nj: \"2001-12-14\"\n"},
		{"indicators and breaks", "a: \"x: y\"\nb: \"#x\"\nc: \"- x\"\nd: \"x:\"\ne: \"line\\nnext\\ttab\"\nf: \"\\u2028\\u0085\\ufeff\"\ng: \" lead\"\n\"---\": i\n", true,
			"a: \"x: y\"\nb: \"#x\"\nc: \"- x\"\nd: \"x:\"\ne: \"line\\nnext\\ttab\"\nf: \"\\u2028\\u0085\\ufeff\"\ng: \" lead\"\n\"---\": i\n"},
		{"numbers, booleans, nulls in their one spelling", "a: 1\nb: -0\nc: 1.5\nd: true\ne: null\nf:\ng: ~\n", true,
			"a: 1\nb: -0\nc: 1.5\nd: true\ne: null\nf:\ng: ~\n"},
		{"nested sequences", "a: [[1, 2], [], {}, [{b: c}]]\n", true,
			"a:\n- - 1\n  - 2\n- []\n- {}\n- - b: c\n"},
		{"a hexadecimal integer", "a: 0x1F\n", false, ""},
		{"a float with an exponent", "a: 1e3\n", false, ""},
		{"a YAML 1.1 boolean", "a: True\n", false, ""},
		{"an explicit tag", "a: !!binary aGk=\n", false, ""},
		{"a custom tag", "a: !thing x\n", false, ""},
		{"a numeric key", "1: a\n", false, ""},
		{"a timestamp", "a: 2001-12-14\n", false, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			g := NewWithT(t)
			docs, err := ParseDocuments("t.yaml", []byte(tt.doc), Limits{})
			g.Expect(err).NotTo(HaveOccurred())
			out, ok := plainYAML(nil, docs[0].Node)
			g.Expect(ok).To(Equal(tt.plain), "%s", out)
			if !ok {
				return
			}
			g.Expect(string(out)).To(Equal(tt.want))
			g.Expect(samePlain(docs[0].Node, out)).To(Succeed())
		})
	}
}

// samePlain checks plainYAML's output out of produced: it parses to the same tree, and a
// YAML 1.1 reader (sigs.k8s.io/yaml, as Kubernetes and Argo CD read manifests) and a
// YAML 1.2 reader read the same object from it.
func samePlain(produced *yaml3.Node, out []byte) error {
	back, err := ParseDocuments("out.yaml", out, Limits{})
	if err != nil {
		return err
	}
	if len(back) != 1 {
		return fmt.Errorf("parsed back to %d documents", len(back))
	}
	if err := sameTree(produced, back[0].Node); err != nil {
		return err
	}
	var v2, v3 any
	if err := sigsyaml.Unmarshal(out, &v2); err != nil {
		return fmt.Errorf("YAML 1.1 reader: %v", err)
	}
	if err := yaml3.Unmarshal(out, &v3); err != nil {
		return fmt.Errorf("YAML 1.2 reader: %v", err)
	}
	j3, err := json.Marshal(v3)
	if err != nil {
		return err
	}
	var n3 any
	if err := json.Unmarshal(j3, &n3); err != nil {
		return err
	}
	if !reflect.DeepEqual(v2, n3) {
		return fmt.Errorf("YAML 1.1 reads %v, YAML 1.2 reads %v", v2, n3)
	}
	return nil
}

// FuzzPlainYAML: for any document, plainYAML writes what parses back to it and what
// YAML 1.1 and 1.2 readers read alike, or declines.
func FuzzPlainYAML(f *testing.F) {
	f.Add([]byte("apiVersion: v1\nkind: ConfigMap\nmetadata: {name: a}\ndata: {a: \"yes\", b: \"1:30\", c: \"x\\ny\"}\n"))
	f.Add([]byte("a: [[1, 2], [], {}, [{b: c}]]\nb: -0\nc: 1.5\nd: ~\n"))
	f.Add([]byte("a: \"\\u2028\\u0085\\x7f\"\n\"<<\": h\n"))
	limits := Limits{MaxFileBytes: 1 << 16, MaxDocuments: 10, MaxAliases: 1000}
	f.Fuzz(func(t *testing.T, data []byte) {
		docs, err := ParseDocuments("fuzz.yaml", data, limits)
		if err != nil {
			return
		}
		for _, d := range docs {
			out, ok := plainYAML(nil, d.Node)
			if !ok {
				continue
			}
			if err := samePlain(d.Node, out); err != nil {
				t.Fatalf("%v\ninput:\n%s\noutput:\n%s", err, data, out)
			}
		}
	})
}
