package supplychain

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/promotion-gate/promotion-gate/shared/evaluate"
	"github.com/promotion-gate/promotion-gate/shared/policy"
	"github.com/promotion-gate/promotion-gate/shared/supplychain/profile"
)

// Attestations implements evaluate.ImageVerifier: for each attestation clause of the
// rule, the image must carry an in-toto statement about its digest, of the clause's
// predicate type, signed by one of the clause's authorities, whose predicate passes the
// clause's profile.
func (v *Verifier) Attestations(ctx context.Context, c evaluate.ImageCheck) ([]evaluate.Violation, error) {
	if len(c.Rule.Attestations) == 0 {
		return nil, nil
	}
	auths, err := v.authorities(ctx, c.Rule.Signatures)
	if err != nil {
		return nil, fmt.Errorf("rule %s: attestations: %w", c.Rule.Name, err)
	}
	t, err := v.target(ctx, c)
	if err != nil {
		return nil, err
	}
	d := t.digest.DigestStr()
	type clause struct {
		att     policy.Attestation
		allowed []*authority
		key     string
	}
	var pending []clause
	for _, att := range c.Rule.Attestations {
		allowed, err := select_(auths, att)
		if err != nil {
			return nil, fmt.Errorf("rule %s: attestation %s: %w", c.Rule.Name, att.Name, err)
		}
		spec := []any{att, c.Rule.Signatures.TransparencyLog}
		key := cacheKey(d, c.PolicyRevision, c.Rule.Name, "attestation/"+att.Name, spec, allowed)
		if !v.cache.valid(key, t.now) {
			pending = append(pending, clause{att, allowed, key})
		}
	}
	if len(pending) == 0 {
		return nil, nil
	}
	f, err := v.collect(ctx, t.digest, false)
	if err != nil {
		return nil, err
	}
	var out []evaluate.Violation
	for _, cl := range pending {
		vs, ttl, err := attestation(t, f, cl.att, cl.allowed)
		if err != nil {
			return nil, fmt.Errorf("rule %s: attestation %s: image %s: %w", c.Rule.Name, cl.att.Name, t.display(), err)
		}
		if len(vs) == 0 && ttl >= 0 {
			v.cache.add(cl.key, t.now, ttl)
		}
		out = append(out, vs...)
	}
	return out, nil
}

// select_ picks the authorities an attestation names; none named means all of them.
func select_(auths []*authority, att policy.Attestation) ([]*authority, error) {
	if len(att.Authorities) == 0 {
		return auths, nil
	}
	var out []*authority
	for _, name := range att.Authorities {
		i := slices.IndexFunc(auths, func(a *authority) bool { return a.name == name })
		if i < 0 {
			return nil, fmt.Errorf("authority %q is not among the rule's signatures.authorities; add it there or fix the name", name)
		}
		out = append(out, auths[i])
	}
	return out, nil
}

// predicateTypes are the types a clause accepts: its own, or its profile's; nil is any.
func predicateTypes(att policy.Attestation) []string {
	switch {
	case att.PredicateType != "":
		return []string{att.PredicateType}
	case att.SLSAProvenance != nil:
		return profile.SLSAPredicateTypes
	case att.VulnerabilityScan != nil:
		return profile.VulnerabilityPredicateTypes
	}
	return nil
}

// attestation checks one clause. ttl bounds how long a pass may be cached (0: the
// cache's own TTL; negative: do not cache).
func attestation(t target, f *found, att policy.Attestation, allowed []*authority) ([]evaluate.Violation, time.Duration, error) {
	types := predicateTypes(att)
	var typed []*candidate
	for _, c := range f.candidates {
		if types == nil || slices.Contains(types, c.statement.PredicateType) {
			typed = append(typed, c)
		}
	}
	d := t.digest.DigestStr()
	want := strings.Join(types, " or ")
	if want == "" {
		want = "any type"
	}
	if len(typed) == 0 {
		where := "among its OCI referrers"
		if f.legacyTag != "" {
			where += " or at the legacy tag " + f.legacyTag
		}
		return []evaluate.Violation{{
			Message: fmt.Sprintf("image %s has no attestation of %s for attestation %q: none %s", t.display(), want, att.Name, where),
			Fix:     fmt.Sprintf("attach a signed attestation of %s to %s@%s (cosign attest)", want, t.digest.Context(), d),
		}}, 0, nil
	}
	var matched []*candidate
	worst := outcome{kind: noCandidates}
	var worstAuth *authority
	for _, c := range typed {
		for _, a := range allowed {
			o := a.check(c, d)
			if o.kind == verified {
				matched = append(matched, c)
				break
			}
			if o.kind < worst.kind {
				worst, worstAuth = o, a
			}
		}
	}
	if len(matched) == 0 {
		return []evaluate.Violation{{
			Message: fmt.Sprintf("image %s: no attestation of %s for attestation %q is signed by %s for this digest: %s",
				t.display(), want, att.Name, names(allowed), worst.detail),
			Fix: fmt.Sprintf("attest %s@%s as %s (cosign attest), or list the actual signer as an authority if it is trusted",
				t.digest.Context(), d, worstAuth.describe()),
		}}, 0, nil
	}
	return profiles(t, matched, att)
}

