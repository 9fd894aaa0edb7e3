package profile

import (
	"slices"
	"testing"
	"time"

	"github.com/promotion-gate/promotion-gate/shared/policy"
)

// FuzzSLSA feeds arbitrary predicates to the provenance check: a predicate is written
// by whoever controls the build, and only its signature is checked before it gets here.
// It must never panic, every violation must be one line with a fix, and a check that
// asks nothing finds nothing wrong unless the predicate is not provenance at all.
func FuzzSLSA(f *testing.F) {
	want := policy.SLSAProvenance{
		BuilderID:        "https://github.com/slsa-framework/**",
		SourceRepository: "https://github.com/example/*",
		SourceRef:        "refs/tags/v*",
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		vs := SLSA(data, want)
		checkOneLine(t, vs, nil)
		if len(vs) > 3 {
			t.Fatalf("more violations than checks: %+v", vs)
		}
		if none := SLSA(data, policy.SLSAProvenance{}); len(none) > 1 {
			t.Fatalf("nothing asked, yet: %+v", none)
		}
	})
}

// FuzzVulnerabilities feeds arbitrary predicates of both scan types to the
// vulnerability check. It must never panic; errors and violations are one line; an
// error comes without violations or a scan time; and the answer does not depend on
// map order (the IDs are counted in a map).
func FuzzVulnerabilities(f *testing.F) {
	scan := policy.VulnerabilityScan{
		MaxAge:     "7d",
		Thresholds: map[string]int{"critical": 0, "high": 1, "medium": 2, "low": 3, "none": 0, "unknown": 0},
		Ignore: []policy.IgnoredVulnerability{
			{ID: "CVE-2026-0001", Reason: "expired", Expires: "2026-01-01"},
			{ID: "CVE-2026-0002", Reason: "current", Expires: "2027-01-01"},
		},
	}
	now := time.Date(2026, 11, 27, 8, 0, 0, 0, time.UTC)
	f.Fuzz(func(t *testing.T, data []byte, intoto bool) {
		typ := CosignVulnV1
		if intoto {
			typ = InTotoVulnsV02
		}
		scanned, vs, err := Vulnerabilities(typ, data, scan, now)
		checkOneLine(t, vs, err)
		if err != nil && (len(vs) > 0 || !scanned.IsZero()) {
			t.Fatalf("an error comes alone: %v %+v %v", scanned, vs, err)
		}
		again, vs2, err2 := Vulnerabilities(typ, data, scan, now)
		if !again.Equal(scanned) || !slices.Equal(vs, vs2) || (err == nil) != (err2 == nil) {
			t.Fatalf("not deterministic: %+v / %+v", vs, vs2)
		}
		if _, relaxed, err := Vulnerabilities(typ, data, policy.VulnerabilityScan{}, now); err == nil && len(relaxed) > 1 {
			t.Fatalf("no limits, yet: %+v", relaxed)
		}
	})
}
