package controller

import (
	"context"
	"fmt"

	imagev1 "github.com/fluxcd/image-automation-controller/api/v1"
	"github.com/fluxcd/pkg/runtime/predicates"
	sourcev1 "github.com/fluxcd/source-controller/api/v1"
	corev1 "k8s.io/api/core/v1"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/builder"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/controller"
	"sigs.k8s.io/controller-runtime/pkg/event"
	"sigs.k8s.io/controller-runtime/pkg/handler"
	"sigs.k8s.io/controller-runtime/pkg/predicate"
	"sigs.k8s.io/controller-runtime/pkg/reconcile"

	gatev1 "github.com/promotion-gate/promotion-gate/flux-gate/api/v1alpha1"
	"github.com/promotion-gate/promotion-gate/shared/check"
	"github.com/promotion-gate/promotion-gate/shared/policy"
)

const (
	// automationIndex indexes PromotionGates by the automation they gate.
	automationIndex = ".spec.automationRef.name"
	// sourceIndex indexes ImageUpdateAutomations by "namespace/name" of their
	// GitRepository.
	sourceIndex = ".spec.sourceRef"
	// gateSourceIndex indexes PromotionGates by the GitRepository of a branch
	// promotion (spec.sourceRef).
	gateSourceIndex = ".spec.sourceRef.name"
)

// Options tune the controller.
type Options struct {
	// MaxConcurrentReconciles is how many gates reconcile at once; gates of one
	// repository still take turns (see git.Cache).
	MaxConcurrentReconciles int
}

// SetupWithManager registers the reconciler and its watches: PromotionGates (spec
// changes and reconcile requests), ImageUpdateAutomations (a new lastPushCommit
// wakes their gates at once), GitRepositories (a spec change or a new artifact
// revision wakes the gates of their automations and the branch promotions that
// name them), and the policy ConfigMaps (a change re-evaluates every gate).
func (r *PromotionGateReconciler) SetupWithManager(ctx context.Context, mgr ctrl.Manager, opts Options) error {
	r.verifiers = check.Verifiers{Plugins: r.Plugins}
	// Show at start that renders work here, rather than at the first promotion.
	go func() {
		if err := check.WarmUp(ctx); err != nil {
			ctrl.LoggerFrom(ctx).Error(err, "a test render failed: promotions whose roots need rendering will hold until renders work")
		}
	}()
	if r.Verifiers != nil {
		vo := *r.Verifiers
		vo.Trust = r.trust()
		vo.Plugins = r.Plugins
		if vo.UserAgent == "" {
			vo.UserAgent = ControllerName
		}
		v, closeVerifiers, err := check.NewVerifiers(vo)
		if err != nil {
			return fmt.Errorf("set up the registry checks: %w", err)
		}
		r.verifiers = v
		go func() {
			<-ctx.Done()
			closeVerifiers()
		}()
	}
	idx := mgr.GetFieldIndexer()
	if err := idx.IndexField(ctx, &gatev1.PromotionGate{}, automationIndex, func(o client.Object) []string {
		return []string{o.(*gatev1.PromotionGate).Spec.AutomationRef.Name}
	}); err != nil {
		return fmt.Errorf("index PromotionGates by automation: %w", err)
	}
	if err := idx.IndexField(ctx, &imagev1.ImageUpdateAutomation{}, sourceIndex, func(o client.Object) []string {
		a := o.(*imagev1.ImageUpdateAutomation)
		ns := a.Spec.SourceRef.Namespace
		if ns == "" {
			ns = a.Namespace
		}
		return []string{ns + "/" + a.Spec.SourceRef.Name}
	}); err != nil {
		return fmt.Errorf("index ImageUpdateAutomations by source: %w", err)
	}
	if err := idx.IndexField(ctx, &gatev1.PromotionGate{}, gateSourceIndex, func(o client.Object) []string {
		if ref := o.(*gatev1.PromotionGate).Spec.SourceRef; ref != nil && ref.Name != "" {
			return []string{ref.Name}
		}
		return nil
	}); err != nil {
		return fmt.Errorf("index PromotionGates by GitRepository: %w", err)
	}

	return ctrl.NewControllerManagedBy(mgr).
		For(&gatev1.PromotionGate{}, builder.WithPredicates(
			predicate.Or(predicate.GenerationChangedPredicate{}, predicates.ReconcileRequestedPredicate{},
				predicate.Predicate(releaseAnnotationChanged{})))).
		Watches(&imagev1.ImageUpdateAutomation{},
			handler.EnqueueRequestsFromMapFunc(r.gatesForAutomation),
			builder.WithPredicates(automationChanged{})).
		Watches(&sourcev1.GitRepository{},
			handler.EnqueueRequestsFromMapFunc(r.gatesForSource),
			builder.WithPredicates(sourceChanged{})).
		Watches(&corev1.ConfigMap{},
			handler.EnqueueRequestsFromMapFunc(r.allGates),
			builder.WithPredicates(r.policyConfigMap())).
		WithOptions(controller.Options{MaxConcurrentReconciles: max(1, opts.MaxConcurrentReconciles)}).
		Complete(r)
}

