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

// TestCombineReportsOnePlaceToEditOnce: the setter-marked images: entry of a changed
// kustomization and the rendered workloads it sets are one finding (one place to edit);
// without the entry, two workloads that run the same image are two.
func TestCombineReportsOnePlaceToEditOnce(t *testing.T) {
	g := NewWithT(t)
	f := func(src extract.Source) evaluate.Finding {
		return evaluate.Finding{Rule: "r", Check: "signatures", Enforcement: policy.Deny, Image: "ghcr.io/x/a@sha256:1", Message: "unsigned", Source: src}
	}
	setter := f(extract.Source{File: "apps/a/overlays/prod/kustomization.yaml", Line: 9, FieldPath: "images[0].{newName,newTag,digest}"})
	workload := f(extract.Source{File: "apps/a/overlays/prod/kustomization.yaml", Line: 7, Kind: "Deployment", Name: "a", FieldPath: "spec.template.spec.containers[0].image"})
	other := f(extract.Source{File: "apps/a/overlays/prod/kustomization.yaml", Line: 7, Kind: "Deployment", Name: "b", FieldPath: "spec.template.spec.containers[0].image"})
	res := evaluate.Combine(
		evaluate.Result{Verdict: evaluate.Denied, Findings: []evaluate.Finding{setter}},
		evaluate.Result{Verdict: evaluate.Denied, Findings: []evaluate.Finding{workload, other}},
	)
	g.Expect(res.Findings).To(Equal([]evaluate.Finding{setter}))
	res = evaluate.Combine(
		evaluate.Result{Verdict: evaluate.Denied, Findings: []evaluate.Finding{workload}},
		evaluate.Result{Verdict: evaluate.Denied, Findings: []evaluate.Finding{other}},
	)
	g.Expect(res.Findings).To(HaveLen(2))
}
