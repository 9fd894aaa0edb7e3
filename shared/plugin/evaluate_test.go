package plugin_test

import (
	"context"
	"fmt"
	"testing"

	. "github.com/onsi/gomega"

	"github.com/promotion-gate/promotion-gate/shared/evaluate"
	"github.com/promotion-gate/promotion-gate/shared/extract"
	"github.com/promotion-gate/promotion-gate/shared/imageref"
	"github.com/promotion-gate/promotion-gate/shared/policy"
)

// TestEvaluateFailingPlugin goes through the evaluator with a parsed policy: a plugin
// that crashes denies in the protected environment and only warns in the other.
func TestEvaluateFailingPlugin(t *testing.T) {
	doc := fmt.Sprintf(`apiVersion: promotion-gate.io/v1alpha1
kind: PromotionPolicy
metadata:
  name: plugins
spec:
  environments:
    - name: prod
      protected: true
      match: {paths: ["prod/**"]}
    - name: dev
      match: {paths: ["dev/**"]}
  rules:
    - name: external-checks
      environments: [prod, dev]
      enforcement: deny
      plugins:
        - name: scanner
          path: %s
          sha256: %s
          args: [crash]
          timeout: 20s
`, testPlugin.path, testPlugin.sha256)
	set, err := policy.Parse(policy.Source{Name: "plugins.yaml", Data: []byte(doc)})
	if err != nil {
		t.Fatalf("parse policy: %v", err)
	}
	ref, err := imageref.Parse("ghcr.io/example/app@" + testDigest)
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		path        string
		verdict     evaluate.Verdict
		enforcement policy.Enforcement
	}{
		{path: "prod/app.yaml", verdict: evaluate.Denied, enforcement: policy.Deny},
		{path: "dev/app.yaml", verdict: evaluate.Warned, enforcement: policy.Warn},
	}
	for _, tt := range tests {
		t.Run(tt.path, func(t *testing.T) {
			g := NewWithT(t)
			r, started := newRunner(t)
			cls, err := set.Classify(policy.Query{Path: tt.path})
			g.Expect(err).NotTo(HaveOccurred())
			res := evaluate.Evaluate(context.Background(), evaluate.Request{
				Policy:      set,
				Environment: cls,
				Images:      []extract.Image{{Raw: ref.Original, Ref: &ref, Source: extract.Source{File: tt.path}}},
				Plugins:     r,
			})
			g.Expect(res.Verdict).To(Equal(tt.verdict))
			g.Expect(res.Findings).To(HaveLen(1))
			f := res.Findings[0]
			g.Expect(f.Rule).To(Equal("external-checks"))
			g.Expect(f.Check).To(Equal("plugins"))
			g.Expect(f.Enforcement).To(Equal(tt.enforcement))
			g.Expect(f.Message).To(HavePrefix(`plugin "scanner" crashed while checking the image:`))
			g.Expect(f.Message).To(ContainSubstring(`panic: boom: nil report`))
			g.Expect(f.Fix).To(Equal("fix the plugin (its last stderr line is quoted), then run the check again"))
			for _, pid := range started.get() {
				g.Expect(alive(pid)).To(BeFalse(), "plugin process %d left running", pid)
			}
		})
	}
}
