package controller_test

import (
	"net/http"
	"testing"

	imagev1 "github.com/fluxcd/image-automation-controller/api/v1"
	"github.com/fluxcd/pkg/apis/meta"
	"github.com/fluxcd/pkg/runtime/conditions"
	. "github.com/onsi/gomega"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	gatev1 "github.com/promotion-gate/promotion-gate/flux-gate/api/v1alpha1"
	"github.com/promotion-gate/promotion-gate/shared/forge/giteatest"
	"github.com/promotion-gate/promotion-gate/shared/record"
)

const prodContext = "promotion-gate/prod"

// giteaFleet is the fleet repository on a real Gitea whose main branch is protected
// as production is: no pushes, and a merge needs the gate's status to be success.
// The automation pushes as fluxcdbot; the gate posts as flux-gate, a user with
// write access only; dana approves and erin merges.
// giteaGate sets up the payments-api-prod gate of the pull-request tests: a fleet on
// the Gitea srv (token is the gate's forge token, "" for a valid one), the policy, the
// automation and the gate in pullRequest mode.
func (h *harness) giteaGate(srv *giteatest.Server, token, policy string) (*fleet, *imagev1.ImageUpdateAutomation) {
	h.t.Helper()
	f := h.giteaFleet(srv, token)
	h.setPolicy(policy)
	a := h.automation(f, "payments-api-prod", "payments-api")
	h.gate("payments-api-prod", a.Name, pullRequestMode)
	return f, a
}

func (h *harness) giteaFleet(srv *giteatest.Server, token string) *fleet {
	h.t.Helper()
	for _, u := range []string{"fluxcdbot", "flux-gate", "dana", "erin"} {
		h.g.Expect(srv.CreateUser(h.ctx, u)).To(Succeed())
	}
	url, err := srv.CreateRepo(h.ctx, "fleet", "fluxcdbot", "flux-gate", "dana", "erin")
	h.g.Expect(err).NotTo(HaveOccurred())
	f := h.newFleet(url, giteatest.GitCredentials("fluxcdbot"), "payments-api")
	h.g.Expect(srv.Protect(h.ctx, "fleet", "main", prodContext)).To(Succeed())
	if token == "" {
		token, err = srv.Token(h.ctx, "flux-gate")
		h.g.Expect(err).NotTo(HaveOccurred())
	}
	secret := &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Name: "forge-token", Namespace: h.ns},
		StringData: map[string]string{"token": token}}
	h.g.Expect(k8s.Create(h.ctx, secret)).To(Succeed())
	return f
}

func pullRequestMode(g *gatev1.PromotionGate) {
	g.Spec.Environment = "prod"
	g.Spec.Promote = gatev1.PromotePullRequest
	g.Spec.Provider = &gatev1.ForgeProvider{Type: "gitea", SecretRef: meta.LocalObjectReference{Name: "forge-token"},
		TargetURL: "https://gate.example.com/payments-api-prod"}
}

