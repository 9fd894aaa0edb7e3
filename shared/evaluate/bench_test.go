package evaluate_test

import (
	"context"
	"fmt"
	"testing"

	"github.com/promotion-gate/promotion-gate/shared/evaluate"
	"github.com/promotion-gate/promotion-gate/shared/extract"
)

// BenchmarkEvaluate evaluates 5,000 images (one per Deployment, as in the render
// benchmark) against the baseline policy: a mix of pinned, tagged, exempted and foreign
// images, so every clause and the exemption path run.
func BenchmarkEvaluate(b *testing.B) {
	set := mustPolicy(b, baseline)
	in := make([]extract.Image, 5000)
	for i := range in {
		var raw string
		switch i % 5 {
		case 0, 1:
			raw = fmt.Sprintf("ghcr.io/example/app-%d:1.%d.0@%s", i, i%7, digest)
		case 2:
			raw = fmt.Sprintf("ghcr.io/example/app-%d:1.%d.0", i, i%7)
		case 3:
			raw = fmt.Sprintf("ghcr.io/example/legacy-batch:%d", i)
		default:
			raw = "nginx"
		}
		in[i] = image(raw, fmt.Sprintf("prod/deploy-%d.yaml", i), 0, "c0")
	}
	req := evaluate.Request{Policy: set, Environment: prod, Images: in, Now: day}
	ctx := context.Background()
	b.ReportAllocs()
	for b.Loop() {
		res := evaluate.Evaluate(ctx, req)
		if res.Verdict != evaluate.Denied {
			b.Fatalf("verdict %s, want Denied", res.Verdict)
		}
	}
}
