package policy

import (
	"testing"
	"time"

	. "github.com/onsi/gomega"
)

// projectPolicy classifies Argo CD applications by their AppProject as well.
const projectPolicy = header + `spec:
  environments:
    - name: prod
      protected: true
      match:
        paths: ["apps/*/overlays/prod/**"]
        projects: ["*-prod", "payments-prod"]
    - name: staging
      match: {projects: ["*-staging"]}
    - name: dev
      match: {paths: ["apps/*/overlays/dev/**"], projects: [dev]}
  rules:
    - {name: digests, environments: [prod], requireDigest: true}
    - {name: no-latest, environments: [staging], denyTags: [latest]}
`

func TestClassifyProjects(t *testing.T) {
	s, err := Parse(src("p.yaml", projectPolicy))
	NewWithT(t).Expect(err).NotTo(HaveOccurred())
	tests := []struct {
		name      string
		q         Query
		env       string
		protected bool
		matchedBy []string
	}{
		{"the AppProject alone classifies", Query{Project: "payments-prod"}, "prod", true,
			[]string{`project "payments-prod" matches "*-prod" (environment prod)`}},
		{"a project glob", Query{Project: "web-staging"}, "staging", false,
			[]string{`project "web-staging" matches "*-staging" (environment staging)`}},
		{"a dev path in a prod project is prod: the strictest match wins", Query{Path: "apps/x/overlays/dev", Project: "payments-prod"}, "prod", true,
			[]string{"strictest of dev, prod: prod (protected, 1 deny rule)"}},
		{"a prod path in a dev project stays prod", Query{Path: "apps/x/overlays/prod", Project: "dev"}, "prod", true, nil},
		{"a prod project cannot be requested down to dev", Query{Project: "payments-prod", Requested: "dev"}, "prod", true,
			[]string{"requested environment dev ignored: it is not stricter than prod"}},
		{"no project (Argo CD 2.14, flux-gate) matches no project glob", Query{Path: "apps/x/overlays/dev"}, "dev", false, nil},
		{"an unknown project is unclassified", Query{Project: "default"}, "", false,
			[]string{"no environment matched: unclassified, unprotected"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			g := NewWithT(t)
			c, err := s.Classify(tt.q)
			g.Expect(err).NotTo(HaveOccurred())
			g.Expect(c.Environment).To(Equal(tt.env))
			g.Expect(c.Protected).To(Equal(tt.protected))
			for _, m := range tt.matchedBy {
				g.Expect(c.MatchedBy).To(ContainElement(ContainSubstring(m)))
			}
		})
	}
}

func TestProjectGlobsValidated(t *testing.T) {
	g := NewWithT(t)
	_, err := Parse(src("p.yaml", header+"spec:\n  environments:\n    - {name: prod, match: {projects: [\"a[\"]}}\n"))
	g.Expect(err).To(MatchError(ContainSubstring(`spec.environments[0].match.projects[0]: invalid glob "a["`)))

	// A protected environment matched only by projects is reachable: no warning.
	s, err := Parse(src("p.yaml", header+"spec:\n  environments:\n    - {name: prod, protected: true, match: {projects: [payments-prod]}}\n"))
	g.Expect(err).NotTo(HaveOccurred())
	g.Expect(s.Warnings(time.Now())).To(BeEmpty())
}
