package policy

import (
	"testing"

	. "github.com/onsi/gomega"
)

const (
	prodEnv    = "  environments:\n    - {name: prod, protected: true, match: {paths: [\"apps/*/overlays/prod/**\", \"clusters/prod/**\"]}}\n"
	digestRule = "  rules:\n    - {name: digests, environments: [prod], requireDigest: true}\n"
)

func TestParseMerge(t *testing.T) {
	tests := []struct {
		name    string
		sources []Source
		want    string // error substring; "" = no error
		check   func(g Gomega, s *Set)
	}{
		{
			name: "same environment with an identical definition in two sources",
			sources: []Source{
				src("b.yaml", header+"spec:\n"+prodEnv),
				// same globs in another order, and a "./" prefix: the same definition
				src("a.yaml", header+"spec:\n  environments:\n    - {name: prod, protected: true, match: {paths: [\"./clusters/prod/**\", \"apps/*/overlays/prod/**\"]}}\n"),
			},
			check: func(g Gomega, s *Set) {
				g.Expect(s.Environments).To(HaveLen(1))
				g.Expect(s.Sources).To(Equal([]string{"a.yaml", "b.yaml"}))
			},
		},
		{
			name: "same environment with a different definition names both sources",
			sources: []Source{
				src("policy/prod.yaml", header+"spec:\n"+prodEnv),
				src("configmap apps/team key env.yaml", "\n\n"+header+"spec:\n  environments:\n    - {name: prod, match: {paths: [\"apps/*/overlays/prod/**\"]}}\n"),
			},
			want: `policy: environment "prod" is defined differently in configmap apps/team key env.yaml (line 8) and policy/prod.yaml (line 6); define it once, or make both definitions identical`,
		},
		{
			name: "environment twice in one document",
			sources: []Source{
				src("p.yaml", header+"spec:\n  environments:\n    - {name: prod}\n    - {name: prod, protected: true}\n"),
			},
			want: `environment "prod" is defined differently in p.yaml (line 6) and p.yaml (line 7)`,
		},
		{
			name: "rules, image fields and exemptions add up across sources",
			sources: []Source{
				src("a.yaml", header+"spec:\n"+prodEnv+digestRule+"  imageFields:\n    - {kind: HelmRelease, path: spec.values.image}\n"),
				src("b.yaml", header+"spec:\n  rules:\n    - {name: no-latest, denyTags: [latest], enforcement: warn}\n"+
					"  imageFields:\n    - {kind: HelmRelease, path: spec.values.image}\n    - {kind: Service, path: spec.image}\n"+
					"  exemptions:\n    - {rule: digests, images: [\"x/**\"], reason: legacy, owner: team}\n"),
			},
			check: func(g Gomega, s *Set) {
				g.Expect(s.Rules).To(HaveLen(2))
				g.Expect(s.Rules[0].Name).To(Equal("digests"))
				g.Expect(s.ImageFields).To(HaveLen(2), "identical image fields collapse")
				g.Expect(s.Exemptions).To(HaveLen(1))
				g.Expect(s.RulesFor("prod")).To(HaveLen(2))
				g.Expect(s.RulesFor("")).To(HaveLen(1), "a rule without environments applies to unclassified inputs")
			},
		},
		{
			name: "rule and exemption may refer to names from another source",
			sources: []Source{
				src("a.yaml", header+"spec:\n"+digestRule+"  exemptions:\n    - {rule: digests, images: [x], reason: r, owner: o}\n"),
				src("b.yaml", header+"spec:\n"+prodEnv),
			},
		},
		{
			name: "duplicate rule names name both sources",
			sources: []Source{
				src("a.yaml", header+"spec:\n"+prodEnv+digestRule),
				src("b.yaml", header+"spec:\n"+digestRule),
			},
			want: `policy: rule "digests" is defined in a.yaml (line 8) and again in b.yaml (line 6); rule names must be unique, rename or remove one`,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			g := NewWithT(t)
			s, err := Parse(tt.sources...)
			if tt.want != "" {
				g.Expect(err).To(MatchError(ContainSubstring(tt.want)))
				return
			}
			g.Expect(err).NotTo(HaveOccurred())
			if tt.check != nil {
				tt.check(g, s)
			}
		})
	}
}

func TestRevisionStable(t *testing.T) {
	g := NewWithT(t)
	a := src("a.yaml", header+"spec:\n"+prodEnv+"  rules:\n    - {name: digests, environments: [prod], requireDigest: true, denyTags: [latest, main]}\n")
	b := src("b.yaml", header+"spec:\n  rules:\n    - {name: tags, denyTags: [latest]}\n")
	base, err := Parse(a, b)
	g.Expect(err).NotTo(HaveOccurred())

	reordered := src("a.yaml", "kind: PromotionPolicy\napiVersion: promotion-gate.io/v1alpha1\nspec:\n"+
		"  rules:\n    - {denyTags: [main, latest, main], requireDigest: true, enforcement: deny, environments: [prod], name: digests}\n"+
		"  environments:\n    - {match: {paths: [\"/clusters/prod/**\", \"apps/*/overlays/prod/**\"]}, protected: true, name: prod}\n")
	renamed := Source{Name: "z.yaml", Data: b.Data} // the source name is not part of the policy
	oneStream := src("all.yaml", string(b.Data)+"---\n"+string(a.Data))

	for _, srcs := range [][]Source{{b, a}, {reordered, b}, {a, renamed}, {oneStream}} {
		s, err := Parse(srcs...)
		g.Expect(err).NotTo(HaveOccurred())
		g.Expect(s.Revision).To(Equal(base.Revision))
	}

	changed := src("b.yaml", header+"spec:\n  rules:\n    - {name: tags, denyTags: [latest], enforcement: warn}\n")
	s, err := Parse(a, changed)
	g.Expect(err).NotTo(HaveOccurred())
	g.Expect(s.Revision).NotTo(Equal(base.Revision))
}
