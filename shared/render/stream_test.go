package render

import (
	"bufio"
	"bytes"
	"errors"
	"io"
	"strings"
	"testing"

	. "github.com/onsi/gomega"
	k8syaml "k8s.io/apimachinery/pkg/util/yaml"
)

// TestEmittedRefusesWhatWasNotChecked: the invariant holds on its own, whatever
// escaping did: an output with a document more, a document less, or a changed value
// than the renderer produced is refused.
func TestEmittedRefusesWhatWasNotChecked(t *testing.T) {
	produced, err := ParseDocuments("a.yaml", []byte("apiVersion: v1\nkind: ConfigMap\nmetadata: {name: a}\ndata: {k: v}\n"), Limits{})
	if err != nil {
		t.Fatal(err)
	}
	tests := map[string]string{
		"an injected document": "---\n# Source: a.yaml\napiVersion: v1\nkind: ConfigMap\nmetadata: {name: a}\ndata: {k: v}\n---\nkind: Pod\nmetadata: {name: evil}\n",
		"a lost document":      "---\n# Source: a.yaml\n",
		"a changed value":      "---\napiVersion: v1\nkind: ConfigMap\nmetadata: {name: a}\ndata: {k: w}\n",
		"a changed key":        "---\napiVersion: v1\nkind: ConfigMap\nmetadata: {name: a}\ndata: {j: v}\n",
		"a changed type":       "---\napiVersion: v1\nkind: ConfigMap\nmetadata: {name: a}\ndata: {k: [v]}\n",
	}
	for name, out := range tests {
		t.Run(name, func(t *testing.T) {
			_, err := emitted(RendererYAML, []byte(out), produced, DefaultLimits())
			NewWithT(t).Expect(errors.Is(err, ErrEmit)).To(BeTrue(), "%v", err)
		})
	}
	res, err := emitted(RendererYAML, []byte("---\n# Source: a.yaml\ndata: {k: v}\nmetadata: {name: a}\nkind: ConfigMap\napiVersion: v1\n"), produced, DefaultLimits())
	g := NewWithT(t)
	g.Expect(err).NotTo(HaveOccurred(), "the same document with its keys in another order")
	g.Expect(res.Documents).To(HaveLen(1))
	g.Expect(res.Documents[0].File).To(Equal("a.yaml"))
	g.Expect(res.Documents[0].Node.Line).To(Equal(produced[0].Node.Line))
}

// TestWorkerReplyRefusesWhatWasNotChecked: a render worker leaves the parse back to the
// caller, which refuses an output that does not mean, document for document, what the
// renderer produced.
func TestWorkerReplyRefusesWhatWasNotChecked(t *testing.T) {
	produced, err := ParseDocuments("a.yaml", []byte("apiVersion: v1\nkind: ConfigMap\nmetadata: {name: a}\ndata: {k: v}\n"), Limits{})
	if err != nil {
		t.Fatal(err)
	}
	tests := map[string]string{
		"an injected document": "---\n# Source: a.yaml\napiVersion: v1\nkind: ConfigMap\nmetadata: {name: a}\ndata: {k: v}\n---\nkind: Pod\nmetadata: {name: evil}\n",
		"a lost document":      "---\n# Source: a.yaml\n",
		"a changed value":      "---\napiVersion: v1\nkind: ConfigMap\nmetadata: {name: a}\ndata: {k: w}\n",
		"a changed key":        "---\napiVersion: v1\nkind: ConfigMap\nmetadata: {name: a}\ndata: {j: v}\n",
		"a changed type":       "---\napiVersion: v1\nkind: ConfigMap\nmetadata: {name: a}\ndata: {k: [v]}\n",
		"a changed tag":        "---\napiVersion: v1\nkind: ConfigMap\nmetadata: {name: a}\ndata: {k: !!binary dg==}\n",
		"a node more":          "---\napiVersion: v1\nkind: ConfigMap\nmetadata: {name: a}\ndata: {k: v, l: w}\n",
	}
	for name, out := range tests {
		t.Run(name, func(t *testing.T) {
			reply := replyOf(&Result{Renderer: RendererYAML, Documents: produced, YAML: []byte(out)})
			_, err := reply.result(DefaultLimits())
			NewWithT(t).Expect(errors.Is(err, ErrEmit)).To(BeTrue(), "%v", err)
		})
	}
	s := &stream{limits: DefaultLimits(), callerParses: true}
	if err := s.add("a.yaml", produced); err != nil {
		t.Fatal(err)
	}
	res, err := s.result(RendererYAML)
	if err != nil {
		t.Fatal(err)
	}
	reply := replyOf(res)
	got, err := reply.result(DefaultLimits())
	g := NewWithT(t)
	g.Expect(err).NotTo(HaveOccurred(), "the output as the worker wrote it")
	g.Expect(got.Documents).To(HaveLen(1))
	g.Expect(got.Documents[0].File).To(Equal("a.yaml"))
	g.Expect(got.Documents[0].Node.Line).To(Equal(produced[0].Node.Line))
}