// profiles applies the clause's profiles to the verified statements. Provenance passes if
// any statement passes; a vulnerability scan is judged by the newest scan only, so that
// an old clean scan cannot hide a new finding.
func profiles(t target, matched []*candidate, att policy.Attestation) ([]evaluate.Violation, time.Duration, error) {
	prefix := fmt.Sprintf("image %s, attestation %q: ", t.display(), att.Name)
	var out []evaluate.Violation
	if att.SLSAProvenance != nil {
		var first []evaluate.Violation
		passed := false
		for _, c := range matched {
			if !slices.Contains(profile.SLSAPredicateTypes, c.statement.PredicateType) {
				continue
			}
			vs := profile.SLSA(c.statement.Predicate, *att.SLSAProvenance)
			if len(vs) == 0 {
				passed = true
				break
			}
			if first == nil {
				first = vs
			}
		}
		if !passed {
			if first == nil {
				first = []evaluate.Violation{{Message: "no verified SLSA provenance statement", Fix: "attest SLSA provenance (" + profile.SLSAProvenanceV1 + ")"}}
			}
			out = append(out, prefixed(prefix, first)...)
		}
	}
	var ttl time.Duration
	if scan := att.VulnerabilityScan; scan != nil {
		var newest time.Time
		var newestVs []evaluate.Violation
		var lastErr error
		seen := false
		for _, c := range matched {
			if !slices.Contains(profile.VulnerabilityPredicateTypes, c.statement.PredicateType) {
				continue
			}
			scanned, vs, err := profile.Vulnerabilities(c.statement.PredicateType, c.statement.Predicate, *scan, t.now)
			if err != nil {
				lastErr = err
				continue
			}
			if !seen || scanned.After(newest) {
				newest, newestVs, seen = scanned, vs, true
			}
		}
		switch {
		case !seen && lastErr != nil:
			return nil, 0, lastErr
		case !seen:
			out = append(out, evaluate.Violation{Message: prefix + "no verified vulnerability scan statement", Fix: "attest a vulnerability scan (" + strings.Join(profile.VulnerabilityPredicateTypes, " or ") + ")"})
		default:
			out = append(out, prefixed(prefix, newestVs)...)
			ttl = scanTTL(*scan, newest, t.now)
		}
	}
	return out, ttl, nil
}

// scanTTL is how long a passed scan stays good: until it grows older than maxAge, or an
// ignored vulnerability's expiry makes it count again. Negative means not at all.
func scanTTL(scan policy.VulnerabilityScan, scanned, now time.Time) time.Duration {
	var ttl time.Duration
	bound := func(until time.Time) {
		left := until.Sub(now)
		if left <= 0 {
			ttl = -1
		} else if ttl >= 0 && (ttl == 0 || left < ttl) {
			ttl = left
		}
	}
	if maxAge, err := policy.ParseMaxAge(scan.MaxAge); err == nil && maxAge > 0 && !scanned.IsZero() {
		bound(scanned.Add(maxAge))
	}
	for _, ig := range scan.Ignore {
		if day, err := time.Parse(time.DateOnly, ig.Expires); err == nil && day.AddDate(0, 0, 1).After(now) {
			bound(day.AddDate(0, 0, 1))
		}
	}
	return ttl
}

func prefixed(prefix string, vs []evaluate.Violation) []evaluate.Violation {
	out := make([]evaluate.Violation, 0, len(vs))
	for _, v := range vs {
		out = append(out, evaluate.Violation{Message: prefix + v.Message, Fix: v.Fix})
	}
	return out
}

func names(auths []*authority) string {
	var s []string
	for _, a := range auths {
		s = append(s, a.describe())
	}
	return strings.Join(s, " or ")
}
