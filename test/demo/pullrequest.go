package demo

// Chapter 9: pull-request mode on a real forge. A real Gitea, served over HTTPS with a
// CA made for the run, protects main as production is protected: nobody pushes to it,
// and a merge needs the status promotion-gate/prod to be success. Flux proposes;
// flux-gate, in pullRequest mode, never writes main: it posts the status on each
// proposal commit and keeps one pull request open with its report. :latest gets
// failure and Gitea refuses the merge; a digest gets success, and a person's merge
// lands it; the gate records who merged and who approved.

import (
	"context"
	"fmt"
	"io/fs"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"time"

	imagev1 "github.com/fluxcd/image-automation-controller/api/v1"
	"github.com/fluxcd/pkg/apis/meta"
	sourcev1 "github.com/fluxcd/source-controller/api/v1"
	corev1 "k8s.io/api/core/v1"
	apimeta "k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	gatev1 "github.com/promotion-gate/promotion-gate/flux-gate/api/v1alpha1"
	"github.com/promotion-gate/promotion-gate/shared/forge/giteatest"
	"github.com/promotion-gate/promotion-gate/shared/record"
)

const (
	prGate     = "payments-api-prod-pr"
	prBranch   = "automation/payments-api-prod-pr"
	prContext  = "promotion-gate/prod"
	prRepo     = "platform-config"
	prApprover = "dana"
	prMerger   = "erin"
)

// PullRequests is chapter 9's evidence.
type PullRequests struct {
	Forge       string // the Gitea address
	InitialMain string
	Number      int64  // the one pull request of the proposal branch
	URL         string // its page
	// The :latest proposal.
	Held, HeldStatus, HeldReady string
	HeldMergeCode               int // what Gitea answered a person's merge
	MainAfterHeld               string
	HeldBody                    string // the pull request's body then
	// The digest proposal.
	Passed, PassedStatus, PassedReady string
	MainBeforeMerge                   string
	MergeCode                         int
	MainAfter                         string
	// What the gate recorded.
	PromotedReady, MergedBy string
	ApprovedBy              []string
	Event                   string
	// The promotion record tag the merge wrote, read back from Gitea.
	RecordTag, RecordCommit string
	RecordMergedBy          string
	RecordApprovedBy        []string
	RecordWhoApproved       string // the record's "Who approved" prose
}

