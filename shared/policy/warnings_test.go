package policy

import (
	"testing"
	"time"

	. "github.com/onsi/gomega"
)

func TestWarnings(t *testing.T) {
	now := time.Date(2027, 3, 1, 12, 0, 0, 0, time.UTC)
	prod := "    - {name: prod, protected: true, match: {paths: [\"apps/*/overlays/prod/**\"]}}\n"
	tests := []struct {
		name, spec string
		want       []Warning
	}{
		{"protected environment with a match and a reachable rule", "  environments:\n" + prod +
			"  rules:\n    - {name: digests, environments: [prod], requireDigest: true}\n", nil},
		{"a rule for every environment is reachable", "  environments:\n" + prod +
			"  rules:\n    - {name: digests, requireDigest: true}\n", nil},
		{"no environment at all", "  rules:\n    - {name: digests, requireDigest: true}\n",
			[]Warning{{Reason: NoProtectedEnvironment, Message: "no environment is protected, so every violation only warns and the gate denies nothing (environments: none); set protected: true on the environments that must never run an unchecked image, e.g. prod"}}},
		{"no protected environment", "  environments:\n    - {name: staging, match: {paths: [\"apps/*/overlays/staging/**\"]}}\n    - {name: dev, match: {branches: [dev]}}\n",
			[]Warning{{Reason: NoProtectedEnvironment, Message: "no environment is protected, so every violation only warns and the gate denies nothing (environments: dev, staging); set protected: true on the environments that must never run an unchecked image, e.g. prod"}}},
		{"protected environment matching nothing, and its rule", "  environments:\n    - {name: prod, protected: true}\n" +
			"  rules:\n    - {name: digests, environments: [prod], requireDigest: true}\n",
			[]Warning{
				{Reason: UnmatchedEnvironment, Subject: "prod", Message: `environment prod is protected but its match is empty, so no path, branch, application, namespace or project is classified into it; add match globs (e.g. paths: ["apps/*/overlays/prod/**"])`},
				{Reason: UnreachableRule, Subject: "digests", Message: "rule digests applies only to environment prod, which no match reaches, so it checks nothing unless a user requests one by name; add match globs to prod or list an environment that has them"},
			}},
		{"a rule reachable through one of its environments", "  environments:\n" + prod + "    - {name: strict}\n" +
			"  rules:\n    - {name: digests, environments: [prod, strict], requireDigest: true}\n", nil},
		{"a rule of unreachable environments only", "  environments:\n" + prod + "    - {name: strict}\n    - {name: audit}\n" +
			"  rules:\n    - {name: signed, environments: [strict, audit], requireDigest: true}\n",
			[]Warning{{Reason: UnreachableRule, Subject: "signed", Message: "rule signed applies only to environments audit, strict, which no match reaches, so it checks nothing unless a user requests one by name; add match globs to audit, strict or list an environment that has them"}}},
		{"expired exemption", "  environments:\n" + prod +
			"  rules:\n    - {name: digests, requireDigest: true}\n" +
			"  exemptions:\n    - {rule: digests, images: [\"x/**\"], reason: r, owner: team-a, expires: \"2027-02-28\"}\n" +
			"    - {rule: digests, images: [\"y/**\"], reason: r, owner: team-b, expires: \"2027-03-01\"}\n",
			[]Warning{{Reason: ExpiredExemption, Subject: "digests", Message: "exemption for rule digests (owner team-a) expired on 2027-02-28 and is ignored; remove it, or renew it with a new date"}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			g := NewWithT(t)
			set, err := Parse(src("p.yaml", header+"spec:\n"+tt.spec))
			g.Expect(err).NotTo(HaveOccurred())
			g.Expect(set.Warnings(now)).To(Equal(tt.want))
		})
	}
}

func TestWarningsNilSet(t *testing.T) {
	var s *Set
	NewWithT(t).Expect(s.Warnings(time.Now())).To(BeEmpty())
}
