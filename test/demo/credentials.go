package demo

import (
	"context"
	"fmt"
	"os"
	"path/filepath"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"sigs.k8s.io/controller-runtime/pkg/client"
)

// What a platform team creates for image automation: the ImageRepository that
// image-reflector-controller scans with a pull secret, and the ImagePolicy the setter
// markers name. flux-gate reads the registry with that same pull secret.
const (
	pullSecret      = "ghcr-pull"
	imageRepository = "payments-api"
)

// createImageObjects creates the pull secret, the ImageRepository that names it and
// the ImagePolicy (flux-system/payments-api-prod) that the prod overlay's setter
// markers name.
func (d *demo) createImageObjects(ctx context.Context) error {
	config, err := d.registry.dockerConfigJSON()
	if err != nil {
		return err
	}
	secret := &corev1.Secret{
		ObjectMeta: metav1.ObjectMeta{Name: pullSecret, Namespace: fluxNamespace},
		Type:       corev1.SecretTypeDockerConfigJson,
		Data:       map[string][]byte{corev1.DockerConfigJsonKey: config},
	}
	repo := fluxImageObject("ImageRepository", imageRepository, map[string]any{
		"image": publicRegistry + "/example/payments-api", "interval": "5m",
		"secretRef": map[string]any{"name": pullSecret},
	})
	policy := fluxImageObject("ImagePolicy", gateName, map[string]any{
		"imageRepositoryRef": map[string]any{"name": imageRepository},
		"policy":             map[string]any{"semver": map[string]any{"range": ">=1.0.0"}},
	})
	for _, o := range []client.Object{secret, repo, policy} {
		if err := d.cluster.k8s.Create(ctx, o); err != nil {
			return fmt.Errorf("create %s %s/%s: %w", o.GetObjectKind().GroupVersionKind().Kind, o.GetNamespace(), o.GetName(), err)
		}
	}
	d.field("pull secret", "Secret %s/%s (docker-registry) for %s: ImageRepository %s/%s names it, and ImagePolicy %s/%s, "+
		"which the setter markers name, scans that repository", fluxNamespace, pullSecret, publicRegistry,
		fluxNamespace, imageRepository, fluxNamespace, gateName)
	d.say("The demo's ghcr.io requires these credentials, as a private repository does; flux-gate is given no others " +
		"(an empty docker config), so it reads the registry with the ImageRepository's pull secret. " +
		"(image-reflector-controller is not running here: the two objects only lead flux-gate to the secret.)")
	return nil
}

// fluxImageObject is an image.toolkit.fluxcd.io/v1 object in the Flux namespace.
func fluxImageObject(kind, name string, spec map[string]any) *unstructured.Unstructured {
	o := &unstructured.Unstructured{Object: map[string]any{"spec": spec}}
	o.SetAPIVersion("image.toolkit.fluxcd.io/v1")
	o.SetKind(kind)
	o.SetNamespace(fluxNamespace)
	o.SetName(name)
	return o
}

// dockerConfigs writes the DOCKER_CONFIG directories of flux-gate (no credentials:
// whoever runs the demo must not lend it theirs) and of the sidecar (the pull secret,
// as the chart's sidecar.registryCredentialsSecret mounts it).
func (d *demo) dockerConfigs() error {
	withCredentials, err := d.registry.dockerConfigJSON()
	if err != nil {
		return err
	}
	for dir, content := range map[*string][]byte{&d.fluxGateDockerConfig: []byte("{}\n"), &d.sidecarDockerConfig: withCredentials} {
		*dir, err = os.MkdirTemp(d.work, "docker-config-")
		if err != nil {
			return err
		}
		if err := os.WriteFile(filepath.Join(*dir, "config.json"), content, 0o600); err != nil {
			return err
		}
	}
	return nil
}
