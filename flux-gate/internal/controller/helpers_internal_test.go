package controller

import (
	"testing"

	. "github.com/onsi/gomega"

	"github.com/promotion-gate/promotion-gate/shared/evaluate"
	"github.com/promotion-gate/promotion-gate/shared/extract"
)

func TestCleanUpdatePath(t *testing.T) {
	for in, want := range map[string]string{
		"":                       "",
		"/":                      "",
		".":                      "",
		"./":                     "",
		"./apps/payments/prod":   "apps/payments/prod",
		"apps/payments/prod/":    "apps/payments/prod",
		"/apps/../clusters/prod": "clusters/prod",
		"../../etc":              "etc",
	} {
		if got := cleanUpdatePath(in); got != want {
			t.Errorf("cleanUpdatePath(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestUnderPath(t *testing.T) {
	g := NewWithT(t)
	g.Expect(underPath("apps/a/prod/k.yaml", "")).To(BeTrue())
	g.Expect(underPath("apps/a/prod/k.yaml", "apps/a/prod")).To(BeTrue())
	g.Expect(underPath("apps/a/production/k.yaml", "apps/a/prod")).To(BeFalse())
	g.Expect(underPath("apps/a/prod", "apps/a/prod")).To(BeTrue())
}

func TestCombineTakesTheStrictest(t *testing.T) {
	g := NewWithT(t)
	staging := evaluate.Result{Verdict: evaluate.Warned, Environment: "staging", PolicyRevision: "sha256:x",
		Findings: []evaluate.Finding{{Rule: "warn-rule"}}, Images: []extract.Image{{Raw: "a:1"}}}
	prod := evaluate.Result{Verdict: evaluate.Denied, Environment: "prod", Protected: true, PolicyRevision: "sha256:x",
		Findings: []evaluate.Finding{{Rule: "deny-rule"}}, Images: []extract.Image{{Raw: "b:1"}, {Raw: "a:1"}}, Error: "boom"}
	res := combine([]evaluate.Result{staging, prod})
	g.Expect(res.Verdict).To(Equal(evaluate.Denied))
	g.Expect(res.Environment).To(Equal("prod"))
	g.Expect(res.Protected).To(BeTrue())
	g.Expect(res.Findings).To(HaveLen(2))
	g.Expect(res.Error).To(Equal("boom"))
	g.Expect(imageList(res)).To(Equal([]string{"a:1", "b:1"}))
	g.Expect(combine([]evaluate.Result{prod})).To(Equal(prod))
}

func TestTruncateKeepsUTF8(t *testing.T) {
	g := NewWithT(t)
	s := truncate("ab—cdefghijklmnopqrstuvwxyz", 17)
	g.Expect(len(s)).To(BeNumerically("<=", 17))
	g.Expect(s).To(HaveSuffix("(truncated)"))
}