func TestCommentSafe(t *testing.T) {
	g := NewWithT(t)
	g.Expect(commentSafe("apps/x/deploy-1.yaml")).To(Equal("apps/x/deploy-1.yaml"))
	for _, name := range []string{"a\n---\nkind: Pod", "a\rb", "a\x1bb", "a\xffb", `a"b`, `a\nb`} {
		q := commentSafe(name)
		g.Expect(q).To(HavePrefix(`"`))
		g.Expect(strings.ContainsAny(q, "\n\r\x1b")).To(BeFalse(), q)
	}
}

// FuzzEmit renders a source name and a document through the stream and parses the
// output back the way Argo CD does (Kubernetes' YAML reader splits documents at "---"
// lines): what is emitted must be exactly the documents checked, or refused.
func FuzzEmit(f *testing.F) {
	f.Add("z\n---\nkind: Pod\n---\n#.yaml", []byte("apiVersion: v1\nkind: ConfigMap\nmetadata: {name: a}\n"))
	f.Add("templates/\xff\x1b.yaml", []byte("a: |\n  ---\n  b\nc: \"---\\n\"\n"))
	f.Add("x.yaml", []byte("a: {b: [1, 2]}\n---\nc: d\n"))
	limits := Limits{MaxFileBytes: 1 << 16, MaxDocuments: 50, MaxAliases: 1000}
	f.Fuzz(func(t *testing.T, name string, data []byte) {
		docs, err := ParseDocuments("fuzz.yaml", data, limits)
		if err != nil {
			return
		}
		s := &stream{limits: limits.withDefaults()}
		if err := s.add(name, docs); err != nil {
			return
		}
		res, err := s.result(RendererYAML)
		if err != nil {
			if !errors.Is(err, ErrEmit) && !errors.Is(err, ErrLimit) && !strings.HasPrefix(err.Error(), "encode") {
				t.Fatalf("unexpected error: %v", err)
			}
			return
		}
		if len(res.Documents) != len(docs) {
			t.Fatalf("checked %d documents, produced %d", len(res.Documents), len(docs))
		}
		// A render worker's way: the caller parses the same bytes back and must get the
		// same documents.
		ws := &stream{limits: limits.withDefaults(), callerParses: true}
		if err := ws.add(name, docs); err != nil {
			t.Fatal(err)
		}
		wres, err := ws.result(RendererYAML)
		if err != nil {
			t.Fatalf("the worker's stream failed where the checked one did not: %v", err)
		}
		reply := replyOf(wres)
		viaWorker, err := reply.result(limits.withDefaults())
		if err != nil || !bytes.Equal(viaWorker.YAML, res.YAML) || len(viaWorker.Documents) != len(res.Documents) {
			t.Fatalf("the worker's way gives another result (%v):\n%s", err, res.YAML)
		}
		// Argo CD's reading of the same bytes.
		r := k8syaml.NewYAMLReader(bufioReader(res.YAML))
		n := 0
		for {
			chunk, err := r.Read()
			if err == io.EOF {
				break
			}
			if err != nil {
				t.Fatalf("read the output back: %v", err)
			}
			back, err := ParseDocuments("chunk", chunk, Limits{MaxFileBytes: 1 << 20})
			if err != nil {
				t.Fatalf("a chunk Argo CD would read does not parse: %v\n%q", err, chunk)
			}
			for _, d := range back {
				if n >= len(res.Documents) {
					t.Fatalf("Argo CD would read more documents than were checked:\n%s", res.YAML)
				}
				if err := sameTree(res.Documents[n].Node, d.Node); err != nil {
					t.Fatalf("document %d differs from the one checked: %v\n%s", n, err, res.YAML)
				}
				n++
			}
		}
		if n != len(res.Documents) {
			t.Fatalf("Argo CD would read %d documents, %d were checked:\n%s", n, len(res.Documents), res.YAML)
		}
	})
}

func bufioReader(b []byte) *bufio.Reader { return bufio.NewReader(bytes.NewReader(b)) }
