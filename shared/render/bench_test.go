package render

import (
	"context"
	"testing"

	"github.com/promotion-gate/promotion-gate/shared/render/rendertest"
)

// BenchmarkRenderKustomize5000 renders a generated overlay of 5,000 Deployments, the
// figure `make bench` compares render+evaluate against.
func BenchmarkRenderKustomize5000(b *testing.B) {
	dir := b.TempDir()
	if err := rendertest.GenerateKustomization(dir, 5000); err != nil {
		b.Fatal(err)
	}
	b.ResetTimer()
	for b.Loop() {
		res, err := Render(context.Background(), Options{Path: dir})
		if err != nil {
			b.Fatal(err)
		}
		if len(res.Documents) != 5000 {
			b.Fatalf("rendered %d documents, want 5000", len(res.Documents))
		}
	}
}

// BenchmarkParseDocuments measures the plain-YAML path on the same Deployments.
func BenchmarkParseDocuments(b *testing.B) {
	dir := b.TempDir()
	if err := rendertest.GenerateKustomization(dir, 50); err != nil {
		b.Fatal(err)
	}
	res, err := Render(context.Background(), Options{Path: dir})
	if err != nil {
		b.Fatal(err)
	}
	b.SetBytes(int64(len(res.YAML)))
	for b.Loop() {
		if _, err := ParseDocuments("bench.yaml", res.YAML, Limits{}); err != nil {
			b.Fatal(err)
		}
	}
}