// pullRequests is chapter 9.
func (d *demo) pullRequests(ctx context.Context) error {
	rep := &d.rep.PullRequests
	dir := filepath.Join(d.work, "gitea")
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return err
	}
	srv, err := giteatest.StartWith(ctx, dir, giteatest.Options{TLS: true})
	if err != nil {
		return fmt.Errorf("start Gitea: %w", err)
	}
	defer func() {
		srv.Close()
		d.say("Gitea stopped")
	}()
	rep.Forge = srv.URL
	for _, u := range []string{fluxBot.Name, "flux-gate", prApprover, prMerger} {
		if err := srv.CreateUser(ctx, u); err != nil {
			return err
		}
	}
	if _, err := srv.CreateRepo(ctx, prRepo, fluxBot.Name, "flux-gate", prApprover, prMerger); err != nil {
		return err
	}
	files, err := treeFiles(filepath.Join(d.cfg.RepoRoot, "examples", "platform-config"))
	if err != nil {
		return err
	}
	if rep.InitialMain, err = srv.CommitFiles(ctx, prRepo, giteatest.Commit{User: giteatest.Admin, AuthorName: platformTeam.Name,
		AuthorEmail: platformTeam.Email, Branch: "main", Message: "payments-api: base, overlays and chart", Files: files}); err != nil {
		return err
	}
	if err := srv.Protect(ctx, prRepo, "main", prContext); err != nil {
		return err
	}
	d.field("Gitea", "%s %s: the real server, over HTTPS with a CA made for this run", giteatest.Version, srv.URL)
	d.field("", "%s/%s: main at %s, protected: no pushes, and a merge needs %s to be success", giteatest.Admin, prRepo, short(rep.InitialMain), prContext)
	d.field("people", "%s pushes proposals, flux-gate posts statuses and pull requests (write access, no admin), %s approves, %s merges",
		fluxBot.Name, prApprover, prMerger)

	if err := d.createPullRequestGate(ctx, srv); err != nil {
		return err
	}
	if _, err := d.waitPRGate(ctx, metav1.ConditionTrue, gatev1.UpToDateReason, nil); err != nil {
		return err
	}
	d.field("PromotionGate", "%s/%s: spec.promote pullRequest, spec.provider gitea with the token and the CA in a Secret", fluxNamespace, prGate)

	// :latest — failure, and the merge is refused.
	if rep.Held, err = d.proposeOnGitea(ctx, srv, "Update payments-api to latest", map[string]string{"tag": "latest"}, "digest"); err != nil {
		return err
	}
	g, err := d.waitPRGate(ctx, metav1.ConditionFalse, gatev1.PolicyViolationReason, func(g *gatev1.PromotionGate) bool {
		return g.Status.PullRequest != nil && g.Status.PullRequest.Commit == rep.Held && g.Status.PullRequest.Number > 0
	})
	if err != nil {
		return err
	}
	_, _, rep.HeldReady = ready(g)
	rep.Number = g.Status.PullRequest.Number
	if rep.HeldStatus, err = d.giteaStatus(ctx, srv, rep.Held); err != nil {
		return err
	}
	pr, err := srv.Pull(ctx, prRepo, rep.Number)
	if err != nil {
		return err
	}
	rep.URL, rep.HeldBody = pr.HTMLURL, pr.Body
	if rep.HeldMergeCode, err = srv.Merge(ctx, prMerger, prRepo, rep.Number); err != nil {
		return err
	}
	if rep.MainAfterHeld, err = srv.Head(ctx, prRepo, "main"); err != nil {
		return err
	}
	d.field("status", "%s on %s: %s", prContext, short(rep.Held), rep.HeldStatus)
	d.field("pull request", "#%d %s, its body the gate's report (first lines below)", rep.Number, rep.URL)
	d.quote(firstLines(rep.HeldBody, 4))
	d.field("merge", "%s asks Gitea to merge #%d: HTTP %d %s; main stays at %s", prMerger, rep.Number, rep.HeldMergeCode,
		http.StatusText(rep.HeldMergeCode), short(rep.MainAfterHeld))
	d.field("Ready", "%s", rep.HeldReady)
	if rep.HeldMergeCode != http.StatusMethodNotAllowed || rep.MainAfterHeld != rep.InitialMain {
		return fmt.Errorf("Gitea must refuse the merge of a failing proposal (405) and keep main at %s; it answered %d and main is at %s",
			short(rep.InitialMain), rep.HeldMergeCode, short(rep.MainAfterHeld))
	}

	// A digest — success, and a person's merge lands it.
	digest := d.rep.Digests["1.9.0"]
	if rep.Passed, err = d.proposeOnGitea(ctx, srv, "Update payments-api to 1.9.0", map[string]string{"tag": "1.9.0", "digest": digest}); err != nil {
		return err
	}
	if g, err = d.waitPRGate(ctx, metav1.ConditionTrue, gatev1.AwaitingMergeReason, func(g *gatev1.PromotionGate) bool {
		return g.Status.PullRequest != nil && g.Status.PullRequest.Commit == rep.Passed
	}); err != nil {
		return err
	}
	_, _, rep.PassedReady = ready(g)
	if rep.PassedStatus, err = d.giteaStatus(ctx, srv, rep.Passed); err != nil {
		return err
	}
	if rep.MainBeforeMerge, err = srv.Head(ctx, prRepo, "main"); err != nil {
		return err
	}
	d.field("status", "%s on %s: %s", prContext, short(rep.Passed), rep.PassedStatus)
	d.field("Ready", "%s", rep.PassedReady)
	d.say("flux-gate did not touch main (still %s): in pullRequest mode the gate decides and a person merges.", short(rep.MainBeforeMerge))
	if err := srv.Approve(ctx, prApprover, prRepo, rep.Number); err != nil {
		return err
	}
	if rep.MergeCode, err = srv.Merge(ctx, prMerger, prRepo, rep.Number); err != nil {
		return err
	}
	if rep.MainAfter, err = srv.Head(ctx, prRepo, "main"); err != nil {
		return err
	}
	d.field("review", "%s approves #%d", prApprover, rep.Number)
	d.field("merge", "%s merges #%d, fast-forward only: HTTP %d; main is now %s, the commit judged", prMerger, rep.Number, rep.MergeCode, short(rep.MainAfter))
	if err := d.reconcilePRGate(ctx); err != nil {
		return err
	}
	if g, err = d.waitPRGate(ctx, metav1.ConditionTrue, gatev1.PromotedReason, func(g *gatev1.PromotionGate) bool {
		return g.Status.LastPromotion != nil && g.Status.LastPromotion.Commit == rep.Passed
	}); err != nil {
		return err
	}
	_, _, rep.PromotedReady = ready(g)
	rep.MergedBy, rep.ApprovedBy = g.Status.LastPromotion.MergedBy, g.Status.LastPromotion.ApprovedBy
	d.field("Ready", "%s", rep.PromotedReady)
	d.field("recorded", "status.lastPromotion: merged by %s, approved by %s, %s", rep.MergedBy, strings.Join(rep.ApprovedBy, ", "), g.Status.LastPromotion.PullRequest)
	if rep.Event, err = d.waitPREvent(ctx, "Normal", gatev1.PromotedReason, "merged by"); err != nil {
		return err
	}
	d.say("The Normal event on PromotionGate %s/%s:", fluxNamespace, prGate)
	d.quote(rep.Event)
	if err := d.readPRRecord(ctx, srv, rep); err != nil {
		return err
	}
	if rep.MainAfter != rep.Passed {
		return fmt.Errorf("main must be exactly the commit judged, %s; it is %s", short(rep.Passed), short(rep.MainAfter))
	}
	// The forge stops with this chapter: the gate is suspended first, so it does not
	// keep asking a server that is gone.
	return d.suspendPRGate(ctx)
}

