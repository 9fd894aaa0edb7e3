package policy

import (
	"testing"
	"time"

	. "github.com/onsi/gomega"
)

// classifyPolicy has environments that overlap on purpose: "legacy", "edge" and "prod"
// match clusters/prod, "legacy" and "edge" are equally strict, "staging" has more deny
// rules than "qa", "dev" has none.
const classifyPolicy = header + `spec:
  environments:
    - name: prod
      protected: true
      match:
        paths: ["apps/*/overlays/prod/**", "clusters/prod/**"]
        branches: ["production", "release/**"]
        applications: ["*-prod"]
        namespaces: ["*-prod"]
    - name: legacy
      match: {paths: ["clusters/**"]}
    - name: edge
      match: {paths: ["clusters/**"]}
    - name: staging
      match: {paths: ["apps/*/overlays/staging/**"], branches: [staging]}
    - name: qa
      match: {paths: ["apps/*/overlays/staging/**"]}
    - name: dev
      match: {paths: ["apps/*/overlays/dev/**"], namespaces: ["*-dev"]}
    - name: audit
      protected: true
  rules:
    - {name: digests, environments: [prod, audit], requireDigest: true}
    - {name: registries, environments: [prod, staging, qa], allowedRegistries: ["ghcr.io/**"]}
    - {name: no-latest, environments: [staging, prod, legacy, edge], denyTags: [latest]}
    - {name: staging-snapshots, environments: [staging], denyTags: ["*-SNAPSHOT"], enforcement: warn}
`

func TestClassify(t *testing.T) {
	s, err := Parse(src("p.yaml", classifyPolicy))
	NewWithT(t).Expect(err).NotTo(HaveOccurred())
	tests := []struct {
		name      string
		q         Query
		env       string
		protected bool
		matchedBy []string // each must appear in MatchedBy
	}{
		{"overlay directory itself matches /**", Query{Path: "apps/x/overlays/prod"}, "prod", true,
			[]string{`path "apps/x/overlays/prod" matches "apps/*/overlays/prod/**" (environment prod)`}},
		{"file below the overlay", Query{Path: "apps/x/overlays/prod/kustomization.yaml"}, "prod", true, nil},
		{"leading ./ and / and trailing slash tolerated", Query{Path: "./apps/x/overlays/prod/"}, "prod", true, nil},
		{"leading /", Query{Path: "/apps/x/overlays/prod"}, "prod", true, nil},
		{"path cleaned", Query{Path: "apps/x/overlays/dev/../prod"}, "prod", true, nil},
		{"protected beats unprotected", Query{Path: "clusters/prod/infra"}, "prod", true,
			[]string{`path "clusters/prod/infra" matches "clusters/**" (environment legacy)`, "strictest of edge, legacy, prod: prod (protected, 3 deny rules)"}},
		{"more deny rules wins among unprotected; warn rules do not count", Query{Path: "apps/x/overlays/staging"}, "staging", false,
			[]string{"strictest of qa, staging: staging (unprotected, 2 deny rules)"}},
		{"name order breaks a tie", Query{Path: "clusters/dev"}, "edge", false,
			[]string{"strictest of edge, legacy: edge (unprotected, 1 deny rule)"}},
		{"branch", Query{Branch: "production"}, "prod", true, []string{`branch "production" matches "production" (environment prod)`}},
		{"branch with refs/heads/", Query{Branch: "refs/heads/release/1.2/hotfix"}, "prod", true, nil},
		{"application", Query{Application: "payments-prod"}, "prod", true, []string{`application "payments-prod" matches "*-prod" (environment prod)`}},
		{"namespace", Query{Namespace: "payments-dev"}, "dev", false, []string{`namespace "payments-dev" matches "*-dev" (environment dev)`}},
		{"namespace beats path when stricter", Query{Path: "apps/x/overlays/dev", Namespace: "payments-prod"}, "prod", true, nil},
		{"nothing matches", Query{Path: "README.md", Branch: "feature/x"}, "", false, []string{"no environment matched: unclassified, unprotected"}},
		{"repository root matches no path glob", Query{Path: "/"}, "", false, nil},
		{"empty query", Query{}, "", false, nil},

		{"requested stricter is used", Query{Path: "apps/x/overlays/dev", Requested: "prod"}, "prod", true,
			[]string{"requested environment prod used: it is stricter than dev (protected, 3 deny rules, against unprotected, 0 deny rules)"}},
		{"requested weaker is ignored", Query{Path: "apps/x/overlays/prod", Requested: "dev"}, "prod", true,
			[]string{"requested environment dev ignored: it is not stricter than prod (unprotected, 0 deny rules, against protected, 3 deny rules)"}},
		{"requested equally strict is ignored", Query{Path: "clusters/dev", Requested: "legacy"}, "edge", false,
			[]string{"requested environment legacy ignored: it is not stricter than edge (unprotected, 1 deny rule, against unprotected, 1 deny rule)"}},
		{"requested weaker by rule count is ignored", Query{Path: "apps/x/overlays/staging", Requested: "qa"}, "staging", false, nil},
		{"requested stronger by rule count is used", Query{Path: "apps/x/overlays/dev", Requested: "qa"}, "qa", false, nil},
		{"requested protected with fewer rules beats unprotected", Query{Path: "apps/x/overlays/staging", Requested: "audit"}, "audit", true, nil},
		{"requested protected with fewer rules loses to protected", Query{Path: "clusters/prod", Requested: "audit"}, "prod", true, nil},
		{"requested same as classified", Query{Path: "apps/x/overlays/prod", Requested: "prod"}, "prod", true,
			[]string{"requested environment prod is the classified one"}},
		{"requested for unclassified input is used", Query{Path: "README.md", Requested: "dev"}, "dev", false,
			[]string{"requested environment dev used (unprotected, 0 deny rules)"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			g := NewWithT(t)
			c, err := s.Classify(tt.q)
			g.Expect(err).NotTo(HaveOccurred())
			g.Expect(c.Environment).To(Equal(tt.env), "MatchedBy: %q", c.MatchedBy)
			g.Expect(c.Protected).To(Equal(tt.protected))
			for _, m := range tt.matchedBy {
				g.Expect(c.MatchedBy).To(ContainElement(m))
			}
		})
	}
}

