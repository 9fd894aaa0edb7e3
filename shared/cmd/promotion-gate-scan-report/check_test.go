package main

import (
	"context"
	"strings"
	"testing"

	. "github.com/onsi/gomega"

	"github.com/promotion-gate/promotion-gate/shared/plugin/sdk"
)

// TestCheck runs the checker in-process against the registry; TestPluginProcess runs
// the built plugin through the host.
func TestCheck(t *testing.T) {
	reg := newRegistry(t)
	clean := reg.pushImage(t, "team/clean", "v1")
	attach(t, clean, trivyType, "testdata/reports/trivy-clean.json", "")
	vulnerable := reg.pushImage(t, "team/vulnerable", "v1")
	attach(t, vulnerable, trivyType, "testdata/reports/trivy.json", "")
	sarif := reg.pushImage(t, "team/sarif", "v1")
	attach(t, sarif, sarifType, "testdata/reports/sarif-trivy.json", "")
	rescanned := reg.pushImage(t, "team/rescanned", "v1")
	attach(t, rescanned, trivyType, "testdata/reports/trivy.json", "2026-01-01T00:00:00Z")
	attach(t, rescanned, sarifType, "testdata/reports/sarif-levels.json", "2026-02-01T00:00:00Z")
	broken := reg.pushImage(t, "team/broken", "v1")
	attach(t, broken, sarifType, "testdata/reports/garbage.json", "")
	bare := reg.pushImage(t, "team/bare", "v1")
	attach(t, bare, "application/vnd.example.sbom+json", "testdata/reports/cyclonedx.json", "")

	tests := []struct {
		name    string
		req     sdk.Request
		message string // substring of the one finding; empty: the image passes
		err     string
	}{
		{name: "clean report passes", req: byDigest(clean, nil)},
		{name: "critical and high fail at high", req: byDigest(vulnerable, nil),
			message: "has 2 vulnerabilities at or above high: CVE-2024-0002 (critical, zlib1g 1:1.2.13), CVE-2024-0001 (high, openssl 3.0.11)"},
		{name: "only critical fails at critical", req: byDigest(vulnerable, map[string]string{"severity": "critical"}),
			message: "has 1 vulnerability at or above critical: CVE-2024-0002"},
		{name: "ignored IDs do not count", req: byDigest(vulnerable, map[string]string{"ignore": "CVE-2024-0001,CVE-2024-0002"})},
		{name: "medium counts more", req: byDigest(vulnerable, map[string]string{"severity": "medium"}),
			message: "has 3 vulnerabilities at or above medium"},
		{name: "sarif scores", req: byDigest(sarif, nil), message: "(Trivy) has 2 vulnerabilities at or above high: CVE-2024-1001 (critical), CVE-2024-1002 (high)"},
		{name: "a tag is resolved at the registry", req: sdk.Request{Image: sarif.Context().Tag("v1").String()},
			message: "scan report sha256:"},
		{name: "the newest report wins", req: byDigest(rescanned, nil), message: "(Grype) has 1 vulnerability at or above high: GHSA-aaaa-bbbb-cccc (high)"},
		{name: "no report fails", req: byDigest(bare, nil),
			message: "no scan report (artifact type application/sarif+json or application/vnd.aquasec.trivy.report+json) is attached to " + bare.String()},
		{name: "other artifact types are read when asked", req: byDigest(bare, map[string]string{"artifactTypes": "application/vnd.example.sbom+json"}),
			err: "scan report is neither a Trivy JSON report"},
		{name: "an unreadable report cannot decide", req: byDigest(broken, nil), err: "scan report is not JSON"},
		{name: "bad parameter", req: byDigest(clean, map[string]string{"severity": "severe"}), err: `parameter severity: severity "severe"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			g := NewWithT(t)
			fs, err := (&checker{}).Check(context.Background(), tt.req)
			if tt.err != "" {
				g.Expect(err).To(MatchError(ContainSubstring(tt.err)))
				return
			}
			g.Expect(err).NotTo(HaveOccurred())
			if tt.message == "" {
				g.Expect(fs).To(BeEmpty())
				return
			}
			g.Expect(fs).To(HaveLen(1))
			g.Expect(fs[0].Message).To(ContainSubstring(tt.message))
			g.Expect(fs[0].Fix).NotTo(BeEmpty())
		})
	}
}

func TestCheckRegistryUnreachable(t *testing.T) {
	g := NewWithT(t)
	reg := newRegistry(t)
	img := reg.pushImage(t, "team/app", "v1")
	reg.Close()
	_, err := (&checker{}).Check(context.Background(), byDigest(img, nil))
	g.Expect(err).To(MatchError(And(ContainSubstring("list referrers of "+img.String()), ContainSubstring("check network and credentials"))))
	_, err = (&checker{}).Check(context.Background(), sdk.Request{Image: img.Context().Tag("v1").String()})
	g.Expect(err).To(MatchError(ContainSubstring("resolve " + img.Context().Tag("v1").String() + " at the registry")))
}

func byDigest(d interface{ String() string }, params map[string]string) sdk.Request {
	s := d.String()
	return sdk.Request{Image: s, Digest: s[strings.LastIndex(s, "@")+1:], Parameters: params}
}
