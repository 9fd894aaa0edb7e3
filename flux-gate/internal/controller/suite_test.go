package controller_test

import (
	"context"
	"fmt"
	"io"
	"log"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/fluxcd/pkg/runtime/events"
	"github.com/go-logr/logr"
	"github.com/go-logr/logr/funcr"
	. "github.com/onsi/gomega"
	"github.com/prometheus/client_golang/prometheus"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/rest"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/config"
	"sigs.k8s.io/controller-runtime/pkg/envtest"
	metricsserver "sigs.k8s.io/controller-runtime/pkg/metrics/server"

	"github.com/promotion-gate/promotion-gate/flux-gate/internal/controller"
	"github.com/promotion-gate/promotion-gate/flux-gate/internal/git"
	"github.com/promotion-gate/promotion-gate/shared/check"
	"github.com/promotion-gate/promotion-gate/shared/evaluate"

	"github.com/promotion-gate/promotion-gate/shared/render"
)

// The envtest suites run a real kube-apiserver and etcd (KUBEBUILDER_ASSETS, built by
// hack/envtest-assets.sh) with the PromotionGate CRD and Flux's CRDs, and real Git
// servers (gittestserver). Each test gets its own namespace and its own manager,
// scoped to that namespace, so tests can break the policy or restart the controller
// without disturbing each other.
var (
	cfg        *rest.Config
	kubeconfig []byte
	k8s        client.Client
	skipWhy    string
	testLogs   = os.Getenv("FLUX_GATE_TEST_LOG") != ""
)

func TestMain(m *testing.M) {
	render.ServeWorker()
	if !testLogs {
		log.SetOutput(io.Discard) // the Git test server logs every request
	}
	ctrl.SetLogger(testLogger())
	if os.Getenv("KUBEBUILDER_ASSETS") == "" {
		skipWhy = "KUBEBUILDER_ASSETS is unset: run `export KUBEBUILDER_ASSETS=$(bash hack/envtest-assets.sh)` from the repository root to run the envtest suites"
		fmt.Fprintln(os.Stderr, "flux-gate controller tests:", skipWhy)
		os.Exit(m.Run())
	}
	env := &envtest.Environment{
		CRDDirectoryPaths: []string{
			filepath.Join("..", "..", "config", "crd", "bases"),
			filepath.Join("..", "..", "config", "testdata", "crds"),
		},
		ErrorIfCRDPathMissing:    true,
		ControlPlaneStartTimeout: 3 * time.Minute,
		ControlPlaneStopTimeout:  time.Minute,
	}
	var err error
	if cfg, err = env.Start(); err != nil {
		fmt.Fprintln(os.Stderr, "start envtest:", err)
		os.Exit(1)
	}
	kubeconfig = env.KubeConfig
	if k8s, err = client.New(cfg, client.Options{Scheme: controller.NewScheme()}); err != nil {
		fmt.Fprintln(os.Stderr, "client:", err)
		os.Exit(1)
	}
	code := m.Run()
	if err := env.Stop(); err != nil {
		fmt.Fprintln(os.Stderr, "stop envtest:", err)
	}
	os.Exit(code)
}

func testLogger() logr.Logger {
	if !testLogs {
		// Not logr.Discard(): Flux's event recorder calls GetSink().Enabled(), and
		// the discard logger has no sink.
		return funcr.New(func(string, string) {}, funcr.Options{})
	}
	return funcr.New(func(prefix, args string) { fmt.Fprintln(os.Stderr, prefix, args) }, funcr.Options{Verbosity: 1})
}

// harness is one test's namespace, manager and clients.
type harness struct {
	t        testing.TB
	g        *WithT
	ctx      context.Context
	ns       string
	metrics  *controller.Metrics
	cacheDir string
	// verifiers is the registry verifier factory the manager is started with; nil
	// (the default) makes signatures and attestations rules fail closed.
	verifiers *check.VerifierOptions
	// plugins runs the rules' plugin checks; nil fails such rules closed.
	plugins evaluate.PluginRunner
	stop    context.CancelFunc
	done    chan struct{}
}

func newHarness(t *testing.T) *harness {
	t.Helper()
	h := newBareHarness(t)
	h.startManager()
	t.Cleanup(h.stopManager)
	return h
}

// newBareHarness is a namespace without a controller (benchmarks run the binary).
func newBareHarness(t testing.TB) *harness {
	t.Helper()
	if skipWhy != "" {
		t.Skip(skipWhy)
	}
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	h := &harness{t: t, g: NewWithT(t), ctx: ctx, cacheDir: t.TempDir()}
	ns := &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{GenerateName: "gate-"}}
	h.g.Expect(k8s.Create(ctx, ns)).To(Succeed())
	h.ns = ns.Name
	h.g.SetDefaultEventuallyTimeout(90 * time.Second)
	h.g.SetDefaultEventuallyPollingInterval(200 * time.Millisecond)
	return h
}

// startManager runs flux-gate as the binary does, scoped to the test namespace,
// which is also the policy namespace. The clone cache survives restarts.
func (h *harness) startManager() {
	h.t.Helper()
	mgr, err := ctrl.NewManager(cfg, ctrl.Options{
		Scheme:  controller.NewScheme(),
		Cache:   controller.CacheOptions(h.ns, []string{h.ns}),
		Client:  controller.ClientOptions(),
		Metrics: metricsserver.Options{BindAddress: "0"},
		Logger:  testLogger(),
		// Many managers start in one test process: names must not collide.
		Controller: ctrlConfigUniqueNames(),
	})
	h.g.Expect(err).NotTo(HaveOccurred())
	recorder, err := events.NewRecorder(testLogger(), "", controller.ControllerName, events.WithManager(mgr))
	h.g.Expect(err).NotTo(HaveOccurred())
	h.metrics, err = controller.NewMetrics(prometheus.NewRegistry())
	h.g.Expect(err).NotTo(HaveOccurred())
	r := &controller.PromotionGateReconciler{
		Client:            mgr.GetClient(),
		APIReader:         mgr.GetAPIReader(),
		EventRecorder:     recorder,
		Metrics:           h.metrics,
		Git:               git.NewCache(h.cacheDir),
		PolicyNamespace:   h.ns,
		AllowInsecureHTTP: true,
		RetryInterval:     200 * time.Millisecond,
		Verifiers:         h.verifiers,
		Plugins:           h.plugins,
		Identity:          "system:serviceaccount:" + h.ns + ":flux-gate",
	}
	ctx, cancel := context.WithCancel(h.ctx)
	h.g.Expect(r.SetupWithManager(ctx, mgr, controller.Options{MaxConcurrentReconciles: 4})).To(Succeed())
	h.stop = cancel
	h.done = make(chan struct{})
	go func(done chan struct{}) {
		defer close(done)
		if err := mgr.Start(ctx); err != nil {
			h.t.Errorf("manager: %v", err)
		}
	}(h.done)
}

func (h *harness) stopManager() {
	if h.stop != nil {
		h.stop()
		<-h.done
		h.stop = nil
	}
}

func (h *harness) restartManager() {
	h.stopManager()
	h.startManager()
}

func ctrlConfigUniqueNames() config.Controller {
	skip := true
	return config.Controller{SkipNameValidation: &skip}
}
