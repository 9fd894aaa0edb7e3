package controller

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net/url"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/fluxcd/pkg/apis/meta"
	"github.com/fluxcd/pkg/runtime/conditions"
	"github.com/go-git/go-git/v5/plumbing"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	ctrl "sigs.k8s.io/controller-runtime"

	gatev1 "github.com/promotion-gate/promotion-gate/flux-gate/api/v1alpha1"
	"github.com/promotion-gate/promotion-gate/flux-gate/internal/git"
	"github.com/promotion-gate/promotion-gate/shared/check"
	"github.com/promotion-gate/promotion-gate/shared/evaluate"
	"github.com/promotion-gate/promotion-gate/shared/forge"
	"github.com/promotion-gate/promotion-gate/shared/policy"
	"github.com/promotion-gate/promotion-gate/shared/record"
	"github.com/promotion-gate/promotion-gate/shared/report"
)

// Pull-request mode: the gate judges each proposal head P exactly as in push mode,
// then, instead of pushing P to the target, posts a commit status on P and keeps one
// pull request open from the proposal branch to the target with the report as its
// body. The target's branch protection requires the status: the gate decides, a
// person merges. When the target contains P through a merged pull request, the gate
// records who merged it and who approved it.

// forgeSession is what a gate in pullRequest mode posts with.
type forgeSession struct {
	client    forge.Client
	context   string
	targetURL string
}

// openForge returns the gate's forge in pullRequest mode, nil in push mode. A
// configuration that cannot work stalls the gate; a missing Secret waits for it.
func (r *PromotionGateReconciler) openForge(ctx context.Context, gate *gatev1.PromotionGate, auto *automation) (*forgeSession, error) {
	if gate.Spec.Promote != gatev1.PromotePullRequest {
		return nil, nil
	}
	p := gate.Spec.Provider
	if p == nil || p.SecretRef.Name == "" {
		return nil, stallf(gatev1.ProviderMisconfiguredReason,
			"spec.promote is pullRequest but spec.provider.secretRef is not set: name a Secret with the forge token (key token)")
	}
	repo, err := forge.ParseRepository(auto.url, forge.Provider(p.Type), p.Address)
	if err != nil {
		return nil, stallf(gatev1.ProviderMisconfiguredReason, "spec.provider: %v", err)
	}
	if u, _ := url.Parse(repo.Address); u != nil && u.Scheme == "http" && !r.AllowInsecureHTTP {
		return nil, stallf(gatev1.ProviderMisconfiguredReason,
			"the forge API address %s is plain http, where the token would travel in clear: serve the forge over https", repo.Address)
	}
	secret := &corev1.Secret{}
	key := types.NamespacedName{Namespace: gate.Namespace, Name: p.SecretRef.Name}
	if err := r.APIReader.Get(ctx, key, secret); err != nil {
		if apierrors.IsNotFound(err) {
			return nil, waitf(gatev1.AuthenticationFailedReason, "forge credentials Secret %s not found", key)
		}
		return nil, reasonf(gatev1.AuthenticationFailedReason, err, "get forge credentials Secret %s", key)
	}
	// One client per gate while its repository and Secret stay the same: a GitHub
	// App's installation token is then minted once an hour, not at every look.
	version := fmt.Sprintf("%s|%s|%s|%s/%s|%s", secret.UID, secret.ResourceVersion, repo.Address, repo.Owner, repo.Name, repo.Provider)
	client, ok := r.forgeClients.get(gate, version)
	if !ok {
		creds := forge.Credentials{Token: strings.TrimSpace(string(secret.Data["token"]))}
		if creds.GitHubApp, err = forge.ParseGitHubApp(secret.Data); err != nil {
			return nil, stallf(gatev1.ProviderMisconfiguredReason, "forge credentials Secret %s: %v", key, err)
		}
		client, err = forge.New(forge.Options{Repository: repo, Credentials: creds, CA: secret.Data["ca.crt"], UserAgent: ControllerName})
		if err != nil {
			return nil, stallf(gatev1.ProviderMisconfiguredReason, "forge credentials Secret %s: %v", key, err)
		}
		r.forgeClients.put(gate, version, client)
	}
	return &forgeSession{client: client, context: statusContext(gate, auto), targetURL: p.TargetURL}, nil
}

// clientCache keeps one forge client per gate, for as long as what it was made from
// (the Secret's version, the repository and the provider) is unchanged; a gate holds
// one entry at most, and a deleted gate's entry is forgotten. The zero value is ready.
type clientCache struct {
	mu      sync.Mutex
	entries map[types.NamespacedName]cachedClient
}

type cachedClient struct {
	version string
	client  forge.Client
}

func (c *clientCache) get(gate *gatev1.PromotionGate, version string) (forge.Client, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	e, ok := c.entries[types.NamespacedName{Namespace: gate.Namespace, Name: gate.Name}]
	return e.client, ok && e.version == version
}

