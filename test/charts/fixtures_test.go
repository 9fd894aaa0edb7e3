package charts

import (
	"context"
	"testing"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/types"
)

// The resources flux-gate works with.
var (
	gatesGVR        = schema.GroupVersionResource{Group: "promotion-gate.io", Version: "v1alpha1", Resource: "promotiongates"}
	automationsGVR  = schema.GroupVersionResource{Group: "image.toolkit.fluxcd.io", Version: "v1", Resource: "imageupdateautomations"}
	imagePolicyGVR  = schema.GroupVersionResource{Group: "image.toolkit.fluxcd.io", Version: "v1", Resource: "imagepolicies"}
	imageRepoGVR    = schema.GroupVersionResource{Group: "image.toolkit.fluxcd.io", Version: "v1", Resource: "imagerepositories"}
	gitRepoGVR      = schema.GroupVersionResource{Group: "source.toolkit.fluxcd.io", Version: "v1", Resource: "gitrepositories"}
	secretsGVR      = schema.GroupVersionResource{Version: "v1", Resource: "secrets"}
	configMapsGVR   = schema.GroupVersionResource{Version: "v1", Resource: "configmaps"}
	eventsGVR       = schema.GroupVersionResource{Version: "v1", Resource: "events"}
	eventsV1GVR     = schema.GroupVersionResource{Group: "events.k8s.io", Version: "v1", Resource: "events"}
	leasesGVR       = schema.GroupVersionResource{Group: "coordination.k8s.io", Version: "v1", Resource: "leases"}
	deploymentsGVR  = schema.GroupVersionResource{Group: "apps", Version: "v1", Resource: "deployments"}
	applicationsGVR = schema.GroupVersionResource{Group: "argoproj.io", Version: "v1alpha1", Resource: "applications"}
)

func obj(apiVersion, kind, namespace, name string, fields map[string]any) *unstructured.Unstructured {
	o := map[string]any{"apiVersion": apiVersion, "kind": kind,
		"metadata": map[string]any{"name": name, "namespace": namespace}}
	for k, v := range fields {
		o[k] = v
	}
	return &unstructured.Unstructured{Object: o}
}

// trustFixtures are key material a policy names: a Secret and a ConfigMap in ns.
func trustFixtures(ns string) []*unstructured.Unstructured {
	return []*unstructured.Unstructured{
		obj("v1", "Secret", ns, "commit-signers", map[string]any{"data": map[string]any{"release-bot.pub": "c3NoLWVkMjU1MTk="}}),
		obj("v1", "ConfigMap", ns, "sigstore-trusted-root", map[string]any{"data": map[string]any{"trusted_root.json": "{}"}}),
	}
}

// fluxFixtures are what a PromotionGate in namespace ns points at: the automation, its
// GitRepository and credentials Secret, an ImagePolicy and ImageRepository; and the gate.
func fluxFixtures(ns string) []*unstructured.Unstructured {
	return []*unstructured.Unstructured{
		obj("v1", "Secret", ns, "git-credentials", map[string]any{
			"data": map[string]any{"username": "Z2l0", "password": "bm90LWEtcmVhbC10b2tlbg=="}}),
		obj("source.toolkit.fluxcd.io/v1", "GitRepository", ns, "platform-config", map[string]any{
			"spec": map[string]any{
				"url": "https://git.example.com/platform-config.git", "interval": "1m",
				"ref": map[string]any{"branch": "main"}, "secretRef": map[string]any{"name": "git-credentials"}}}),
		obj("image.toolkit.fluxcd.io/v1", "ImageRepository", ns, "payments-api", map[string]any{
			"spec": map[string]any{"image": "ghcr.io/example/payments-api", "interval": "5m"}}),
		obj("image.toolkit.fluxcd.io/v1", "ImagePolicy", ns, "payments-api-prod", map[string]any{
			"spec": map[string]any{
				"imageRepositoryRef": map[string]any{"name": "payments-api"},
				"policy":             map[string]any{"semver": map[string]any{"range": ">=1.0.0"}}}}),
		obj("image.toolkit.fluxcd.io/v1", "ImageUpdateAutomation", ns, "payments-api-prod", map[string]any{
			"spec": map[string]any{
				"sourceRef": map[string]any{"kind": "GitRepository", "name": "platform-config"},
				"interval":  "5m",
				"git": map[string]any{
					"checkout": map[string]any{"ref": map[string]any{"branch": "main"}},
					"commit":   map[string]any{"author": map[string]any{"name": "fluxcdbot", "email": "fluxcdbot@example.com"}},
					"push":     map[string]any{"branch": "automation/payments-api-prod"}},
				"update": map[string]any{"path": "./apps/payments-api/overlays/prod", "strategy": "Setters"}}}),
		obj("promotion-gate.io/v1alpha1", "PromotionGate", ns, "payments-api-prod", map[string]any{
			"spec": map[string]any{"automationRef": map[string]any{"name": "payments-api-prod"}, "targetBranch": "main", "environment": "prod"}}),
		obj("v1", "ConfigMap", ns, "unrelated", map[string]any{"data": map[string]any{"k": "v"}}),
	}
}

// createFixtures applies objs as the admin and deletes them when the test ends.
func (s *apiServer) createFixtures(t *testing.T, objs []*unstructured.Unstructured) {
	t.Helper()
	ctx := context.Background()
	if err := s.ensureNamespaces(ctx, objs); err != nil {
		t.Fatal(err)
	}
	for _, o := range objs {
		if err := s.apply(ctx, o); err != nil {
			t.Fatal(err)
		}
	}
	t.Cleanup(func() {
		for _, o := range objs {
			if o.GetKind() == "PromotionGate" { // let go of a finalizer a test request set
				_, _ = s.dyn.Resource(gatesGVR).Namespace(o.GetNamespace()).Patch(ctx, o.GetName(),
					types.MergePatchType, []byte(`{"metadata":{"finalizers":null}}`), patchOpts())
			}
			if err := s.remove(ctx, o); err != nil {
				t.Errorf("clean up: %v", err)
			}
		}
	})
}
