package forge_test

import (
	"context"
	"net/http"
	"strings"
	"testing"

	. "github.com/onsi/gomega"

	"github.com/promotion-gate/promotion-gate/shared/forge"
	"github.com/promotion-gate/promotion-gate/shared/forge/giteatest"
)

// Against a real Gitea with the target protected as a production branch is: a held
// proposal's pull request cannot be merged (405), a new push updates the status and
// the pull request, a passing one merges fast-forward only and leaves the target at
// exactly that commit, and the merge and the approval come back with the names Gitea
// reports.
func TestGiteaStatusPullRequestAndMerge(t *testing.T) {
	g := NewWithT(t)
	ctx := context.Background()
	srv := giteatest.New(t)
	for _, u := range []string{"fluxcdbot", "flux-gate", "dana", "erin"} {
		g.Expect(srv.CreateUser(ctx, u)).To(Succeed())
	}
	gitURL, err := srv.CreateRepo(ctx, "fleet", "fluxcdbot", "flux-gate", "dana", "erin")
	g.Expect(err).NotTo(HaveOccurred())
	_, err = srv.CommitFile(ctx, giteatest.Admin, "fleet", "", "main", "README.md", "platform config\n")
	g.Expect(err).NotTo(HaveOccurred())
	const statusContext = "promotion-gate/prod"
	g.Expect(srv.Protect(ctx, "fleet", "main", statusContext)).To(Succeed())

	repo, err := forge.ParseRepository(gitURL, forge.Gitea, "")
	g.Expect(err).NotTo(HaveOccurred())
	g.Expect(repo.Address).To(Equal(srv.URL))
	token, err := srv.Token(ctx, "flux-gate")
	g.Expect(err).NotTo(HaveOccurred())
	client, err := forge.New(forge.Options{Repository: repo, Credentials: forge.Credentials{Token: token}})
	g.Expect(err).NotTo(HaveOccurred())

	// A held proposal: failure, and the merge is refused.
	held, err := srv.CommitFile(ctx, "fluxcdbot", "fleet", "main", "automation/prod", "overlay.yaml", "image: app:latest\n")
	g.Expect(err).NotTo(HaveOccurred())
	g.Expect(client.SetStatus(ctx, forge.Status{Commit: held, State: forge.Failure, Context: statusContext,
		Description: strings.Repeat("Denied in prod: 1 finding; prod-immutable-images: tag latest is mutable ", 10),
		TargetURL:   "https://gate.example.com/prod"})).To(Succeed())
	req := forge.ChangeRequest{Head: "automation/prod", Base: "main", Title: forge.Title("automation/prod", "main", "prod"),
		Body: forge.Body(forge.BodyParts{Commit: held, Base: "main", State: forge.Failure, Context: statusContext, Report: "## promotion-gate: Denied\n"})}
	pr, err := client.EnsureChange(ctx, req)
	g.Expect(err).NotTo(HaveOccurred())
	g.Expect(pr.Number).To(BeNumerically(">", 0))
	g.Expect(pr.HeadCommit).To(Equal(held))
	g.Expect(pr.Body).To(ContainSubstring("**Held**"))
	code, err := srv.Merge(ctx, "erin", "fleet", pr.Number)
	g.Expect(err).NotTo(HaveOccurred())
	g.Expect(code).To(Equal(http.StatusMethodNotAllowed), "branch protection refuses the merge while the status is failure")
	g.Expect(srv.Head(ctx, "fleet", "main")).NotTo(Equal(held))
	st, err := srv.Statuses(ctx, "fleet", held)
	g.Expect(err).NotTo(HaveOccurred())
	g.Expect(st).NotTo(BeEmpty())
	g.Expect(st[0].Context).To(Equal(statusContext))
	g.Expect(string(st[0].State)).To(Equal("failure"))
	g.Expect(len([]rune(st[0].Description))).To(BeNumerically("<=", forge.DescriptionLimit(forge.Gitea)))
	g.Expect(st[0].TargetURL).To(Equal("https://gate.example.com/prod"))

	// A new push: the same pull request follows it; its status and body are the new ones.
	good, err := srv.CommitFile(ctx, "fluxcdbot", "fleet", "main", "automation/prod", "overlay.yaml", "image: app:1.9.1@sha256:2222\n")
	g.Expect(err).NotTo(HaveOccurred())
	g.Expect(client.SetStatus(ctx, forge.Status{Commit: good, State: forge.Success, Context: statusContext, Description: "Allowed in prod: no findings"})).To(Succeed())
	req.Body = forge.Body(forge.BodyParts{Commit: good, Base: "main", State: forge.Success, Context: statusContext, Report: "## promotion-gate: Allowed\n"})
	again, err := client.EnsureChange(ctx, req)
	g.Expect(err).NotTo(HaveOccurred())
	g.Expect(again.Number).To(Equal(pr.Number), "one pull request per proposal branch")
	g.Expect(again.Body).To(ContainSubstring("**Passed**"))
	cur, err := srv.Pull(ctx, "fleet", pr.Number)
	g.Expect(err).NotTo(HaveOccurred())
	g.Expect(cur.Head.Sha).To(Equal(good))
	g.Expect(cur.Body).To(Equal(req.Body))
	// Nothing changed: no edit (the body is compared, not rewritten).
	same, err := client.EnsureChange(ctx, req)
	g.Expect(err).NotTo(HaveOccurred())
	g.Expect(same.Number).To(Equal(pr.Number))

	// A person approves, another merges, fast-forward only: main is exactly good.
	g.Expect(client.MergedChange(ctx, "automation/prod", "main", good)).To(BeNil(), "not merged yet")
	g.Expect(srv.Approve(ctx, "dana", "fleet", pr.Number)).To(Succeed())
	code, err = srv.Merge(ctx, "erin", "fleet", pr.Number)
	g.Expect(err).NotTo(HaveOccurred())
	g.Expect(code).To(Equal(http.StatusOK))
	g.Expect(srv.Head(ctx, "fleet", "main")).To(Equal(good))
	merged, err := client.MergedChange(ctx, "automation/prod", "main", good)
	g.Expect(err).NotTo(HaveOccurred())
	g.Expect(merged).NotTo(BeNil())
	g.Expect(merged.Number).To(Equal(pr.Number))
	g.Expect(merged.Merged).To(BeTrue())
	g.Expect(merged.MergedBy).To(Equal("erin"))
	g.Expect(merged.ApprovedBy).To(Equal([]string{"dana"}))
	g.Expect(merged.MergeCommit).To(Equal(good))
	g.Expect(client.MergedChange(ctx, "automation/prod", "main", held)).To(BeNil(), "the held commit was never merged on its own")
}