// readPRRecord waits for the promotion record the merge wrote and reads its tag back
// from Gitea: the seed's third question, answered by people's names, in Git.
func (d *demo) readPRRecord(ctx context.Context, srv *giteatest.Server, rep *PullRequests) error {
	g, err := d.waitPRGate(ctx, metav1.ConditionTrue, gatev1.PromotedReason, func(g *gatev1.PromotionGate) bool {
		return g.Status.LastRecord != nil && g.Status.LastRecord.Commit == rep.Passed
	})
	if err != nil {
		return err
	}
	rep.RecordTag = g.Status.LastRecord.Tag
	api, err := srv.Client(ctx, giteatest.Admin)
	if err != nil {
		return err
	}
	tag, _, err := api.GetTag(giteatest.Admin, prRepo, rep.RecordTag)
	if err != nil {
		return fmt.Errorf("read the record tag %s from Gitea: %w", rep.RecordTag, err)
	}
	rec, err := record.Parse([]byte(tag.Message))
	if err != nil {
		return fmt.Errorf("the record tag %s does not hold a record: %w", rep.RecordTag, err)
	}
	if tag.Commit != nil {
		rep.RecordCommit = tag.Commit.SHA
	}
	if pr := rec.Approval.PullRequest; pr != nil {
		rep.RecordMergedBy, rep.RecordApprovedBy = pr.MergedBy, pr.ApprovedBy
	}
	md := record.Markdown(rec)
	if i := strings.Index(md, "### Who approved"); i >= 0 {
		rep.RecordWhoApproved = md[i:]
		if j := strings.Index(rep.RecordWhoApproved[1:], "\n### "); j >= 0 {
			rep.RecordWhoApproved = rep.RecordWhoApproved[:j+1]
		}
	}
	d.field("record", "tag %s on %s, in Git; its \"Who approved\":", rep.RecordTag, short(rep.RecordCommit))
	d.quote(strings.TrimSpace(rep.RecordWhoApproved))
	return nil
}