// Pull-request mode against a real Gitea: Flux proposes :latest, the gate posts
// failure and opens the pull request, and Gitea refuses the merge (405); the next
// proposal, a digest, gets success on the same pull request; the gate never writes
// main; a person approves, another merges fast-forward only, main is exactly that
// commit, and the gate records the promotion with the names Gitea reports.
func TestPullRequestModeOnGitea(t *testing.T) {
	h := newHarness(t)
	srv := giteatest.New(t)
	f, a := h.giteaGate(srv, "", basePolicy)
	h.waitReady("payments-api-prod", metav1.ConditionTrue, gatev1.UpToDateReason)
	main, err := srv.Head(h.ctx, "fleet", "main")
	h.g.Expect(err).NotTo(HaveOccurred())

	bad := h.iacPush(f, a, map[string]string{
		overlayPath("payments-api"): prodOverlay("payments-api", "ghcr.io/example/payments-api", "latest", ""),
	})
	g := h.waitReady("payments-api-prod", metav1.ConditionFalse, gatev1.PolicyViolationReason)
	pr := g.Status.PullRequest
	h.g.Expect(pr).NotTo(BeNil())
	h.g.Expect(pr.Commit).To(Equal(bad))
	h.g.Expect(pr.State).To(Equal("failure"))
	h.g.Expect(pr.Context).To(Equal(prodContext))
	h.g.Expect(pr.Number).To(BeNumerically(">", 0))
	h.g.Expect(conditions.Get(g, meta.ReadyCondition).Message).To(ContainSubstring("pull request #"))
	statuses, err := srv.Statuses(h.ctx, "fleet", bad)
	h.g.Expect(err).NotTo(HaveOccurred())
	h.g.Expect(statuses).NotTo(BeEmpty())
	h.g.Expect(string(statuses[0].State)).To(Equal("failure"))
	h.g.Expect(statuses[0].Context).To(Equal(prodContext))
	h.g.Expect(statuses[0].Description).To(ContainSubstring("prod-immutable-images"))
	h.g.Expect(statuses[0].TargetURL).To(Equal("https://gate.example.com/payments-api-prod"))
	onForge, err := srv.Pull(h.ctx, "fleet", pr.Number)
	h.g.Expect(err).NotTo(HaveOccurred())
	h.g.Expect(onForge.Head.Sha).To(Equal(bad))
	h.g.Expect(onForge.Body).To(ContainSubstring("**Held**"))
	h.g.Expect(onForge.Body).To(ContainSubstring("prod-immutable-images"))
	h.g.Expect(onForge.Body).To(ContainSubstring("ghcr.io/example/payments-api:latest"))
	h.g.Expect(onForge.Body).To(ContainSubstring("### Promotion record\n\nNone: the gate records only a proposal it passes, and it holds this one."))
	code, err := srv.Merge(h.ctx, "erin", "fleet", pr.Number)
	h.g.Expect(err).NotTo(HaveOccurred())
	h.g.Expect(code).To(Equal(http.StatusMethodNotAllowed), "branch protection refuses a held proposal")
	h.g.Expect(srv.Head(h.ctx, "fleet", "main")).To(Equal(main))
	h.g.Expect(h.held("payments-api-prod")).To(Equal(1.0))
	h.conformant("payments-api-prod")

	good := h.iacPush(f, a, map[string]string{
		overlayPath("payments-api"): prodOverlay("payments-api", "ghcr.io/example/payments-api", "1.9.1", digestC),
	})
	g = h.waitReady("payments-api-prod", metav1.ConditionTrue, gatev1.AwaitingMergeReason)
	h.g.Expect(g.Status.PullRequest.Commit).To(Equal(good))
	h.g.Expect(g.Status.PullRequest.State).To(Equal("success"))
	h.g.Expect(g.Status.PullRequest.Number).To(Equal(pr.Number), "one pull request follows the proposal branch")
	h.g.Expect(g.Status.LastPromotion).To(BeNil())
	statuses, err = srv.Statuses(h.ctx, "fleet", good)
	h.g.Expect(err).NotTo(HaveOccurred())
	h.g.Expect(string(statuses[0].State)).To(Equal("success"), "the verdict is the newest status")
	h.g.Expect(string(statuses[len(statuses)-1].State)).To(Equal("pending"), "pending while judging came first")
	onForge, err = srv.Pull(h.ctx, "fleet", pr.Number)
	h.g.Expect(err).NotTo(HaveOccurred())
	h.g.Expect(onForge.Head.Sha).To(Equal(good))
	h.g.Expect(onForge.Body).To(ContainSubstring("**Passed**"))
	h.g.Expect(onForge.Body).To(ContainSubstring(digestC))
	h.g.Expect(onForge.Body).To(ContainSubstring(g.Status.LastEvaluation.PolicyRevision))
	// The record the merge will write, before anyone approves.
	h.g.Expect(onForge.Body).To(ContainSubstring("### Promotion record\n\nWill be written when merged"))
	h.g.Expect(onForge.Body).To(ContainSubstring("## Promotion to main (prod, protected)"))
	h.g.Expect(onForge.Body).To(ContainSubstring("- Commit: " + good))
	h.g.Expect(onForge.Body).To(ContainSubstring("- Through this pull request, not merged yet: whoever merges it and whoever approves it are named here"))
	h.g.Expect(onForge.Body).NotTo(ContainSubstring("- Time: "), "no time in the body: it would change, and be edited, at every look")
	h.g.Expect(onForge.Body).To(ContainSubstring(main + " (the head of main the gate judged the pull request against"))
	h.g.Expect(srv.Head(h.ctx, "fleet", "main")).To(Equal(main), "the gate never writes the target in pullRequest mode")
	h.waitEvent("payments-api-prod", corev1.EventTypeNormal, gatev1.AwaitingMergeReason, good[:12])
	h.conformant("payments-api-prod")

	h.g.Expect(srv.Approve(h.ctx, "dana", "fleet", pr.Number)).To(Succeed())
	code, err = srv.Merge(h.ctx, "erin", "fleet", pr.Number)
	h.g.Expect(err).NotTo(HaveOccurred())
	h.g.Expect(code).To(Equal(http.StatusOK))
	h.g.Expect(srv.Head(h.ctx, "fleet", "main")).To(Equal(good), "fast-forward: main is exactly the commit judged")

	h.poke("payments-api-prod")
	g = h.waitReady("payments-api-prod", metav1.ConditionTrue, gatev1.PromotedReason)
	lp := g.Status.LastPromotion
	h.g.Expect(lp.Commit).To(Equal(good))
	h.g.Expect(lp.PreviousCommit).To(Equal(main))
	h.g.Expect(lp.MergedBy).To(Equal("erin"))
	h.g.Expect(lp.ApprovedBy).To(Equal([]string{"dana"}))
	h.g.Expect(lp.PullRequest).To(Equal(onForge.HTMLURL))
	h.g.Expect(lp.Images).To(ConsistOf("ghcr.io/example/payments-api:1.9.1@" + digestC))
	h.g.Expect(h.held("payments-api-prod")).To(BeZero())
	h.waitEvent("payments-api-prod", corev1.EventTypeNormal, gatev1.PromotedReason, good, "merged by erin", "approved by dana")
	h.g.Expect(h.counter(h.metrics.Promotions, h.ns, "payments-api-prod", "merged")).To(Equal(1.0))

	// The promotion record: a tag on exactly the merged commit, written as fluxcdbot
	// (the automation's Git credentials; tags are not the protected branch), that
	// names the person who merged and the one who approved.
	rec := h.recordOn(f, record.Promotion, good)
	h.g.Expect(rec.rec.Commit).To(Equal(good))
	h.g.Expect(rec.rec.RollbackCommit).To(Equal(main))
	h.g.Expect(rec.rec.Digests()).To(Equal([]string{digestC}))
	h.g.Expect(rec.rec.Verdict.Result).To(Equal("Allowed"))
	h.g.Expect(rec.rec.Verdict.PolicyRevision).To(Equal(lp.PolicyRevision))
	h.g.Expect(rec.rec.Verdict.RulesPassed).To(ContainElement("prod-immutable-images"))
	pull := rec.rec.Approval.PullRequest
	h.g.Expect(pull).NotTo(BeNil())
	h.g.Expect(pull.Number).To(Equal(onForge.Index))
	h.g.Expect(pull.URL).To(Equal(onForge.HTMLURL))
	h.g.Expect(pull.MergedBy).To(Equal("erin"))
	h.g.Expect(pull.ApprovedBy).To(Equal([]string{"dana"}))
	h.g.Expect(pull.MergeCommit).To(BeEmpty(), "a fast-forward has no merge commit")
	h.g.Expect(pull.RollbackFrom).To(Equal(record.RollbackFromLastJudged))
	h.g.Expect(rec.tag.Message).To(ContainSubstring("- Merged by erin, through pull request"))
	h.g.Expect(rec.tag.Message).To(ContainSubstring("- Approved by dana\n"))
	g = h.getGate("payments-api-prod")
	h.g.Expect(g.Status.PendingRecord).To(BeNil())
	h.g.Expect(g.Status.LastRecord).NotTo(BeNil())
	h.g.Expect(g.Status.LastRecord.Tag).To(Equal(rec.tag.Name))
	h.waitEvent("payments-api-prod", corev1.EventTypeNormal, gatev1.PromotedReason, "record "+rec.tag.Name)
	h.g.Expect(g.Status.RolledBack).To(BeEmpty(), "the merged promotion is on main: nothing rolled back")
	h.conformant("payments-api-prod")
}

