package supplychain

import (
	"context"
	"fmt"
	"strconv"
	"strings"

	"github.com/promotion-gate/promotion-gate/shared/evaluate"
	"github.com/promotion-gate/promotion-gate/shared/policy"
)

// Signatures implements evaluate.ImageVerifier: the image, by digest, must be signed by
// as many of the rule's authorities as Count asks.
func (v *Verifier) Signatures(ctx context.Context, c evaluate.ImageCheck) ([]evaluate.Violation, error) {
	sigs := c.Rule.Signatures
	if sigs == nil {
		return nil, nil
	}
	auths, err := v.authorities(ctx, sigs)
	if err != nil {
		return nil, fmt.Errorf("rule %s: signatures: %w", c.Rule.Name, err)
	}
	need, err := required(sigs.Count, len(auths))
	if err != nil {
		return nil, fmt.Errorf("rule %s: signatures: %w", c.Rule.Name, err)
	}
	t, err := v.target(ctx, c)
	if err != nil {
		return nil, err
	}
	key := cacheKey(t.digest.DigestStr(), c.PolicyRevision, c.Rule.Name, "signatures", sigs, auths)
	if v.cache.valid(key, t.now) {
		return nil, nil
	}
	f, err := v.collect(ctx, t.digest, true)
	if err != nil {
		return nil, err
	}
	d := t.digest.DigestStr()
	var failed []outcome
	var failedAuths []*authority
	passed := 0
	for _, a := range auths {
		o, _ := a.best(f.candidates, d, nil)
		if o.kind == verified {
			passed++
			continue
		}
		failed, failedAuths = append(failed, o), append(failedAuths, a)
	}
	if passed >= need {
		v.cache.add(key, t.now, 0)
		return nil, nil
	}
	out := make([]evaluate.Violation, 0, len(failed))
	for i, o := range failed {
		out = append(out, signatureViolation(t, f, failedAuths[i], o, need, passed, len(auths)))
	}
	return out, nil
}

// required is how many authorities must verify: Count "" is 1, "all" every one.
func required(count string, n int) (int, error) {
	switch count {
	case "":
		return 1, nil
	case policy.CountAll:
		return n, nil
	}
	k, err := strconv.Atoi(count)
	if err != nil || k < 1 || k > n {
		return 0, fmt.Errorf("count %q: write a number from 1 to %d (the authorities listed) or \"all\"", count, n)
	}
	return k, nil
}

func signatureViolation(t target, f *found, a *authority, o outcome, need, passed, total int) evaluate.Violation {
	img := t.display()
	var quota string
	if total > 1 {
		quota = fmt.Sprintf(" (%d of the rule's %d authorities verified, %d needed)", passed, total, need)
	}
	switch o.kind {
	case noCandidates:
		where := "among its OCI referrers"
		if f.legacyTag != "" {
			where += " or at the legacy tag " + f.legacyTag
		}
		msg := fmt.Sprintf("image %s is unsigned: no Sigstore signature %s, so %s did not sign it%s", img, where, a.describe(), quota)
		if len(f.problems) > 0 {
			msg += "; unreadable: " + strings.Join(f.problems, "; ")
		}
		return evaluate.Violation{Message: msg, Fix: signFix(t, a)}
	case otherDigest:
		return evaluate.Violation{
			Message: fmt.Sprintf("image %s is not signed by %s: %s%s", img, a.describe(), o.detail, quota),
			Fix:     "sign the digest that is deployed, " + t.digest.DigestStr() + ": " + signFix(t, a),
		}
	case wrongIdentity:
		return evaluate.Violation{
			Message: fmt.Sprintf("image %s is not signed by %s: %s%s", img, a.describe(), o.detail, quota),
			Fix:     "sign it from the identity the policy names, or correct the authority's subject and issuer if that signer is trusted",
		}
	case notLogged:
		return evaluate.Violation{
			Message: fmt.Sprintf("image %s is not signed by %s as the rule requires: %s%s", img, a.describe(), o.detail, quota),
			Fix:     "sign with the transparency log (cosign's default), or set signatures.transparencyLog: ignore for a key kept offline",
		}
	}
	return evaluate.Violation{
		Message: fmt.Sprintf("image %s is not signed by %s: %s%s", img, a.describe(), o.detail, quota),
		Fix:     signFix(t, a) + "; or add the actual signer to the policy if it is trusted",
	}
}

func signFix(t target, a *authority) string {
	ref := t.digest.Context().String() + "@" + t.digest.DigestStr()
	if a.keyless == nil {
		return fmt.Sprintf("sign it with the key of authority %q: cosign sign --key <key> %s", a.name, ref)
	}
	return fmt.Sprintf("sign it keyless from the identity of authority %q: cosign sign %s", a.name, ref)
}
