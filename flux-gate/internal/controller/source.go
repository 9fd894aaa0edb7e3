package controller

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/fluxcd/pkg/apis/meta"
	"github.com/fluxcd/pkg/runtime/conditions"
	sourcev1 "github.com/fluxcd/source-controller/api/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/types"
	ctrl "sigs.k8s.io/controller-runtime"

	gatev1 "github.com/promotion-gate/promotion-gate/flux-gate/api/v1alpha1"
	"github.com/promotion-gate/promotion-gate/flux-gate/internal/git"
)

// maxDriftCommits bounds the commits named when a target is ahead of its source.
const maxDriftCommits = 20

// readBranchSource reads a branch promotion's GitRepository and credentials: the
// source branch plays the proposal, the target branch is spec.targetBranch. The
// CRD's validation already requires both; a gate created without it (an older CRD)
// stalls with the same message.
func (r *PromotionGateReconciler) readBranchSource(ctx context.Context, gate *gatev1.PromotionGate) (*automation, error) {
	spec := gate.Spec
	if spec.AutomationRef.Name != "" {
		return nil, stallf(gatev1.AutomationMisconfiguredReason, "set exactly one of automationRef and sourceRef: this gate sets both")
	}
	if spec.Source == nil || spec.Source.Branch == "" || spec.TargetBranch == "" || spec.Source.Branch == spec.TargetBranch {
		return nil, stallf(gatev1.AutomationMisconfiguredReason,
			"a branch promotion needs spec.source.branch and spec.targetBranch, and they must differ")
	}
	key := types.NamespacedName{Namespace: gate.Namespace, Name: spec.SourceRef.Name}
	src := &sourcev1.GitRepository{}
	if err := r.Get(ctx, key, src); err != nil {
		if apierrors.IsNotFound(err) {
			return nil, waitf(gatev1.SourceNotFoundReason, "GitRepository %s not found", key)
		}
		return nil, fmt.Errorf("get GitRepository %s: %w", key, err)
	}
	if p := src.Spec.Provider; p != "" && p != sourcev1.GitProviderGeneric {
		return nil, stallf(gatev1.AutomationMisconfiguredReason,
			"GitRepository %s uses provider %q; the gate supports the generic provider (credentials in spec.secretRef)", key, p)
	}
	a := &automation{source: src, url: src.Spec.URL, target: spec.TargetBranch, proposal: spec.Source.Branch, branchSource: true}
	var data map[string][]byte
	if ref := src.Spec.SecretRef; ref != nil {
		secret := &corev1.Secret{}
		sk := types.NamespacedName{Namespace: src.Namespace, Name: ref.Name}
		if err := r.APIReader.Get(ctx, sk, secret); err != nil {
			return nil, reasonf(gatev1.AuthenticationFailedReason, err, "get Secret %s of GitRepository %s", sk, key)
		}
		data = secret.Data
	}
	auth, err := git.NewAuth(a.url, data)
	if err != nil {
		return nil, reasonf(gatev1.AuthenticationFailedReason, err, "GitRepository %s", key)
	}
	auth.AllowInsecureHTTP = r.AllowInsecureHTTP
	a.auth = auth
	return a, nil
}

// holdDrift holds a branch promotion whose target has commits the source lacks:
// fast-forward is impossible, and the gate never merges nor forces. The message names
// the commits, so that a person merges them back into the source (or drops them).
func (r *PromotionGateReconciler) holdDrift(gate *gatev1.PromotionGate, auto *automation, sess *git.Session,
	target, source string) (ctrl.Result, error) {
	commits, err := sess.CommitsAhead(source, target, maxDriftCommits)
	if err != nil && !errors.Is(err, git.ErrTooManyCommits) {
		return ctrl.Result{}, &reasonError{reason: gatev1.GitOperationFailedReason, err: err}
	}
	names := make([]string, 0, len(commits))
	for _, c := range commits {
		names = append(names, fmt.Sprintf("%s %q by %s", short(c.Hash), c.Subject, c.AuthorName))
	}
	more := ""
	if err != nil {
		more = fmt.Sprintf(" and more (over %d)", maxDriftCommits)
	}
	r.setHeld(gate, true)
	conditions.MarkFalse(gate, meta.ReadyCondition, gatev1.TargetAheadReason,
		"cannot fast-forward %s to %s at %s: %s has %d commit(s) %s lacks: %s%s; merge them into %s (or revert them on %s), then the gate promotes",
		auto.target, auto.proposal, short(source), auto.target, len(commits), auto.proposal, strings.Join(names, "; "), more, auto.proposal, auto.target)
	return ctrl.Result{RequeueAfter: gate.GetRequeueAfter()}, nil
}