// A status the forge refuses (a token it does not know) keeps the gate not Ready
// with the reason, is retried, and never counts as success: no status on the
// commit, no pull request, nothing on main.
func TestPullRequestModeStatusNotPosted(t *testing.T) {
	h := newHarness(t)
	srv := giteatest.New(t)
	f, a := h.giteaGate(srv, "not-a-token", basePolicy)
	main := h.head(f, "main")
	good := h.iacPush(f, a, map[string]string{
		overlayPath("payments-api"): prodOverlay("payments-api", "ghcr.io/example/payments-api", "1.9.1", digestC),
	})
	g := h.waitReady("payments-api-prod", metav1.ConditionFalse, gatev1.StatusNotPostedReason)
	h.g.Expect(conditions.Get(g, meta.ReadyCondition).Message).To(ContainSubstring("token was refused"))
	h.g.Expect(conditions.IsTrue(g, meta.ReconcilingCondition)).To(BeTrue(), "retried with backoff")
	h.g.Expect(g.Status.PullRequest).To(BeNil())
	statuses, err := srv.Statuses(h.ctx, "fleet", good)
	h.g.Expect(err).NotTo(HaveOccurred())
	h.g.Expect(statuses).To(BeEmpty())
	h.g.Expect(h.head(f, "main")).To(Equal(main))
	h.waitEvent("payments-api-prod", corev1.EventTypeWarning, gatev1.StatusNotPostedReason)
}

