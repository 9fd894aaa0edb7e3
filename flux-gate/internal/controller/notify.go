package controller

import (
	"github.com/fluxcd/pkg/apis/meta"
	"github.com/fluxcd/pkg/runtime/conditions"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	gatev1 "github.com/promotion-gate/promotion-gate/flux-gate/api/v1alpha1"
)

// notification is what a reconciliation wants its event to say, when the Ready
// condition's message is too short (a held proposal's report, a promotion's images).
// Events leave through notify alone.
type notification struct {
	message string
	// commit is the commit the event is about when the status no longer names it
	// (a stale proposal whose branch was deleted).
	commit string
}

// eventKey is what makes an event new: the Ready status and reason, the proposal
// commit, and for a held proposal the policy revision it was judged under. The same
// key twice sends nothing, so a held commit or a failing fetch is reported once, not
// at every interval or retry.
type eventKey struct {
	status         metav1.ConditionStatus
	reason, commit string
	policyRevision string
	promotedCommit string
}

func keyOf(gate *gatev1.PromotionGate) eventKey {
	var k eventKey
	if c := conditions.Get(gate, meta.ReadyCondition); c != nil {
		k.status, k.reason = c.Status, c.Reason
	}
	if p := gate.Status.Proposal; p != nil {
		k.commit = p.Commit
	}
	if ev := gate.Status.LastEvaluation; ev != nil && k.status == metav1.ConditionFalse {
		k.policyRevision = ev.PolicyRevision
	}
	if lp := gate.Status.LastPromotion; lp != nil {
		k.promotedCommit = lp.Commit
	}
	return k
}

// progress are the not-Ready reasons that are the gate doing its job rather than
// something a person must look at: they are Normal events.
var progress = map[string]bool{gatev1.ProposalStaleReason: true, gatev1.TargetMovedReason: true}

// notify sends the one event of a reconciliation, as image-automation-controller
// does from its deferred block: a Warning on every transition to not Ready (a held
// proposal, Stalled, a failed Git operation or authentication), Normal for a
// promotion and for the gate's own progress (a stale proposal rebuilt, a target
// that moved), nothing for an unchanged state or a no-op.
func (r *PromotionGateReconciler) notify(gate *gatev1.PromotionGate, before eventKey, note *notification) {
	ready := conditions.Get(gate, meta.ReadyCondition)
	if gate.Spec.Suspend || ready == nil {
		return
	}
	after := keyOf(gate)
	if after == before {
		return
	}
	eventType := corev1.EventTypeWarning
	switch {
	case ready.Status == metav1.ConditionTrue && ready.Reason == gatev1.PromotedReason && after.promotedCommit != before.promotedCommit:
		eventType = corev1.EventTypeNormal
	case ready.Status == metav1.ConditionTrue && ready.Reason == gatev1.AwaitingMergeReason:
		eventType = corev1.EventTypeNormal // pullRequest mode: a proposal passed and waits for a merge
	case ready.Status == metav1.ConditionTrue:
		return // up to date, or still promoted: nothing happened a person needs to hear of
	case progress[ready.Reason]:
		eventType = corev1.EventTypeNormal
	}
	msg, commit := ready.Message, after.commit
	if note != nil && note.message != "" {
		msg = note.message
	}
	if note != nil && note.commit != "" {
		commit = note.commit
	}
	r.event(gate, eventType, ready.Reason, commit, "%s", msg)
}
