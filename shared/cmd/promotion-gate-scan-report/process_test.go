package main

import (
	"context"
	"fmt"
	"testing"

	. "github.com/onsi/gomega"

	"github.com/promotion-gate/promotion-gate/shared/evaluate"
	"github.com/promotion-gate/promotion-gate/shared/extract"
	"github.com/promotion-gate/promotion-gate/shared/imageref"
	"github.com/promotion-gate/promotion-gate/shared/plugin"
	"github.com/promotion-gate/promotion-gate/shared/policy"
)

// TestPluginProcess runs the built plugin the way the gate does: declared in a parsed
// policy, verified by SHA-256, started by the plugin runner, evaluated for prod.
func TestPluginProcess(t *testing.T) {
	reg := newRegistry(t)
	clean := reg.pushImage(t, "team/clean", "v1")
	attach(t, clean, sarifType, "testdata/reports/sarif-levels.json", "")
	vulnerable := reg.pushImage(t, "team/vulnerable", "v1")
	attach(t, vulnerable, trivyType, "testdata/reports/trivy.json", "")
	unscanned := reg.pushImage(t, "team/unscanned", "v1")

	set, err := policy.Parse(policy.Source{Name: "scan.yaml", Data: []byte(fmt.Sprintf(`apiVersion: promotion-gate.io/v1alpha1
kind: PromotionPolicy
metadata:
  name: scan
spec:
  environments:
    - name: prod
      protected: true
      match: {paths: ["prod/**"]}
  rules:
    - name: scanned
      environments: [prod]
      enforcement: deny
      plugins:
        - name: scan-report
          path: %s
          sha256: %s
          timeout: 30s
          parameters:
            severity: critical
            ignore: GHSA-aaaa-bbbb-cccc
`, built.path, built.sha256))})
	if err != nil {
		t.Fatalf("parse policy: %v", err)
	}
	cls, err := set.Classify(policy.Query{Path: "prod/app.yaml"})
	if err != nil {
		t.Fatal(err)
	}
	runner := plugin.NewRunner(plugin.Options{})
	defer runner.Close()

	images := []extract.Image{}
	for _, d := range []fmt.Stringer{clean, vulnerable, unscanned} {
		ref, err := imageref.Parse(d.String())
		if err != nil {
			t.Fatal(err)
		}
		images = append(images, extract.Image{Raw: d.String(), Ref: &ref, Source: extract.Source{File: "prod/app.yaml"}})
	}
	res := evaluate.Evaluate(context.Background(), evaluate.Request{Policy: set, Environment: cls, Images: images, Plugins: runner})

	g := NewWithT(t)
	g.Expect(res.Verdict).To(Equal(evaluate.Denied))
	byImage := map[string][]string{}
	for _, f := range res.Findings {
		g.Expect(f.Check).To(Equal("plugins"))
		byImage[f.Image] = append(byImage[f.Image], f.Message)
	}
	g.Expect(byImage).NotTo(HaveKey(clean.String()), "the clean image passes")
	g.Expect(byImage[vulnerable.String()]).To(ConsistOf(
		ContainSubstring(`plugin "scan-report": scan report sha256:`)))
	g.Expect(byImage[vulnerable.String()][0]).To(ContainSubstring("has 1 vulnerability at or above critical: CVE-2024-0002 (critical, zlib1g 1:1.2.13)"))
	g.Expect(byImage[unscanned.String()]).To(ConsistOf(
		HavePrefix(`plugin "scan-report": no scan report (artifact type application/sarif+json or application/vnd.aquasec.trivy.report+json) is attached to ` + unscanned.String())))

	// The registry goes away: the plugin cannot decide, and the image is denied.
	reg.Close()
	res = evaluate.Evaluate(context.Background(), evaluate.Request{Policy: set, Environment: cls, Images: images[:1], Plugins: runner})
	g.Expect(res.Verdict).To(Equal(evaluate.Denied))
	g.Expect(res.Findings).To(HaveLen(1))
	g.Expect(res.Findings[0].Message).To(And(
		HavePrefix(`plugin "scan-report" could not check the image: list referrers of `+clean.String()),
		ContainSubstring("check network and credentials")))
}
