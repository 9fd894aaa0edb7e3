// Command flux-gate runs the PromotionGate controller: it holds the commits Flux's
// image-automation-controller pushes on a proposal branch and promotes each to the
// target branch only when the promotion policy passes for exactly that commit.
package main

import (
	"fmt"
	"os"
	"path/filepath"
	"runtime/debug"
	"strings"
	"time"

	"github.com/fluxcd/pkg/runtime/events"
	"github.com/fluxcd/pkg/runtime/leaderelection"
	"github.com/fluxcd/pkg/runtime/logger"
	"github.com/fluxcd/pkg/runtime/probes"
	flag "github.com/spf13/pflag"
	"k8s.io/apimachinery/pkg/api/resource"
	ctrl "sigs.k8s.io/controller-runtime"
	crtlmetrics "sigs.k8s.io/controller-runtime/pkg/metrics"
	metricsserver "sigs.k8s.io/controller-runtime/pkg/metrics/server"

	"github.com/promotion-gate/promotion-gate/flux-gate/internal/controller"
	"github.com/promotion-gate/promotion-gate/flux-gate/internal/git"
	"github.com/promotion-gate/promotion-gate/shared/check"
	"github.com/promotion-gate/promotion-gate/shared/plugin"
)

// version is set at build time with -ldflags "-X main.version=v1.2.3".
var version = ""

func main() {
	check.ServeWorker()
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, "flux-gate:", err)
		os.Exit(1)
	}
}

func run() error {
	var (
		metricsAddr       string
		healthAddr        string
		eventsAddr        string
		policyNamespace   string
		watchNamespaces   string
		concurrent        int
		gitCacheDir       string
		allowInsecureHTTP bool
		retryInterval     time.Duration
		registryTimeout   time.Duration
		verifyCacheTTL    time.Duration
		trustDir          string
		pluginDir         string
		renderMaxMemory   string
		renderCacheDir    string
		renderCacheSize   string
		identity          string
		printVersion      bool
		logOptions        logger.Options
		leaderElection    leaderelection.Options
	)
	defaultNS := os.Getenv("RUNTIME_NAMESPACE")
	if defaultNS == "" {
		defaultNS = "flux-system"
	}
	flag.StringVar(&metricsAddr, "metrics-addr", ":8080", "The address the Prometheus metrics endpoint binds to.")
	flag.StringVar(&healthAddr, "health-addr", ":9440", "The address the health (/healthz) and readiness (/readyz) probes bind to.")
	flag.StringVar(&eventsAddr, "events-addr", "", "The address of Flux notification-controller's event receiver, e.g. http://notification-controller.flux-system.svc.cluster.local./; empty sends Kubernetes events only.")
	flag.StringVar(&policyNamespace, "policy-namespace", defaultNS, "The namespace of the ConfigMaps labelled promotion-gate.io/policy=\"true\" that hold the promotion policy (default: $RUNTIME_NAMESPACE or flux-system).")
	flag.StringVar(&watchNamespaces, "watch-namespaces", "", "Comma-separated namespaces whose PromotionGates, ImageUpdateAutomations and GitRepositories are watched; empty watches all.")
	flag.IntVar(&concurrent, "concurrent", 4, "The number of gates reconciled at once; gates of one repository still take turns.")
	flag.StringVar(&gitCacheDir, "git-cache-dir", filepath.Join(os.TempDir(), "flux-gate", "git"), "The directory of the Git clone cache; an emptyDir volume is enough.")
	flag.BoolVar(&allowInsecureHTTP, "allow-insecure-http", false, "Allow Git credentials over http:// URLs (never in production).")
	flag.DurationVar(&retryInterval, "retry-interval", 2*time.Second, "How soon to evaluate again after a push was rejected because the target moved.")
	flag.DurationVar(&registryTimeout, "registry-timeout", 10*time.Second, "The timeout of each registry call made by the signatures and attestations checks; a check that times out fails closed.")
	flag.DurationVar(&verifyCacheTTL, "verify-cache-ttl", 10*time.Minute, "How long a digest whose signatures and attestations verified is remembered (less when a scan's maxAge runs out sooner).")
	flag.StringVar(&pluginDir, "plugin-dir", "/usr/local/lib/promotion-gate/plugins", "The directory relative plugin paths in the policy are resolved against (the image ships promotion-gate-scan-report there).")
	flag.StringVar(&trustDir, "trust-dir", "", "A directory for policy key material given as a file (relative paths are relative to it); empty refuses file references: use secretRef or configMapRef.")
	flag.StringVar(&renderMaxMemory, "render-max-memory", "512Mi", "The memory budget of each render of a root a promotion reaches (a quantity); a render over it holds the promotion.")
	flag.StringVar(&renderCacheDir, "render-cache-dir", "", "A private directory where renders are kept, keyed by everything they read (default: renders/ in --git-cache-dir, on the same volume; \"off\" disables it).")
	flag.StringVar(&renderCacheSize, "render-cache-size", "256Mi", "The size bound of the render cache; least recently used renders are evicted.")
	flag.StringVar(&identity, "identity", defaultIdentity(os.Getenv, serviceAccountNamespaceFile), "Who the gate acts as, written in every promotion record (default: the pod's service account, system:serviceaccount:<namespace>:<name>, from $RUNTIME_SERVICE_ACCOUNT and $RUNTIME_NAMESPACE or the in-cluster token's namespace; flux-gate when unknown).")
	flag.BoolVar(&printVersion, "version", false, "Print the version and exit.")
	logOptions.BindFlags(flag.CommandLine)
	leaderElection.BindFlags(flag.CommandLine)
	flag.Parse()
	if printVersion {
		fmt.Println("flux-gate", buildVersion())
		return nil
	}

	logger.SetLogger(logger.NewLogger(logOptions))
	log := ctrl.Log.WithName("setup")

	var namespaces []string
	for _, ns := range strings.Split(watchNamespaces, ",") {
		if ns = strings.TrimSpace(ns); ns != "" {
			namespaces = append(namespaces, ns)
		}
	}

	cfg, err := ctrl.GetConfig()
	if err != nil {
		return fmt.Errorf("load kubeconfig: %w", err)
	}
	mgr, err := ctrl.NewManager(cfg, ctrl.Options{
		Scheme:                 controller.NewScheme(),
		Cache:                  controller.CacheOptions(policyNamespace, namespaces),
		Client:                 controller.ClientOptions(),
		Metrics:                metricsserver.Options{BindAddress: metricsAddr},
		HealthProbeBindAddress: healthAddr,
		LeaderElection:         leaderElection.Enable,
		LeaderElectionID:       "flux-gate.promotion-gate.io",
		// The Lease lives in the controller's namespace; empty (not in a Pod) lets
		// controller-runtime read the in-cluster service account's namespace.
		LeaderElectionNamespace:       os.Getenv("RUNTIME_NAMESPACE"),
		LeaderElectionReleaseOnCancel: leaderElection.ReleaseOnCancel,
		LeaseDuration:                 &leaderElection.LeaseDuration,
		RenewDeadline:                 &leaderElection.RenewDeadline,
		RetryPeriod:                   &leaderElection.RetryPeriod,
	})
	if err != nil {
		return fmt.Errorf("create manager: %w", err)
	}
	probes.SetupChecks(mgr, log)

	recorder, err := events.NewRecorder(ctrl.Log.WithName("events"), eventsAddr, controller.ControllerName, events.WithManager(mgr))
	if err != nil {
		return fmt.Errorf("create event recorder for %q: %w", eventsAddr, err)
	}
	metrics, err := controller.NewMetrics(crtlmetrics.Registry)
	if err != nil {
		return fmt.Errorf("register metrics: %w", err)
	}
	// Plugin processes are started on first use and stopped when the manager stops.
	plugins := plugin.NewRunner(plugin.Options{Dir: pluginDir, Log: os.Stderr})
	defer plugins.Close()
	r := &controller.PromotionGateReconciler{
		Client:            mgr.GetClient(),
		APIReader:         mgr.GetAPIReader(),
		EventRecorder:     recorder,
		Metrics:           metrics,
		Git:               git.NewCache(gitCacheDir),
		PolicyNamespace:   policyNamespace,
		AllowInsecureHTTP: allowInsecureHTTP,
		RetryInterval:     retryInterval,
		TrustDir:          trustDir,
		Verifiers: &check.VerifierOptions{
			RegistryTimeout: registryTimeout, CacheTTL: verifyCacheTTL,
		},
		Plugins:  plugins,
		Identity: identity,
	}
	if r.Render, err = renderOptions(renderMaxMemory, renderCacheDir, renderCacheSize, gitCacheDir); err != nil {
		return err
	}
	ctx := ctrl.SetupSignalHandler()
	if err := r.SetupWithManager(ctx, mgr, controller.Options{MaxConcurrentReconciles: concurrent}); err != nil {
		return fmt.Errorf("set up controller: %w", err)
	}
	log.Info("starting manager", "identity", identity, "policyNamespace", policyNamespace, "watchNamespaces", namespaces, "gitCacheDir", gitCacheDir)
	if err := mgr.Start(ctx); err != nil {
		return fmt.Errorf("run manager: %w", err)
	}
	return nil
}

