package charts

import (
	"context"
	"fmt"
	"testing"
	"time"

	. "github.com/onsi/gomega"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/dynamic"
)

// request is one API request the controller makes, or one it must not be able to make.
type request struct {
	name string
	do   func(ctx context.Context, c dynamic.Interface) error
}

func patchOpts() metav1.PatchOptions { return metav1.PatchOptions{} }

func list(gvr schema.GroupVersionResource, ns string) request {
	return request{fmt.Sprintf("list %s in %q", gvr.Resource, ns), func(ctx context.Context, c dynamic.Interface) error {
		_, err := c.Resource(gvr).Namespace(ns).List(ctx, metav1.ListOptions{})
		return err
	}}
}

func watch(gvr schema.GroupVersionResource, ns string) request {
	return request{fmt.Sprintf("watch %s in %q", gvr.Resource, ns), func(ctx context.Context, c dynamic.Interface) error {
		timeout := int64(1)
		w, err := c.Resource(gvr).Namespace(ns).Watch(ctx, metav1.ListOptions{TimeoutSeconds: &timeout})
		if err == nil {
			w.Stop()
		}
		return err
	}}
}

func get(gvr schema.GroupVersionResource, ns, name string) request {
	return request{fmt.Sprintf("get %s %s/%s", gvr.Resource, ns, name), func(ctx context.Context, c dynamic.Interface) error {
		_, err := c.Resource(gvr).Namespace(ns).Get(ctx, name, metav1.GetOptions{})
		return err
	}}
}

func mergePatch(gvr schema.GroupVersionResource, ns, name, patch string, subresource ...string) request {
	what := gvr.Resource
	if len(subresource) > 0 {
		what += "/" + subresource[0]
	}
	return request{fmt.Sprintf("patch %s %s/%s with %s", what, ns, name, patch), func(ctx context.Context, c dynamic.Interface) error {
		_, err := c.Resource(gvr).Namespace(ns).Patch(ctx, name, types.MergePatchType, []byte(patch), patchOpts(), subresource...)
		return err
	}}
}

func create(gvr schema.GroupVersionResource, o *unstructured.Unstructured) request {
	return request{fmt.Sprintf("create %s %s/%s", gvr.Resource, o.GetNamespace(), o.GetName()), func(ctx context.Context, c dynamic.Interface) error {
		_, err := c.Resource(gvr).Namespace(o.GetNamespace()).Create(ctx, o.DeepCopy(), metav1.CreateOptions{})
		return err
	}}
}

func updateRequest(gvr schema.GroupVersionResource, o *unstructured.Unstructured) request {
	return request{fmt.Sprintf("update %s %s/%s", gvr.Resource, o.GetNamespace(), o.GetName()), func(ctx context.Context, c dynamic.Interface) error {
		_, err := c.Resource(gvr).Namespace(o.GetNamespace()).Update(ctx, o.DeepCopy(), metav1.UpdateOptions{})
		return err
	}}
}

// getAndUpdate reads an object and writes it back, as a controller-runtime Update does.
func getAndUpdate(gvr schema.GroupVersionResource, ns, name string) request {
	return request{fmt.Sprintf("update %s %s/%s", gvr.Resource, ns, name), func(ctx context.Context, c dynamic.Interface) error {
		o, err := c.Resource(gvr).Namespace(ns).Get(ctx, name, metav1.GetOptions{})
		if err != nil {
			return err
		}
		_, err = c.Resource(gvr).Namespace(ns).Update(ctx, o, metav1.UpdateOptions{})
		return err
	}}
}

func remove(gvr schema.GroupVersionResource, ns, name string) request {
	return request{fmt.Sprintf("delete %s %s/%s", gvr.Resource, ns, name), func(ctx context.Context, c dynamic.Interface) error {
		return c.Resource(gvr).Namespace(ns).Delete(ctx, name, metav1.DeleteOptions{})
	}}
}

