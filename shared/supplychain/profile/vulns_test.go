package profile

import (
	"testing"
	"time"

	"github.com/promotion-gate/promotion-gate/shared/policy"
)

// now is a week after the fixtures' scans finished (2026-11-20 about 10:00 UTC).
var now = time.Date(2026, 11, 27, 8, 0, 0, 0, time.UTC)

func TestVulnerabilities(t *testing.T) {
	strict := map[string]int{"critical": 0, "high": 0}
	all := map[string]int{"critical": 0, "high": 0, "medium": 0, "low": 0, "none": 0, "unknown": 0}
	tests := []struct {
		name          string
		predicateType string
		fixture       string
		scan          policy.VulnerabilityScan
		now           time.Time
	}{
		{"trivy-within-thresholds", CosignVulnV1, "cosign-trivy.json",
			policy.VulnerabilityScan{MaxAge: "7d", Thresholds: map[string]int{"critical": 2, "high": 5}}, now},
		{"trivy-no-limits", CosignVulnV1, "cosign-trivy.json", policy.VulnerabilityScan{}, now},
		{"trivy-over-thresholds", CosignVulnV1, "cosign-trivy.json", policy.VulnerabilityScan{Thresholds: all}, now},
		{"trivy-threshold-keys-any-case", CosignVulnV1, "cosign-trivy.json",
			policy.VulnerabilityScan{Thresholds: map[string]int{"CRITICAL": 1}}, now},
		{"trivy-ignored", CosignVulnV1, "cosign-trivy.json", policy.VulnerabilityScan{
			Thresholds: map[string]int{"critical": 0},
			Ignore: []policy.IgnoredVulnerability{
				{ID: "CVE-2026-0001", Reason: "openssl not reachable", Expires: "2026-12-31"},
				{ID: "cve-2026-0002", Reason: "no fix yet"},
			}}, now},
		{"trivy-ignore-expired", CosignVulnV1, "cosign-trivy.json", policy.VulnerabilityScan{
			Thresholds: map[string]int{"critical": 0},
			Ignore: []policy.IgnoredVulnerability{
				{ID: "CVE-2026-0001", Reason: "openssl not reachable", Expires: "2026-11-26"},
				{ID: "CVE-2026-0002", Reason: "no fix yet", Expires: "2026-12-31"},
			}}, now},
		{"trivy-ignore-last-day", CosignVulnV1, "cosign-trivy.json", policy.VulnerabilityScan{
			Thresholds: map[string]int{"critical": 0},
			Ignore: []policy.IgnoredVulnerability{
				{ID: "CVE-2026-0001", Reason: "r", Expires: "2026-11-27"},
				{ID: "CVE-2026-0002", Reason: "r", Expires: "2026-11-27"},
			}}, time.Date(2026, 11, 27, 23, 59, 59, 0, time.UTC)},
		{"trivy-ignore-expired-within-limit", CosignVulnV1, "cosign-trivy.json", policy.VulnerabilityScan{
			Thresholds: map[string]int{"critical": 2},
			Ignore:     []policy.IgnoredVulnerability{{ID: "CVE-2026-0001", Reason: "r", Expires: "2026-01-01"}}}, now},
		{"trivy-max-age-days-pass", CosignVulnV1, "cosign-trivy-clean.json", policy.VulnerabilityScan{MaxAge: "7d"}, now},
		{"trivy-max-age-hours-pass", CosignVulnV1, "cosign-trivy-clean.json", policy.VulnerabilityScan{MaxAge: "168h"}, now},
		{"trivy-too-old", CosignVulnV1, "cosign-trivy-clean.json", policy.VulnerabilityScan{MaxAge: "6d", Thresholds: strict}, now},
		{"trivy-too-old-hours", CosignVulnV1, "cosign-trivy-clean.json", policy.VulnerabilityScan{MaxAge: "1h"},
			time.Date(2026, 11, 20, 11, 30, 0, 0, time.UTC)},
		{"trivy-clean", CosignVulnV1, "cosign-trivy-clean.json", policy.VulnerabilityScan{Thresholds: all}, now},
		{"zero-finish-time", CosignVulnV1, "cosign-zero-time.json", policy.VulnerabilityScan{MaxAge: "7d", Thresholds: strict}, now},
		{"zero-finish-time-no-max-age", CosignVulnV1, "cosign-zero-time.json", policy.VulnerabilityScan{Thresholds: strict}, now},
		{"no-result", CosignVulnV1, "cosign-no-result.json", policy.VulnerabilityScan{MaxAge: "7d", Thresholds: strict}, now},
		{"grype-over-thresholds", CosignVulnV1, "cosign-grype.json", policy.VulnerabilityScan{Thresholds: all}, now},
		{"sarif-unsupported", CosignVulnV1, "cosign-sarif.json", policy.VulnerabilityScan{Thresholds: strict}, now},
		{"trivy-bad-results", CosignVulnV1, "cosign-trivy-bad-results.json", policy.VulnerabilityScan{Thresholds: strict}, now},
		{"intoto-severity-mapping", InTotoVulnsV02, "intoto-vulns.json", policy.VulnerabilityScan{Thresholds: all}, now},
		{"intoto-many", InTotoVulnsV02, "intoto-many.json", policy.VulnerabilityScan{Thresholds: strict}, now},
		{"intoto-empty-result", InTotoVulnsV02, "intoto-empty.json", policy.VulnerabilityScan{MaxAge: "2d", Thresholds: all}, now},
		{"intoto-bad-time", InTotoVulnsV02, "intoto-bad-time.json", policy.VulnerabilityScan{}, now},
		{"intoto-given-cosign-type", CosignVulnV1, "intoto-vulns.json", policy.VulnerabilityScan{Thresholds: strict}, now},
		{"cosign-given-intoto-type", InTotoVulnsV02, "cosign-trivy.json", policy.VulnerabilityScan{Thresholds: strict}, now},
		{"not-json", InTotoVulnsV02, "slsa-truncated.json", policy.VulnerabilityScan{}, now},
		{"wrong-predicate-type", SLSAProvenanceV1, "slsa-v1-github.json", policy.VulnerabilityScan{}, now},
		{"bad-max-age", CosignVulnV1, "cosign-trivy.json", policy.VulnerabilityScan{MaxAge: "a week"}, now},
		{"bad-expires", CosignVulnV1, "cosign-trivy.json", policy.VulnerabilityScan{
			Ignore: []policy.IgnoredVulnerability{{ID: "CVE-2026-0001", Reason: "r", Expires: "31/12/2026"}}}, now},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			scanned, vs, err := Vulnerabilities(tt.predicateType, fixture(t, tt.fixture), tt.scan, tt.now)
			checkOneLine(t, vs, err)
			if err != nil && (len(vs) > 0 || !scanned.IsZero()) {
				t.Fatalf("an error comes alone: %v, %v, %v", scanned, vs, err)
			}
			checkGolden(t, "vulns-"+tt.name, render(scanned, vs, err))
		})
	}
}
