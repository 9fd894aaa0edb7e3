package render

import (
	"bytes"
	"context"
	"encoding/gob"
	"io"
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

// helmBenchChart writes the generated chart of n Deployments and returns the options
// that render it as the plugin does (prod values).
func helmBenchChart(b *testing.B, n int) Options {
	dir := b.TempDir()
	if err := rendertest.GenerateChart(dir, n); err != nil {
		b.Fatal(err)
	}
	return Options{Path: dir, ValuesFiles: []string{"values-prod.yaml"}, ReleaseName: "bench", Namespace: "bench"}
}

// BenchmarkHelmWorker is the render worker's side of a sandboxed Helm render of 2,000
// Deployments: render, then encode the reply, as serveWorker does.
func BenchmarkHelmWorker(b *testing.B) {
	opts := helmBenchChart(b, benchChartSize)
	for b.Loop() {
		res, _, err := renderWith(context.Background(), opts, true)
		if err != nil {
			b.Fatal(err)
		}
		reply := replyOf(res)
		if err := gob.NewEncoder(io.Discard).Encode(&reply); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkHelmCaller is the caller's side of the same render: decode the worker's
// reply and parse the emitted bytes back.
func BenchmarkHelmCaller(b *testing.B) {
	opts := helmBenchChart(b, benchChartSize)
	res, _, err := renderWith(context.Background(), opts, true)
	if err != nil {
		b.Fatal(err)
	}
	reply := replyOf(res)
	var wire bytes.Buffer
	if err := gob.NewEncoder(&wire).Encode(&reply); err != nil {
		b.Fatal(err)
	}
	b.SetBytes(int64(wire.Len()))
	for b.Loop() {
		var got workerReply
		if err := gob.NewDecoder(bytes.NewReader(wire.Bytes())).Decode(&got); err != nil {
			b.Fatal(err)
		}
		if _, err := got.result(DefaultLimits()); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkHelmSandbox is the whole sandboxed render: a worker process started, the
// render, the reply and the parse back.
func BenchmarkHelmSandbox(b *testing.B) {
	opts := helmBenchChart(b, benchChartSize)
	for b.Loop() {
		if _, err := Render(context.Background(), opts); err != nil {
			b.Fatal(err)
		}
	}
}

// benchChartSize is the number of Deployments of the benchmarks' generated chart, as
// make bench-cmp's.
const benchChartSize = 2000
