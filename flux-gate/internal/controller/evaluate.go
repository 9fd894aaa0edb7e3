package controller

import (
	"context"
	"fmt"
	"slices"

	"github.com/google/go-containerregistry/pkg/authn"
	corev1 "k8s.io/api/core/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	gatev1 "github.com/promotion-gate/promotion-gate/flux-gate/api/v1alpha1"
	"github.com/promotion-gate/promotion-gate/flux-gate/internal/git"
	"github.com/promotion-gate/promotion-gate/shared/check"
	"github.com/promotion-gate/promotion-gate/shared/evaluate"
	"github.com/promotion-gate/promotion-gate/shared/policy"
)

// loadPolicy merges the labelled ConfigMaps of the policy namespace. Any error is
// returned for the caller to fail closed on.
func (r *PromotionGateReconciler) loadPolicy(ctx context.Context) (*policy.Set, error) {
	var cms corev1.ConfigMapList
	if err := r.List(ctx, &cms, client.InNamespace(r.PolicyNamespace),
		client.MatchingLabels{policy.ConfigMapLabel: "true"}); err != nil {
		return nil, fmt.Errorf("list policy ConfigMaps in %s: %w", r.PolicyNamespace, err)
	}
	set, err := policyFromConfigMaps(cms.Items)
	if err != nil {
		return nil, fmt.Errorf("policy in namespace %s: %w", r.PolicyNamespace, err)
	}
	r.policyWarnings.log(ctx, r.PolicyNamespace, set, r.now())
	return set, nil
}

// evaluateProposal asks the engine to judge the promotion T..P, once: it reads the
// change through the Git session and gets the registry credentials of the gate's
// ImageRepositories through the credentials hook. Everything else — what is judged,
// how, and why a proposal is held — is the engine's (check.RunPromotion).
func (r *PromotionGateReconciler) evaluateProposal(ctx context.Context, sess *git.Session, gate *gatev1.PromotionGate,
	auto *automation, set *policy.Set, policyErr error, target, proposal string) check.PromotionOutcome {
	start := r.now()
	defer func() {
		r.Metrics.EvaluationDuration.WithLabelValues(gate.Namespace, gate.Name).Observe(r.now().Sub(start).Seconds())
	}()
	return check.RunPromotion(ctx, check.PromotionCheck{
		Policy:      set,
		PolicyErr:   policyErr,
		Revisions:   sess,
		Base:        target,
		Head:        proposal,
		Branch:      auto.target,
		Environment: gate.Spec.Environment,
		Scope:       auto.updatePath,
		Now:         r.now(),
		Verifiers:   r.verifiers,
		Credentials: func(ctx context.Context, images []check.Image) (authn.Keychain, error) {
			return r.registryKeychain(ctx, gate.Namespace, images)
		},
		Trust:   r.trust(),
		WorkDir: r.WorkDir,
		Render:  check.RenderOptions{MaxMemory: r.Render.MaxMemory, Cache: r.Render.Cache},
	})
}

// imageList returns the distinct references evaluated, in order.
func imageList(res evaluate.Result) []string {
	var out []string
	for _, img := range res.Images {
		if !slices.Contains(out, img.Raw) {
			out = append(out, img.Raw)
		}
	}
	return out
}

// policyFromConfigMaps converts the API objects for policy.FromConfigMaps: the
// controller is the door that reads ConfigMaps, so the conversion lives here.
func policyFromConfigMaps(items []corev1.ConfigMap) (*policy.Set, error) {
	cms := make([]policy.ConfigMap, 0, len(items))
	for _, cm := range items {
		cms = append(cms, policy.ConfigMap{Namespace: cm.Namespace, Name: cm.Name, Labels: cm.Labels, Data: cm.Data})
	}
	return policy.FromConfigMaps(cms)
}
