package demo

import (
	"context"
	"debug/buildinfo"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	imagev1 "github.com/fluxcd/image-automation-controller/api/v1"
	sourcev1 "github.com/fluxcd/source-controller/api/v1"
	corev1 "k8s.io/api/core/v1"
	apiextensionsv1 "k8s.io/apiextensions-apiserver/pkg/apis/apiextensions/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	clientgoscheme "k8s.io/client-go/kubernetes/scheme"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/clientcmd"
	clientcmdapi "k8s.io/client-go/tools/clientcmd/api"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/envtest"

	gatev1 "github.com/promotion-gate/promotion-gate/flux-gate/api/v1alpha1"
)

// cluster is the envtest control plane: a real kube-apiserver and etcd.
type cluster struct {
	env *envtest.Environment
	cfg *rest.Config
	k8s client.Client
}

func newScheme() (*runtime.Scheme, error) {
	s := runtime.NewScheme()
	for _, add := range []func(*runtime.Scheme) error{
		clientgoscheme.AddToScheme, apiextensionsv1.AddToScheme,
		gatev1.AddToScheme, imagev1.AddToScheme, sourcev1.AddToScheme,
	} {
		if err := add(s); err != nil {
			return nil, err
		}
	}
	return s, nil
}

// startCluster starts kube-apiserver and etcd from assets.
func startCluster(assets string, timeout time.Duration) (*cluster, error) {
	env := &envtest.Environment{
		BinaryAssetsDirectory:    assets,
		ControlPlaneStartTimeout: timeout,
		ControlPlaneStopTimeout:  time.Minute,
	}
	cfg, err := env.Start()
	if err != nil {
		return nil, fmt.Errorf("start kube-apiserver and etcd from %s: %w", assets, err)
	}
	c := &cluster{env: env, cfg: cfg}
	// Every API request is bounded too.
	bounded := rest.CopyConfig(cfg)
	bounded.Timeout = time.Minute
	scheme, err := newScheme()
	if err == nil {
		c.k8s, err = client.New(bounded, client.Options{Scheme: scheme})
	}
	if err != nil {
		_ = env.Stop()
		return nil, fmt.Errorf("API client: %w", err)
	}
	return c, nil
}

func (c *cluster) stop() error {
	if c == nil || c.env == nil {
		return nil
	}
	err := c.env.Stop()
	c.env = nil
	if err != nil {
		return fmt.Errorf("stop kube-apiserver and etcd: %w", err)
	}
	return nil
}

// binaryVersion is the version of the k8s.io/kubernetes module kube-apiserver was built
// from, read from the binary's Go build information.
func binaryVersion(kubeAPIServer string) (string, error) {
	info, err := buildinfo.ReadFile(kubeAPIServer)
	if err != nil {
		return "", fmt.Errorf("read the build information of %s: %w", kubeAPIServer, err)
	}
	if info.Main.Path == "k8s.io/kubernetes" && strings.HasPrefix(info.Main.Version, "v1.") {
		return info.Main.Version, nil
	}
	for _, dep := range info.Deps {
		if dep.Path == "k8s.io/kubernetes" {
			return dep.Version, nil
		}
	}
	return "", fmt.Errorf("%s was not built from the k8s.io/kubernetes module: cannot tell its version", kubeAPIServer)
}

// installCRDs installs CRDs from files and objects and waits until they are served.
func (c *cluster) installCRDs(paths []string, crds []*apiextensionsv1.CustomResourceDefinition, timeout time.Duration) ([]string, error) {
	installed, err := envtest.InstallCRDs(c.cfg, envtest.CRDInstallOptions{
		Paths: paths, CRDs: crds, ErrorIfPathMissing: true, MaxTime: timeout,
	})
	if err != nil {
		return nil, fmt.Errorf("install CRDs from %v: %w", paths, err)
	}
	var kinds []string
	for _, crd := range installed {
		kinds = append(kinds, crd.Spec.Names.Kind)
	}
	return kinds, nil
}

// ensureNamespace creates a namespace unless it exists.
func (c *cluster) ensureNamespace(ctx context.Context, name string) error {
	ns := &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: name}}
	if err := c.k8s.Create(ctx, ns); err != nil && !apierrors.IsAlreadyExists(err) {
		return fmt.Errorf("create namespace %s: %w", name, err)
	}
	return nil
}

// apply creates every object, as `helm install` would, skipping the kinds for which the
// demo runs the process itself (there is no kubelet to run a Deployment).
func (c *cluster) apply(ctx context.Context, objs []*unstructured.Unstructured, skip ...string) (applied, skipped []*unstructured.Unstructured, err error) {
	for _, o := range objs {
		if contains(skip, o.GetKind()) {
			skipped = append(skipped, o)
			continue
		}
		if ns := o.GetNamespace(); ns != "" {
			if err := c.ensureNamespace(ctx, ns); err != nil {
				return nil, nil, err
			}
		}
		if err := c.k8s.Create(ctx, o.DeepCopy()); err != nil {
			return nil, nil, fmt.Errorf("create %s %s/%s: %w", o.GetKind(), o.GetNamespace(), o.GetName(), err)
		}
		applied = append(applied, o)
	}
	return applied, skipped, nil
}

// writeKubeconfig writes a kubeconfig for a user with system:masters that impersonates
// serviceAccount: the process that uses it has exactly the ServiceAccount's permissions,
// as a pod running under it would.
func (c *cluster) writeKubeconfig(path, serviceAccountNS, serviceAccount string) error {
	user, err := c.env.AddUser(envtest.User{Name: "promotion-gate-demo", Groups: []string{"system:masters"}}, nil)
	if err != nil {
		return fmt.Errorf("add an API server user: %w", err)
	}
	rc := user.Config()
	kc := clientcmdapi.NewConfig()
	kc.Clusters["envtest"] = &clientcmdapi.Cluster{Server: rc.Host, CertificateAuthorityData: rc.CAData}
	kc.AuthInfos["demo"] = &clientcmdapi.AuthInfo{
		ClientCertificateData: rc.CertData,
		ClientKeyData:         rc.KeyData,
		Impersonate:           fmt.Sprintf("system:serviceaccount:%s:%s", serviceAccountNS, serviceAccount),
		ImpersonateGroups:     []string{"system:serviceaccounts", "system:serviceaccounts:" + serviceAccountNS, "system:authenticated"},
	}
	kc.Contexts["demo"] = &clientcmdapi.Context{Cluster: "envtest", AuthInfo: "demo"}
	kc.CurrentContext = "demo"
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return err
	}
	if err := clientcmd.WriteToFile(*kc, path); err != nil {
		return fmt.Errorf("write kubeconfig %s: %w", path, err)
	}
	return nil
}

func contains(list []string, s string) bool {
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
}
