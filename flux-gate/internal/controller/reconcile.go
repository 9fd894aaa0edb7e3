package controller

import (
	"context"
	"errors"
	"fmt"

	"github.com/fluxcd/pkg/apis/meta"
	"github.com/fluxcd/pkg/runtime/conditions"
	"github.com/fluxcd/pkg/runtime/patch"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	ctrl "sigs.k8s.io/controller-runtime"

	gatev1 "github.com/promotion-gate/promotion-gate/flux-gate/api/v1alpha1"
	"github.com/promotion-gate/promotion-gate/flux-gate/internal/git"
	"github.com/promotion-gate/promotion-gate/shared/check"
	"github.com/promotion-gate/promotion-gate/shared/evaluate"
)

// reconcile does the work in the order a person would explain it: read the
// automation, read the policy, fetch the target head T and the proposal head P,
// decide whether there is anything to promote, evaluate P, then promote or hold.
func (r *PromotionGateReconciler) reconcile(ctx context.Context, gate *gatev1.PromotionGate, patcher *patch.SerialPatcher, note *notification) (ctrl.Result, error) {
	log := ctrl.LoggerFrom(ctx)

	// 1. The automation: where it pushes, which branch we promote to, credentials.
	auto, err := r.readAutomation(ctx, gate)
	if err != nil {
		return ctrl.Result{}, err
	}
	// In pullRequest mode, the forge the gate posts to (pullrequest.go); nil in push mode.
	fs, err := r.openForge(ctx, gate, auto)
	if err != nil {
		return ctrl.Result{}, err
	}

	// 2. The policy. A broken policy does not stop us from reporting the proposal,
	// but it will hold it (fail closed).
	set, policyErr := r.loadPolicy(ctx)

	// 3. The heads, from a cached clone brought up to date incrementally. The
	// session serialises everything up to the push with the other gates of the
	// same repository.
	sess, err := r.Git.Open(ctx, auto.url, auto.auth)
	if err != nil {
		return ctrl.Result{}, reasonf(gatev1.GitOperationFailedReason, err, "open clone")
	}
	defer sess.Close()
	fetched, err := sess.Fetch(ctx)
	if err != nil {
		return ctrl.Result{}, &reasonError{reason: gatev1.GitOperationFailedReason, err: err}
	}
	r.Metrics.FetchedBytes.WithLabelValues(auto.source.Namespace, auto.source.Name).Add(float64(fetched.Bytes))
	target, err := sess.Head(auto.target)
	if errors.Is(err, git.ErrBranchNotFound) {
		return ctrl.Result{}, waitf(gatev1.GitOperationFailedReason, "target branch %s does not exist in %s", auto.target, git.Redact(auto.url))
	}
	if err != nil {
		return ctrl.Result{}, &reasonError{reason: gatev1.GitOperationFailedReason, err: err}
	}
	// Records (record.go, rollback.go): finish a pending record, record rollbacks of
	// the digests the gate promoted, list the digests held as rolled back.
	if err := r.reconcileRecords(ctx, gate, auto, sess, target); err != nil {
		return ctrl.Result{}, err
	}
	proposal, err := sess.Head(auto.proposal)
	if errors.Is(err, git.ErrBranchNotFound) && fs != nil {
		// pullRequest mode: the forge may have deleted the branch it merged (pullrequest.go).
		handled, err := r.recordMergeOfDeletedBranch(ctx, gate, auto, fs, sess, set, target, note)
		if err != nil {
			return ctrl.Result{}, err
		}
		if handled {
			gate.Status.Proposal = &gatev1.Proposal{Branch: auto.proposal}
			return ctrl.Result{RequeueAfter: gate.GetRequeueAfter()}, nil
		}
	}
	if errors.Is(err, git.ErrBranchNotFound) {
		gate.Status.Proposal = &gatev1.Proposal{Branch: auto.proposal}
		r.setHeld(gate, false)
		conditions.MarkTrue(gate, meta.ReadyCondition, gatev1.UpToDateReason,
			"no proposal: branch %s does not exist; %s is at %s", auto.proposal, auto.target, short(target))
		return ctrl.Result{RequeueAfter: gate.GetRequeueAfter()}, nil
	}
	if err != nil {
		return ctrl.Result{}, &reasonError{reason: gatev1.GitOperationFailedReason, err: err}
	}
	gate.Status.Proposal = &gatev1.Proposal{Branch: auto.proposal, Commit: proposal}

	// 4. Anything to promote? The proposal must be ahead of the target; if the
	// target moved past the proposal's base, the proposal is stale.
	ahead, err := sess.IsAncestor(target, proposal)
	if err != nil {
		return ctrl.Result{}, &reasonError{reason: gatev1.GitOperationFailedReason, err: err}
	}
	if !ahead || target == proposal {
		contained, err := sess.IsAncestor(proposal, target)
		if err != nil {
			return ctrl.Result{}, &reasonError{reason: gatev1.GitOperationFailedReason, err: err}
		}
		if contained && fs != nil {
			// pullRequest mode: a person's merge brought it in; record who (pullrequest.go).
			handled, err := r.recordMerge(ctx, gate, auto, fs, sess, set, target, proposal, note)
			if err != nil {
				return ctrl.Result{}, err
			}
			if handled {
				return ctrl.Result{RequeueAfter: gate.GetRequeueAfter()}, nil
			}
		}
		if contained {
			if fs == nil { // in pullRequest mode the gate pushes nothing it could have been interrupted in
				r.completeInterruptedPromotion(gate, auto, target, proposal)
			}
			r.setHeld(gate, false)
			// Keep saying Promoted while the proposal is the one this gate promoted,
			// so that Ready does not flip at the next interval.
			if lp := gate.Status.LastPromotion; lp != nil && lp.Commit == proposal {
				conditions.MarkTrue(gate, meta.ReadyCondition, gatev1.PromotedReason,
					"promoted %s to %s (was %s)", short(proposal), auto.target, short(lp.PreviousCommit))
			} else {
				conditions.MarkTrue(gate, meta.ReadyCondition, gatev1.UpToDateReason,
					"%s at %s contains proposal %s", auto.target, short(target), short(proposal))
			}
			return ctrl.Result{RequeueAfter: gate.GetRequeueAfter()}, nil
		}
		if auto.branchSource { // the target has commits the source lacks (source.go)
			return r.holdDrift(gate, auto, sess, target, proposal)
		}
		return r.handleStale(ctx, gate, auto, sess, target, proposal, note)
	}

	// 5. Evaluate exactly the proposal commit.
	if fs != nil {
		if err := r.postPending(ctx, gate, fs, proposal); err != nil {
			return ctrl.Result{}, err
		}
	}
	out := r.evaluateProposal(ctx, sess, gate, auto, set, policyErr, target, proposal)
	res := out.Result
	r.recordEvaluation(gate, res, out.Files, target, proposal)
	if fs != nil {
		// pullRequest mode: status and pull request; the gate never writes the target.
		return r.proposePullRequest(ctx, gate, auto, fs, sess, set, out, target, proposal, note)
	}
	if res.Verdict == evaluate.Denied {
		r.setHeld(gate, true)
		conditions.MarkFalse(gate, meta.ReadyCondition, holdReason(out.Reason), "%s", holdMessage(auto, proposal, res))
		note.message = holdEvent(auto, proposal, res)
		return ctrl.Result{RequeueAfter: gate.GetRequeueAfter()}, nil
	}
	held, releases := rolledBack(gate, set, imageList(res), r.now()) // rollbacks stick (rollback.go)
	if len(held) > 0 {
		r.setHeld(gate, true)
		note.message = rolledBackMessage(gate, auto, proposal, held)
		conditions.MarkFalse(gate, meta.ReadyCondition, gatev1.RolledBackReason, "%s", note.message)
		return ctrl.Result{RequeueAfter: gate.GetRequeueAfter()}, nil
	}

	// 6. Promote: record what is about to happen first, so that a restart between
	// the push and the final status patch can complete the record, then push P
	// as a fast-forward that fails if the target moved.
	conditions.MarkReconciling(gate, meta.ProgressingReason, "promoting %s to %s", short(proposal), auto.target)
	rec := r.promotionRecord(gate, auto, sess, set, out, target, proposal)
	rec.Verdict.Warnings = append(rec.Verdict.Warnings, releases...) // rollback releases (rollback.go)
	if err := setPendingRecord(gate, rec); err != nil {
		return ctrl.Result{}, err
	}
	if err := patcher.Patch(ctx, gate, patch.WithOwnedConditions{Conditions: ownedConditions}, patch.WithFieldOwner(ControllerName)); err != nil {
		return ctrl.Result{}, fmt.Errorf("record evaluation before promoting: %w", err)
	}
	err = sess.Push(ctx, proposal, auto.target, target)
	switch {
	case errors.Is(err, git.ErrRefMoved):
		r.Metrics.Promotions.WithLabelValues(gate.Namespace, gate.Name, "target_moved").Inc()
		log.Info("target moved during promotion; evaluating again", "error", err.Error())
		gate.Status.PendingRecord = nil
		conditions.MarkFalse(gate, meta.ReadyCondition, gatev1.TargetMovedReason,
			"%s moved while %s was evaluated; nothing was pushed, evaluating again", auto.target, short(proposal))
		return ctrl.Result{RequeueAfter: r.retryInterval()}, nil
	case err != nil:
		r.Metrics.Promotions.WithLabelValues(gate.Namespace, gate.Name, "failed").Inc()
		return ctrl.Result{}, &reasonError{reason: gatev1.GitOperationFailedReason, err: err}
	}
	r.Metrics.Promotions.WithLabelValues(gate.Namespace, gate.Name, "promoted").Inc()
	r.recordPromotion(gate, auto, res, target, proposal)
	r.setHeld(gate, false)
	conditions.MarkTrue(gate, meta.ReadyCondition, gatev1.PromotedReason, "promoted %s to %s (was %s)", short(proposal), auto.target, short(target))
	note.message = promotedEvent(auto, res, target, proposal)
	for _, line := range releases {
		note.message += "; " + line
	}
	// The branch moved: write its record now; a failure stays pending in status.
	if err := r.finishPendingRecord(ctx, gate, auto, sess, proposal); err != nil {
		note.message += "; its record is pending: " + err.Error()
		return ctrl.Result{}, err
	}
	if lr := gate.Status.LastRecord; lr != nil && lr.Commit == proposal {
		note.message += "; record " + lr.Tag
	}
	return ctrl.Result{RequeueAfter: gate.GetRequeueAfter()}, nil
}

