package controller

import (
	"context"
	"fmt"
	"path"
	"strings"

	imagev1 "github.com/fluxcd/image-automation-controller/api/v1"
	sourcev1 "github.com/fluxcd/source-controller/api/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/types"

	gatev1 "github.com/promotion-gate/promotion-gate/flux-gate/api/v1alpha1"
	"github.com/promotion-gate/promotion-gate/flux-gate/internal/git"
)

// automation is what the gate reads from the ImageUpdateAutomation it gates and
// the GitRepository that automation writes to.
type automation struct {
	obj    *imagev1.ImageUpdateAutomation
	source *sourcev1.GitRepository
	url    string
	auth   git.Auth
	// target is where evaluated commits go; proposal is where IAC pushes.
	target, proposal string
	// updatePath is the repository-relative directory IAC updates; "" is the root.
	updatePath string
	// authorName and authorEmail are who IAC commits as.
	authorName, authorEmail string
	// branchSource is set for a branch promotion (spec.sourceRef): proposal is then
	// the source branch, and there is no automation (obj is nil).
	branchSource bool
}

// readAutomation reads and checks the automation, its GitRepository and the
// credentials Secret. Configuration errors come back as *stallError; objects that
// do not exist yet as *waitError.
func (r *PromotionGateReconciler) readAutomation(ctx context.Context, gate *gatev1.PromotionGate) (*automation, error) {
	if gate.Spec.SourceRef != nil && gate.Spec.SourceRef.Name != "" {
		return r.readBranchSource(ctx, gate) // a branch promotion (source.go)
	}
	auto := &imagev1.ImageUpdateAutomation{}
	key := types.NamespacedName{Namespace: gate.Namespace, Name: gate.Spec.AutomationRef.Name}
	if err := r.Get(ctx, key, auto); err != nil {
		if apierrors.IsNotFound(err) {
			return nil, waitf(gatev1.AutomationNotFoundReason, "ImageUpdateAutomation %s not found", key)
		}
		return nil, fmt.Errorf("get ImageUpdateAutomation %s: %w", key, err)
	}

	spec := auto.Spec
	if spec.SourceRef.Kind != "" && spec.SourceRef.Kind != sourcev1.GitRepositoryKind {
		return nil, stallf(gatev1.AutomationMisconfiguredReason,
			"ImageUpdateAutomation %s has source kind %q; the gate works on a GitRepository", key, spec.SourceRef.Kind)
	}
	if spec.GitSpec == nil {
		return nil, stallf(gatev1.AutomationMisconfiguredReason,
			"ImageUpdateAutomation %s has no spec.git; set spec.git.commit and spec.git.push.branch", key)
	}
	if spec.GitSpec.Push != nil && spec.GitSpec.Push.Refspec != "" {
		return nil, stallf(gatev1.AutomationMisconfiguredReason,
			"ImageUpdateAutomation %s pushes with spec.git.push.refspec %q, which can write any branch past the gate; remove the refspec and push to a proposal branch with spec.git.push.branch",
			key, spec.GitSpec.Push.Refspec)
	}
	if spec.Update != nil && spec.Update.Strategy != "" && spec.Update.Strategy != imagev1.UpdateStrategySetters {
		return nil, stallf(gatev1.AutomationMisconfiguredReason,
			"ImageUpdateAutomation %s uses update strategy %q; the gate understands %q", key, spec.Update.Strategy, imagev1.UpdateStrategySetters)
	}

	srcKey := types.NamespacedName{Namespace: auto.Namespace, Name: spec.SourceRef.Name}
	if spec.SourceRef.Namespace != "" {
		srcKey.Namespace = spec.SourceRef.Namespace
	}
	src := &sourcev1.GitRepository{}
	if err := r.Get(ctx, srcKey, src); err != nil {
		if apierrors.IsNotFound(err) {
			return nil, waitf(gatev1.AutomationNotFoundReason, "GitRepository %s of ImageUpdateAutomation %s not found", srcKey, key)
		}
		return nil, fmt.Errorf("get GitRepository %s: %w", srcKey, err)
	}
	if p := src.Spec.Provider; p != "" && p != sourcev1.GitProviderGeneric {
		return nil, stallf(gatev1.AutomationMisconfiguredReason,
			"GitRepository %s uses provider %q; the gate supports the generic provider (credentials in spec.secretRef)", srcKey, p)
	}

	a := &automation{obj: auto, source: src, url: src.Spec.URL}
	checkout := ""
	if spec.GitSpec.Checkout != nil {
		checkout = spec.GitSpec.Checkout.Reference.Branch
	} else if src.Spec.Reference != nil {
		checkout = src.Spec.Reference.Branch
	} else {
		checkout = "master" // GitRepository's default
	}
	a.target = gate.Spec.TargetBranch
	if a.target == "" {
		a.target = checkout
	}
	if a.target == "" {
		return nil, stallf(gatev1.AutomationMisconfiguredReason,
			"ImageUpdateAutomation %s checks out a tag or commit, not a branch; set spec.targetBranch on the PromotionGate", key)
	}
	if spec.GitSpec.Push != nil {
		a.proposal = spec.GitSpec.Push.Branch
	}
	if a.proposal == "" {
		a.proposal = checkout
	}
	if a.proposal == a.target {
		return nil, stallf(gatev1.AutomationMisconfiguredReason,
			"ImageUpdateAutomation %s pushes straight to %s, the gate's target branch, so nothing is held; set its spec.git.push.branch to a proposal branch such as automation/%s",
			key, a.target, auto.Name)
	}
	if spec.Update != nil {
		a.updatePath = cleanUpdatePath(spec.Update.Path)
	}
	a.authorName = spec.GitSpec.Commit.Author.Name
	a.authorEmail = spec.GitSpec.Commit.Author.Email

	var data map[string][]byte
	if ref := src.Spec.SecretRef; ref != nil {
		secret := &corev1.Secret{}
		sk := types.NamespacedName{Namespace: src.Namespace, Name: ref.Name}
		if err := r.APIReader.Get(ctx, sk, secret); err != nil {
			return nil, reasonf(gatev1.AuthenticationFailedReason, err, "get Secret %s of GitRepository %s", sk, srcKey)
		}
		data = secret.Data
	}
	auth, err := git.NewAuth(a.url, data)
	if err != nil {
		return nil, reasonf(gatev1.AuthenticationFailedReason, err, "GitRepository %s", srcKey)
	}
	auth.AllowInsecureHTTP = r.AllowInsecureHTTP
	a.auth = auth
	return a, nil
}

// cleanUpdatePath turns IAC's update path ("./apps/prod", "/", "") into a clean
// repository-relative directory, "" for the whole repository.
func cleanUpdatePath(p string) string {
	p = path.Clean("/" + strings.TrimSpace(p))
	return strings.TrimPrefix(p, "/")
}