func (c *clientCache) put(gate *gatev1.PromotionGate, version string, client forge.Client) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.entries == nil {
		c.entries = map[types.NamespacedName]cachedClient{}
	}
	c.entries[types.NamespacedName{Namespace: gate.Namespace, Name: gate.Name}] = cachedClient{version: version, client: client}
}

func (c *clientCache) forget(gate types.NamespacedName) {
	c.mu.Lock()
	defer c.mu.Unlock()
	delete(c.entries, gate)
}

// statusContext is the status' name: fixed by the gate's spec, never by a
// classification that could change between two commits, because branch protection
// requires it by name.
func statusContext(gate *gatev1.PromotionGate, auto *automation) string {
	if c := gate.Spec.Provider.StatusContext; c != "" {
		return c
	}
	if gate.Spec.Environment != "" {
		return "promotion-gate/" + gate.Spec.Environment
	}
	return "promotion-gate/" + auto.target
}

// postStatus posts a status on commit unless the same one is already posted there,
// and records it. An error is a reasonError: the gate stays not Ready and retries.
func (r *PromotionGateReconciler) postStatus(ctx context.Context, gate *gatev1.PromotionGate, fs *forgeSession,
	commit string, state forge.State, desc string) error {
	desc = truncate(desc, forge.DescriptionLimit(fs.client.Provider())*4) // the client cuts it to the forge's limit
	if pr := gate.Status.PullRequest; pr != nil && pr.Commit == commit && pr.State == string(state) &&
		pr.Context == fs.context && pr.Description == desc {
		return nil
	}
	if err := fs.client.SetStatus(ctx, forge.Status{Commit: commit, State: state, Context: fs.context,
		Description: desc, TargetURL: fs.targetURL}); err != nil {
		return &reasonError{reason: gatev1.StatusNotPostedReason, err: err}
	}
	pr := gate.Status.PullRequest
	if pr == nil || pr.Commit != commit {
		pr = &gatev1.PullRequestStatus{}
		if old := gate.Status.PullRequest; old != nil {
			pr.Number, pr.URL = old.Number, old.URL
		}
	}
	pr.Commit, pr.Context, pr.State, pr.Description = commit, fs.context, string(state), desc
	gate.Status.PullRequest = pr
	return nil
}

// postPending says the proposal is being judged, the first time the gate sees it.
func (r *PromotionGateReconciler) postPending(ctx context.Context, gate *gatev1.PromotionGate, fs *forgeSession, proposal string) error {
	if pr := gate.Status.PullRequest; pr != nil && pr.Commit == proposal {
		return nil
	}
	return r.postStatus(ctx, gate, fs, proposal, forge.Pending, "judging "+short(proposal)+" against the promotion policy")
}

// proposePullRequest acts on the verdict in pullRequest mode: the status first (the
// branch protection reads it), then the pull request whose body is the report and
// the record the merge will write. A proposal that brings back a digest a person
// rolled back is held here as in push mode (rollback.go): its status is failure.
func (r *PromotionGateReconciler) proposePullRequest(ctx context.Context, gate *gatev1.PromotionGate, auto *automation,
	fs *forgeSession, sess *git.Session, set *policy.Set, out check.PromotionOutcome, target, proposal string, note *notification) (ctrl.Result, error) {
	res := out.Result
	state, desc := forge.Verdict(res)
	var held []gatev1.RolledBackDigest
	var releases []string
	if res.Verdict != evaluate.Denied {
		held, releases = rolledBack(gate, set, imageList(res), r.now())
	}
	if len(held) > 0 {
		state, desc = forge.Failure, fmt.Sprintf("Held in %s: %s was rolled back on %s by %s; release it on the PromotionGate",
			orUnclassified(res.Environment), held[0].Digest, auto.target, short(held[0].RevertCommit))
	}
	if err := r.postStatus(ctx, gate, fs, proposal, state, desc); err != nil {
		return ctrl.Result{}, err
	}
	var md bytes.Buffer
	if err := report.Write(&md, report.Markdown, []report.Target{{Path: auto.proposal + "@" + short(proposal), Result: res}}); err != nil {
		md.Reset()
		fmt.Fprintf(&md, "(the report could not be written: %v)\n\n%s\n", err, holdMessage(auto, proposal, res))
	}
	var extra, heldWhy string
	if len(held) > 0 {
		heldWhy = "is allowed by the policy but brings back a digest rolled back on " + auto.target
		extra = "### Held: it brings back a rolled-back digest\n\n" + rolledBackMessage(gate, auto, proposal, held) + "\n"
	} else {
		extra = r.pullRequestExtra(gate, auto, sess, set, state, releases, proposal)
	}
	body := forge.Body(forge.BodyParts{
		Commit: proposal, Base: auto.target, State: state, Context: fs.context,
		Report: md.String(), Images: imageList(res), PolicyRevision: res.PolicyRevision,
		Extra: extra, Held: heldWhy,
	})
	ch, err := fs.client.EnsureChange(ctx, forge.ChangeRequest{Head: auto.proposal, Base: auto.target,
		Title: forge.Title(auto.proposal, auto.target, res.Environment), Body: body})
	if err != nil {
		return ctrl.Result{}, &reasonError{reason: gatev1.PullRequestFailedReason, err: err}
	}
	gate.Status.PullRequest.Number, gate.Status.PullRequest.URL = ch.Number, ch.URL

	if len(held) > 0 {
		r.setHeld(gate, true)
		note.message = rolledBackMessage(gate, auto, proposal, held)
		conditions.MarkFalse(gate, meta.ReadyCondition, gatev1.RolledBackReason, "%s; %s is %s on pull request #%d",
			note.message, fs.context, state, ch.Number)
		return ctrl.Result{RequeueAfter: gate.GetRequeueAfter()}, nil
	}
	if res.Verdict == evaluate.Denied {
		r.setHeld(gate, true)
		conditions.MarkFalse(gate, meta.ReadyCondition, holdReason(out.Reason), "%s; %s is %s on pull request #%d",
			holdMessage(auto, proposal, res), fs.context, state, ch.Number)
		note.message = holdEvent(auto, proposal, res)
		return ctrl.Result{RequeueAfter: gate.GetRequeueAfter()}, nil
	}
	r.setHeld(gate, false)
	conditions.MarkTrue(gate, meta.ReadyCondition, gatev1.AwaitingMergeReason,
		"%s passed (%s is %s); pull request #%d to %s awaits a person's merge: %s",
		short(proposal), fs.context, state, ch.Number, auto.target, ch.URL)
	return ctrl.Result{RequeueAfter: gate.GetRequeueAfter()}, nil
}

