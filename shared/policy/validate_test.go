package policy

import (
	"testing"

	. "github.com/onsi/gomega"
)

func TestParseValidationErrors(t *testing.T) {
	env := "  environments:\n    - {name: prod, match: {paths: [\"apps/**\"]}}\n"
	tests := []struct {
		name, spec string
		want       string
	}{
		{"environment without name", "  environments:\n    - {protected: true}\n",
			`policy p.yaml: line 6: spec.environments[0].name: an environment needs a name`},
		{"environment name not a DNS label", "  environments:\n    - name: Prod_1\n",
			`line 6: spec.environments[0].name: "Prod_1" is not a valid environment name; use lower-case letters`},
		{"environment name too long", "  environments:\n    - name: a123456789012345678901234567890123456789012345678901234567890123\n",
			`is not a valid environment name`},
		{"invalid path glob", "  environments:\n    - name: prod\n      match:\n        paths:\n          - ok/**\n          - \"apps/[x\"\n",
			`line 10: spec.environments[0].match.paths[1]: invalid glob "apps/[x"; check the brackets`},
		{"path glob only ./", "  environments:\n    - {name: prod, match: {paths: [\"./\"]}}\n",
			`spec.environments[0].match.paths[0]: an empty glob matches nothing`},
		{"invalid branch glob", "  environments:\n    - {name: prod, match: {branches: [\"{a\"]}}\n",
			`spec.environments[0].match.branches[0]: invalid glob "{a"`},
		{"invalid application glob", "  environments:\n    - {name: prod, match: {applications: [\"[\"]}}\n",
			`spec.environments[0].match.applications[0]: invalid glob`},
		{"invalid namespace glob", "  environments:\n    - {name: prod, match: {namespaces: [\"a[\"]}}\n",
			`spec.environments[0].match.namespaces[0]: invalid glob`},
		{"rule without name", "  rules:\n    - {requireDigest: true}\n", `spec.rules[0].name: a rule needs a name`},
		{"rule name with spaces", "  rules:\n    - {name: no latest, denyTags: [latest]}\n",
			`line 6: spec.rules[0].name: "no latest" is not a valid rule name`},
		{"rule name with markup", "  rules:\n    - {name: \"a|b\", denyTags: [latest]}\n", `"a|b" is not a valid rule name`},
		{"bad enforcement", "  rules:\n    - {name: r, requireDigest: true, enforcement: block}\n",
			`line 6: spec.rules[0].enforcement: "block" is not an enforcement; use deny or warn`},
		{"invalid denyTags glob", "  rules:\n    - {name: r, denyTags: [latest, \"[\"]}\n", `spec.rules[0].denyTags[1]: invalid glob "["`},
		{"invalid allowedRegistries glob", "  rules:\n    - {name: r, allowedRegistries: [\"ghcr.io/{a\"]}\n",
			`spec.rules[0].allowedRegistries[0]: invalid glob "ghcr.io/{a"`},
		{"invalid tagPattern", "  rules:\n    - name: a\n      requireDigest: true\n    - name: b\n      tagPattern: \"(\"\n",
			"line 9: spec.rules[1].tagPattern: invalid regular expression \"(\": missing closing ): \"(\""},
		{"rule checks nothing", "  rules:\n    - name: r\n      enforcement: warn\n",
			`line 6: spec.rules[0]: rule "r" checks nothing; set requireDigest, denyTags, allowedRegistries, tagPattern, signatures`},
		{"rule names unknown environment", env + "  rules:\n    - {name: r, requireDigest: true, environments: [prod, prd]}\n",
			`line 8: spec.rules[0].environments[1]: rule "r" names environment "prd", which no policy document defines; known environments: prod`},
		{"imageField without kind", "  imageFields:\n    - {path: spec.image}\n", `spec.imageFields[0].kind: an image field needs the kind`},
		{"imageField bad path", "  imageFields:\n    - {kind: K, path: \"spec..image\"}\n", `spec.imageFields[0].path: "spec..image" is not a field path`},
		{"imageField empty path", "  imageFields:\n    - {kind: K}\n", `spec.imageFields[0].path: "" is not a field path`},
		{"exemption without rule", "  exemptions:\n    - {images: [x], reason: r, owner: o}\n", `spec.exemptions[0].rule: an exemption needs the name of the rule`},
		{"exemption of unknown rule", "  exemptions:\n    - {rule: nope, images: [x], reason: r, owner: o}\n",
			`line 6: spec.exemptions[0].rule: exemption names rule "nope", which no policy document defines; known rules: none`},
		{"exemption without images", "  exemptions:\n    - {rule: r, reason: r, owner: o}\n", `spec.exemptions[0].images: an exemption needs at least one image glob`},
		{"exemption invalid image glob", "  exemptions:\n    - {rule: r, images: [\"a[\"], reason: r, owner: o}\n", `spec.exemptions[0].images[0]: invalid glob "a["`},
		{"exemption empty image glob", "  exemptions:\n    - {rule: r, images: [\"\"], reason: r, owner: o}\n", `spec.exemptions[0].images[0]: an empty glob`},
		{"exemption without reason", "  exemptions:\n    - {rule: r, images: [x], reason: \" \", owner: o}\n", `spec.exemptions[0].reason: an exemption needs a reason`},
		{"exemption without owner", "  exemptions:\n    - {rule: r, images: [x], reason: r}\n", `spec.exemptions[0].owner: an exemption needs an owner`},
		{"exemption bad date", "  exemptions:\n    - {rule: r, images: [x], reason: r, owner: o, expires: 31.01.2027}\n",
			`spec.exemptions[0].expires: "31.01.2027" is not a date; write YYYY-MM-DD`},
		{"exemption impossible date", "  exemptions:\n    - {rule: r, images: [x], reason: r, owner: o, expires: \"2027-02-30\"}\n",
			`spec.exemptions[0].expires: "2027-02-30" is not a date`},
		{"rule named like the rolled-back release", "  rules:\n    - {name: rolled-back, requireDigest: true}\n",
			`spec.rules[0].name: rule name "rolled-back" is reserved`},
		{"rolled-back exemption without a digest", "  exemptions:\n    - {rule: rolled-back, images: [\"ghcr.io/example/**\"], reason: r, owner: o}\n",
			`spec.exemptions[0].images[0]: "ghcr.io/example/**" names no digest; an exemption from rolled-back releases rolled-back digests`},
		{"rolled-back exemption with a short digest", "  exemptions:\n    - {rule: rolled-back, images: [\"x@sha256:1111\"], reason: r, owner: o}\n",
			`spec.exemptions[0].images[0]: "x@sha256:1111" names no digest`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			g := NewWithT(t)
			_, err := Parse(src("p.yaml", header+"spec:\n"+tt.spec))
			g.Expect(err).To(HaveOccurred())
			g.Expect(err.Error()).To(ContainSubstring(tt.want))
			g.Expect(err.Error()).To(HavePrefix("policy p.yaml: line "))
		})
	}
}

