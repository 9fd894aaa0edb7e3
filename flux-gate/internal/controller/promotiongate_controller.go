// Package controller holds the PromotionGate reconciler: it reads the
// ImageUpdateAutomation it gates, fetches the target and proposal heads, evaluates
// the shared promotion policy on exactly the proposal commit, and fast-forwards the
// target to it or holds it, as docs/flux.md describes.
package controller

import (
	"context"
	"errors"
	"time"

	"github.com/fluxcd/pkg/apis/meta"
	"github.com/fluxcd/pkg/runtime/conditions"
	"github.com/fluxcd/pkg/runtime/events"
	"github.com/fluxcd/pkg/runtime/patch"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	kerrors "k8s.io/apimachinery/pkg/util/errors"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"

	gatev1 "github.com/promotion-gate/promotion-gate/flux-gate/api/v1alpha1"
	"github.com/promotion-gate/promotion-gate/flux-gate/internal/git"
	"github.com/promotion-gate/promotion-gate/shared/check"
	"github.com/promotion-gate/promotion-gate/shared/evaluate"
)

// ControllerName names the controller in events, field managers and logs.
const ControllerName = "flux-gate"

// PromotionGateReconciler reconciles PromotionGate objects.
type PromotionGateReconciler struct {
	client.Client
	// APIReader reads Secrets straight from the API server, so that the manager
	// does not cache every Secret of the cluster.
	APIReader client.Reader
	// EventRecorder posts Kubernetes events and, when configured with an address,
	// Flux events that notification-controller Alerts forward.
	EventRecorder events.Recorder
	Metrics       *Metrics
	// Git is the clone cache shared by every gate of this process.
	Git *git.Cache
	// PolicyNamespace is where the labelled policy ConfigMaps live.
	PolicyNamespace string
	// AllowInsecureHTTP lets Git credentials travel over http:// URLs.
	AllowInsecureHTTP bool
	// RetryInterval is how soon to look again after a push was rejected because the
	// target moved, or after a stale proposal was deleted. Zero means 2s.
	RetryInterval time.Duration
	// Now is the clock; nil means time.Now.
	Now func() time.Time
	// Verifiers configure the registry verifier of the signatures and attestations
	// clauses (check.NewVerifiers, with the policy namespace's trust material and
	// Plugins filled in); nil makes rules with those clauses fail closed.
	Verifiers *check.VerifierOptions
	// TrustDir is where policy key material given as a file is read; empty refuses
	// file references (use secretRef or configMapRef).
	TrustDir string
	// Plugins runs the rules' external plugin checks; nil makes rules with plugins
	// fail closed.
	Plugins evaluate.PluginRunner
	// WorkDir is where a proposal is written to render the roots it changes; "" means
	// the system's temporary directory.
	WorkDir string
	// Render bounds and caches the renders of those roots: MaxMemory (0 means
	// check.DefaultMaxMemory) and Cache (nil renders every root afresh).
	Render check.RenderOptions

	// Identity names who acts in promotion records (e.g. the service account);
	// "" means the controller's name.
	Identity string

	// verifiers are built once from Verifiers by SetupWithManager.
	verifiers check.Verifiers

	// policyWarnings logs the policy's warnings once per policy revision.
	policyWarnings policyWarnings

	// forgeClients keeps, in pullRequest mode, one forge client per gate.
	forgeClients clientCache
}

func (r *PromotionGateReconciler) now() time.Time {
	if r.Now != nil {
		return r.Now()
	}
	return time.Now()
}

func (r *PromotionGateReconciler) retryInterval() time.Duration {
	if r.RetryInterval > 0 {
		return r.RetryInterval
	}
	return 2 * time.Second
}

// ownedConditions are the condition types this controller writes.
var ownedConditions = []string{meta.ReadyCondition, meta.ReconcilingCondition, meta.StalledCondition}

