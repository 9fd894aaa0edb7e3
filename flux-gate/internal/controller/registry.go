package controller

import (
	"context"
	"fmt"
	"github.com/promotion-gate/promotion-gate/shared/check"
	"slices"
	"strings"

	reflectorv1 "github.com/fluxcd/image-reflector-controller/api/v1"
	"github.com/google/go-containerregistry/pkg/authn"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/types"

	"github.com/promotion-gate/promotion-gate/shared/trust"
)

// trust resolves the policy's key material: Secrets and ConfigMaps in the policy
// namespace, which the platform team owns. Not the gate's namespace: whoever can write
// Secrets there could otherwise swap the keys the policy trusts.
func (r *PromotionGateReconciler) trust() trust.Resolver {
	var files trust.Resolver
	if r.TrustDir != "" {
		files = trust.Dir(r.TrustDir)
	}
	return kubeTrust{reader: r.APIReader, namespace: r.PolicyNamespace, files: files}
}

// registryKeychain collects the pull credentials image-reflector-controller itself
// uses for the images the automation writes: the setter markers name ImagePolicies,
// each names an ImageRepository, whose spec.secretRef (and the imagePullSecrets of its
// spec.serviceAccountName) are docker config Secrets. Registries none of them cover
// fall back to the controller's own docker config ($DOCKER_CONFIG), then anonymous
// access.
func (r *PromotionGateReconciler) registryKeychain(ctx context.Context, gateNS string, images []check.Image) (authn.Keychain, error) {
	var configs [][]byte
	seen := map[string]bool{}
	for _, img := range images {
		ref := img.Source.ImagePolicy
		if ref == "" || seen[ref] {
			continue
		}
		seen[ref] = true
		cs, err := r.pullSecretsOf(ctx, gateNS, ref)
		if err != nil {
			return nil, err
		}
		configs = append(configs, cs...)
	}
	secrets, err := check.KeychainFromDockerConfigs(configs...)
	if err != nil {
		return nil, fmt.Errorf("registry credentials of the automation's ImageRepositories: %w", err)
	}
	return authn.NewMultiKeychain(secrets, authn.DefaultKeychain), nil
}

// pullSecretsOf returns the docker configs behind the ImagePolicy "namespace:name".
// A missing ImagePolicy or ImageRepository adds none: the marker may name a policy
// that is gone, and the fallback credentials still apply.
func (r *PromotionGateReconciler) pullSecretsOf(ctx context.Context, gateNS, marker string) ([][]byte, error) {
	ns, name, _ := strings.Cut(marker, ":")
	if ns == "" {
		ns = gateNS
	}
	ip := &reflectorv1.ImagePolicy{}
	if err := r.APIReader.Get(ctx, types.NamespacedName{Namespace: ns, Name: name}, ip); err != nil {
		if apierrors.IsNotFound(err) {
			return nil, nil
		}
		return nil, fmt.Errorf("get ImagePolicy %s/%s: %w", ns, name, err)
	}
	repoKey := types.NamespacedName{Namespace: ip.Spec.ImageRepositoryRef.Namespace, Name: ip.Spec.ImageRepositoryRef.Name}
	if repoKey.Namespace == "" {
		repoKey.Namespace = ip.Namespace
	}
	repo := &reflectorv1.ImageRepository{}
	if err := r.APIReader.Get(ctx, repoKey, repo); err != nil {
		if apierrors.IsNotFound(err) {
			return nil, nil
		}
		return nil, fmt.Errorf("get ImageRepository %s of ImagePolicy %s/%s: %w", repoKey, ns, name, err)
	}
	var names []string
	if repo.Spec.SecretRef != nil {
		names = append(names, repo.Spec.SecretRef.Name)
	}
	if sa := repo.Spec.ServiceAccountName; sa != "" {
		acct := &corev1.ServiceAccount{}
		if err := r.APIReader.Get(ctx, types.NamespacedName{Namespace: repo.Namespace, Name: sa}, acct); err != nil {
			return nil, fmt.Errorf("get ServiceAccount %s/%s of ImageRepository %s: %w", repo.Namespace, sa, repoKey, err)
		}
		for _, ps := range acct.ImagePullSecrets {
			if !slices.Contains(names, ps.Name) {
				names = append(names, ps.Name)
			}
		}
	}
	var out [][]byte
	for _, n := range names {
		s := &corev1.Secret{}
		if err := r.APIReader.Get(ctx, types.NamespacedName{Namespace: repo.Namespace, Name: n}, s); err != nil {
			return nil, fmt.Errorf("get pull Secret %s/%s of ImageRepository %s: %w (the registry checks need the credentials image-reflector-controller uses)",
				repo.Namespace, n, repoKey, err)
		}
		switch {
		case len(s.Data[corev1.DockerConfigJsonKey]) > 0:
			out = append(out, s.Data[corev1.DockerConfigJsonKey])
		case len(s.Data[corev1.DockerConfigKey]) > 0:
			out = append(out, s.Data[corev1.DockerConfigKey])
		default:
			return nil, fmt.Errorf("pull Secret %s/%s of ImageRepository %s has neither %s nor %s: make it a docker-registry Secret",
				repo.Namespace, n, repoKey, corev1.DockerConfigJsonKey, corev1.DockerConfigKey)
		}
	}
	return out, nil
}
