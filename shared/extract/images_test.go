package extract

import (
	"os"
	"path/filepath"
	"testing"

	. "github.com/onsi/gomega"

	"github.com/promotion-gate/promotion-gate/shared/policy"
	"github.com/promotion-gate/promotion-gate/shared/render"
)

func TestImagesGolden(t *testing.T) {
	for _, name := range []string{"workloads", "lists", "edge", "fields"} {
		t.Run(name, func(t *testing.T) {
			g := NewWithT(t)
			file := filepath.Join("testdata", "images", name+".yaml")
			data, err := os.ReadFile(file)
			g.Expect(err).NotTo(HaveOccurred())
			docs, err := decodeDocs(filepath.ToSlash(file), data)
			g.Expect(err).NotTo(HaveOccurred())
			got := Images(docs, testFields)
			checkInvariants(t, got)
			checkGolden(t, filepath.Join("images", name), golden(got))
		})
	}
}

func TestImagesCases(t *testing.T) {
	deployment := `apiVersion: apps/v1
kind: Deployment
metadata: {name: d}
spec: {template: {spec: {containers: [{name: a, image: "nginx:1"}]}}}
`
	tests := []struct {
		name   string
		yaml   string
		fields []policy.ImageField
		want   []string // FieldPath=Raw
	}{
		{"no documents", "", nil, nil},
		{"deployment", deployment, nil, []string{"spec.template.spec.containers[0].image=nginx:1"}},
		{"kind filter is exact", "kind: deployment\nspec: {template: {spec: {containers: [{image: x}]}}}\n", nil, nil},
		{"apiVersion filter", "apiVersion: example.com/v2\nkind: Thing\nspec: {img: a:1}\n",
			[]policy.ImageField{{APIVersion: "example.com/v1", Kind: "Thing", Path: "spec.img"}}, nil},
		{"apiVersion match", "apiVersion: example.com/v1\nkind: Thing\nspec: {img: a:1}\n",
			[]policy.ImageField{{APIVersion: "example.com/v1", Kind: "Thing", Path: "spec.img"}}, []string{"spec.img=a:1"}},
		{"field order", "kind: Thing\nspec: {a: a:1, b: b:1}\n",
			[]policy.ImageField{{Kind: "Thing", Path: "spec.b"}, {Kind: "Thing", Path: "spec.a"}},
			[]string{"spec.b=b:1", "spec.a=a:1"}},
		{"list of strings", "kind: Thing\nspec: {images: [a:1, '', b:2]}\n",
			[]policy.ImageField{{Kind: "Thing", Path: "spec.images[]"}},
			[]string{"spec.images[0]=a:1", "spec.images[2]=b:2"}},
		{"[] on a mapping walks nothing", "kind: Thing\nspec: {images: {a: a:1}}\n",
			[]policy.ImageField{{Kind: "Thing", Path: "spec.images[].a"}}, nil},
		{"helm mapping without repository", "kind: Thing\nspec: {image: {tag: '1'}}\n",
			[]policy.ImageField{{Kind: "Thing", Path: "spec.image"}}, nil},
		{"registry with trailing slash", "kind: Thing\nspec: {image: {registry: ghcr.io/, repository: a/b}}\n",
			[]policy.ImageField{{Kind: "Thing", Path: "spec.image"}}, []string{"spec.image=ghcr.io/a/b"}},
		{"empty path", "kind: Thing\nspec: {}\n", []policy.ImageField{{Kind: "Thing", Path: ""}}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			g := NewWithT(t)
			docs, err := decodeDocs("f.yaml", []byte(tt.yaml))
			g.Expect(err).NotTo(HaveOccurred())
			var got []string
			for _, img := range Images(docs, tt.fields) {
				got = append(got, img.Source.FieldPath+"="+img.Raw)
			}
			g.Expect(got).To(Equal(tt.want))
		})
	}
}

// TestImagesRenderedDocuments reads a stream through render.ParseDocuments, as the CLI
// and the plugin do, and checks the provenance survives it.
func TestImagesRenderedDocuments(t *testing.T) {
	g := NewWithT(t)
	data, err := os.ReadFile(filepath.Join("testdata", "images", "edge.yaml"))
	g.Expect(err).NotTo(HaveOccurred())
	docs, err := render.ParseDocuments("edge.yaml", data, render.Limits{})
	g.Expect(err).NotTo(HaveOccurred())
	raw, err := decodeDocs("edge.yaml", data)
	g.Expect(err).NotTo(HaveOccurred())
	got, want := Images(docs, nil), Images(raw, nil)
	g.Expect(got).To(HaveLen(len(want)))
	for i := range got {
		g.Expect(got[i].Raw).To(Equal(want[i].Raw))
		g.Expect(got[i].Source.Document).To(Equal(want[i].Source.Document))
		g.Expect(got[i].Source.FieldPath).To(Equal(want[i].Source.FieldPath))
	}
}

func TestImagesOwnRefs(t *testing.T) {
	g := NewWithT(t)
	docs, err := decodeDocs("f.yaml", []byte("kind: Pod\nspec: {containers: [{image: 'nginx:1'}, {image: 'nginx:1'}]}\n"))
	g.Expect(err).NotTo(HaveOccurred())
	got := Images(docs, nil)
	g.Expect(got).To(HaveLen(2))
	got[0].Ref.Tag = "changed"
	g.Expect(got[1].Ref.Tag).To(Equal("1"), "images must not share a parsed reference")
}
