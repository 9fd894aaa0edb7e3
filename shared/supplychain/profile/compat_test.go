package profile

import (
	"testing"
	"time"

	slsa "github.com/in-toto/attestation/go/predicates/provenance/v1"
	vulns "github.com/in-toto/attestation/go/predicates/vulns/v02"
	intoto "github.com/in-toto/attestation/go/v1"
	. "github.com/onsi/gomega"
	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/types/known/structpb"
	"google.golang.org/protobuf/types/known/timestamppb"

	"github.com/promotion-gate/promotion-gate/shared/policy"
)

// The profiles decode predicates with encoding/json; these tests write predicates with
// the in-toto attestation library's own types, as producers in Go do, and check that
// the profiles read the same fields.

func TestSLSAReadsInTotoLibraryProvenance(t *testing.T) {
	g := NewWithT(t)
	ext, err := structpb.NewStruct(map[string]any{
		"workflow": map[string]any{
			"ref":        "refs/tags/v1.4.2",
			"repository": "https://github.com/example/payments-api",
			"path":       ".github/workflows/release.yml",
		},
	})
	g.Expect(err).NotTo(HaveOccurred())
	prov := &slsa.Provenance{
		BuildDefinition: &slsa.BuildDefinition{
			BuildType:          "https://slsa-framework.github.io/github-actions-buildtypes/workflow/v1",
			ExternalParameters: ext,
			ResolvedDependencies: []*intoto.ResourceDescriptor{{
				Uri:    "git+https://github.com/example/payments-api@refs/tags/v1.4.2",
				Digest: map[string]string{"gitCommit": "7fd1a60b01f91b314f59955a4e4d4e80d8edf11d"},
			}},
		},
		RunDetails: &slsa.RunDetails{
			Builder:  &slsa.Builder{Id: githubBuilder},
			Metadata: &slsa.BuildMetadata{FinishedOn: timestamppb.New(now)},
		},
	}
	g.Expect(prov.Validate()).To(Succeed())
	data, err := protojson.Marshal(prov)
	g.Expect(err).NotTo(HaveOccurred())

	g.Expect(SLSA(data, policy.SLSAProvenance{
		BuilderID:        githubBuilder,
		SourceRepository: "https://github.com/example/payments-api",
		SourceRef:        "refs/tags/v1.4.2",
	})).To(BeEmpty())
	g.Expect(SLSA(data, policy.SLSAProvenance{SourceRef: "refs/heads/main"})).To(ConsistOf(
		HaveField("Message", `source ref "refs/tags/v1.4.2" is not "refs/heads/main" (from buildDefinition.externalParameters.workflow)`)))
}

func TestVulnerabilitiesReadsInTotoLibraryVulns(t *testing.T) {
	g := NewWithT(t)
	finished := time.Date(2026, 11, 26, 12, 0, 0, 0, time.UTC)
	version := "0.58.0"
	pred := &vulns.Vulns{
		Scanner: &vulns.Scanner{
			Uri:     "pkg:github/aquasecurity/trivy@v0.58.0",
			Version: &version,
			Result: []*vulns.Result{
				{Id: "CVE-2026-2001", Severity: []*vulns.Result_Severity{{Method: "nvd", Score: "critical"}}},
				{Id: "CVE-2026-2002", Severity: []*vulns.Result_Severity{{Method: "cvss_score", Score: "7.2"}}},
				{Id: "CVE-2026-2003", Severity: []*vulns.Result_Severity{{Method: "cvss_score", Score: "5.0"}}},
			},
		},
		Metadata: &vulns.ScanMetadata{
			ScanStartedOn:  timestamppb.New(finished.Add(-time.Minute)),
			ScanFinishedOn: timestamppb.New(finished),
		},
	}
	data, err := protojson.Marshal(pred)
	g.Expect(err).NotTo(HaveOccurred())

	scanned, vs, err := Vulnerabilities(InTotoVulnsV02, data, policy.VulnerabilityScan{
		MaxAge:     "7d",
		Thresholds: map[string]int{"critical": 0, "high": 1, "medium": 0},
		Ignore:     []policy.IgnoredVulnerability{{ID: "CVE-2026-2001", Reason: "not reachable", Expires: "2026-12-31"}},
	}, now)
	g.Expect(err).NotTo(HaveOccurred())
	g.Expect(scanned).To(Equal(finished))
	g.Expect(vs).To(ConsistOf(HaveField("Message", "1 medium vulnerability (max 0): CVE-2026-2003")))
}
