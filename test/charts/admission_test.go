package charts

import (
	"context"
	"fmt"
	"testing"
	"time"

	. "github.com/onsi/gomega"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
)

// application is an Argo CD Application in namespace argocd-apps with the given source
// (or sources, when sources is set) deploying to destNS.
func application(name, destNS string, source map[string]any, sources ...map[string]any) *unstructured.Unstructured {
	spec := map[string]any{
		"project":     "default",
		"destination": map[string]any{"server": "https://kubernetes.default.svc", "namespace": destNS},
	}
	if source != nil {
		spec["source"] = source
	}
	if len(sources) > 0 {
		list := make([]any, 0, len(sources))
		for _, s := range sources {
			list = append(list, s)
		}
		spec["sources"] = list
	}
	return obj("argoproj.io/v1alpha1", "Application", "argocd-apps", name, map[string]any{"spec": spec})
}

const repoURL = "https://git.example.com/platform-config.git"

func kustomizeSource(path string) map[string]any {
	return map[string]any{"repoURL": repoURL, "targetRevision": "main", "path": path,
		"kustomize": map[string]any{"namePrefix": "x-"}}
}

func pluginSource(path, plugin string) map[string]any {
	return map[string]any{"repoURL": repoURL, "targetRevision": "main", "path": path,
		"plugin": map[string]any{"name": plugin}}
}

