package forge_test

import (
	"strings"
	"testing"
	"unicode/utf8"

	. "github.com/onsi/gomega"

	"github.com/promotion-gate/promotion-gate/shared/evaluate"
	"github.com/promotion-gate/promotion-gate/shared/forge"
)

func TestParseRepository(t *testing.T) {
	for _, tc := range []struct {
		name, url string
		provider  forge.Provider
		address   string
		want      forge.Repository
		err       string
	}{
		{name: "github.com https", url: "https://github.com/example/fleet.git",
			want: forge.Repository{Provider: forge.GitHub, Address: "https://api.github.com", Owner: "example", Name: "fleet"}},
		{name: "github.com scp-like ssh", url: "git@github.com:example/fleet.git",
			want: forge.Repository{Provider: forge.GitHub, Address: "https://api.github.com", Owner: "example", Name: "fleet"}},
		{name: "GitHub Enterprise Server", url: "ssh://git@ghe.example.com:2222/example/fleet", provider: forge.GitHub,
			want: forge.Repository{Provider: forge.GitHub, Address: "https://ghe.example.com/api/v3", Owner: "example", Name: "fleet"}},
		{name: "gitlab.com subgroup", url: "https://gitlab.com/platform/prod/fleet.git",
			want: forge.Repository{Provider: forge.GitLab, Address: "https://gitlab.com", Owner: "platform/prod", Name: "fleet"}},
		{name: "self-managed GitLab with an address", url: "https://git.example.com/platform/fleet", provider: forge.GitLab, address: "https://gitlab.example.com/",
			want: forge.Repository{Provider: forge.GitLab, Address: "https://gitlab.example.com", Owner: "platform", Name: "fleet"}},
		{name: "codeberg is Forgejo", url: "https://codeberg.org/example/fleet.git",
			want: forge.Repository{Provider: forge.Forgejo, Address: "https://codeberg.org", Owner: "example", Name: "fleet"}},
		{name: "Gitea under a path prefix", url: "http://127.0.0.1:3000/git/example/fleet.git", provider: forge.Gitea,
			want: forge.Repository{Provider: forge.Gitea, Address: "http://127.0.0.1:3000/git", Owner: "example", Name: "fleet"}},
		{name: "self-hosted without a provider", url: "https://git.example.com/example/fleet.git", err: "name the provider"},
		{name: "unknown provider", url: "https://github.com/example/fleet.git", provider: "bitbucket", err: "unknown forge provider"},
		{name: "no owner", url: "https://github.com/fleet.git", err: "owner/name"},
		{name: "file URL", url: "file:///srv/git/fleet.git", provider: forge.Gitea, err: "want an http(s) or ssh Git URL"},
		{name: "bad address", url: "https://github.com/example/fleet.git", address: "ftp://x", err: "want an http(s) URL"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			g := NewWithT(t)
			got, err := forge.ParseRepository(tc.url, tc.provider, tc.address)
			if tc.err != "" {
				g.Expect(err).To(MatchError(ContainSubstring(tc.err)))
				return
			}
			g.Expect(err).NotTo(HaveOccurred())
			g.Expect(got).To(Equal(tc.want))
		})
	}
}

func FuzzParseRepository(f *testing.F) {
	for _, s := range []string{"https://github.com/a/b.git", "git@host:a/b", "ssh://git@h:22/a/b/c", "http://[::1]:3000/x/y", "::", "a@b:/c"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		for _, p := range []forge.Provider{"", forge.GitHub, forge.GitLab, forge.Gitea} {
			r, err := forge.ParseRepository(s, p, "")
			if err == nil && (r.Owner == "" || r.Name == "" || !strings.HasPrefix(r.Address, "http")) {
				t.Fatalf("ParseRepository(%q, %q) = %+v without an error", s, p, r)
			}
		}
	})
}

func TestVerdict(t *testing.T) {
	finding := evaluate.Finding{Rule: "prod-immutable-images", Message: "image ghcr.io/example/app:latest uses tag latest"}
	for _, tc := range []struct {
		name  string
		res   evaluate.Result
		state forge.State
		desc  string
	}{
		{"allowed", evaluate.Result{Verdict: evaluate.Allowed, Environment: "prod"}, forge.Success, "Allowed in prod: no findings"},
		{"warned", evaluate.Result{Verdict: evaluate.Warned, Environment: "staging", Findings: []evaluate.Finding{finding}}, forge.Success,
			"Allowed in staging with 1 warning(s); prod-immutable-images: image ghcr.io/example/app:latest uses tag latest"},
		{"denied", evaluate.Result{Verdict: evaluate.Denied, Environment: "prod", Findings: []evaluate.Finding{finding}}, forge.Failure,
			"Denied in prod: 1 finding(s); prod-immutable-images: image ghcr.io/example/app:latest uses tag latest"},
		{"could not judge", evaluate.Result{Verdict: evaluate.Denied, Environment: "prod", Error: "render apps/x: timeout"}, forge.Error,
			"could not judge in prod (fails closed): render apps/x: timeout"},
		{"unknown verdict", evaluate.Result{Verdict: "Maybe"}, forge.Failure, `verdict "Maybe" in unclassified counts as Denied`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			g := NewWithT(t)
			state, desc := forge.Verdict(tc.res)
			g.Expect(state).To(Equal(tc.state))
			g.Expect(desc).To(Equal(tc.desc))
		})
	}
}

func TestBody(t *testing.T) {
	g := NewWithT(t)
	b := forge.Body(forge.BodyParts{Commit: strings.Repeat("a", 40), Base: "main", State: forge.Failure, Context: "promotion-gate/prod",
		Report: "## promotion-gate: Denied\n", Images: []string{"ghcr.io/example/app:latest"}, PolicyRevision: "sha256:abc",
		Extra: "### Promotion record\n\nrefs/tags/x"})
	g.Expect(b).To(HavePrefix(forge.Marker))
	g.Expect(b).To(ContainSubstring("**Held** — `aaaaaaaaaaaa` breaks the policy"))
	g.Expect(b).To(ContainSubstring("- `ghcr.io/example/app:latest`"))
	g.Expect(b).To(ContainSubstring("Policy revision: `sha256:abc`"))
	g.Expect(strings.Index(b, "## promotion-gate: Denied")).To(BeNumerically("<", strings.Index(b, "### Promotion record")), "the extra section comes last")

	huge := forge.Body(forge.BodyParts{Commit: "c", State: forge.Success, Report: strings.Repeat("é", 70000)})
	g.Expect(len(huge)).To(BeNumerically("<", 65536))
	g.Expect(utf8.ValidString(huge)).To(BeTrue())
}

func TestDescriptionLimits(t *testing.T) {
	g := NewWithT(t)
	g.Expect(forge.DescriptionLimit(forge.GitHub)).To(Equal(140))
	g.Expect(forge.DescriptionLimit(forge.GitLab)).To(Equal(255))
	g.Expect(forge.DescriptionLimit(forge.Gitea)).To(Equal(255))
}
