package render

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"testing"

	"github.com/promotion-gate/promotion-gate/shared/render/rendertest"
	"sigs.k8s.io/kustomize/api/krusty"
	"sigs.k8s.io/kustomize/kyaml/filesys"
)

func BenchmarkScratchKustomizeN(b *testing.B) {
	for _, n := range []int{1000} {
		dir := b.TempDir()
		if err := rendertest.GenerateKustomization(dir, n); err != nil {
			b.Fatal(err)
		}
		flat := filepath.Join(dir, "base")
		b.Run(fmt.Sprint("overlay-render-", n), func(b *testing.B) {
			for b.Loop() {
				if _, err := Render(context.Background(), Options{Path: dir}); err != nil {
					b.Fatal(err)
				}
			}
		})
		b.Run(fmt.Sprint("overlay-krusty-", n), func(b *testing.B) {
			for b.Loop() {
				if _, err := krusty.MakeKustomizer(krusty.MakeDefaultOptions()).Run(filesys.MakeFsOnDisk(), dir); err != nil {
					b.Fatal(err)
				}
			}
		})
		b.Run(fmt.Sprint("flat-render-", n), func(b *testing.B) {
			for b.Loop() {
				if _, err := Render(context.Background(), Options{Path: flat}); err != nil {
					b.Fatal(err)
				}
			}
		})
		b.Run(fmt.Sprint("flat-krusty-", n), func(b *testing.B) {
			for b.Loop() {
				if _, err := krusty.MakeKustomizer(krusty.MakeDefaultOptions()).Run(filesys.MakeFsOnDisk(), flat); err != nil {
					b.Fatal(err)
				}
			}
		})
		_ = os.Remove
	}
}
