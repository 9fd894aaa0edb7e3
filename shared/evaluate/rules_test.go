package evaluate_test

import (
	"context"
	"testing"

	. "github.com/onsi/gomega"

	"github.com/promotion-gate/promotion-gate/shared/evaluate"
	"github.com/promotion-gate/promotion-gate/shared/policy"
)

// summary reduces findings to "image rule/check" lines for compact expectations.
func summary(fs []evaluate.Finding) []string {
	out := []string{}
	for _, f := range fs {
		out = append(out, f.Image+" "+f.Rule+"/"+f.Check)
	}
	return out
}

// TestRuleClauses checks each clause on its own: a rule checks only what it says.
func TestRuleClauses(t *testing.T) {
	tests := []struct {
		name   string
		rule   string // the rule's clauses, YAML at rule level
		images []string
		want   []string
	}{
		{
			name:   "requireDigest flags tags and implicit tags, not digests",
			rule:   "requireDigest: true",
			images: []string{"ghcr.io/example/app:1.0", "ghcr.io/example/app", "ghcr.io/example/app@" + digest, "ghcr.io/example/app:1.0@" + digest},
			want:   []string{"ghcr.io/example/app:1.0 r/requireDigest", "ghcr.io/example/app r/requireDigest"},
		},
		{
			name: "denyTags: implicit tag is latest, digest-only has no tag, tag@digest keeps its tag",
			rule: `denyTags: ["latest", "main", "*-SNAPSHOT"]`,
			images: []string{"nginx", "nginx:latest", "nginx@" + digest, "nginx:main@" + digest,
				"nginx:1.27", "ghcr.io/example/app:2.0-SNAPSHOT", "ghcr.io/example/app:mainline"},
			want: []string{"nginx r/denyTags", "nginx:latest r/denyTags", "nginx:main@" + digest + " r/denyTags",
				"ghcr.io/example/app:2.0-SNAPSHOT r/denyTags"},
		},
		{
			name: "allowedRegistries matches every spelling of the name",
			rule: `allowedRegistries: ["ghcr.io/example/**", "docker.io/library/*"]`,
			images: []string{"ghcr.io/example/team/app:1", "ghcr.io/other/app:1", "nginx:1.27",
				"index.docker.io/library/redis@" + digest, "quay.io/example/app:1", "localhost:5000/example/app:1"},
			want: []string{"ghcr.io/other/app:1 r/allowedRegistries", "quay.io/example/app:1 r/allowedRegistries",
				"localhost:5000/example/app:1 r/allowedRegistries"},
		},
		{
			name:   "allowedRegistries alone does not deny an untagged image from an allowed registry",
			rule:   `allowedRegistries: ["ghcr.io/example/**"]`,
			images: []string{"ghcr.io/example/app", "ghcr.io/example/app:latest"},
			want:   []string{},
		},
		{
			name:   "allowedRegistries with familiar short name",
			rule:   `allowedRegistries: ["nginx"]`,
			images: []string{"nginx:1", "docker.io/library/nginx:1", "docker.io/bitnami/nginx:1"},
			want:   []string{"docker.io/bitnami/nginx:1 r/allowedRegistries"},
		},
		{
			name: "tagPattern: written or implicit tags only",
			rule: `tagPattern: '^v?\d+\.\d+\.\d+$'`,
			images: []string{"ghcr.io/example/app:1.2.3", "ghcr.io/example/app:v1.2.3", "ghcr.io/example/app:main",
				"ghcr.io/example/app", "ghcr.io/example/app@" + digest, "ghcr.io/example/app:main@" + digest},
			want: []string{"ghcr.io/example/app:main r/tagPattern", "ghcr.io/example/app r/tagPattern",
				"ghcr.io/example/app:main@" + digest + " r/tagPattern"},
		},
		{
			name:   "several clauses give several findings for one image, sorted by clause",
			rule:   `{requireDigest: true, denyTags: [latest], allowedRegistries: ["ghcr.io/example/**"], tagPattern: '^\d+$'}`,
			images: []string{"docker.io/library/busybox:latest"},
			want: []string{"docker.io/library/busybox:latest r/allowedRegistries", "docker.io/library/busybox:latest r/denyTags",
				"docker.io/library/busybox:latest r/requireDigest", "docker.io/library/busybox:latest r/tagPattern"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			g := NewWithT(t)
			rule := tt.rule
			if rule[0] != '{' {
				rule = "{" + rule + "}"
			}
			set := mustPolicy(t, "  rules:\n    - {name: r, "+rule[1:]+"\n")
			res := evaluate.Evaluate(context.Background(), evaluate.Request{
				Policy: set, Environment: prod, Images: images(tt.images...), Now: day,
			})
			g.Expect(res.Error).To(BeEmpty())
			g.Expect(summary(res.Findings)).To(Equal(tt.want))
			want := evaluate.Allowed
			if len(tt.want) > 0 {
				want = evaluate.Denied
			}
			g.Expect(res.Verdict).To(Equal(want))
		})
	}
}