// TestAdmissionPolicy installs the argocd-promotion-gate chart with its admission policy
// on a real API server with the Argo CD Application CRD, and creates Applications: those
// that would render a protected path without the plugin are denied with a message that
// says what to do; the others are admitted.
func TestAdmissionPolicy(t *testing.T) {
	s := needCluster(t)
	ctx := context.Background()
	g := NewWithT(t)
	g.Expect(s.ensureNamespaces(ctx, nil, "argocd-apps")).To(Succeed())
	apps := s.dyn.Resource(applicationsGVR).Namespace("argocd-apps")
	createApp := func(a *unstructured.Unstructured) error {
		_, err := apps.Create(ctx, a, metav1.CreateOptions{})
		if err == nil {
			t.Cleanup(func() { _ = apps.Delete(ctx, a.GetName(), metav1.DeleteOptions{}) })
		}
		return err
	}
	// An Application that was there before the admission policy: Argo CD must still be
	// able to write its status.
	g.Expect(createApp(application("legacy-prod", "legacy-prod", kustomizeSource("clusters/prod/legacy")))).To(Succeed())

	s.install(t, renderCase(t, findCase(t, "argocd-promotion-gate", "admission")))

	// The API server loads a new admission policy shortly after it is created: wait until
	// the first denial, then every other case runs against the loaded policy.
	// A probe created before the policy is loaded is admitted, so each probe has a name of
	// its own.
	probe := 0
	g.Eventually(func() error {
		probe++
		return createApp(application(fmt.Sprintf("probe-%d", probe), "payments", kustomizeSource("apps/payments-api/overlays/prod")))
	}).WithTimeout(time.Minute).WithPolling(200 * time.Millisecond).Should(MatchError(ContainSubstring("without the promotion-gate plugin")))

	prodNative := application("payments-api-prod", "payments-api-prod", kustomizeSource("apps/payments-api/overlays/prod"))
	g.Expect(createApp(prodNative)).To(MatchError(And(
		ContainSubstring("Application payments-api-prod renders a protected environment of the promotion policy without the promotion-gate plugin"),
		ContainSubstring(`spec.source (path "apps/payments-api/overlays/prod" of `+repoURL+`)`),
		ContainSubstring("set plugin.name: promotion-gate-v1 on that source"),
	)))

	denied := []*unstructured.Unstructured{
		application("helm-prod", "payments", map[string]any{"repoURL": repoURL, "path": "clusters/prod/payments",
			"helm": map[string]any{"valueFiles": []any{"values-prod.yaml"}}}),
		application("directory-prod", "payments", map[string]any{"repoURL": repoURL, "path": "clusters/prod",
			"directory": map[string]any{"recurse": true}}),
		application("implicit-prod", "payments", map[string]any{"repoURL": repoURL, "path": "./apps/payments-api/overlays/prod/"}),
		application("dotdot", "payments", kustomizeSource("apps/payments-api/overlays/dev/../prod")),
		application("wrong-plugin", "payments", pluginSource("apps/payments-api/overlays/prod", "kustomize-with-envsubst")),
		application("multi-source", "payments", nil,
			pluginSource("apps/payments-api/overlays/dev", "promotion-gate-v1"),
			kustomizeSource("apps/payments-api/overlays/prod")),
		application("hydrator", "payments", nil),
		inProject(application("dev-path-in-prod-project", "payments", kustomizeSource("apps/payments-api/overlays/dev")), "payments-prod"),
	}
	_ = unstructured.SetNestedMap(denied[len(denied)-2].Object, map[string]any{
		"drySource":  map[string]any{"repoURL": repoURL, "targetRevision": "main", "path": "apps/payments-api/overlays/prod"},
		"syncSource": map[string]any{"targetBranch": "environments/prod", "path": "payments-api"},
	}, "spec", "sourceHydrator")
	for _, a := range denied {
		err := createApp(a)
		g.Expect(err).To(MatchError(ContainSubstring("without the promotion-gate plugin")), "Application %s must be denied", a.GetName())
		t.Logf("%s denied: %v", a.GetName(), err)
	}

	admitted := []*unstructured.Unstructured{
		application("payments-api-prod", "payments-api-prod", pluginSource("apps/payments-api/overlays/prod", "promotion-gate-v1")),
		application("payments-api-dev", "payments-api-dev", kustomizeSource("apps/payments-api/overlays/dev")),
		application("helm-repo-chart", "monitoring", map[string]any{"repoURL": "https://charts.example.com", "chart": "kube-state-metrics", "targetRevision": "5.0.0"}),
		application("multi-source-ok", "payments", nil,
			pluginSource("apps/payments-api/overlays/prod", "promotion-gate-v1"),
			map[string]any{"repoURL": repoURL, "targetRevision": "main", "ref": "values"}),
		// Path globs only by default: the name and namespace alone do not guard an app.
		application("reports-prod", "reports-prod", kustomizeSource("apps/reports/overlays/dev")),
		// The prod project guards the whole Application: with the plugin it is admitted.
		inProject(application("dev-path-in-prod-project-ok", "payments", pluginSource("apps/payments-api/overlays/dev", "promotion-gate-v1")), "payments-prod"),
	}
	for _, a := range admitted {
		g.Expect(createApp(a)).To(Succeed(), "Application %s must be admitted", a.GetName())
	}

	// An admitted dev Application cannot be moved to a prod path afterwards...
	moved, err := apps.Get(ctx, "payments-api-dev", metav1.GetOptions{})
	g.Expect(err).NotTo(HaveOccurred())
	g.Expect(unstructured.SetNestedField(moved.Object, "apps/payments-api/overlays/prod", "spec", "source", "path")).To(Succeed())
	_, err = apps.Update(ctx, moved, metav1.UpdateOptions{})
	g.Expect(err).To(MatchError(ContainSubstring("without the promotion-gate plugin")))

	// ...while writes that leave the spec alone, as Argo CD's status updates (the
	// Application has no status subresource) and finalizers do, pass even for an
	// Application that predates the policy.
	legacy, err := apps.Get(ctx, "legacy-prod", metav1.GetOptions{})
	g.Expect(err).NotTo(HaveOccurred())
	g.Expect(unstructured.SetNestedField(legacy.Object, "Synced", "status", "sync", "status")).To(Succeed())
	legacy.SetFinalizers([]string{"resources-finalizer.argocd.argoproj.io"})
	legacy, err = apps.Update(ctx, legacy, metav1.UpdateOptions{})
	g.Expect(err).NotTo(HaveOccurred())
	legacy.SetFinalizers(nil)
	_, err = apps.Update(ctx, legacy, metav1.UpdateOptions{})
	g.Expect(err).NotTo(HaveOccurred())
}

// inProject puts the Application in an Argo CD project (spec.project).
func inProject(a *unstructured.Unstructured, project string) *unstructured.Unstructured {
	_ = unstructured.SetNestedField(a.Object, project, "spec", "project")
	return a
}