// A token the forge refuses is an error, never a posted status.
func TestGiteaRefusedTokenIsAnError(t *testing.T) {
	g := NewWithT(t)
	ctx := context.Background()
	srv := giteatest.New(t)
	gitURL, err := srv.CreateRepo(ctx, "fleet")
	g.Expect(err).NotTo(HaveOccurred())
	c, err := srv.CommitFile(ctx, giteatest.Admin, "fleet", "", "main", "README.md", "x\n")
	g.Expect(err).NotTo(HaveOccurred())
	repo, err := forge.ParseRepository(gitURL, forge.Forgejo, "")
	g.Expect(err).NotTo(HaveOccurred())
	client, err := forge.New(forge.Options{Repository: repo, Credentials: forge.Credentials{Token: "not-a-token"}})
	g.Expect(err).NotTo(HaveOccurred())
	err = client.SetStatus(ctx, forge.Status{Commit: c, State: forge.Success, Context: "promotion-gate/prod", Description: "Allowed"})
	g.Expect(err).To(MatchError(ContainSubstring("token was refused")))
	st, err := srv.Statuses(ctx, "fleet", c)
	g.Expect(err).NotTo(HaveOccurred())
	g.Expect(st).To(BeEmpty())
}

// A self-hosted forge behind a private CA: the client trusts the CA bundle it is
// given, and without it the status is not posted (an error, never a success).
func TestGiteaOverTLSWithCABundle(t *testing.T) {
	g := NewWithT(t)
	ctx := context.Background()
	srv := giteatest.NewWith(t, giteatest.Options{TLS: true})
	g.Expect(srv.URL).To(HavePrefix("https://"))
	gitURL, err := srv.CreateRepo(ctx, "fleet")
	g.Expect(err).NotTo(HaveOccurred())
	c, err := srv.CommitFile(ctx, giteatest.Admin, "fleet", "", "main", "README.md", "x\n")
	g.Expect(err).NotTo(HaveOccurred())
	repo, err := forge.ParseRepository(gitURL, forge.Gitea, "")
	g.Expect(err).NotTo(HaveOccurred())
	st := forge.Status{Commit: c, State: forge.Success, Context: "promotion-gate/prod", Description: "Allowed in prod: no findings"}

	without, err := forge.New(forge.Options{Repository: repo, Credentials: forge.Credentials{Token: srv.AdminToken}})
	g.Expect(err).NotTo(HaveOccurred())
	g.Expect(without.SetStatus(ctx, st)).To(MatchError(ContainSubstring("certificate")))

	with, err := forge.New(forge.Options{Repository: repo, Credentials: forge.Credentials{Token: srv.AdminToken}, CA: srv.CA})
	g.Expect(err).NotTo(HaveOccurred())
	g.Expect(with.SetStatus(ctx, st)).To(Succeed())
	posted, err := srv.Statuses(ctx, "fleet", c)
	g.Expect(err).NotTo(HaveOccurred())
	g.Expect(posted).To(HaveLen(1))
	g.Expect(string(posted[0].State)).To(Equal("success"))

	_, err = forge.New(forge.Options{Repository: repo, Credentials: forge.Credentials{Token: "t"}, CA: []byte("not a PEM")})
	g.Expect(err).To(MatchError(ContainSubstring("no PEM certificate")))
}
