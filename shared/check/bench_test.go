package check_test

import (
	"context"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/promotion-gate/promotion-gate/shared/check"
	"github.com/promotion-gate/promotion-gate/shared/evaluate"
	"github.com/promotion-gate/promotion-gate/shared/policy"
	"github.com/promotion-gate/promotion-gate/shared/render"
	"github.com/promotion-gate/promotion-gate/shared/render/rendertest"
)

// benchDeployments is the size of the generated application `make bench` measures.
const benchDeployments = 5000

var (
	benchOnce sync.Once
	benchRepo string
	benchErr  error
)

// generated writes the benchmark repository once per process: apps/bench/overlays/prod
// holding a kustomization of benchDeployments Deployments.
func generated(b *testing.B) (repo, app string) {
	b.Helper()
	benchOnce.Do(func() {
		benchRepo, benchErr = os.MkdirTemp("", "pg-bench")
		if benchErr == nil {
			benchErr = rendertest.GenerateKustomization(filepath.Join(benchRepo, "apps/bench/overlays/prod"), benchDeployments)
		}
	})
	if benchErr != nil {
		b.Fatal(benchErr)
	}
	return benchRepo, filepath.Join(benchRepo, "apps/bench/overlays/prod")
}

func benchPolicy(b *testing.B) *policy.Set {
	b.Helper()
	set, err := policy.Load(filepath.Join("..", "..", "examples", "policy"))
	if err != nil {
		b.Fatal(err)
	}
	return set
}

// BenchmarkRenderAndEvaluate5000 renders a generated kustomization of 5,000
// Deployments and evaluates it, timing the two phases of each iteration separately so
// that the ratio compares the policy with the very render it follows (the machine's
// load cannot move one and not the other). It reports render-ms/op, total-ms/op and
// policy-%: what classification, extraction and evaluation add to the render.
func BenchmarkRenderAndEvaluate5000(b *testing.B) {
	repo, app := generated(b)
	set := benchPolicy(b)
	ctx := context.Background()
	var renderTime, policyTime time.Duration
	for b.Loop() {
		start := time.Now()
		out, err := render.Render(ctx, render.Options{Path: app, RepoRoot: repo})
		if err != nil {
			b.Fatal(err)
		}
		rendered := time.Now()
		renderTime += rendered.Sub(start)

		cls, err := check.Classify(set, policy.Query{Path: "apps/bench/overlays/prod"}, nil)
		if err != nil {
			b.Fatal(err)
		}
		res := check.Documents(ctx, set, cls, out.Documents, nil, time.Time{}, check.Verifiers{})
		policyTime += time.Since(rendered)

		// Every generated Deployment runs the pinned image in two containers.
		if res.Verdict != evaluate.Allowed || res.Environment != "prod" || len(res.Images) != 2*benchDeployments {
			b.Fatalf("verdict %s in %q with %d images, want Allowed in prod with %d", res.Verdict, res.Environment, len(res.Images), 2*benchDeployments)
		}
	}
	n := float64(b.N)
	b.ReportMetric(float64(renderTime.Milliseconds())/n, "render-ms/op")
	b.ReportMetric(float64((renderTime+policyTime).Milliseconds())/n, "total-ms/op")
	b.ReportMetric(100*float64(policyTime)/float64(renderTime), "policy-%")
}

func TestMain(m *testing.M) {
	render.ServeWorker()
	code := m.Run()
	if benchRepo != "" {
		os.RemoveAll(benchRepo)
	}
	os.Exit(code)
}
