package cmp

import (
	"errors"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	. "github.com/onsi/gomega"

	"github.com/promotion-gate/promotion-gate/shared/evaluate"
	"github.com/promotion-gate/promotion-gate/shared/extract"
	"github.com/promotion-gate/promotion-gate/shared/policy"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/")

func finding(i int) evaluate.Finding {
	return evaluate.Finding{
		Rule: "prod-immutable-images", Check: "requireDigest", Enforcement: "deny",
		Image: fmt.Sprintf("ghcr.io/example/worker-%02d:1.0.%d", i, i),
		Source: extract.Source{
			File: "apps/workers/base/deployment.yaml", Kind: "Deployment", Namespace: "workers-prod",
			Name: fmt.Sprintf("worker-%02d", i), Container: "main",
			FieldPath: "spec.template.spec.containers[0].image",
		},
		Message: fmt.Sprintf("not pinned by digest: tag %q can be moved to other content", fmt.Sprintf("1.0.%d", i)),
		Fix:     fmt.Sprintf("pin the image by digest: ghcr.io/example/worker-%02d:1.0.%d@sha256:<digest>", i, i),
	}
}

func TestMessagesGolden(t *testing.T) {
	many := make([]evaluate.Finding, 25)
	for i := range many {
		many[i] = finding(i)
	}
	crd := finding(99)
	crd.Source = extract.Source{File: "apps/x/release.yaml", Kind: "HelmRelease", Namespace: "x", Name: "cache", FieldPath: "spec.values.image"}
	crd.Enforcement = "warn"
	revision := "sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"

	tests := []struct {
		name string
		got  string
	}{
		{"refusal-two", Refusal("apps/payments-api/overlays/prod", evaluate.Result{
			Verdict: evaluate.Denied, Environment: "prod", Protected: true, PolicyRevision: revision,
			Findings: []evaluate.Finding{finding(1), crd},
		})},
		{"refusal-many", Refusal("apps/workers/overlays/prod", evaluate.Result{
			Verdict: evaluate.Denied, Environment: "prod", Protected: true, PolicyRevision: revision, Findings: many,
		})},
		{"refusal-no-policy", Refusal("apps/payments-api/overlays/dev", evaluate.Failure(
			policyClassification("", true), "", errors.New("load policy /etc/promotion-gate/policy: stat /etc/promotion-gate/policy: no such file or directory; mount the policy ConfigMaps"),
		))},
		{"warnings", Warnings("apps/payments-api/overlays/dev", evaluate.Result{
			Verdict: evaluate.Warned, Environment: "dev", PolicyRevision: revision,
			Findings: []evaluate.Finding{crd}, Notices: []string{"exemption for rule prod-immutable-images expired on 2020-01-31\nand was ignored"},
		})},
		{"failure", Failure("charts/payments-api", evaluate.Failure(policyClassification("dev", false), revision, errors.New("render charts/payments-api: template: deployment.yaml:3: bad")))},
		{"invalid", Invalid("charts/payments-api", errors.New(`unknown plugin parameter "disable-gate"`))},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			g := NewWithT(t)
			golden := filepath.Join("testdata", tt.name+".golden")
			if *update {
				g.Expect(os.WriteFile(golden, []byte(tt.got), 0o644)).To(Succeed())
			}
			want, err := os.ReadFile(golden)
			g.Expect(err).NotTo(HaveOccurred(), "run go test -update to create %s", golden)
			g.Expect(tt.got).To(Equal(string(want)))
		})
	}
}

func TestRefusalShape(t *testing.T) {
	g := NewWithT(t)
	many := make([]evaluate.Finding, MaxFindingLines+7)
	for i := range many {
		many[i] = finding(i)
	}
	msg := Refusal("apps/workers/overlays/prod", evaluate.Result{Verdict: evaluate.Denied, Environment: "prod", Protected: true, Findings: many})
	lines := strings.Split(strings.TrimSuffix(msg, "\n"), "\n")
	g.Expect(lines).To(HaveLen(1 + MaxFindingLines + 1))
	g.Expect(lines[0]).To(Equal(`promotion-gate refused to render apps/workers/overlays/prod for environment "prod" (protected): 27 findings`))
	g.Expect(lines[len(lines)-1]).To(Equal("... and 7 more"))
	for _, line := range lines[1 : 1+MaxFindingLines] {
		g.Expect(line).To(HavePrefix("- Deployment workers-prod/worker-"))
		g.Expect(line).To(ContainSubstring(", container main, image ghcr.io/example/worker-"))
		g.Expect(line).To(ContainSubstring(": rule prod-immutable-images: not pinned by digest"))
		g.Expect(line).To(ContainSubstring("; fix: pin the image by digest"))
	}
}

func TestOneLine(t *testing.T) {
	g := NewWithT(t)
	g.Expect(oneLine("a\n  b\tc ")).To(Equal("a b c"))
	long := oneLine(strings.Repeat("é", maxLineBytes))
	g.Expect(len(long)).To(BeNumerically("<=", maxLineBytes+4))
	g.Expect(long).To(HaveSuffix(" ..."))
}

func policyClassification(env string, protected bool) policy.Classification {
	return policy.Classification{Environment: env, Protected: protected}
}
