package extract

import (
	"os"
	"path/filepath"
	"testing"

	. "github.com/onsi/gomega"

	"github.com/promotion-gate/promotion-gate/shared/render"
)

func TestSettersGolden(t *testing.T) {
	for _, name := range []string{"deployment", "values", "kustomization", "edge"} {
		t.Run(name, func(t *testing.T) {
			g := NewWithT(t)
			file := filepath.ToSlash(filepath.Join("testdata", "setters", name+".yaml"))
			data, err := os.ReadFile(file)
			g.Expect(err).NotTo(HaveOccurred())
			got, err := Setters(file, data)
			g.Expect(err).NotTo(HaveOccurred())
			checkInvariants(t, got)
			checkGolden(t, filepath.Join("setters", name), golden(got))
		})
	}
}

func TestSettersMarkers(t *testing.T) {
	tests := []struct {
		comment string
		want    marker
		ok      bool
	}{
		{`# {"$imagepolicy": "flux-system:app"}`, marker{policy: "flux-system:app"}, true},
		{`#{"$imagepolicy":"flux-system:app:tag"}`, marker{policy: "flux-system:app", part: "tag"}, true},
		{`#   {"$imagepolicy": "ns:app:name"}  `, marker{policy: "ns:app", part: "name"}, true},
		{`# {"$imagepolicy": "ns:app:digest"}`, marker{policy: "ns:app", part: "digest"}, true},
		{`# {"$imagepolicy": "ns:app:size"}`, marker{}, false},
		{`# {"$imagepolicy": "app"}`, marker{}, false},
		{`# {"$imagepolicy": "ns::tag"}`, marker{}, false},
		{`# {"$imagepolicy": "a:b:c:d"}`, marker{}, false},
		{`# {"$imagepolicy": ["ns:app"]}`, marker{}, false},
		// The YAML reader (the one Flux reads markers with) stops after the mapping.
		{`# {"$imagepolicy": "ns:app"} and more`, marker{policy: "ns:app"}, true},
		{`# $imagepolicy ns:app`, marker{}, false},
		{`# {"$ref": "ns:app"}`, marker{}, false},
		{``, marker{}, false},
	}
	for _, tt := range tests {
		t.Run(tt.comment, func(t *testing.T) {
			g := NewWithT(t)
			got, ok := parseMarker(tt.comment)
			g.Expect(ok).To(Equal(tt.ok))
			g.Expect(got).To(Equal(tt.want))
		})
	}
}

func TestSettersErrors(t *testing.T) {
	tests := []struct {
		name, yaml string
		want       []string
	}{
		{"unclosed flow", "a: 1\n---\nb: [\n", []string{"values.yaml", "document 2", "line"}},
		{"bad indentation", "a:\n  b: 1\n c: 2\n", []string{"values.yaml", "line 2"}},
		{"tab indentation", "a:\n\tb: 1\n", []string{"values.yaml", "line"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			g := NewWithT(t)
			got, err := Setters("values.yaml", []byte(tt.yaml))
			g.Expect(err).To(HaveOccurred())
			g.Expect(got).To(BeNil())
			for _, w := range tt.want {
				g.Expect(err.Error()).To(ContainSubstring(w))
			}
		})
	}
}

// TestSettersAndImagesAgree reads one manifest both ways, as flux-gate does: the
// document index and field path agree, so Merge reports a marked image once and keeps
// the policy that marks it.
func TestSettersAndImagesAgree(t *testing.T) {
	g := NewWithT(t)
	file := "testdata/setters/edge.yaml"
	data, err := os.ReadFile(file)
	g.Expect(err).NotTo(HaveOccurred())
	docs, err := render.ParseDocuments(file, data, render.Limits{})
	g.Expect(err).NotTo(HaveOccurred())
	workloads := Images(docs, nil)
	g.Expect(workloads).To(HaveLen(1))
	setters, err := Setters(file, data)
	g.Expect(err).NotTo(HaveOccurred())
	last := setters[len(setters)-1]
	g.Expect(last.Source.Document).To(Equal(workloads[0].Source.Document))
	g.Expect(last.Source.FieldPath).To(Equal(workloads[0].Source.FieldPath))

	merged := Merge(workloads, setters)
	g.Expect(merged).To(HaveLen(len(setters)))
	g.Expect(merged[0].Source.ImagePolicy).To(Equal("ns:last"))
	g.Expect(merged[0].Source.Container).To(Equal("c"))
}

func TestMerge(t *testing.T) {
	g := NewWithT(t)
	a := Image{Raw: "x:1", Source: Source{File: "f", Document: 0, FieldPath: "p"}}
	b := Image{Raw: "x:1", Source: Source{File: "f", Document: 0, FieldPath: "p", ImagePolicy: "ns:x", Container: "c"}}
	other := Image{Raw: "x:2", Source: Source{File: "f", Document: 0, FieldPath: "p"}}
	nextDoc := Image{Raw: "x:1", Source: Source{File: "f", Document: 1, FieldPath: "p"}}
	got := Merge([]Image{a, nextDoc}, []Image{b, other})
	g.Expect(got).To(HaveLen(3))
	g.Expect(got[0].Source.ImagePolicy).To(Equal("ns:x"))
	g.Expect(got[0].Source.Container).To(Equal("c"))
	g.Expect(got[1]).To(Equal(nextDoc))
	g.Expect(got[2]).To(Equal(other))
	g.Expect(Merge()).To(BeEmpty())
}
