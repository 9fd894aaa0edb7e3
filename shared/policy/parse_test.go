package policy

import (
	"fmt"
	"strings"
	"testing"

	. "github.com/onsi/gomega"
)

// basePolicy is the policy of docs/policy.md, used by several tests.
const basePolicy = `apiVersion: promotion-gate.io/v1alpha1
kind: PromotionPolicy
metadata:
  name: platform-baseline
spec:
  environments:
    - name: prod
      protected: true
      match:
        paths: ["apps/*/overlays/prod/**", "clusters/prod/**"]
        branches: ["production"]
        applications: ["*-prod"]
        namespaces: ["*-prod"]
    - name: staging
      match: {paths: ["apps/*/overlays/staging/**"]}
  rules:
    - name: prod-immutable-images
      environments: [prod]
      enforcement: deny
      requireDigest: true
      denyTags: ["latest", "main", "master", "*-SNAPSHOT"]
      allowedRegistries: ["ghcr.io/example/**", "registry.example.com/**"]
      tagPattern: '^v?\d+\.\d+\.\d+$'
  imageFields:
    - kind: HelmRelease
      path: spec.values.image
  exemptions:
    - rule: prod-immutable-images
      images: ["ghcr.io/example/legacy-batch:*"]
      reason: "vendor image, digest pinning tracked in PLAT-123"
      owner: team-batch
      expires: "2027-01-31"
`

// header starts a policy document; tests append a spec to it.
const header = "apiVersion: promotion-gate.io/v1alpha1\nkind: PromotionPolicy\nmetadata: {name: t}\n"

func src(name, data string) Source { return Source{Name: name, Data: []byte(data)} }

func TestParseBasePolicy(t *testing.T) {
	g := NewWithT(t)
	s, err := Parse(src("policy/base.yaml", basePolicy))
	g.Expect(err).NotTo(HaveOccurred())
	g.Expect(s.Sources).To(Equal([]string{"policy/base.yaml"}))
	g.Expect(s.Revision).To(MatchRegexp(`^sha256:[0-9a-f]{64}$`))
	g.Expect(s.Environments).To(HaveLen(2))
	g.Expect(s.Environments[0].Name).To(Equal("prod"))
	g.Expect(s.Environments[0].Protected).To(BeTrue())
	g.Expect(s.Rules).To(HaveLen(1))
	r := s.Rules[0]
	g.Expect(r.Enforcement).To(Equal(Deny))
	g.Expect(r.DenyTags).To(Equal([]string{"*-SNAPSHOT", "latest", "main", "master"}))
	g.Expect(s.TagPattern(r.Name).MatchString("v1.2.3")).To(BeTrue())
	g.Expect(s.TagPattern("nope")).To(BeNil())
	g.Expect(s.ImageFields).To(Equal([]ImageField{{Kind: "HelmRelease", Path: "spec.values.image"}}))
	g.Expect(s.ExemptionsFor(r.Name)).To(HaveLen(1))
	g.Expect(s.ExemptionsFor("other")).To(BeEmpty())
	g.Expect(s.RulesFor("prod")).To(HaveLen(1))
	g.Expect(s.RulesFor("staging")).To(BeEmpty())
	env, ok := s.Environment("staging")
	g.Expect(ok).To(BeTrue())
	g.Expect(env.Match.Paths).To(Equal([]string{"apps/*/overlays/staging/**"}))
	_, ok = s.Environment("dev")
	g.Expect(ok).To(BeFalse())
}

