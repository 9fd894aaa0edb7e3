package check_test

import (
	"context"
	"testing"

	"github.com/promotion-gate/promotion-gate/shared/check"
	"github.com/promotion-gate/promotion-gate/shared/gitrev"
	"github.com/promotion-gate/promotion-gate/shared/policy"
)

// BenchmarkRunPromotion judges an automation's digest bump in a prod overlay: the
// changed file, and the prod root rendered at the head.
func BenchmarkRunPromotion(b *testing.B) {
	set, err := policy.Parse(policy.Source{Name: "engine.yaml", Data: []byte(enginePolicy)})
	if err != nil {
		b.Fatal(err)
	}
	t := &testing.T{}
	dir, repo, base := fleetRepo(t)
	head := commit(t, repo, dir, map[string]string{"apps/api/overlays/prod/kustomization.yaml": overlay + "# bumped\n"})
	revs, err := gitrev.Open(dir)
	if err != nil {
		b.Fatal(err)
	}
	req := check.PromotionCheck{Policy: set, Revisions: revs, Base: base, Head: head, Branch: "main", WorkDir: b.TempDir()}
	b.ResetTimer()
	for range b.N {
		if out := check.RunPromotion(context.Background(), req); out.Result.Verdict != "Allowed" || len(out.Roots) != 1 {
			b.Fatalf("%+v", out)
		}
	}
}
