package supplychain_test

import (
	"context"
	"fmt"
	"testing"

	"github.com/promotion-gate/promotion-gate/shared/evaluate"
	"github.com/promotion-gate/promotion-gate/shared/supplychain"
)

// BenchmarkVerify100Digests verifies the signatures of 100 distinct signed digests:
// cold (a new verifier and an empty cache each time) and warm (the same cache again).
// Both report the registry requests made per run of 100.
func BenchmarkVerify100Digests(b *testing.B) {
	e := newEnv(b)
	rule := signaturesRule(e.keyAuthority("release", e.key))
	checks := make([]evaluate.ImageCheck, 0, 100)
	for i := range 100 {
		img := e.reg.PushImage(b, "payments-api", fmt.Sprintf("1.0.%d", i))
		e.reg.PushBundle(b, img, e.key.SignImage(b, img))
		checks = append(checks, check(b, rule, img.DigestRef()))
	}
	verifyAll := func(b *testing.B, v *supplychain.Verifier) {
		for _, c := range checks {
			vs, err := v.Signatures(context.Background(), c)
			if err != nil || len(vs) > 0 {
				b.Fatalf("verify %s: %v %v", c.Ref, err, vs)
			}
		}
	}
	b.Run("cold", func(b *testing.B) {
		e.reg.ResetCounts()
		for b.Loop() {
			verifyAll(b, e.verifierWith(supplychain.Options{Cache: supplychain.NewCache(0)}))
		}
		b.ReportMetric(float64(e.reg.Requests())/float64(b.N), "requests/op")
	})
	b.Run("warm", func(b *testing.B) {
		v := e.verifierWith(supplychain.Options{Cache: supplychain.NewCache(0)})
		verifyAll(b, v)
		e.reg.ResetCounts()
		for b.Loop() {
			verifyAll(b, v)
		}
		b.ReportMetric(float64(e.reg.Requests())/float64(b.N), "requests/op")
	})
}
