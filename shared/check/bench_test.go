package check_test

import (
	"context"
	"os"
	"path/filepath"
	"sync"
	"testing"

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

// BenchmarkRender5000 is the baseline: kustomize rendering alone.
func BenchmarkRender5000(b *testing.B) {
	repo, app := generated(b)
	ctx := context.Background()
	for b.Loop() {
		res, err := render.Render(ctx, render.Options{Path: app, RepoRoot: repo})
		if err != nil {
			b.Fatal(err)
		}
		if len(res.Documents) != benchDeployments {
			b.Fatalf("rendered %d documents, want %d", len(res.Documents), benchDeployments)
		}
	}
}

// BenchmarkRenderAndEvaluate5000 is the whole check: render, classify, extract, evaluate.
// `make bench` reports its ratio to BenchmarkRender5000: the cost of the policy.
func BenchmarkRenderAndEvaluate5000(b *testing.B) {
	repo, app := generated(b)
	set := benchPolicy(b)
	ctx := context.Background()
	for b.Loop() {
		out := check.Run(ctx, check.Request{Path: app, RepoRoot: repo, Policy: set})
		if out.Err != nil {
			b.Fatal(out.Err)
		}
		// Every generated Deployment runs the pinned image in two containers.
		if out.Result.Verdict != evaluate.Allowed || out.Result.Environment != "prod" || len(out.Result.Images) != 2*benchDeployments {
			b.Fatalf("verdict %s in %q with %d images, want Allowed in prod with %d", out.Result.Verdict, out.Result.Environment, len(out.Result.Images), 2*benchDeployments)
		}
	}
}

func TestMain(m *testing.M) {
	code := m.Run()
	if benchRepo != "" {
		os.RemoveAll(benchRepo)
	}
	os.Exit(code)
}