// recordHeading opens the pull request body's record section, which tools may look for.
const recordHeading = "### Promotion record"

// pullRequestExtra is the section after the report in the pull request body: the
// promotion record the merge will write, so that a reviewer sees what will be on
// record before approving; a held proposal has none.
func (r *PromotionGateReconciler) pullRequestExtra(gate *gatev1.PromotionGate, auto *automation, sess *git.Session,
	set *policy.Set, state forge.State, releases []string, proposal string) string {
	ev := gate.Status.LastEvaluation
	if state != forge.Success || ev == nil || ev.Commit != proposal {
		return recordHeading + "\n\nNone: the gate records only a proposal it passes, and it holds this one.\n"
	}
	// The body is compared with the forge's before it is edited: it says "this pull
	// request" rather than its number, and carries no time, so that it changes only
	// with the proposal or the verdict.
	rec := r.evaluationRecord(gate, auto, sess, set, ev, &record.PullRequest{RollbackFrom: record.RollbackFromLastJudged})
	rec.Verdict.Warnings = append(rec.Verdict.Warnings, releases...)
	md := strings.Replace(record.Markdown(rec), "- Time: "+rec.Time.UTC().Format(time.RFC3339)+"\n", "", 1)
	return fmt.Sprintf("%s\n\nWill be written when merged: the gate tags `%s` on `%s` with this record, naming who merged this pull request and who approved it, and when.\n\n%s",
		recordHeading, short(proposal), auto.target, md)
}

func orUnclassified(env string) string {
	if env == "" {
		return "unclassified"
	}
	return env
}

