package demo

import (
	"context"
	"fmt"
	"path/filepath"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/promotion-gate/promotion-gate/shared/registry/registrytest"
)

// The ConfigMap that holds the release key's public half and the Sigstore trusted root
// of the demo's transparency log: examples/supply-chain/require-signatures.yaml names
// both keys.
const (
	trustConfigMap = "release-signing"
	trustKeyFile   = "cosign.pub"
	trustRootFile  = "trusted_root.json"
	// signedRule is the rule of that document.
	signedRule = "prod-signed-images"
)

// releaseSigner plays the release pipeline's signing step: an ECDSA P-256 key pair
// made for this run, whose signatures are logged in an in-process transparency log
// (sigstore-go's VirtualSigstore, through shared/registry/registrytest). The bundles
// it attaches are the Sigstore bundles cosign attaches, verified by the real code.
type releaseSigner struct {
	tb          *helperTB
	key         *registrytest.Signer
	publicKey   []byte
	trustedRoot []byte
}

func newReleaseSigner() (*releaseSigner, error) {
	s := &releaseSigner{tb: &helperTB{}}
	err := s.tb.run(func() {
		log := registrytest.NewSigstore(s.tb)
		s.key = log.NewKey(s.tb)
		s.publicKey = s.key.PublicKeyPEM(s.tb)
		s.trustedRoot = log.TrustedRoot(s.tb)
	})
	if err != nil {
		return nil, fmt.Errorf("make the release key and the transparency log: %w", err)
	}
	return s, nil
}

// sign signs the image's manifest, logs the signature, and attaches the bundle to the
// image in the registry as an OCI referrer; it returns the bundle artifact's digest.
func (s *releaseSigner) sign(r *ociRegistry, img registrytest.Image) (string, error) {
	var digest string
	err := s.tb.run(func() { digest = r.reg.PushBundle(s.tb, img, s.key.SignImage(s.tb, img)) })
	if err != nil {
		return "", fmt.Errorf("sign %s: %w", img.DigestRef(), err)
	}
	return digest, nil
}

// trustData is the content of the release-signing ConfigMap.
func (s *releaseSigner) trustData() map[string]string {
	return map[string]string{trustKeyFile: string(s.publicKey), trustRootFile: string(s.trustedRoot)}
}

// createTrust creates the release-signing ConfigMap in each namespace: flux-gate reads
// it from its policy namespace, the sidecar gets it mounted.
func (d *demo) createTrust(ctx context.Context, namespaces ...string) error {
	for _, ns := range namespaces {
		cm := &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: trustConfigMap, Namespace: ns}, Data: d.signer.trustData()}
		if err := d.cluster.k8s.Create(ctx, cm); err != nil {
			return fmt.Errorf("create ConfigMap %s/%s: %w", ns, trustConfigMap, err)
		}
	}
	return nil
}

// projectTrust writes the release-signing ConfigMap of namespace under dir/<name>/, as
// the sidecar chart's trust.configMaps mounts it, and returns the directory.
func (d *demo) projectTrust(ctx context.Context, namespace, dir string) (string, error) {
	cm := &corev1.ConfigMap{}
	if err := d.cluster.k8s.Get(ctx, client.ObjectKey{Namespace: namespace, Name: trustConfigMap}, cm); err != nil {
		return "", fmt.Errorf("read ConfigMap %s/%s: %w", namespace, trustConfigMap, err)
	}
	if _, err := projectConfigMaps([]corev1.ConfigMap{*cm}, filepath.Join(dir, trustConfigMap)); err != nil {
		return "", fmt.Errorf("mount ConfigMap %s/%s: %w", namespace, trustConfigMap, err)
	}
	return dir, nil
}
