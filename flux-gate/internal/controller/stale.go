package controller

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/fluxcd/pkg/apis/meta"
	"github.com/fluxcd/pkg/runtime/conditions"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"

	gatev1 "github.com/promotion-gate/promotion-gate/flux-gate/api/v1alpha1"
	"github.com/promotion-gate/promotion-gate/flux-gate/internal/git"
)

// maxStaleCommits bounds the walk over a stale proposal. IAC adds one commit per
// run; a proposal longer than this is not the automation's alone.
const maxStaleCommits = 200

// handleStale deals with a proposal whose base is no longer the target's head: IAC
// reuses its push branch and never rebases it, so it would never fast-forward.
// When the automation wrote every commit on it, the branch holds nothing a person
// would miss: delete it (only if it is still at the commit we looked at) and ask
// the automation for a new run, which rebuilds it on the current target. Otherwise
// a person pushed there; hold and delete nothing.
func (r *PromotionGateReconciler) handleStale(ctx context.Context, gate *gatev1.PromotionGate, auto *automation,
	sess *git.Session, target, proposal string, note *notification) (ctrl.Result, error) {
	commits, err := sess.CommitsAhead(target, proposal, maxStaleCommits)
	if err != nil && !errors.Is(err, git.ErrTooManyCommits) {
		return ctrl.Result{}, &reasonError{reason: gatev1.GitOperationFailedReason, err: err}
	}
	foreign := ""
	if err != nil {
		foreign = fmt.Sprintf("more than %d commits", maxStaleCommits)
	}
	for _, c := range commits {
		if foreign != "" {
			break
		}
		if !r.byAutomation(auto, c) {
			foreign = fmt.Sprintf("%s by %s <%s>", short(c.Hash), c.AuthorName, c.AuthorEmail)
		}
	}

	if foreign != "" {
		r.setHeld(gate, true)
		msg := fmt.Sprintf("%s moved to %s, which %s on %s does not contain, and %s carries %s not written by the automation (%s <%s>): "+
			"rebase or merge it onto %s, or delete the branch to let the automation rebuild it",
			auto.target, short(target), short(proposal), auto.proposal, auto.proposal, foreign, auto.authorName, auto.authorEmail, auto.target)
		conditions.MarkFalse(gate, meta.ReadyCondition, gatev1.ProposalDivergedReason, "%s", msg)
		return ctrl.Result{RequeueAfter: gate.GetRequeueAfter()}, nil
	}

	err = sess.DeleteBranch(ctx, auto.proposal, proposal)
	if errors.Is(err, git.ErrRefMoved) {
		// The automation pushed again meanwhile: look at the new proposal.
		return ctrl.Result{RequeueAfter: r.retryInterval()}, nil
	}
	if err != nil {
		return ctrl.Result{}, &reasonError{reason: gatev1.GitOperationFailedReason, err: err}
	}
	token := r.now().UTC().Format("2006-01-02T15:04:05.000000000Z07:00")
	if err := r.requestAutomationRun(ctx, auto, token); err != nil {
		return ctrl.Result{}, err
	}
	gate.Status.Proposal = &gatev1.Proposal{Branch: auto.proposal}
	r.setHeld(gate, false)
	msg := fmt.Sprintf("%s moved to %s past the base of proposal %s (%d automation commit(s)); deleted branch %s and requested a new run of ImageUpdateAutomation %s to rebuild it",
		auto.target, short(target), short(proposal), len(commits), auto.proposal, auto.obj.Name)
	conditions.MarkFalse(gate, meta.ReadyCondition, gatev1.ProposalStaleReason, "%s", msg)
	// The branch is gone; the event still names the commit that was stale.
	note.message, note.commit = msg, proposal
	return ctrl.Result{RequeueAfter: gate.GetRequeueAfter()}, nil
}

// byAutomation reports whether the automation's commit author wrote c. The email
// decides (IAC requires it); the name too when the automation sets one.
func (r *PromotionGateReconciler) byAutomation(auto *automation, c git.Commit) bool {
	if !strings.EqualFold(c.AuthorEmail, auto.authorEmail) {
		return false
	}
	return auto.authorName == "" || c.AuthorName == auto.authorName
}

// requestAutomationRun sets reconcile.fluxcd.io/requestedAt on the automation, as
// `flux reconcile image update` does, so that IAC runs now instead of at its next
// interval.
func (r *PromotionGateReconciler) requestAutomationRun(ctx context.Context, auto *automation, token string) error {
	before := auto.obj.DeepCopy()
	ann := auto.obj.GetAnnotations()
	if ann == nil {
		ann = map[string]string{}
	}
	ann[meta.ReconcileRequestAnnotation] = token
	auto.obj.SetAnnotations(ann)
	if err := r.Patch(ctx, auto.obj, client.MergeFrom(before)); err != nil {
		return reasonf(gatev1.ProposalStaleReason, err, "request a run of ImageUpdateAutomation %s/%s", auto.obj.Namespace, auto.obj.Name)
	}
	return nil
}
