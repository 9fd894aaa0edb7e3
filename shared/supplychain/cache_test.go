package supplychain_test

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	. "github.com/onsi/gomega"

	"github.com/promotion-gate/promotion-gate/shared/evaluate"
	"github.com/promotion-gate/promotion-gate/shared/policy"
	"github.com/promotion-gate/promotion-gate/shared/supplychain/profile"
)

func TestCacheSecondEvaluationOfDigestMakesNoRequest(t *testing.T) {
	g := NewWithT(t)
	e := newEnv(t)
	e.keyAuthority("release", e.key)
	img := e.reg.PushImage(t, "payments-api", "1.4.2")
	e.reg.PushBundle(t, img, e.key.SignImage(t, img))
	set := parsePolicy(t)

	e.reg.ResetCounts()
	g.Expect(evaluateImage(t, e.v, set, prod, img.DigestRef()).Verdict).To(Equal(evaluate.Allowed))
	g.Expect(e.reg.Requests()).To(BeNumerically(">", 0), "the first evaluation reads the registry")

	e.reg.ResetCounts()
	g.Expect(evaluateImage(t, e.v, set, prod, img.DigestRef()).Verdict).To(Equal(evaluate.Allowed))
	g.Expect(e.reg.Requests()).To(Equal(0), "requests: %v", e.reg.Counts())

	// Another policy revision never reuses the success.
	set.Revision = "sha256:another"
	e.reg.ResetCounts()
	g.Expect(evaluateImage(t, e.v, set, prod, img.DigestRef()).Verdict).To(Equal(evaluate.Allowed))
	g.Expect(e.reg.RequestsTo("GET", "/referrers/")).To(Equal(1))
}

func TestCacheTagIsResolvedEveryTime(t *testing.T) {
	g := NewWithT(t)
	e := newEnv(t)
	e.keyAuthority("release", e.key)
	img := e.reg.PushImage(t, "payments-api", "1.4.2")
	e.reg.PushBundle(t, img, e.key.SignImage(t, img))
	set := parsePolicy(t)

	g.Expect(evaluateImage(t, e.v, set, prod, img.TagRef()).Verdict).To(Equal(evaluate.Allowed))
	e.reg.ResetCounts()
	g.Expect(evaluateImage(t, e.v, set, prod, img.TagRef()).Verdict).To(Equal(evaluate.Allowed))
	g.Expect(e.reg.RequestsTo("HEAD", "/manifests/1.4.2")).To(Equal(1), "the tag is resolved again")
	g.Expect(e.reg.RequestsTo("GET", "/referrers/")).To(Equal(0), "the digest's success is cached")

	// The tag moves to an unsigned image: the cached success of the old digest must not
	// answer for it.
	moved := e.reg.PushImage(t, "payments-api", "1.4.2")
	res := evaluateImage(t, e.v, set, prod, img.TagRef())
	g.Expect(res.Verdict).To(Equal(evaluate.Denied))
	g.Expect(res.Findings).To(HaveLen(1))
	g.Expect(res.Findings[0].Message).To(And(ContainSubstring("is unsigned"), ContainSubstring(moved.Digest)))
}

func TestCacheHoldsNoViolation(t *testing.T) {
	g := NewWithT(t)
	e := newEnv(t)
	e.keyAuthority("release", e.key)
	img := e.reg.PushImage(t, "payments-api", "1.4.2")
	set := parsePolicy(t)
	g.Expect(evaluateImage(t, e.v, set, prod, img.DigestRef()).Verdict).To(Equal(evaluate.Denied))
	e.reg.ResetCounts()
	g.Expect(evaluateImage(t, e.v, set, prod, img.DigestRef()).Verdict).To(Equal(evaluate.Denied))
	g.Expect(e.reg.RequestsTo("GET", "/referrers/")).To(Equal(1), "a violation is checked afresh")
	g.Expect(e.cache.Len()).To(Equal(0))
}

func TestCacheTTLBoundedByScanMaxAge(t *testing.T) {
	g := NewWithT(t)
	e := newEnv(t)
	img := e.reg.PushImage(t, "payments-api", "1.4.2")
	now := time.Now()
	// The scan has five minutes left before it is older than maxAge.
	finished := now.Add(-7*24*time.Hour + 5*time.Minute)
	st := statement(t, profile.CosignVulnV1, trivyScan(finished, nil), img.Digest)
	e.reg.PushBundle(t, img, e.key.Attest(t, st))
	rule := scanRule(e, policy.VulnerabilityScan{MaxAge: "7d"})

	at := func(when time.Time) []evaluate.Violation {
		c := check(t, rule, img.DigestRef())
		c.Now = when
		vs, err := e.v.Attestations(context.Background(), c)
		g.Expect(err).NotTo(HaveOccurred())
		return vs
	}
	g.Expect(at(now)).To(BeEmpty())
	e.reg.ResetCounts()
	g.Expect(at(now.Add(4 * time.Minute))).To(BeEmpty())
	g.Expect(e.reg.Requests()).To(Equal(0), "within the scan's remaining age the success is cached")
	// Past maxAge the cache (10 minutes by default) no longer answers: the scan is too old.
	g.Expect(messages(at(now.Add(6 * time.Minute)))).To(ContainSubstring(`attestation "scan"`))
	g.Expect(e.reg.Requests()).To(BeNumerically(">", 0))
}

// TestConcurrentVerification shares one verifier and cache between goroutines, as the
// controller does between reconciles (run it with -race).
func TestConcurrentVerification(t *testing.T) {
	g := NewWithT(t)
	e := newEnv(t)
	rule := signaturesRule(e.keyAuthority("release", e.key))
	var refs []string
	for i := range 8 {
		img := e.reg.PushImage(t, "payments-api", "1.0."+string(rune('0'+i)))
		e.reg.PushBundle(t, img, e.key.SignImage(t, img))
		refs = append(refs, img.DigestRef())
	}
	errs := make(chan error, 4*len(refs))
	var wg sync.WaitGroup
	for range 4 {
		for _, ref := range refs {
			wg.Go(func() {
				vs, err := e.v.Signatures(context.Background(), check(t, rule, ref))
				if err == nil && len(vs) > 0 {
					err = fmt.Errorf("%s: %s", ref, messages(vs))
				}
				errs <- err
			})
		}
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		g.Expect(err).NotTo(HaveOccurred())
	}
	g.Expect(e.cache.Len()).To(Equal(len(refs)))
}
