package profile

import (
	"testing"
	"time"

	. "github.com/onsi/gomega"

	"github.com/promotion-gate/promotion-gate/shared/policy"
)

const githubBuilder = "https://github.com/slsa-framework/slsa-github-generator/.github/workflows/generator_container_slsa3.yml@refs/tags/v2.1.0"

func TestSLSA(t *testing.T) {
	githubWant := policy.SLSAProvenance{
		BuilderID:        "https://github.com/slsa-framework/slsa-github-generator/.github/workflows/generator_container_slsa3.yml@refs/tags/v*",
		SourceRepository: "https://github.com/example/payments-api",
		SourceRef:        "refs/tags/v*",
	}
	tests := []struct {
		name    string
		fixture string
		want    policy.SLSAProvenance
	}{
		{"v1-github-pass", "slsa-v1-github.json", githubWant},
		{"v1-github-exact-builder", "slsa-v1-github.json", policy.SLSAProvenance{BuilderID: githubBuilder}},
		{"v1-github-nothing-checked", "slsa-v1-github.json", policy.SLSAProvenance{}},
		{"v1-github-wrong-builder", "slsa-v1-github.json", policy.SLSAProvenance{BuilderID: "https://ci.example.com/builder"}},
		{"v1-github-wrong-source", "slsa-v1-github.json", policy.SLSAProvenance{
			SourceRepository: "https://github.com/example/payments-*", SourceRef: "refs/heads/main"}},
		{"v1-github-org-glob", "slsa-v1-github.json", policy.SLSAProvenance{SourceRepository: "https://github.com/example/*"}},
		{"v1-github-forked-source", "slsa-v1-github.json", policy.SLSAProvenance{SourceRepository: "https://github.com/attacker/*"}},
		{"v1-dependencies-pass", "slsa-v1-dependencies.json", policy.SLSAProvenance{
			BuilderID: "https://ci.example.com/buildkit", SourceRepository: "ssh://git@github.com/example/payments-api", SourceRef: "refs/heads/main"}},
		{"v1-dependencies-wrong-ref", "slsa-v1-dependencies.json", policy.SLSAProvenance{SourceRef: "refs/tags/**"}},
		{"v1-gitlab-pass", "slsa-v1-gitlab.json", policy.SLSAProvenance{
			BuilderID: "https://gitlab.com/example/payments-api/-/runners/*", SourceRepository: "https://gitlab.com/example/payments-api", SourceRef: "refs/heads/main"}},
		{"v1-source-object-pass", "slsa-v1-source-object.json", policy.SLSAProvenance{
			SourceRepository: "https://git.example.com/platform/*", SourceRef: "refs/tags/v2.*"}},
		{"v1-no-builder", "slsa-v1-no-builder.json", policy.SLSAProvenance{
			BuilderID: "https://ci.example.com/builder", SourceRepository: "https://github.com/example/*", SourceRef: "refs/tags/*"}},
		{"v02-github-pass", "slsa-v02-github.json", policy.SLSAProvenance{
			BuilderID:        "https://github.com/slsa-framework/slsa-github-generator/.github/workflows/generator_container_slsa3.yml@refs/tags/v1.*",
			SourceRepository: "https://github.com/example/payments-api", SourceRef: "refs/heads/main"}},
		{"v02-github-wrong-ref", "slsa-v02-github.json", policy.SLSAProvenance{SourceRef: "refs/tags/v*"}},
		{"not-provenance", "slsa-not-provenance.json", policy.SLSAProvenance{BuilderID: "x"}},
		{"truncated", "slsa-truncated.json", policy.SLSAProvenance{BuilderID: "x"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			vs := SLSA(fixture(t, tt.fixture), tt.want)
			checkOneLine(t, vs, nil)
			checkGolden(t, "slsa-"+tt.name, render(time.Time{}, vs, nil))
		})
	}
}

func TestSplitGitURI(t *testing.T) {
	tests := []struct{ uri, repo, ref string }{
		{"git+https://github.com/org/repo@refs/heads/main", "https://github.com/org/repo", "refs/heads/main"},
		{"git+https://github.com/org/repo.git@v1.2.3", "https://github.com/org/repo.git", "v1.2.3"},
		{"git+ssh://git@github.com/org/repo", "ssh://git@github.com/org/repo", ""},
		{"git+ssh://git@github.com/org/repo@refs/tags/v1", "ssh://git@github.com/org/repo", "refs/tags/v1"},
		{"https://github.com/org/repo", "https://github.com/org/repo", ""},
		{"github.com/org/repo@main", "github.com/org/repo", "main"},
		{"https://user@host", "https://user@host", ""},
		{"", "", ""},
	}
	for _, tt := range tests {
		t.Run(tt.uri, func(t *testing.T) {
			g := NewWithT(t)
			repo, ref := splitGitURI(tt.uri)
			g.Expect(repo).To(Equal(tt.repo))
			g.Expect(ref).To(Equal(tt.ref))
		})
	}
}

func TestSLSATrailingData(t *testing.T) {
	g := NewWithT(t)
	for _, tail := range []string{"}", " {}", "x"} {
		vs := SLSA(append(fixture(t, "slsa-v1-github.json"), tail...), policy.SLSAProvenance{})
		g.Expect(vs).To(ConsistOf(HaveField("Message", ContainSubstring("not JSON"))), "tail %q", tail)
	}
}
