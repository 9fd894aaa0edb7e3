package render

import (
	"context"
	"os"
	"path/filepath"
	"testing"

	. "github.com/onsi/gomega"
	"sigs.k8s.io/kustomize/api/krusty"
	"sigs.k8s.io/kustomize/api/types"
	"sigs.k8s.io/kustomize/kyaml/filesys"
)

// krustyBuild is `kustomize build --load-restrictor LoadRestrictionsNone`, untouched,
// in the order the renderer asks for.
func krustyBuild(t *testing.T, dir string) []byte {
	t.Helper()
	opts := krusty.MakeDefaultOptions()
	opts.LoadRestrictions = types.LoadRestrictionsNone
	opts.Reorder = krusty.ReorderOptionUnspecified
	m, err := krusty.MakeKustomizer(opts).Run(filesys.MakeFsOnDisk(), dir)
	if err != nil {
		t.Fatal(err)
	}
	out, err := m.AsYaml()
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func TestKustomizeOrigins(t *testing.T) {
	examples, err := filepath.Abs(filepath.Join("..", "..", "examples", "platform-config"))
	if err != nil {
		t.Fatal(err)
	}
	// A copy whose prod overlay asks for origin annotations itself: they stay.
	asked := t.TempDir()
	if err := os.CopyFS(asked, os.DirFS(examples)); err != nil {
		t.Fatal(err)
	}
	k := filepath.Join(asked, "apps/payments-api/overlays/prod/kustomization.yaml")
	data, err := os.ReadFile(k)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(k, append(data, "buildMetadata: [originAnnotations]\n"...), 0o644); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name, repo, path string
		wantOrigin       bool
		want             []Origin // per document, Source left out
	}{
		{"overlay with images:", examples, "apps/payments-api/overlays/prod", false, []Origin{
			{File: "apps/payments-api/base/service.yaml", Images: []ImageEntry{prodEntry}},
			{File: "apps/payments-api/base/deployment.yaml", Images: []ImageEntry{prodEntry}},
		}},
		{"base alone", examples, "apps/payments-api/base", false, []Origin{
			{File: "apps/payments-api/base/service.yaml"},
			{File: "apps/payments-api/base/deployment.yaml"},
		}},
		{"overlay that asks for origin annotations keeps them", asked, "apps/payments-api/overlays/prod", true, []Origin{
			{File: "apps/payments-api/base/service.yaml", Images: []ImageEntry{prodEntry}},
			{File: "apps/payments-api/base/deployment.yaml", Images: []ImageEntry{prodEntry}},
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			g := NewWithT(t)
			res, err := Render(context.Background(), Options{Path: filepath.Join(tt.repo, tt.path), RepoRoot: tt.repo, Origins: true})
			g.Expect(err).NotTo(HaveOccurred())
			// The output is kustomize's own, byte for byte.
			g.Expect(string(res.YAML)).To(Equal(string(krustyBuild(t, filepath.Join(tt.repo, tt.path)))))
			g.Expect(string(res.YAML)).NotTo(ContainSubstring("alpha.config.kubernetes.io/transformations"))
			if tt.wantOrigin {
				g.Expect(string(res.YAML)).To(ContainSubstring("config.kubernetes.io/origin"))
			} else {
				g.Expect(string(res.YAML)).NotTo(ContainSubstring("config.kubernetes.io/origin"))
			}
			g.Expect(res.Documents).To(HaveLen(len(tt.want)))
			for i, d := range res.Documents {
				g.Expect(d.Origin).NotTo(BeNil())
				g.Expect(d.Origin.Source).NotTo(BeNil(), "the resource's document in its file")
				got := *d.Origin
				got.Source = nil
				var patchFiles []string
				for _, p := range got.Patches {
					g.Expect(p.Docs).NotTo(BeEmpty(), p.File)
					patchFiles = append(patchFiles, p.File)
				}
				got.Patches = nil
				g.Expect(got).To(Equal(tt.want[i]))
				if tt.path == "apps/payments-api/overlays/prod" {
					g.Expect(patchFiles).To(Equal([]string{"apps/payments-api/overlays/prod/patch-replicas.yaml"}))
				} else {
					g.Expect(patchFiles).To(BeEmpty())
				}
			}
		})
	}
}

var prodEntry = ImageEntry{File: "apps/payments-api/overlays/prod/kustomization.yaml", Line: 8,
	Name: "ghcr.io/example/payments-api", NewName: "ghcr.io/example/payments-api", NewTag: "1.8.3",
	Digest: "sha256:8d3f8f5a2e0d6c7e9d6b4f0b3e83b6d9a3b2f0d6f7a6c5e4d3c2b1a0f9e8d7c6"}

// TestKustomizeOriginsOnlyWhenAsked: without Origins a kustomize render carries no
// origins (they cost large kustomizations several times the build), and its output is
// the same bytes as with them.
func TestKustomizeOriginsOnlyWhenAsked(t *testing.T) {
	g := NewWithT(t)
	opts := Options{Path: filepath.Join(repo, "apps/web/overlays/prod"), RepoRoot: repo}
	plain, err := Render(context.Background(), opts)
	g.Expect(err).NotTo(HaveOccurred())
	for _, d := range plain.Documents {
		g.Expect(d.Origin).To(BeNil())
	}
	opts.Origins = true
	traced, err := Render(context.Background(), opts)
	g.Expect(err).NotTo(HaveOccurred())
	g.Expect(traced.YAML).To(Equal(plain.YAML))
	g.Expect(traced.Documents[0].Origin).NotTo(BeNil())
}
