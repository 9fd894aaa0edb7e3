package charts

import (
	"context"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/discovery"
	"k8s.io/client-go/discovery/cached/memory"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/restmapper"
	"sigs.k8s.io/controller-runtime/pkg/envtest"
	"sigs.k8s.io/yaml"
)

// cluster is the envtest control plane shared by the tests of this package; nil when
// KUBEBUILDER_ASSETS is unset.
var cluster *apiServer

// apiServer is a running kube-apiserver (and etcd) with clients for the admin user.
type apiServer struct {
	env    *envtest.Environment
	config *rest.Config
	dyn    *dynamic.DynamicClient
	mapper *restmapper.DeferredDiscoveryRESTMapper
}

func TestMain(m *testing.M) {
	if os.Getenv("KUBEBUILDER_ASSETS") == "" {
		os.Exit(m.Run())
	}
	s, err := startAPIServer()
	if err != nil {
		fmt.Fprintf(os.Stderr, "start envtest: %v\n", err)
		os.Exit(1)
	}
	cluster = s
	code := m.Run()
	if err := s.env.Stop(); err != nil {
		fmt.Fprintf(os.Stderr, "stop envtest: %v\n", err)
	}
	os.Exit(code)
}

// needCluster skips the test, with the reason, when there is no API server to use.
func needCluster(t *testing.T) *apiServer {
	t.Helper()
	if cluster == nil {
		t.Skip("KUBEBUILDER_ASSETS is unset: set it to the output of `bash hack/envtest-assets.sh` (make test does) to run the charts against a real kube-apiserver")
	}
	return cluster
}

// startAPIServer starts envtest with the CRDs the charts' objects refer to: the Flux
// CRDs flux-gate generates, the Argo CD Application CRD, the prometheus-operator
// ServiceMonitor CRD (testdata/crds), and the chart's own PromotionGate CRD, which the
// apply test installs the way Helm does.
func startAPIServer() (*apiServer, error) {
	crds, err := testCRDPaths()
	if err != nil {
		return nil, err
	}
	env := &envtest.Environment{
		CRDInstallOptions:        envtest.CRDInstallOptions{Paths: crds, ErrorIfPathMissing: true},
		ControlPlaneStartTimeout: 3 * time.Minute, // a loaded 2-core machine starts slowly
		ControlPlaneStopTimeout:  time.Minute,
	}
	cfg, err := env.Start()
	if err != nil {
		return nil, err
	}
	s := &apiServer{env: env, config: cfg}
	if s.dyn, err = dynamic.NewForConfig(cfg); err != nil {
		return nil, err
	}
	dc, err := discovery.NewDiscoveryClientForConfig(cfg)
	if err != nil {
		return nil, err
	}
	s.mapper = restmapper.NewDeferredDiscoveryRESTMapper(memory.NewMemCacheClient(dc))
	return s, nil
}

// testCRDPaths lists the CRD files the tests install before any chart: the Flux CRDs
// under flux-gate/config (wherever flux-gate's generator puts them) and testdata/crds.
func testCRDPaths() ([]string, error) {
	var out []string
	root := filepath.Join(repoRoot, "flux-gate", "config")
	err := filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || !strings.HasSuffix(p, ".yaml") {
			return err
		}
		b, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		if strings.Contains(string(b), "kind: CustomResourceDefinition") && strings.Contains(string(b), "toolkit.fluxcd.io") {
			out = append(out, p)
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("find the Flux CRDs under %s: %w (make generate writes them)", root, err)
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("no Flux CRD under %s: run make generate", root)
	}
	own, _ := filepath.Glob(filepath.Join("testdata", "crds", "*.yaml"))
	if len(own) == 0 {
		return nil, fmt.Errorf("no CRD in testdata/crds: run hack/charts-crds.sh")
	}
	return append(out, own...), nil
}