// TestMessages pins the one-line message and fix of each clause, since people act on them.
func TestMessages(t *testing.T) {
	set := mustPolicy(t, `  rules:
    - name: prod-immutable-images
      requireDigest: true
      denyTags: ["latest", "main"]
      allowedRegistries: ["ghcr.io/example/**"]
      tagPattern: '^v?\d+\.\d+\.\d+$'
`)
	tests := []struct {
		image, check, message, fix string
	}{
		{"ghcr.io/example/payments-api:1.8.3", "requireDigest",
			`not pinned by digest: tag "1.8.3" can be moved to other content`,
			"pin the image by digest: ghcr.io/example/payments-api:1.8.3@sha256:<digest> (crane digest ghcr.io/example/payments-api:1.8.3)"},
		{"ghcr.io/example/payments-api", "requireDigest",
			`not pinned by digest: no tag or digest, so the runtime pulls the mutable tag "latest"`,
			"pin a release by digest: ghcr.io/example/payments-api:<version>@sha256:<digest> (crane digest ghcr.io/example/payments-api:<version>)"},
		{"ghcr.io/example/payments-api", "denyTags",
			`no tag or digest: the runtime pulls "latest", which is denied (denyTags "latest")`,
			"name a release tag: ghcr.io/example/payments-api:<version>"},
		{"ghcr.io/example/payments-api:main", "denyTags",
			`tag "main" is denied (denyTags "main")`,
			`use a release tag instead of "main": ghcr.io/example/payments-api:<version>`},
		{"ghcr.io/example/payments-api:main@" + digest, "denyTags",
			`tag "main" is denied (denyTags "main")`,
			`replace tag "main" with the release tag of that digest: ghcr.io/example/payments-api:<version>@` + digest},
		{"quay.io/x/y:1.0.0@" + digest, "allowedRegistries",
			"repository quay.io/x/y is not in an allowed registry (allowed: ghcr.io/example/**)",
			"copy the image to an allowed registry (ghcr.io/example/**) and reference it from there"},
		{"ghcr.io/example/payments-api:main@" + digest, "tagPattern",
			`tag "main" does not match tagPattern ^v?\d+\.\d+\.\d+$`,
			`use a tag that matches ^v?\d+\.\d+\.\d+$, e.g. a release version`},
		{"ghcr.io/example/payments-api@" + digest[:20], "validImageReference", "", ""},
	}
	for _, tt := range tests {
		t.Run(tt.image+" "+tt.check, func(t *testing.T) {
			g := NewWithT(t)
			res := evaluate.Evaluate(context.Background(), evaluate.Request{
				Policy: set, Environment: prod, Images: images(tt.image), Now: day,
			})
			var got *evaluate.Finding
			for i := range res.Findings {
				if res.Findings[i].Check == tt.check {
					got = &res.Findings[i]
				}
			}
			g.Expect(got).NotTo(BeNil(), "no %s finding in %v", tt.check, summary(res.Findings))
			g.Expect(got.Rule).NotTo(BeEmpty())
			g.Expect(got.Enforcement).To(Equal(policy.Deny))
			g.Expect(got.Source.File).To(Equal("prod/deployment.yaml"))
			g.Expect(got.Message).NotTo(ContainSubstring("\n"))
			g.Expect(got.Fix).NotTo(ContainSubstring("\n"))
			if tt.message == "" {
				g.Expect(got.Rule).To(Equal(evaluate.RuleValidImageReference))
				g.Expect(got.Message).To(HavePrefix("not a valid image reference: "))
				g.Expect(got.Fix).NotTo(BeEmpty())
				return
			}
			g.Expect(got.Message).To(Equal(tt.message))
			g.Expect(got.Fix).To(Equal(tt.fix))
		})
	}
}

// TestHandBuiltSet covers a Set built without Parse, as callers' tests do: defaults are
// unset and patterns uncompiled, and evaluation must still be strict.
func TestHandBuiltSet(t *testing.T) {
	tests := []struct {
		name      string
		rule      policy.Rule
		want      evaluate.Verdict
		wantError string
	}{
		{"a rule with no clauses checks nothing", policy.Rule{Name: "r"}, evaluate.Allowed, ""},
		{"unset enforcement denies", policy.Rule{Name: "r", RequireDigest: true}, evaluate.Denied, ""},
		{"uncompiled tagPattern is compiled", policy.Rule{Name: "r", Enforcement: policy.Warn, TagPattern: `^v\d+$`},
			evaluate.Warned, ""},
		{"invalid tagPattern fails closed", policy.Rule{Name: "r", TagPattern: `(`}, evaluate.Denied,
			`rule r: tagPattern "(": error parsing regexp`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			g := NewWithT(t)
			set := &policy.Set{Rules: []policy.Rule{tt.rule}, Revision: "sha256:hand"}
			res := evaluate.Evaluate(context.Background(), evaluate.Request{
				Policy: set, Environment: prod, Images: images("nginx:latest"), Now: day,
			})
			g.Expect(res.Verdict).To(Equal(tt.want))
			if tt.wantError == "" {
				g.Expect(res.Error).To(BeEmpty())
			} else {
				g.Expect(res.Error).To(ContainSubstring(tt.wantError))
			}
		})
	}
}