// Reconcile fetches the gate, sets up one status patch at the end, returns early
// when suspended, and lets reconcile do the work.
func (r *PromotionGateReconciler) Reconcile(ctx context.Context, req ctrl.Request) (result ctrl.Result, retErr error) {
	start := r.now()
	log := ctrl.LoggerFrom(ctx)

	gate := &gatev1.PromotionGate{}
	if err := r.Get(ctx, req.NamespacedName, gate); err != nil {
		if apierrors.IsNotFound(err) {
			r.Metrics.forget(req.Namespace, req.Name)
			r.forgeClients.forget(req.NamespacedName)
		}
		return ctrl.Result{}, client.IgnoreNotFound(err)
	}
	if !gate.DeletionTimestamp.IsZero() {
		// The gate owns nothing outside its own object: held commits stay on the
		// proposal branch, where a person can see them.
		return ctrl.Result{}, nil
	}

	patcher := patch.NewSerialPatcher(gate, r.Client)
	before, note := keyOf(gate), &notification{}
	defer func() {
		r.summarize(gate, retErr)
		r.notify(gate, before, note)
		// Stalled and waiting gates are not errors to retry with backoff: a watch
		// (or, for waiting, the interval) brings them back.
		var stall *stallError
		var wait *waitError
		switch {
		case errors.As(retErr, &stall):
			log.Info("stalled", "reason", stall.reason, "message", stall.msg)
			result, retErr = ctrl.Result{}, nil
		case errors.As(retErr, &wait):
			log.Info("waiting", "reason", wait.reason, "message", wait.msg)
			result, retErr = ctrl.Result{RequeueAfter: gate.GetRequeueAfter()}, nil
		}
		if err := patcher.Patch(ctx, gate, patch.WithOwnedConditions{Conditions: ownedConditions},
			patch.WithFieldOwner(ControllerName)); err != nil {
			retErr = kerrors.NewAggregate([]error{retErr, err})
		}
		r.recordMetrics(gate, start)
	}()

	if v, ok := meta.ReconcileAnnotationValue(gate.GetAnnotations()); ok {
		gate.Status.SetLastHandledReconcileRequest(v)
	}
	if gate.Spec.Suspend {
		log.V(1).Info("reconciliation is suspended")
		return ctrl.Result{}, nil
	}
	if gate.Generation != gate.Status.ObservedGeneration {
		conditions.MarkReconciling(gate, meta.ProgressingReason, "reconciling generation %d", gate.Generation)
	}
	return r.reconcile(ctx, gate, patcher, note)
}

// summarize derives the final conditions from how the reconciliation ended, in one
// place: kstatus reads Stalled as failed, Reconciling as in progress, and Ready for
// the outcome.
func (r *PromotionGateReconciler) summarize(gate *gatev1.PromotionGate, err error) {
	if gate.Spec.Suspend {
		return
	}
	var stall *stallError
	var wait *waitError
	var reason *reasonError
	switch {
	case err == nil:
		conditions.Delete(gate, meta.ReconcilingCondition)
		conditions.Delete(gate, meta.StalledCondition)
		gate.Status.ObservedGeneration = gate.Generation
	case errors.As(err, &stall):
		conditions.MarkFalse(gate, meta.ReadyCondition, stall.reason, "%s", stall.msg)
		conditions.MarkStalled(gate, stall.reason, "%s", stall.msg)
		conditions.Delete(gate, meta.ReconcilingCondition)
		gate.Status.ObservedGeneration = gate.Generation
	case errors.As(err, &wait):
		conditions.MarkFalse(gate, meta.ReadyCondition, wait.reason, "%s", wait.msg)
		conditions.Delete(gate, meta.ReconcilingCondition)
		conditions.Delete(gate, meta.StalledCondition)
		gate.Status.ObservedGeneration = gate.Generation
	default:
		why := meta.FailedReason
		if errors.As(err, &reason) {
			why = reason.reason
		}
		conditions.MarkFalse(gate, meta.ReadyCondition, why, "%s", err.Error())
		conditions.MarkReconciling(gate, meta.ProgressingWithRetryReason, "%s", err.Error())
		conditions.Delete(gate, meta.StalledCondition)
	}
}

func (r *PromotionGateReconciler) recordMetrics(gate *gatev1.PromotionGate, start time.Time) {
	ref := r.reference(gate)
	for _, t := range ownedConditions {
		if c := conditions.Get(gate, t); c != nil {
			r.Metrics.Flux.RecordCondition(ref, *c)
		} else {
			r.Metrics.Flux.DeleteCondition(ref, t)
		}
	}
	r.Metrics.Flux.RecordSuspend(ref, gate.Spec.Suspend)
	r.Metrics.Flux.RecordDuration(ref, start)
}

func (r *PromotionGateReconciler) reference(gate *gatev1.PromotionGate) corev1.ObjectReference {
	return corev1.ObjectReference{
		APIVersion: gatev1.GroupVersion.String(),
		Kind:       gatev1.PromotionGateKind,
		Namespace:  gate.Namespace,
		Name:       gate.Name,
	}
}