// client returns a dynamic client for user (a ServiceAccount impersonated, "" = admin).
func (s *apiServer) client(t *testing.T, serviceAccount types.NamespacedName) *dynamic.DynamicClient {
	t.Helper()
	if serviceAccount.Name == "" {
		return s.dyn
	}
	cfg := rest.CopyConfig(s.config)
	cfg.Impersonate = rest.ImpersonationConfig{
		UserName: fmt.Sprintf("system:serviceaccount:%s:%s", serviceAccount.Namespace, serviceAccount.Name),
		Groups:   []string{"system:serviceaccounts", "system:serviceaccounts:" + serviceAccount.Namespace, "system:authenticated"},
	}
	c, err := dynamic.NewForConfig(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// resource maps an object's kind to the client for its resource (namespaced or not).
func (s *apiServer) resource(c dynamic.Interface, obj *unstructured.Unstructured) (dynamic.ResourceInterface, error) {
	gvk := obj.GroupVersionKind()
	mapping, err := s.mapper.RESTMapping(gvk.GroupKind(), gvk.Version)
	if meta.IsNoMatchError(err) {
		s.mapper.Reset() // a CRD installed since the last discovery
		mapping, err = s.mapper.RESTMapping(gvk.GroupKind(), gvk.Version)
	}
	if err != nil {
		return nil, fmt.Errorf("map %s: %w", gvk, err)
	}
	if mapping.Scope.Name() == meta.RESTScopeNameNamespace {
		return c.Resource(mapping.Resource).Namespace(obj.GetNamespace()), nil
	}
	return c.Resource(mapping.Resource), nil
}

// apply server-side applies obj as the admin with strict field validation, so that an
// unknown or mistyped field fails as `kubectl apply --server-side` would report it.
func (s *apiServer) apply(ctx context.Context, obj *unstructured.Unstructured) error {
	ri, err := s.resource(s.dyn, obj)
	if err != nil {
		return err
	}
	data, err := yaml.Marshal(obj.Object)
	if err != nil {
		return err
	}
	force := true
	_, err = ri.Patch(ctx, obj.GetName(), types.ApplyYAMLPatchType, data, metav1.PatchOptions{
		FieldManager: "chart-test", Force: &force, FieldValidation: "Strict",
	})
	if err != nil {
		return fmt.Errorf("apply %s %s/%s: %w", obj.GetKind(), obj.GetNamespace(), obj.GetName(), err)
	}
	return nil
}

// remove deletes obj as the admin; a missing object is fine.
func (s *apiServer) remove(ctx context.Context, obj *unstructured.Unstructured) error {
	ri, err := s.resource(s.dyn, obj)
	if err != nil {
		return err
	}
	if err := ri.Delete(ctx, obj.GetName(), metav1.DeleteOptions{}); err != nil && !apierrors.IsNotFound(err) {
		return fmt.Errorf("delete %s %s/%s: %w", obj.GetKind(), obj.GetNamespace(), obj.GetName(), err)
	}
	return nil
}

// ensureNamespaces creates the namespaces the objects live in (Helm does not), and any
// extra ones.
func (s *apiServer) ensureNamespaces(ctx context.Context, objs []*unstructured.Unstructured, extra ...string) error {
	names := map[string]bool{}
	for _, n := range extra {
		names[n] = true
	}
	for _, o := range objs {
		if ns := o.GetNamespace(); ns != "" {
			names[ns] = true
		}
	}
	for n := range names {
		ns := &unstructured.Unstructured{Object: map[string]any{
			"apiVersion": "v1", "kind": "Namespace", "metadata": map[string]any{"name": n},
		}}
		if err := s.apply(ctx, ns); err != nil {
			return err
		}
	}
	return nil
}

// install applies the chart's CRDs and then its objects, the way `helm install` does,
// and deletes the objects again when the test ends (CRDs stay, as Helm leaves them).
func (s *apiServer) install(t *testing.T, r rendered) {
	t.Helper()
	ctx := context.Background()
	for _, crd := range r.CRDs {
		if err := s.apply(ctx, crd); err != nil {
			t.Fatalf("install CRD: %v", err)
		}
	}
	if len(r.CRDs) > 0 {
		s.mapper.Reset()
	}
	if err := s.ensureNamespaces(ctx, r.Objects); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		for i := len(r.Objects) - 1; i >= 0; i-- {
			o := r.Objects[i]
			if o.GetKind() == "CustomResourceDefinition" {
				continue // keep CRDs, as Helm's keep policy does; other cases use them
			}
			if err := s.remove(ctx, o); err != nil {
				t.Errorf("clean up: %v", err)
			}
		}
	})
	for _, o := range r.Objects {
		if err := s.apply(ctx, o); err != nil {
			t.Fatalf("%v", err)
		}
		if o.GetKind() == "CustomResourceDefinition" {
			s.mapper.Reset()
		}
	}
}