// renderOptions turns the render flags into the options of every root render. A render
// cache that cannot be used is logged and left out: the gate renders without it.
func renderOptions(maxMemory, cacheDir, cacheSize, gitCacheDir string) (check.RenderOptions, error) {
	q, err := resource.ParseQuantity(maxMemory)
	if err != nil || q.Value() < 64<<20 {
		return check.RenderOptions{}, fmt.Errorf("--render-max-memory %q: want a quantity of at least 64Mi, such as 512Mi", maxMemory)
	}
	opts := check.RenderOptions{MaxMemory: q.Value()}
	if cacheDir == "off" {
		return opts, nil
	}
	if cacheDir == "" {
		cacheDir = filepath.Join(gitCacheDir, "renders")
	}
	size, err := resource.ParseQuantity(cacheSize)
	if err != nil || size.Value() <= 0 {
		return check.RenderOptions{}, fmt.Errorf("--render-cache-size %q: want a size such as 1Gi", cacheSize)
	}
	log := ctrl.Log.WithName("render-cache")
	cache, err := check.NewRenderCache(cacheDir, size.Value(), func(err error) { log.Error(err, "render cache") })
	if err != nil {
		log.Error(err, "rendering without the render cache")
		return opts, nil
	}
	opts.Cache = cache
	return opts, nil
}

func buildVersion() string {
	if version != "" {
		return version
	}
	if info, ok := debug.ReadBuildInfo(); ok && info.Main.Version != "" {
		return info.Main.Version
	}
	return "(devel)"
}