// automationChanged passes creations, deletions, spec changes and new pushes.
type automationChanged struct{ predicate.Funcs }

func (automationChanged) Update(e event.UpdateEvent) bool {
	oldA, ok1 := e.ObjectOld.(*imagev1.ImageUpdateAutomation)
	newA, ok2 := e.ObjectNew.(*imagev1.ImageUpdateAutomation)
	if !ok1 || !ok2 {
		return false
	}
	return oldA.Generation != newA.Generation || oldA.Status.LastPushCommit != newA.Status.LastPushCommit
}

// sourceChanged passes creations, deletions, spec changes and new artifact
// revisions of a GitRepository: source-controller fetched a new commit of the branch
// it follows — the source branch of a branch promotion, or the target a person may
// have just reverted on — so its gates look at once rather than at their interval.
type sourceChanged struct{ predicate.Funcs }

func (sourceChanged) Update(e event.UpdateEvent) bool {
	oldS, ok1 := e.ObjectOld.(*sourcev1.GitRepository)
	newS, ok2 := e.ObjectNew.(*sourcev1.GitRepository)
	if !ok1 || !ok2 {
		return false
	}
	return oldS.Generation != newS.Generation || artifactRevision(oldS) != artifactRevision(newS)
}

func artifactRevision(s *sourcev1.GitRepository) string {
	if a := s.GetArtifact(); a != nil {
		return a.Revision
	}
	return ""
}

func (r *PromotionGateReconciler) policyConfigMap() predicate.Predicate {
	return predicate.NewPredicateFuncs(func(o client.Object) bool {
		return o.GetNamespace() == r.PolicyNamespace && o.GetLabels()[policy.ConfigMapLabel] == "true"
	})
}

func (r *PromotionGateReconciler) gatesForAutomation(ctx context.Context, o client.Object) []reconcile.Request {
	var gates gatev1.PromotionGateList
	if err := r.List(ctx, &gates, client.InNamespace(o.GetNamespace()),
		client.MatchingFields{automationIndex: o.GetName()}); err != nil {
		ctrl.LoggerFrom(ctx).Error(err, "list PromotionGates of automation", "automation", o.GetName())
		return nil
	}
	return requests(gates.Items)
}

func (r *PromotionGateReconciler) gatesForSource(ctx context.Context, o client.Object) []reconcile.Request {
	var autos imagev1.ImageUpdateAutomationList
	if err := r.List(ctx, &autos, client.MatchingFields{sourceIndex: o.GetNamespace() + "/" + o.GetName()}); err != nil {
		ctrl.LoggerFrom(ctx).Error(err, "list ImageUpdateAutomations of GitRepository", "gitrepository", o.GetName())
		return nil
	}
	var out []reconcile.Request
	for i := range autos.Items {
		out = append(out, r.gatesForAutomation(ctx, &autos.Items[i])...)
	}
	// Branch promotions name their GitRepository themselves.
	var gates gatev1.PromotionGateList
	if err := r.List(ctx, &gates, client.InNamespace(o.GetNamespace()),
		client.MatchingFields{gateSourceIndex: o.GetName()}); err != nil {
		ctrl.LoggerFrom(ctx).Error(err, "list PromotionGates of GitRepository", "gitrepository", o.GetName())
		return out
	}
	return append(out, requests(gates.Items)...)
}

func (r *PromotionGateReconciler) allGates(ctx context.Context, _ client.Object) []reconcile.Request {
	var gates gatev1.PromotionGateList
	if err := r.List(ctx, &gates); err != nil {
		ctrl.LoggerFrom(ctx).Error(err, "list PromotionGates")
		return nil
	}
	return requests(gates.Items)
}

func requests(gates []gatev1.PromotionGate) []reconcile.Request {
	out := make([]reconcile.Request, 0, len(gates))
	for _, g := range gates {
		out = append(out, reconcile.Request{NamespacedName: client.ObjectKeyFromObject(&g)})
	}
	return out
}