func TestParseDecodeErrors(t *testing.T) {
	rule := "spec:\n  rules:\n    - name: r\n"
	tests := []struct {
		name, data string
		want       string // the whole message, or a part of it
	}{
		{"unknown field names source, key and line", header + rule + "      requireDigests: true\n",
			`policy configmap flux-system/platform key prod.yaml: line 7: unknown field "requireDigests" in rule; check the spelling against docs/policy.md`},
		{"unknown top-level field", header + "status: {}\n", `line 4: unknown field "status" in document`},
		{"unknown metadata field", "apiVersion: promotion-gate.io/v1alpha1\nkind: PromotionPolicy\nmetadata: {name: a, namespace: b}\n", `line 3: unknown field "namespace" in metadata`},
		{"unknown match field", header + "spec:\n  environments:\n    - name: prod\n      match: {path: [a]}\n", `line 7: unknown field "path" in match`},
		{"unknown exemption field", header + "spec:\n  exemptions:\n    - {rule: r, image: x}\n", `unknown field "image" in exemption`},
		{"unknown imageField field", header + "spec:\n  imageFields:\n    - {kind: K, field: x}\n", `unknown field "field" in imageField`},
		{"field set twice", header + rule + "      requireDigest: true\n      requireDigest: false\n", `line 8: field "requireDigest" is set twice in rule (first at line 7)`},
		{"list where a string goes", header + "spec:\n  rules:\n    - name: [a]\n", `line 6: spec.rules[0].name: expected a string, got a list`},
		{"string where a list goes", header + "spec:\n  rules:\n    - {name: r, denyTags: latest}\n", `spec.rules[0].denyTags: expected a list, got "latest"`},
		{"not a bool", header + "spec:\n  environments:\n    - {name: prod, protected: yes}\n", `spec.environments[0].protected: expected true or false, got "yes"`},
		{"spec is a list", header + "spec: []\n", `line 4: spec: expected a mapping, got a list`},
		{"document is a string", "hello\n", `line 1: expected a PromotionPolicy document (a mapping), got "hello"`},
		{"malformed YAML", header + "spec: [\n", `policy configmap flux-system/platform key prod.yaml: line `},
		{"wrong apiVersion", "apiVersion: v1\nkind: PromotionPolicy\n", `apiVersion "v1" and kind "PromotionPolicy" are not a policy document; use apiVersion: promotion-gate.io/v1alpha1 and kind: PromotionPolicy`},
		{"wrong kind", "apiVersion: promotion-gate.io/v1alpha1\nkind: ConfigMap\n", `kind "ConfigMap"`},
		{"missing apiVersion", "kind: PromotionPolicy\n", `apiVersion ""`},
		{"error in a later document keeps absolute lines", basePolicy + "---\n" + header + "spec: {rules: [{name: x, foo: 1}]}\n", `line 37: unknown field "foo" in rule`},
		{"only empty documents", "---\n# nothing\n---\n", `no PromotionPolicy documents found`},
		{"key not a string", header + "spec:\n  ? [a]\n  : 1\n", `line 5: spec: a key must be a string, got a list`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			g := NewWithT(t)
			_, err := Parse(src("configmap flux-system/platform key prod.yaml", tt.data))
			g.Expect(err).To(HaveOccurred())
			g.Expect(err.Error()).To(ContainSubstring(tt.want))
			g.Expect(err.Error()).NotTo(ContainSubstring("\n"), "errors are one line")
		})
	}
}

func TestParseMultiDocumentAndAnchors(t *testing.T) {
	g := NewWithT(t)
	data := "---\n# leading empty document\n---\n" + header + `spec:
  environments:
    - &prod {name: prod, protected: true, match: {paths: ["clusters/prod/**"]}}
---
` + header + `spec:
  environments: [*prod]
  rules:
    - &base {name: digests, requireDigest: true}
    - <<: *base
      name: tags
      denyTags: [latest]
---
`
	s, err := Parse(src("multi.yaml", data))
	g.Expect(err).NotTo(HaveOccurred())
	g.Expect(s.Environments).To(HaveLen(1))
	g.Expect(s.Rules).To(HaveLen(2))
	g.Expect(s.Rules[1]).To(Equal(Rule{Name: "tags", Enforcement: Deny, RequireDigest: true, DenyTags: []string{"latest"}}))

	_, err = Parse(src("merge.yaml", header+"spec:\n  rules:\n    - &b {name: a, requireDigest: true}\n    - <<: *b\n      name: b\n      bogus: 1\n"))
	g.Expect(err).To(MatchError(ContainSubstring(`line 9: unknown field "bogus" in rule`)))
}

func TestParseAliasBomb(t *testing.T) {
	// A billion-laughs stream: every level doubles the one before. No field of the schema
	// holds nested lists, so the strict walk rejects it before anything is expanded.
	var b strings.Builder
	b.WriteString("a0: &a0 [lol, lol]\n")
	for i := 1; i < 40; i++ {
		fmt.Fprintf(&b, "a%d: &a%d [*a%d, *a%d]\n", i, i, i-1, i-1)
	}
	bomb := b.String()
	tests := []struct{ name, data, want string }{
		{"under an unknown key", header + "x:\n" + indent(bomb), `unknown field "x" in document`},
		{"under labels", "apiVersion: promotion-gate.io/v1alpha1\nkind: PromotionPolicy\nmetadata:\n  labels:\n" + indent(indent(bomb)),
			"metadata.labels.a0: expected a string, got a list"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Parse(src("bomb.yaml", tt.data))
			NewWithT(t).Expect(err).To(MatchError(ContainSubstring(tt.want)))
		})
	}
}

func indent(s string) string {
	return "  " + strings.ReplaceAll(strings.TrimSuffix(s, "\n"), "\n", "\n  ") + "\n"
}

func TestParseSizeLimit(t *testing.T) {
	g := NewWithT(t)
	_, err := Parse(src("big.yaml", header+"#"+strings.Repeat("x", MaxSourceBytes)))
	g.Expect(err).To(MatchError(ContainSubstring("policy big.yaml: 4194386 bytes is over the limit of 4194304 bytes")))
	_, err = Parse()
	g.Expect(err).To(MatchError(ContainSubstring("no policy sources")))
}
