package supplychain_test

import (
	"testing"
	"time"

	. "github.com/onsi/gomega"

	"github.com/promotion-gate/promotion-gate/shared/policy"
	"github.com/promotion-gate/promotion-gate/shared/registry/registrytest"
	"github.com/promotion-gate/promotion-gate/shared/supplychain/profile"
)

const sourceRepo = "https://github.com/example/payments-api"

func provenanceRule(e *env) policy.Rule {
	r := signaturesRule(e.keyAuthority("release", e.key), keylessAuthority("ci", subject))
	r.Attestations = []policy.Attestation{{
		Name: "provenance", Authorities: []string{"ci"},
		SLSAProvenance: &policy.SLSAProvenance{
			BuilderID:        "https://github.com/example/payments-api/.github/workflows/release.yml@refs/tags/*",
			SourceRepository: sourceRepo, SourceRef: "refs/tags/v*",
		},
	}}
	return r
}

func scanRule(e *env, scan policy.VulnerabilityScan) policy.Rule {
	r := signaturesRule(e.keyAuthority("release", e.key))
	r.Attestations = []policy.Attestation{{Name: "scan", VulnerabilityScan: &scan}}
	return r
}

func TestAttestations(t *testing.T) {
	now := time.Now()
	yesterday := now.AddDate(0, 0, -1).UTC().Format(time.DateOnly)
	nextWeek := now.AddDate(0, 0, 7).UTC().Format(time.DateOnly)
	tests := []struct {
		name   string
		attest func(e *env, img registrytest.Image) policy.Rule
		want   []string
	}{
		{
			name: "provenance from the expected builder and source",
			attest: func(e *env, img registrytest.Image) policy.Rule {
				st := statement(e.t, profile.SLSAProvenanceV1, provenance(builder, sourceRepo, "refs/tags/v1.4.2"), img.Digest)
				e.reg.PushBundle(e.t, img, e.ss.Keyless(subject, issuer).Attest(e.t, st))
				return provenanceRule(e)
			},
		},
		{
			name: "provenance from the wrong builder",
			attest: func(e *env, img registrytest.Image) policy.Rule {
				st := statement(e.t, profile.SLSAProvenanceV1, provenance("https://evil.example.com/builder", sourceRepo, "refs/tags/v1.4.2"), img.Digest)
				e.reg.PushBundle(e.t, img, e.ss.Keyless(subject, issuer).Attest(e.t, st))
				return provenanceRule(e)
			},
			want: []string{`attestation "provenance"`, "evil.example.com"},
		},
		{
			name: "provenance from the wrong source",
			attest: func(e *env, img registrytest.Image) policy.Rule {
				st := statement(e.t, profile.SLSAProvenanceV1, provenance(builder, "https://github.com/fork/payments-api", "refs/tags/v1.4.2"), img.Digest)
				e.reg.PushBundle(e.t, img, e.ss.Keyless(subject, issuer).Attest(e.t, st))
				return provenanceRule(e)
			},
			want: []string{`attestation "provenance"`, "github.com/fork/payments-api"},
		},
		{
			name: "provenance signed by an authority the clause does not allow",
			attest: func(e *env, img registrytest.Image) policy.Rule {
				st := statement(e.t, profile.SLSAProvenanceV1, provenance(builder, sourceRepo, "refs/tags/v1.4.2"), img.Digest)
				e.reg.PushBundle(e.t, img, e.key.Attest(e.t, st))
				return provenanceRule(e)
			},
			want: []string{`is signed by authority "ci"`, "signed with a key, not with a certificate"},
		},
		{
			name: "provenance about another digest",
			attest: func(e *env, img registrytest.Image) policy.Rule {
				otherImg := e.reg.PushImage(e.t, "payments-api", "other")
				st := statement(e.t, profile.SLSAProvenanceV1, provenance(builder, sourceRepo, "refs/tags/v1.4.2"), otherImg.Digest)
				e.reg.PushBundle(e.t, img, e.ss.Keyless(subject, issuer).Attest(e.t, st))
				return provenanceRule(e)
			},
			want: []string{"is for another digest"},
		},
		{
			name: "no provenance at all",
			attest: func(e *env, img registrytest.Image) policy.Rule {
				return provenanceRule(e)
			},
			want: []string{"has no attestation of https://slsa.dev/provenance/v1", ".att", "cosign attest"},
		},
		{
			name: "legacy .att tag",
			attest: func(e *env, img registrytest.Image) policy.Rule {
				st := statement(e.t, profile.SLSAProvenanceV1, provenance(builder, sourceRepo, "refs/tags/v1.4.2"), img.Digest)
				e.reg.PushLegacy(e.t, img, "att", e.ss.Keyless(subject, issuer).LegacyAttestation(e.t, st))
				return provenanceRule(e)
			},
		},
		{
			name: "vulnerability scan within thresholds",
			attest: func(e *env, img registrytest.Image) policy.Rule {
				st := statement(e.t, profile.CosignVulnV1, trivyScan(now.Add(-time.Hour), map[string]string{"CVE-2026-0001": "HIGH"}), img.Digest)
				e.reg.PushBundle(e.t, img, e.key.Attest(e.t, st))
				return scanRule(e, policy.VulnerabilityScan{MaxAge: "7d", Thresholds: map[string]int{"critical": 0, "high": 1}})
			},
		},
		{
			name: "vulnerability scan over threshold",
			attest: func(e *env, img registrytest.Image) policy.Rule {
				st := statement(e.t, profile.CosignVulnV1, trivyScan(now.Add(-time.Hour), map[string]string{"CVE-2026-0001": "CRITICAL"}), img.Digest)
				e.reg.PushBundle(e.t, img, e.key.Attest(e.t, st))
				return scanRule(e, policy.VulnerabilityScan{MaxAge: "7d", Thresholds: map[string]int{"critical": 0}})
			},
			want: []string{`attestation "scan"`, "CVE-2026-0001"},
		},
		{
			name: "vulnerability scan older than maxAge",
			attest: func(e *env, img registrytest.Image) policy.Rule {
				st := statement(e.t, profile.CosignVulnV1, trivyScan(now.Add(-8*24*time.Hour), nil), img.Digest)
				e.reg.PushBundle(e.t, img, e.key.Attest(e.t, st))
				return scanRule(e, policy.VulnerabilityScan{MaxAge: "7d"})
			},
			want: []string{`attestation "scan"`, "7d"},
		},
		{
			name: "ignored vulnerability, ignore still live",
			attest: func(e *env, img registrytest.Image) policy.Rule {
				st := statement(e.t, profile.CosignVulnV1, trivyScan(now.Add(-time.Hour), map[string]string{"CVE-2026-0002": "CRITICAL"}), img.Digest)
				e.reg.PushBundle(e.t, img, e.key.Attest(e.t, st))
				return scanRule(e, policy.VulnerabilityScan{Thresholds: map[string]int{"critical": 0},
					Ignore: []policy.IgnoredVulnerability{{ID: "CVE-2026-0002", Reason: "not reachable", Expires: nextWeek}}})
			},
		},
		{
			name: "ignored vulnerability past its expiry",
			attest: func(e *env, img registrytest.Image) policy.Rule {
				st := statement(e.t, profile.CosignVulnV1, trivyScan(now.Add(-time.Hour), map[string]string{"CVE-2026-0002": "CRITICAL"}), img.Digest)
				e.reg.PushBundle(e.t, img, e.key.Attest(e.t, st))
				return scanRule(e, policy.VulnerabilityScan{Thresholds: map[string]int{"critical": 0},
					Ignore: []policy.IgnoredVulnerability{{ID: "CVE-2026-0002", Reason: "not reachable", Expires: yesterday}}})
			},
			want: []string{"CVE-2026-0002", "was ignored until " + yesterday, "counts again"},
		},
		{
			name: "newest scan decides, not an older clean one",
			attest: func(e *env, img registrytest.Image) policy.Rule {
				old := statement(e.t, profile.CosignVulnV1, trivyScan(now.Add(-2*time.Hour), nil), img.Digest)
				e.reg.PushBundle(e.t, img, e.key.Attest(e.t, old))
				fresh := statement(e.t, profile.CosignVulnV1, trivyScan(now.Add(-time.Hour), map[string]string{"CVE-2026-0003": "CRITICAL"}), img.Digest)
				e.reg.PushBundle(e.t, img, e.key.Attest(e.t, fresh))
				return scanRule(e, policy.VulnerabilityScan{Thresholds: map[string]int{"critical": 0}})
			},
			want: []string{"CVE-2026-0003"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			g := NewWithT(t)
			e := newEnv(t)
			img := e.reg.PushImage(t, "payments-api", "1.4.2")
			rule := tt.attest(e, img)
			got := messages(e.attestations(rule, img.DigestRef()))
			if len(tt.want) == 0 {
				g.Expect(got).To(BeEmpty())
				return
			}
			g.Expect(got).To(ContainSubstring(img.Digest), "the violation names the image")
			for _, w := range tt.want {
				g.Expect(got).To(ContainSubstring(w))
			}
		})
	}
}