// controllerRequests are the requests flux-gate makes for the gates in namespace ns,
// with the policy in policyNS and its leader-election Lease in releaseNS.
func controllerRequests(ns, listNS, policyNS, releaseNS, lease string) []request {
	gate := "payments-api-prod"
	coreEvent := obj("v1", "Event", ns, gate+".chart-test", map[string]any{
		"involvedObject": map[string]any{"apiVersion": "promotion-gate.io/v1alpha1", "kind": "PromotionGate", "namespace": ns, "name": gate},
		"reason":         "PolicyViolation", "message": "held: 1 finding", "type": "Warning",
		"source": map[string]any{"component": "flux-gate"}})
	eventV1 := obj("events.k8s.io/v1", "Event", ns, gate+".chart-test-v1", map[string]any{
		"regarding": map[string]any{"apiVersion": "promotion-gate.io/v1alpha1", "kind": "PromotionGate", "namespace": ns, "name": gate},
		"reason":    "Promoted", "note": "promoted 9f1c", "type": "Normal", "action": "Promote",
		"eventTime": time.Now().UTC().Format("2006-01-02T15:04:05.000000Z"), "reportingController": "promotion-gate.io/flux-gate",
		"reportingInstance": "flux-gate-0"})
	leaseObj := obj("coordination.k8s.io/v1", "Lease", releaseNS, lease, map[string]any{
		"spec": map[string]any{"holderIdentity": "flux-gate-0", "leaseDurationSeconds": int64(15)}})
	return []request{
		list(gatesGVR, listNS), watch(gatesGVR, listNS), get(gatesGVR, ns, gate),
		mergePatch(gatesGVR, ns, gate, `{"status":{"observedGeneration":1}}`, "status"),
		mergePatch(gatesGVR, ns, gate, `{"metadata":{"finalizers":["promotion-gate.io/finalizer"]}}`),
		getAndUpdate(gatesGVR, ns, gate),
		list(automationsGVR, listNS), watch(automationsGVR, listNS), get(automationsGVR, ns, gate),
		mergePatch(automationsGVR, ns, gate, `{"metadata":{"annotations":{"reconcile.fluxcd.io/requestedAt":"2026-01-02T03:04:05Z"}}}`),
		list(gitRepoGVR, listNS), watch(gitRepoGVR, listNS), get(gitRepoGVR, ns, "platform-config"),
		get(secretsGVR, ns, "git-credentials"),
		// registry credentials: the ImagePolicy behind a setter marker, its ImageRepository
		get(imagePolicyGVR, ns, gate), get(imageRepoGVR, ns, "payments-api"),
		list(configMapsGVR, policyNS), watch(configMapsGVR, policyNS),
		// key material the policy names lives with the policy
		get(secretsGVR, policyNS, "commit-signers"), get(configMapsGVR, policyNS, "sigstore-trusted-root"),
		create(eventsGVR, coreEvent), mergePatch(eventsGVR, ns, coreEvent.GetName(), `{"count":2}`),
		create(eventsV1GVR, eventV1),
		create(leasesGVR, leaseObj), get(leasesGVR, releaseNS, lease),
		mergePatch(leasesGVR, releaseNS, lease, `{"spec":{"holderIdentity":"flux-gate-1"}}`),
	}
}

// forbiddenRequests are writes and reads outside what flux-gate needs.
func forbiddenRequests(ns, releaseNS string) []request {
	secret := obj("v1", "Secret", ns, "git-credentials", map[string]any{"data": map[string]any{"password": "c3RvbGVu"}})
	gate := obj("promotion-gate.io/v1alpha1", "PromotionGate", ns, "rogue", map[string]any{
		"spec": map[string]any{"automationRef": map[string]any{"name": "payments-api-prod"}}})
	return []request{
		remove(deploymentsGVR, releaseNS, "flux-gate"),
		updateRequest(secretsGVR, secret),
		list(secretsGVR, ns),
		watch(secretsGVR, ""),
		mergePatch(gitRepoGVR, ns, "platform-config", `{"spec":{"url":"https://evil.example.com/repo.git"}}`),
		remove(gitRepoGVR, ns, "platform-config"),
		remove(automationsGVR, ns, "payments-api-prod"),
		create(gatesGVR, gate),
		remove(gatesGVR, ns, "payments-api-prod"),
		mergePatch(imagePolicyGVR, ns, "payments-api-prod", `{"spec":{"policy":{"semver":{"range":"*"}}}}`),
		list(imageRepoGVR, ns),
		get(configMapsGVR, ns, "unrelated"),
		create(leasesGVR, obj("coordination.k8s.io/v1", "Lease", ns, "elsewhere", map[string]any{"spec": map[string]any{}})),
	}
}

// TestRBACClusterWide runs flux-gate's requests as the ServiceAccount of the default
// installation: every one is allowed, and every request outside its needs is forbidden.
func TestRBACClusterWide(t *testing.T) {
	s := needCluster(t)
	c := findCase(t, "flux-gate", "default")
	r := renderCase(t, c)
	s.install(t, r)
	s.createFixtures(t, fluxFixtures("apps"))
	s.createFixtures(t, trustFixtures(c.Namespace()))
	sa := serviceAccountOf(t, r)
	as := s.client(t, sa)

	// Patches of an automation's or a gate's spec are allowed by RBAC but must be stopped
	// by the write guard; that needs the admission policy to be loaded first, so it goes last.
	checkAllowed(t, as, controllerRequests("apps", "", c.Namespace(), c.Namespace(), c.Release()+"-flux-gate-leader"))
	checkForbidden(t, as, append(forbiddenRequests("apps", c.Namespace()),
		get(configMapsGVR, "kube-system", "extension-apiserver-authentication")))
	checkWriteGuard(t, as, "apps")
}