func TestParseValidInputs(t *testing.T) {
	tests := []struct{ name, spec string }{
		{"warn rule for every environment", "  rules:\n    - {name: r, enforcement: warn, denyTags: [latest]}\n"},
		{"rule name with dots, slashes and capitals", "  rules:\n    - {name: Team.A/no_latest-2, denyTags: [latest]}\n"},
		{"exemption without expiry", "  rules:\n    - {name: r, requireDigest: true}\n  exemptions:\n    - {rule: r, images: [\"x/**\"], reason: r, owner: o}\n"},
		{"unquoted expiry date", "  rules:\n    - {name: r, requireDigest: true}\n  exemptions:\n    - {rule: r, images: [x], reason: r, owner: o, expires: 2027-01-31}\n"},
		{"numbers where strings go", "  environments:\n    - {name: 2027}\n  rules:\n    - {name: 42, denyTags: [1.0]}\n"},
		{"environment without globs", "  environments:\n    - {name: prod, protected: true}\n"},
		{"escaped glob", "  rules:\n    - {name: r, denyTags: [\"\\\\[x\"]}\n"},
		{"imageField list path", "  imageFields:\n    - {kind: Service, apiVersion: serving.knative.dev/v1, path: \"spec.template.spec.containers[].image\"}\n"},
		{"empty spec", "  {}\n"},
		{"rolled-back exemption needs no rule", "  exemptions:\n    - {rule: rolled-back, images: [\"ghcr.io/example/payments-api@sha256:1111111111111111111111111111111111111111111111111111111111111111\", \"**@sha256:1111111111111111111111111111111111111111111111111111111111111111\"], reason: fixed in place, owner: team-payments}\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Parse(src("p.yaml", header+"spec:\n"+tt.spec))
			NewWithT(t).Expect(err).NotTo(HaveOccurred())
		})
	}
}