// createPullRequestGate creates the Secrets, the GitRepository, the automation and
// the PromotionGate in pullRequest mode.
func (d *demo) createPullRequestGate(ctx context.Context, srv *giteatest.Server) error {
	token, err := srv.Token(ctx, "flux-gate")
	if err != nil {
		return err
	}
	gitSecret := &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Name: "platform-config-gitea", Namespace: fluxNamespace},
		Data: srv.SecretData(fluxBot.Name)}
	forgeSecret := &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Name: "gitea-status-token", Namespace: fluxNamespace},
		Data: map[string][]byte{"token": []byte(token), "ca.crt": srv.CA}}
	repo := &sourcev1.GitRepository{
		ObjectMeta: metav1.ObjectMeta{Name: "platform-config-gitea", Namespace: fluxNamespace},
		Spec: sourcev1.GitRepositorySpec{URL: srv.GitURL(prRepo), Interval: metav1.Duration{Duration: time.Minute},
			Reference: &sourcev1.GitRepositoryRef{Branch: "main"}, SecretRef: &meta.LocalObjectReference{Name: gitSecret.Name}},
	}
	auto, gate := gatedAutomation(prGate, repo.Name, prBranch)
	gate.Spec.Promote = gatev1.PromotePullRequest
	gate.Spec.Provider = &gatev1.ForgeProvider{Type: "gitea", SecretRef: meta.LocalObjectReference{Name: forgeSecret.Name},
		StatusContext: prContext}
	for _, o := range []client.Object{gitSecret, forgeSecret, repo, auto, gate} {
		if err := d.cluster.k8s.Create(ctx, o); err != nil {
			return fmt.Errorf("create %T %s: %w", o, o.GetName(), err)
		}
	}
	return nil
}

// proposeOnGitea plays image-automation-controller on the Gitea repository: the
// setter change committed as fluxcdbot to the proposal branch, and the push recorded
// in the automation's status.
func (d *demo) proposeOnGitea(ctx context.Context, srv *giteatest.Server, message string, set map[string]string, drop ...string) (string, error) {
	// The setters apply to main's file: the :latest proposal dropped the digest field
	// with its marker, and the next one puts it back on top of the branch.
	data, err := srv.ReadFile(ctx, prRepo, "main", prodKustomize)
	if err != nil {
		return "", err
	}
	if data, err = applySetters(data, imagePolicy, set, drop...); err != nil {
		return "", fmt.Errorf("%s: %w", prodKustomize, err)
	}
	commit, err := srv.CommitFiles(ctx, prRepo, giteatest.Commit{User: fluxBot.Name, AuthorName: fluxBot.Name, AuthorEmail: fluxBot.Email,
		Base: "main", Branch: prBranch, Message: message, Files: map[string]string{prodKustomize: string(data)}})
	if err != nil {
		return "", err
	}
	d.say("The demo plays image-automation-controller: %q, committed as %s to %s on Gitea.", message, fluxBot.Name, prBranch)
	d.field("proposal", "%s on %s", commit, prBranch)
	auto := &imagev1.ImageUpdateAutomation{}
	key := client.ObjectKey{Namespace: fluxNamespace, Name: prGate}
	if err := d.cluster.k8s.Get(ctx, key, auto); err != nil {
		return "", fmt.Errorf("read ImageUpdateAutomation %s: %w", key, err)
	}
	before := auto.DeepCopy()
	now := metav1.Now()
	auto.Status.LastPushCommit, auto.Status.LastPushTime = commit, &now
	if err := d.cluster.k8s.Status().Patch(ctx, auto, client.MergeFrom(before)); err != nil {
		return "", fmt.Errorf("set status.lastPushCommit of ImageUpdateAutomation %s: %w", key, err)
	}
	return commit, nil
}

// giteaStatus is the newest status of prContext on commit, as Gitea shows it.
func (d *demo) giteaStatus(ctx context.Context, srv *giteatest.Server, commit string) (string, error) {
	st, err := srv.Statuses(ctx, prRepo, commit)
	if err != nil {
		return "", err
	}
	for _, s := range st {
		if s.Context == prContext {
			return fmt.Sprintf("%s — %s", s.State, s.Description), nil
		}
	}
	return "", fmt.Errorf("Gitea shows no status %s on %s", prContext, short(commit))
}