// TestRBACNamespaced does the same for the namespace-scoped installation: the requests in
// the watched namespaces are allowed, the same requests elsewhere and cluster-wide are not.
func TestRBACNamespaced(t *testing.T) {
	s := needCluster(t)
	c := findCase(t, "flux-gate", "namespaced")
	r := renderCase(t, c)
	s.install(t, r)
	s.createFixtures(t, fluxFixtures("team-a"))
	s.createFixtures(t, fluxFixtures("team-c"))
	s.createFixtures(t, trustFixtures("platform-policy"))
	s.createFixtures(t, trustFixtures("team-c"))
	as := s.client(t, serviceAccountOf(t, r))

	checkAllowed(t, as, controllerRequests("team-a", "team-a", "platform-policy", c.Namespace(), c.Release()+"-flux-gate-leader"))
	checkForbidden(t, as, append(forbiddenRequests("team-a", c.Namespace()),
		list(gatesGVR, ""), watch(automationsGVR, ""), list(gitRepoGVR, "team-c"),
		get(gatesGVR, "team-c", "payments-api-prod"), get(secretsGVR, "team-c", "git-credentials"),
		get(configMapsGVR, "team-c", "sigstore-trusted-root"),
		list(configMapsGVR, c.Namespace()),
		mergePatch(gatesGVR, "team-c", "payments-api-prod", `{"status":{"observedGeneration":1}}`, "status"),
	))
	checkWriteGuard(t, as, "team-a")
}

// checkWriteGuard: flux-gate's ServiceAccount may set the requestedAt annotation on an
// ImageUpdateAutomation and write a PromotionGate's status and finalizers, and change
// nothing else on either, although RBAC grants it patch on both.
func checkWriteGuard(t *testing.T, as dynamic.Interface, ns string) {
	t.Helper()
	g := NewWithT(t)
	ctx := context.Background()
	// The admission policy takes effect once the API server has loaded it: wait for that,
	// with a patch that changes something every time (an unchanged spec passes the guard).
	attempt := 0
	g.Eventually(func() error {
		attempt++
		return mergePatch(automationsGVR, ns, "payments-api-prod", fmt.Sprintf(`{"spec":{"interval":"%dm"}}`, attempt)).do(ctx, as)
	}).WithTimeout(time.Minute).WithPolling(200 * time.Millisecond).
		Should(MatchError(ContainSubstring("flux-gate may not change the spec of ImageUpdateAutomation " + ns + "/payments-api-prod")))
	for _, r := range []request{
		mergePatch(automationsGVR, ns, "payments-api-prod", `{"spec":{"git":{"push":{"branch":"main"}}}}`),
		mergePatch(automationsGVR, ns, "payments-api-prod", `{"metadata":{"labels":{"team":"rogue"}}}`),
		mergePatch(automationsGVR, ns, "payments-api-prod", `{"metadata":{"annotations":{"kustomize.toolkit.fluxcd.io/reconcile":"disabled"}}}`),
		mergePatch(gatesGVR, ns, "payments-api-prod", `{"spec":{"suspend":true}}`),
		mergePatch(gatesGVR, ns, "payments-api-prod", `{"spec":{"environment":"dev"}}`),
		mergePatch(gatesGVR, ns, "payments-api-prod", `{"metadata":{"labels":{"team":"rogue"}}}`),
	} {
		err := r.do(ctx, as)
		g.Expect(err).To(MatchError(ContainSubstring("flux-gate may")), r.name)
	}
	for _, r := range []request{
		mergePatch(automationsGVR, ns, "payments-api-prod", `{"metadata":{"annotations":{"reconcile.fluxcd.io/requestedAt":"2026-02-03T04:05:06Z"}}}`),
		mergePatch(gatesGVR, ns, "payments-api-prod", `{"status":{"observedGeneration":2}}`, "status"),
		mergePatch(gatesGVR, ns, "payments-api-prod", `{"metadata":{"finalizers":null}}`),
		getAndUpdate(gatesGVR, ns, "payments-api-prod"),
	} {
		g.Expect(r.do(ctx, as)).To(Succeed(), r.name)
	}
}

func checkAllowed(t *testing.T, c dynamic.Interface, reqs []request) {
	t.Helper()
	for _, r := range reqs {
		if err := r.do(context.Background(), c); err != nil {
			t.Errorf("flux-gate needs to %s: %v", r.name, err)
		}
	}
}

func checkForbidden(t *testing.T, c dynamic.Interface, reqs []request) {
	t.Helper()
	for _, r := range reqs {
		err := r.do(context.Background(), c)
		if !apierrors.IsForbidden(err) {
			t.Errorf("flux-gate must not be able to %s: got %v, want Forbidden", r.name, err)
		}
	}
}

// serviceAccountOf returns the ServiceAccount the chart's Deployment runs as.
func serviceAccountOf(t *testing.T, r rendered) types.NamespacedName {
	t.Helper()
	deploys := objectsOfKind(r.Objects, "Deployment")
	if len(deploys) != 1 {
		t.Fatalf("want one Deployment, rendered %d", len(deploys))
	}
	name, _, _ := unstructured.NestedString(deploys[0].Object, "spec", "template", "spec", "serviceAccountName")
	if name == "" {
		t.Fatal("the Deployment names no ServiceAccount")
	}
	return types.NamespacedName{Namespace: deploys[0].GetNamespace(), Name: name}
}