// pullRequest mode without a provider cannot work: Stalled, with the fix.
func TestPullRequestModeWithoutProviderStalls(t *testing.T) {
	h := newHarness(t)
	h.paymentsGateWith(func(g *gatev1.PromotionGate) { g.Spec.Promote = gatev1.PromotePullRequest })
	g := h.waitReady("payments-api-prod", metav1.ConditionFalse, gatev1.ProviderMisconfiguredReason)
	h.g.Expect(conditions.IsTrue(g, meta.StalledCondition)).To(BeTrue())
	h.g.Expect(conditions.Get(g, meta.StalledCondition).Message).To(ContainSubstring("spec.provider.secretRef"))
	h.conformant("payments-api-prod")
}

// A proposal the gate cannot judge (here the policy does not validate) fails closed:
// the status is error, the pull request says why, and Gitea refuses the merge.
func TestPullRequestModeUnjudgeableIsError(t *testing.T) {
	h := newHarness(t)
	srv := giteatest.New(t)
	f, a := h.giteaGate(srv, "", "apiVersion: promotion-gate.io/v1alpha1\nkind: PromotionPolicy\nmetadata: {name: broken}\nspec: {rules: [{name: x, environments: [nowhere]}]}\n")
	p := h.iacPush(f, a, map[string]string{
		overlayPath("payments-api"): prodOverlay("payments-api", "ghcr.io/example/payments-api", "1.9.1", digestC),
	})
	g := h.waitReady("payments-api-prod", metav1.ConditionFalse, gatev1.PolicyInvalidReason)
	h.g.Expect(g.Status.PullRequest).NotTo(BeNil())
	h.g.Expect(g.Status.PullRequest.Commit).To(Equal(p))
	h.g.Expect(g.Status.PullRequest.State).To(Equal("error"))
	statuses, err := srv.Statuses(h.ctx, "fleet", p)
	h.g.Expect(err).NotTo(HaveOccurred())
	h.g.Expect(string(statuses[0].State)).To(Equal("error"))
	h.g.Expect(statuses[0].Description).To(HavePrefix("could not judge"))
	onForge, err := srv.Pull(h.ctx, "fleet", g.Status.PullRequest.Number)
	h.g.Expect(err).NotTo(HaveOccurred())
	h.g.Expect(onForge.Body).To(ContainSubstring("could not be judged"))
	code, err := srv.Merge(h.ctx, "erin", "fleet", g.Status.PullRequest.Number)
	h.g.Expect(err).NotTo(HaveOccurred())
	h.g.Expect(code).To(Equal(http.StatusMethodNotAllowed))
}