// holdReason is the Ready reason of a held proposal: the engine's reason, which the
// API spells the same way; a reason this controller does not know holds as a failed
// evaluation.
func holdReason(reason check.Reason) string {
	switch reason {
	case check.ReasonPolicyViolation:
		return gatev1.PolicyViolationReason
	case check.ReasonPolicyInvalid:
		return gatev1.PolicyInvalidReason
	}
	return gatev1.EvaluationFailedReason
}

// completeInterruptedPromotion records a promotion whose push succeeded but whose
// status was never written (the controller stopped in between): the target is at
// the commit last evaluated and allowed, and no promotion of it is on record.
func (r *PromotionGateReconciler) completeInterruptedPromotion(gate *gatev1.PromotionGate, auto *automation, target, proposal string) {
	ev := gate.Status.LastEvaluation
	if target != proposal || ev == nil || ev.Commit != proposal || ev.Verdict == string(evaluate.Denied) {
		return
	}
	if lp := gate.Status.LastPromotion; lp != nil && lp.Commit == proposal {
		return
	}
	gate.Status.LastPromotion = &gatev1.Promotion{
		Branch:         auto.target,
		Commit:         proposal,
		PreviousCommit: ev.TargetCommit,
		Images:         ev.Images,
		PolicyRevision: ev.PolicyRevision,
		Time:           metav1.NewTime(r.now()),
	}
}

func (r *PromotionGateReconciler) setHeld(gate *gatev1.PromotionGate, held bool) {
	v := 0.0
	if held {
		v = 1
	}
	r.Metrics.Held.WithLabelValues(gate.Namespace, gate.Name).Set(v)
}

// short abbreviates a commit hash for messages; status fields keep it whole.
func short(hash string) string {
	if len(hash) > 12 {
		return hash[:12]
	}
	return hash
}
