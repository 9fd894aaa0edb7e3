package evaluate

import (
	"context"
	"errors"
	"testing"

	. "github.com/onsi/gomega"

	"github.com/promotion-gate/promotion-gate/shared/extract"
	"github.com/promotion-gate/promotion-gate/shared/policy"
)

// failing is a clause whose check cannot decide, like a signature check whose registry
// is unreachable.
type failing struct{}

func (failing) name() string        { return "signature" }
func (failing) description() string { return "test clause" }
func (failing) check(context.Context, *rule, subject) ([]violation, error) {
	return nil, errors.New("registry unreachable")
}

// TestCheckErrorFailsClosed shows that a clause plugged into checkers takes part like the
// built-in ones, and that its error becomes a finding rather than a silent pass.
func TestCheckErrorFailsClosed(t *testing.T) {
	g := NewWithT(t)
	saved := checkers
	checkers = append([]checker{failing{}}, saved...)
	t.Cleanup(func() { checkers = saved })

	set, err := policy.Parse(policy.Source{Name: "p.yaml", Data: []byte(`apiVersion: promotion-gate.io/v1alpha1
kind: PromotionPolicy
metadata: {name: p}
spec:
  environments: [{name: prod, protected: true, match: {paths: ["**"]}}]
  rules: [{name: signed, allowedRegistries: ["**"]}]
`)})
	g.Expect(err).NotTo(HaveOccurred())
	for _, tc := range []struct {
		protected bool
		want      Verdict
	}{{true, Denied}, {false, Warned}} {
		res := Evaluate(context.Background(), Request{
			Policy:      set,
			Environment: policy.Classification{Environment: "prod", Protected: tc.protected},
			Images:      []extract.Image{{Raw: "ghcr.io/example/app:1"}},
		})
		g.Expect(res.Verdict).To(Equal(tc.want))
		g.Expect(res.Findings).To(HaveLen(1))
		g.Expect(res.Findings[0].Rule).To(Equal("signed"))
		g.Expect(res.Findings[0].Check).To(Equal("signature"))
		g.Expect(res.Findings[0].Message).To(Equal("signature check failed: registry unreachable"))
	}
}

func TestCompareNatural(t *testing.T) {
	tests := []struct {
		a, b string
		want int
	}{
		{"c[2]", "c[10]", -1},
		{"c[10]", "c[2]", 1},
		{"c[02]", "c[2]", 0},
		{"a", "b", -1},
		{"a", "a.b", -1},
		{"x9", "x", 1},
		{"", "", 0},
	}
	for _, tt := range tests {
		if got := compareNatural(tt.a, tt.b); got != tt.want {
			t.Errorf("compareNatural(%q, %q) = %d, want %d", tt.a, tt.b, got, tt.want)
		}
	}
}
