package evaluate_test

import (
	"testing"

	. "github.com/onsi/gomega"

	"github.com/promotion-gate/promotion-gate/shared/evaluate"
	"github.com/promotion-gate/promotion-gate/shared/extract"
	"github.com/promotion-gate/promotion-gate/shared/policy"
)

func TestWorst(t *testing.T) {
	tests := []struct {
		a, b, want evaluate.Verdict
	}{
		{evaluate.Allowed, evaluate.Allowed, evaluate.Allowed},
		{evaluate.Allowed, evaluate.Warned, evaluate.Warned},
		{evaluate.Denied, evaluate.Warned, evaluate.Denied},
		{evaluate.Allowed, "Maybe", evaluate.Denied},
		{"", evaluate.Allowed, evaluate.Denied},
	}
	for _, tt := range tests {
		if got := evaluate.Worst(tt.a, tt.b); got != tt.want {
			t.Errorf("Worst(%q, %q) = %q, want %q", tt.a, tt.b, got, tt.want)
		}
	}
}

func TestCombineTakesTheStrictest(t *testing.T) {
	g := NewWithT(t)
	commit := evaluate.Finding{Rule: "signed", Check: evaluate.CheckCommitSignatures, Enforcement: policy.Deny, Message: "unsigned"}
	staging := evaluate.Result{Verdict: evaluate.Warned, Environment: "staging", PolicyRevision: "sha256:x",
		Findings: []evaluate.Finding{{Rule: "warn-rule", Source: extract.Source{File: "b.yaml"}}, commit}, Images: []extract.Image{{Raw: "a:1"}}}
	prod := evaluate.Result{Verdict: evaluate.Denied, Environment: "prod", Protected: true, PolicyRevision: "sha256:x",
		Findings: []evaluate.Finding{{Rule: "deny-rule", Source: extract.Source{File: "a.yaml"}}, commit},
		Images:   []extract.Image{{Raw: "b:1"}}, Error: "boom"}
	res := evaluate.Combine(staging, prod)
	g.Expect(res.Verdict).To(Equal(evaluate.Denied))
	g.Expect(res.Environment).To(Equal("prod"))
	g.Expect(res.Protected).To(BeTrue())
	g.Expect(res.Error).To(Equal("boom"))
	g.Expect(res.Images).To(HaveLen(2))
	var rules []string
	for _, f := range res.Findings {
		rules = append(rules, f.Rule)
	}
	g.Expect(rules).To(Equal([]string{"signed", "deny-rule", "warn-rule"}), "one commit finding, in the one order")
	g.Expect(evaluate.Combine(prod)).To(Equal(prod))
	g.Expect(evaluate.Combine(evaluate.Result{Verdict: "Unknown"}, staging).Verdict).To(Equal(evaluate.Denied))
}