func TestClassifyErrors(t *testing.T) {
	g := NewWithT(t)
	s, err := Parse(src("p.yaml", classifyPolicy))
	g.Expect(err).NotTo(HaveOccurred())
	_, err = s.Classify(Query{Path: "apps/x/overlays/prod", Requested: "production"})
	g.Expect(err).To(MatchError(`classify: environment "production" is not defined by the policy; known environments: audit, dev, edge, legacy, prod, qa, staging`))

	var none *Set
	_, err = none.Classify(Query{Path: "x"})
	g.Expect(err).To(HaveOccurred(), "no policy must not classify as unprotected")

	c, err := (&Set{}).Classify(Query{Path: "x"})
	g.Expect(err).NotTo(HaveOccurred())
	g.Expect(c.Environment).To(BeEmpty())
}

func TestExemptionExpired(t *testing.T) {
	day := func(s string) time.Time {
		tm, err := time.Parse(time.RFC3339Nano, s)
		if err != nil {
			t.Fatal(err)
		}
		return tm
	}
	tests := []struct {
		expires string
		now     time.Time
		want    bool
	}{
		{"", day("2999-01-01T00:00:00Z"), false},
		{"2027-01-31", day("2027-01-31T00:00:00Z"), false},
		{"2027-01-31", day("2027-01-31T23:59:59.999999999Z"), false},
		{"2027-01-31", day("2027-02-01T00:00:00Z"), true},
		{"2027-01-31", day("2027-01-31T20:00:00-05:00"), true}, // 01:00 UTC on Feb 1
		{"2027-01-31", day("2027-02-01T00:30:00+01:00"), false},
		{"not-a-date", day("2000-01-01T00:00:00Z"), true},
	}
	for _, tt := range tests {
		t.Run(tt.expires+" at "+tt.now.String(), func(t *testing.T) {
			NewWithT(t).Expect(Exemption{Expires: tt.expires}.Expired(tt.now)).To(Equal(tt.want))
		})
	}
}

func TestMatchImage(t *testing.T) {
	tests := []struct {
		glob, name string
		want       bool
	}{
		{"ghcr.io/example/**", "ghcr.io/example/app", true},
		{"ghcr.io/example/**", "ghcr.io/example/team/app:1.0", true},
		{"ghcr.io/example/*", "ghcr.io/example/team/app", false},
		{"ghcr.io/example/legacy-batch:*", "ghcr.io/example/legacy-batch:1.2", true},
		{"ghcr.io/example/legacy-batch:*", "ghcr.io/example/legacy-batch-2:1.2", false},
		{"registry.example.com/**", "registry.example.com:5000/app", false},
		{"*-SNAPSHOT", "1.0-SNAPSHOT", true},
		{"[", "[", false}, // invalid glob matches nothing
	}
	for _, tt := range tests {
		t.Run(tt.glob+" "+tt.name, func(t *testing.T) {
			NewWithT(t).Expect(MatchImage(tt.glob, tt.name)).To(Equal(tt.want))
		})
	}
}

func TestHandBuiltSet(t *testing.T) {
	g := NewWithT(t)
	s := &Set{Rules: []Rule{{Name: "r", TagPattern: `^v\d+$`}, {Name: "bad", TagPattern: "("}}}
	g.Expect(s.TagPattern("r").MatchString("v1")).To(BeTrue())
	g.Expect(s.TagPattern("bad")).To(BeNil())
	var none *Set
	g.Expect(none.RulesFor("prod")).To(BeNil())
	g.Expect(none.TagPattern("r")).To(BeNil())
	g.Expect(none.ExemptionsFor("r")).To(BeNil())
	_, ok := none.Environment("prod")
	g.Expect(ok).To(BeFalse())
}