// waitPRGate waits for chapter 9's gate as waitGate does for the first one.
func (d *demo) waitPRGate(ctx context.Context, status metav1.ConditionStatus, reason string, done func(*gatev1.PromotionGate) bool) (*gatev1.PromotionGate, error) {
	key := client.ObjectKey{Namespace: fluxNamespace, Name: prGate}
	var g *gatev1.PromotionGate
	err := d.waitFor(ctx, fmt.Sprintf("PromotionGate %s to be Ready=%s (%s)", key, status, reason), func() (bool, string, error) {
		if err := d.fluxGate.running(); err != nil {
			return false, "", err
		}
		g = &gatev1.PromotionGate{}
		if err := d.cluster.k8s.Get(ctx, key, g); err != nil {
			return false, err.Error(), nil
		}
		c := apimeta.FindStatusCondition(g.Status.Conditions, meta.ReadyCondition)
		if c == nil {
			return false, "no Ready condition", nil
		}
		return c.Status == status && c.Reason == reason && g.Status.ObservedGeneration == g.Generation && (done == nil || done(g)),
			fmt.Sprintf("Ready=%s %s: %s", c.Status, c.Reason, c.Message), nil
	})
	return g, err
}

// waitPREvent waits for an event on chapter 9's gate.
func (d *demo) waitPREvent(ctx context.Context, eventType, reason, text string) (string, error) {
	var msg string
	err := d.waitFor(ctx, fmt.Sprintf("a %s event %s on PromotionGate %s", eventType, reason, prGate), func() (bool, string, error) {
		var list corev1.EventList
		if err := d.cluster.k8s.List(ctx, &list, client.InNamespace(fluxNamespace)); err != nil {
			return false, err.Error(), nil
		}
		for _, e := range list.Items {
			if e.InvolvedObject.Name == prGate && e.Type == eventType && e.Reason == reason && strings.Contains(e.Message, text) {
				msg = e.Message
				return true, "", nil
			}
		}
		return false, fmt.Sprintf("%d events", len(list.Items)), nil
	})
	return msg, err
}

// reconcilePRGate asks chapter 9's gate to look again, as `flux reconcile` does:
// the gate does not watch the forge, and the merge happened there.
func (d *demo) reconcilePRGate(ctx context.Context) error {
	return d.patchPRGate(ctx, func(g *gatev1.PromotionGate) {
		if g.Annotations == nil {
			g.Annotations = map[string]string{}
		}
		g.Annotations[meta.ReconcileRequestAnnotation] = time.Now().Format(time.RFC3339Nano)
	})
}

func (d *demo) suspendPRGate(ctx context.Context) error {
	return d.patchPRGate(ctx, func(g *gatev1.PromotionGate) { g.Spec.Suspend = true })
}

func (d *demo) patchPRGate(ctx context.Context, change func(*gatev1.PromotionGate)) error {
	g := &gatev1.PromotionGate{}
	key := client.ObjectKey{Namespace: fluxNamespace, Name: prGate}
	if err := d.cluster.k8s.Get(ctx, key, g); err != nil {
		return fmt.Errorf("read PromotionGate %s: %w", key, err)
	}
	before := g.DeepCopy()
	change(g)
	if err := d.cluster.k8s.Patch(ctx, g, client.MergeFrom(before)); err != nil {
		return fmt.Errorf("patch PromotionGate %s: %w", key, err)
	}
	return nil
}

func firstLines(s string, n int) string {
	lines := strings.Split(strings.TrimSpace(s), "\n")
	if len(lines) > n {
		lines = lines[:n]
	}
	return strings.Join(lines, "\n")
}

// treeFiles reads every file under dir, by slash-separated relative path.
func treeFiles(dir string) (map[string]string, error) {
	files := map[string]string{}
	err := filepath.WalkDir(dir, func(p string, e fs.DirEntry, err error) error {
		if err != nil || e.IsDir() {
			return err
		}
		rel, err := filepath.Rel(dir, p)
		if err != nil {
			return err
		}
		data, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		files[filepath.ToSlash(rel)] = string(data)
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", dir, err)
	}
	return files, nil
}