// A forge that deletes the merged branch (GitHub's "automatically delete head
// branches") leaves no proposal branch: the gate still finds the merge of the commit
// it last posted on, and records it.
func TestPullRequestModeMergedBranchDeleted(t *testing.T) {
	h := newHarness(t)
	srv := giteatest.New(t)
	f, a := h.giteaGate(srv, "", basePolicy)
	main := h.head(f, "main")
	good := h.iacPush(f, a, map[string]string{
		overlayPath("payments-api"): prodOverlay("payments-api", "ghcr.io/example/payments-api", "1.9.1", digestC),
	})
	g := h.waitReady("payments-api-prod", metav1.ConditionTrue, gatev1.AwaitingMergeReason)
	number := g.Status.PullRequest.Number
	h.g.Expect(srv.Approve(h.ctx, "dana", "fleet", number)).To(Succeed())
	code, err := srv.MergeDeletingBranch(h.ctx, "erin", "fleet", number)
	h.g.Expect(err).NotTo(HaveOccurred())
	h.g.Expect(code).To(Equal(http.StatusOK))
	h.g.Expect(h.head(f, "automation/payments-api-prod")).To(BeEmpty(), "Gitea deleted the merged branch")

	h.poke("payments-api-prod")
	h.g.Eventually(func(gm Gomega) {
		g = h.getGate("payments-api-prod")
		c := conditions.Get(g, meta.ReadyCondition)
		gm.Expect(c).NotTo(BeNil())
		gm.Expect(c.Reason).To(Equal(gatev1.PromotedReason), "Ready: %s", c.Message)
		gm.Expect(g.Status.LastPromotion).NotTo(BeNil())
	}).Should(Succeed())
	lp := g.Status.LastPromotion
	h.g.Expect(lp.Commit).To(Equal(good))
	h.g.Expect(lp.PreviousCommit).To(Equal(main))
	h.g.Expect(lp.MergedBy).To(Equal("erin"))
	h.g.Expect(lp.ApprovedBy).To(Equal([]string{"dana"}))
	h.waitEvent("payments-api-prod", corev1.EventTypeNormal, gatev1.PromotedReason, good, "merged by erin")
	rec := h.recordOn(f, record.Promotion, good)
	h.g.Expect(rec.rec.Approval.PullRequest.MergedBy).To(Equal("erin"))
	h.g.Expect(rec.rec.Approval.PullRequest.ApprovedBy).To(Equal([]string{"dana"}))

	// The next look finds no proposal and keeps the record.
	token := h.poke("payments-api-prod")
	g = h.waitHandled("payments-api-prod", token)
	h.g.Expect(g.Status.LastPromotion.MergedBy).To(Equal("erin"))
	h.g.Expect(conditions.IsTrue(g, meta.ReadyCondition)).To(BeTrue())
}

