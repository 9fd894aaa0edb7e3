package main

import (
	"context"
	"path/filepath"
	"testing"

	. "github.com/onsi/gomega"

	"github.com/promotion-gate/promotion-gate/shared/forge/giteatest"
)

// check --status posts the verdict as a commit status on a real Gitea: failure for
// :latest in prod (exit 1), success for a digest (exit 0); the token comes from an
// environment variable, the repository and commit from the CI's variables (here
// Gitea Actions', which are GitHub's names).
func TestCheckPostsCommitStatus(t *testing.T) {
	g := NewWithT(t)
	ctx := context.Background()
	srv := giteatest.New(t)
	g.Expect(srv.CreateUser(ctx, "ci")).To(Succeed())
	_, err := srv.CreateRepo(ctx, "fleet", "ci")
	g.Expect(err).NotTo(HaveOccurred())
	commit, err := srv.CommitFile(ctx, giteatest.Admin, "fleet", "", "main", "README.md", "x\n")
	g.Expect(err).NotTo(HaveOccurred())
	token, err := srv.Token(ctx, "ci")
	g.Expect(err).NotTo(HaveOccurred())
	t.Setenv("CI_FORGE_TOKEN", token)
	t.Setenv("GITHUB_SERVER_URL", srv.URL)
	t.Setenv("GITHUB_REPOSITORY", giteatest.Admin+"/fleet")
	t.Setenv("GITHUB_SHA", commit)
	t.Setenv("GITHUB_RUN_ID", "17")

	for _, tc := range []struct {
		name, state, desc string
		setup             func(t *testing.T, repo, policyDir string)
		code              int
	}{
		{"prod on latest", "failure", "Denied in prod", setProdTag("latest"), 1},
		{"prod pinned by digest", "success", "Allowed in prod", nil, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			g := NewWithT(t)
			repo, policyDir := exampleRepo(t)
			if tc.setup != nil {
				tc.setup(t, repo, policyDir)
			}
			code, out, errOut := execute(t, "check", filepath.Join(repo, "apps/payments-api/overlays/prod"), "--policy", policyDir,
				"--repo-root", repo, "--env", "prod", "--status", "gitea", "--status-token-env", "CI_FORGE_TOKEN")
			g.Expect(code).To(Equal(tc.code), "stdout:\n%s\nstderr:\n%s", out, errOut)
			st, err := srv.Statuses(ctx, "fleet", commit)
			g.Expect(err).NotTo(HaveOccurred())
			g.Expect(st).NotTo(BeEmpty())
			g.Expect(st[0].Context).To(Equal("promotion-gate/prod"))
			g.Expect(string(st[0].State)).To(Equal(tc.state))
			g.Expect(st[0].Description).To(HavePrefix(tc.desc))
			g.Expect(st[0].TargetURL).To(Equal(srv.URL + "/" + giteatest.Admin + "/fleet/actions/runs/17"))
		})
	}

	t.Run("a token the forge refuses", func(t *testing.T) {
		g := NewWithT(t)
		t.Setenv("CI_FORGE_TOKEN", "not-a-token")
		repo, policyDir := exampleRepo(t)
		code, out, errOut := execute(t, "check", filepath.Join(repo, "apps/payments-api/overlays/prod"), "--policy", policyDir,
			"--repo-root", repo, "--env", "prod", "--status", "gitea", "--status-token-env", "CI_FORGE_TOKEN")
		g.Expect(code).To(Equal(exitConfig), "stdout:\n%s\nstderr:\n%s", out, errOut)
		g.Expect(errOut).To(ContainSubstring("token was refused"))
	})
}

// Without a token, or with one the forge refuses, check fails with exit 2 and says
// what to do: a verdict the forge never saw is not a pass.
func TestCheckStatusErrors(t *testing.T) {
	repo, policyDir := exampleRepo(t)
	path := filepath.Join(repo, "apps/payments-api/overlays/prod")
	for _, tc := range []struct {
		name string
		env  map[string]string
		args []string
		want string
	}{
		{"unknown provider", nil, []string{"--status", "bitbucket"}, "unknown forge provider"},
		{"no token", map[string]string{"PROMOTION_GATE_FORGE_TOKEN": ""}, []string{"--status", "github"}, "$PROMOTION_GATE_FORGE_TOKEN, which is empty"},
		{"no repository", map[string]string{"PROMOTION_GATE_FORGE_TOKEN": "t", "GITHUB_REPOSITORY": "", "CI_PROJECT_URL": "", "GITHUB_SHA": "", "CI_COMMIT_SHA": ""},
			[]string{"--status", "github"}, "pass --status-repo and --status-commit"},
		{"self-hosted forge without a provider address", map[string]string{"PROMOTION_GATE_FORGE_TOKEN": "t"},
			[]string{"--status", "github", "--status-repo", "https://", "--status-commit", "abc"}, "want an http(s) or ssh Git URL"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			g := NewWithT(t)
			for k, v := range tc.env {
				t.Setenv(k, v)
			}
			args := append([]string{"check", path, "--policy", policyDir, "--repo-root", repo, "--env", "prod"}, tc.args...)
			code, out, errOut := execute(t, args...)
			g.Expect(code).To(Equal(exitConfig), "stdout:\n%s\nstderr:\n%s", out, errOut)
			g.Expect(errOut).To(ContainSubstring(tc.want))
		})
	}
}