// recordMerge runs when the target contains the proposal in pullRequest mode: it asks
// the forge which pull request merged it, and records who merged and who approved in
// status, the event and the promotion record tag, written on the proposal commit
// through the same path as a push's (record.go: pending in status first, then the
// tag, retried until written, across restarts too).
// It returns handled=false when no merged pull request of the gate's brought the
// proposal in (the caller reports the target as up to date, as in push mode).
func (r *PromotionGateReconciler) recordMerge(ctx context.Context, gate *gatev1.PromotionGate, auto *automation,
	fs *forgeSession, sess *git.Session, set *policy.Set, target, proposal string, note *notification) (handled bool, err error) {
	if lp := gate.Status.LastPromotion; lp != nil && lp.Commit == proposal {
		return false, nil // recorded already; the caller keeps saying Promoted
	}
	ch, err := fs.client.MergedChange(ctx, auto.proposal, auto.target, proposal)
	if err != nil {
		return false, &reasonError{reason: gatev1.PullRequestFailedReason, err: err}
	}
	if ch == nil {
		return false, nil
	}
	r.setHeld(gate, false)
	ev := gate.Status.LastEvaluation
	if ev == nil || ev.Commit != proposal || ev.Verdict == string(evaluate.Denied) {
		// Branch protection should have refused this: say so to a person, loudly.
		conditions.MarkFalse(gate, meta.ReadyCondition, gatev1.MergedPastGateReason,
			"pull request #%d merged %s into %s (by %s) although the gate did not pass it: make the branch protection of %s require the status %s",
			ch.Number, short(proposal), auto.target, orUnknown(ch.MergedBy), auto.target, fs.context)
		return true, nil
	}
	pr := &record.PullRequest{Number: ch.Number, URL: ch.URL, MergedBy: ch.MergedBy, ApprovedBy: ch.ApprovedBy,
		RollbackFrom: record.RollbackFromLastJudged}
	rec := r.evaluationRecord(gate, auto, sess, set, ev, pr)
	// A merge commit names the head it replaced exactly: its first parent. A
	// fast-forward does not; the record says its rollback commit is the head judged.
	if ch.MergeCommit != "" && ch.MergeCommit != proposal {
		if c, err := sess.Commit(ch.MergeCommit); err == nil && c.NumParents() > 1 && slices.ContainsFunc(c.ParentHashes[1:],
			func(h plumbing.Hash) bool { return h.String() == proposal }) {
			pr.MergeCommit, pr.RollbackFrom = ch.MergeCommit, record.RollbackFromMergeCommit
			rec.RollbackCommit = c.ParentHashes[0].String()
		}
	}
	_, releases := rolledBack(gate, set, ev.Images, r.now())
	rec.Verdict.Warnings = append(rec.Verdict.Warnings, releases...)
	if err := setPendingRecord(gate, rec); err != nil {
		return true, err
	}
	gate.Status.LastPromotion = &gatev1.Promotion{
		Branch: auto.target, Commit: proposal, PreviousCommit: rec.RollbackCommit,
		Images: ev.Images, PolicyRevision: ev.PolicyRevision, Time: metav1.NewTime(r.now()),
		PullRequest: ch.URL, MergedBy: ch.MergedBy, ApprovedBy: ch.ApprovedBy,
	}
	r.Metrics.Promotions.WithLabelValues(gate.Namespace, gate.Name, "merged").Inc()
	by := mergedByText(ch)
	conditions.MarkTrue(gate, meta.ReadyCondition, gatev1.PromotedReason, "promoted %s to %s (was %s): pull request #%d %s",
		short(proposal), auto.target, short(rec.RollbackCommit), ch.Number, by)
	note.message = fmt.Sprintf("promoted %s to %s (previous head %s, the rollback point): pull request #%d %s; images: %s",
		proposal, auto.target, rec.RollbackCommit, ch.Number, by, strings.Join(ev.Images, ", "))
	for _, line := range releases {
		note.message += "; " + line
	}
	// The merge moved the branch: write its record now; a failure stays pending in
	// status and reconcileRecords finishes it at the next run.
	if err := r.finishPendingRecord(ctx, gate, auto, sess, target); err != nil {
		note.message = truncate(note.message+"; its record is pending: "+err.Error(), maxEventBytes)
		return true, err
	}
	if lr := gate.Status.LastRecord; lr != nil && lr.Commit == proposal {
		note.message += "; record " + lr.Tag
	}
	note.message = truncate(note.message, maxEventBytes)
	return true, nil
}

func mergedByText(ch *forge.Change) string {
	s := "merged by " + orUnknown(ch.MergedBy)
	if len(ch.ApprovedBy) > 0 {
		return s + ", approved by " + strings.Join(ch.ApprovedBy, ", ")
	}
	return s + ", with no approval on record"
}

func orUnknown(s string) string {
	if s == "" {
		return "(the forge did not say)"
	}
	return s
}

// recordMergeOfDeletedBranch runs in pullRequest mode when the proposal branch is
// gone: forges delete a merged pull request's branch when asked to (GitHub's
// "automatically delete head branches"), so the merge of the commit the gate last
// posted on is looked for there, when the target contains that commit.
func (r *PromotionGateReconciler) recordMergeOfDeletedBranch(ctx context.Context, gate *gatev1.PromotionGate, auto *automation,
	fs *forgeSession, sess *git.Session, set *policy.Set, target string, note *notification) (bool, error) {
	pr := gate.Status.PullRequest
	if pr == nil || pr.Commit == "" {
		return false, nil
	}
	contained, err := sess.IsAncestor(pr.Commit, target)
	if err != nil {
		if errors.Is(err, git.ErrBranchNotFound) {
			return false, nil
		}
		// The commit may be gone from the clone with its branch: nothing to record.
		ctrl.LoggerFrom(ctx).V(1).Info("cannot tell whether the target contains the last proposal", "commit", pr.Commit, "error", err.Error())
		return false, nil
	}
	if !contained {
		return false, nil
	}
	return r.recordMerge(ctx, gate, auto, fs, sess, set, target, pr.Commit, note)
}