// Rollbacks stick in pullRequest mode too: a promotion a person merged is recorded,
// so when someone reverts it on main the gate records the rollback, and the same
// digest proposed again gets failure on its pull request (Gitea refuses the merge)
// until the annotation releases it; then a person's merge promotes it and records it.
func TestPullRequestModeRollbackSticks(t *testing.T) {
	h := newHarness(t)
	srv := giteatest.New(t)
	f, a := h.giteaGate(srv, "", basePolicy)
	overlay := map[string]string{overlayPath("payments-api"): prodOverlay("payments-api", "ghcr.io/example/payments-api", "1.9.1", digestC)}

	// 1. Promoted through a merged pull request, and recorded.
	p1 := h.iacPush(f, a, overlay)
	g := h.waitReady("payments-api-prod", metav1.ConditionTrue, gatev1.AwaitingMergeReason)
	first := g.Status.PullRequest.Number
	h.g.Expect(srv.Approve(h.ctx, "dana", "fleet", first)).To(Succeed())
	h.g.Expect(srv.Merge(h.ctx, "erin", "fleet", first)).To(Equal(http.StatusOK))
	h.poke("payments-api-prod")
	h.waitReady("payments-api-prod", metav1.ConditionTrue, gatev1.PromotedReason)
	r1 := h.recordOn(f, record.Promotion, p1)

	// 2. A person reverts it on main (an administrator lifts the protection for it).
	h.g.Expect(srv.Unprotect(h.ctx, "fleet", "main")).To(Succeed())
	revert, err := f.human.Commit(h.ctx, "main", "main", map[string]string{
		overlayPath("payments-api"): prodOverlay("payments-api", "ghcr.io/example/payments-api", "1.8.3", digestA)}, `Revert "Update image"`)
	h.g.Expect(err).NotTo(HaveOccurred())
	h.g.Expect(srv.Protect(h.ctx, "fleet", "main", prodContext)).To(Succeed())
	h.poke("payments-api-prod")
	rb := h.recordOn(f, record.Rollback, revert)
	h.g.Expect(rb.rec.Rollback.Digests).To(Equal([]string{digestC}))
	h.g.Expect(rb.rec.Rollback.Promotion).To(Equal(r1.tag.Name), "the merged promotion is the one rolled back")

	// 3. The same digest again: failure on its pull request, and the merge is refused.
	h.deleteBranch(f, "automation/payments-api-prod")
	p2 := h.iacPush(f, a, overlay)
	g = h.waitReady("payments-api-prod", metav1.ConditionFalse, gatev1.RolledBackReason)
	h.g.Expect(g.Status.PullRequest.Commit).To(Equal(p2))
	h.g.Expect(g.Status.PullRequest.State).To(Equal("failure"))
	second := g.Status.PullRequest.Number
	onForge, err := srv.Pull(h.ctx, "fleet", second)
	h.g.Expect(err).NotTo(HaveOccurred())
	h.g.Expect(onForge.Body).To(ContainSubstring("### Held: it brings back a rolled-back digest"))
	h.g.Expect(onForge.Body).To(ContainSubstring("is allowed by the policy but brings back a digest rolled back on main"))
	h.g.Expect(onForge.Body).To(ContainSubstring(revert))
	h.g.Expect(srv.Approve(h.ctx, "dana", "fleet", second)).To(Succeed())
	h.g.Expect(srv.Merge(h.ctx, "erin", "fleet", second)).To(Equal(http.StatusMethodNotAllowed))
	h.g.Expect(srv.Head(h.ctx, "fleet", "main")).To(Equal(revert))
	h.waitEvent("payments-api-prod", corev1.EventTypeWarning, gatev1.RolledBackReason, revert, digestC)

	// 4. Released by the annotation: success, a person merges, the promotion is recorded
	// with the release, and the hold ends.
	cur := h.getGate("payments-api-prod")
	patched := cur.DeepCopy()
	patched.Annotations = map[string]string{gatev1.ReleaseRollbackAnnotation: digestC}
	h.g.Expect(k8s.Patch(h.ctx, patched, client.MergeFrom(cur))).To(Succeed())
	h.waitReady("payments-api-prod", metav1.ConditionTrue, gatev1.AwaitingMergeReason)
	h.g.Expect(srv.Merge(h.ctx, "erin", "fleet", second)).To(Equal(http.StatusOK))
	h.poke("payments-api-prod")
	h.waitReady("payments-api-prod", metav1.ConditionTrue, gatev1.PromotedReason)
	r2 := h.recordOn(f, record.Promotion, p2)
	h.g.Expect(r2.rec.Approval.PullRequest.MergedBy).To(Equal("erin"))
	h.g.Expect(r2.rec.RollbackCommit).To(Equal(revert))
	h.g.Expect(r2.rec.Verdict.Warnings).To(ContainElement(ContainSubstring("released by annotation")))
	h.g.Eventually(func() []gatev1.RolledBackDigest { return h.getGate("payments-api-prod").Status.RolledBack }).Should(BeEmpty(),
		"a promotion after the rollback ends the hold")
}
