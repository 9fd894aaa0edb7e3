package demo

import (
	"context"
	"errors"
	"fmt"
	"io"
	"path/filepath"
	"strings"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	gatev1 "github.com/promotion-gate/promotion-gate/flux-gate/api/v1alpha1"
	"github.com/promotion-gate/promotion-gate/shared/registry/registrytest"
)

// demo is one run of the story and the parts it started.
type demo struct {
	cfg  Config
	out  io.Writer
	rep  *Report
	work string // temporary directory of this run

	kubeVersion string // of kube-apiserver

	cluster    *cluster
	git        *gitServer
	registry   *ociRegistry
	signer     *releaseSigner
	images     map[string]registrytest.Image // payments-api tag -> what was pushed
	fluxGate   *process
	sidecar    *sidecar
	automation client.ObjectKey

	// The DOCKER_CONFIG directories of flux-gate (no credentials) and the sidecar.
	fluxGateDockerConfig string
	sidecarDockerConfig  string
}

// Chart releases, as a platform team would install them.
const (
	fluxGateRelease = "flux-gate"
	argoCDNamespace = "argocd"
	argoCDRelease   = "argocd-promotion-gate"
)

// start brings up every part and installs what a platform team installs.
func (d *demo) start(ctx context.Context) error {
	root := d.cfg.RepoRoot
	var err error
	if d.cluster, err = startCluster(d.cfg.Assets, d.cfg.Timeout); err != nil {
		return err
	}
	if d.kubeVersion, err = binaryVersion(filepath.Join(d.cfg.Assets, "kube-apiserver")); err != nil {
		return err
	}
	d.field("kube-apiserver", "%s %s with etcd (controller-runtime envtest, binaries in %s)", d.kubeVersion, d.cluster.cfg.Host, d.cfg.Assets)

	if d.git, err = startGit(filepath.Join(d.work, "git"), d.cfg.Timeout); err != nil {
		return err
	}
	d.rep.GitURL = d.git.url
	d.rep.InitialMain, err = d.git.pushTree(ctx, filepath.Join(root, "examples", "platform-config"), "main", platformTeam,
		"payments-api: base, dev/staging/prod overlays and Helm chart")
	if err != nil {
		return err
	}
	d.field("Git server", "%s (Flux's gittestserver, smart HTTP)", d.git.url)
	d.field("", "main at %s: examples/platform-config, prod pinned to payments-api 1.8.3 by digest", d.rep.InitialMain)

	if err := d.startRegistry(); err != nil {
		return err
	}

	if err := d.install(ctx); err != nil {
		return err
	}
	if err := d.createFluxObjects(ctx); err != nil {
		return err
	}
	if err := d.createImageObjects(ctx); err != nil {
		return err
	}
	g, err := d.waitGate(ctx, metav1.ConditionTrue, []string{gatev1.UpToDateReason}, nil)
	if err != nil {
		return err
	}
	_, _, line := ready(g)
	d.field("PromotionGate", "%s/%s gates ImageUpdateAutomation %s (pushes to %s) into main", fluxNamespace, gateName, gateName, proposalBranch)
	d.field("", "Ready %s", line)
	return nil
}

// install installs both charts' rendered output (CRDs, RBAC, policy and plugin
// ConfigMaps), then runs flux-gate and the sidecar as the charts would.
func (d *demo) install(ctx context.Context) error {
	root := d.cfg.RepoRoot
	values, err := policyValues(filepath.Join(root, "examples", "policy"), filepath.Join(root, filepath.FromSlash(supplyChainPolicy)))
	if err != nil {
		return err
	}
	flux, err := renderChart(ctx, d.cluster.cfg, d.kubeVersion, filepath.Join(root, "charts", "flux-gate"), fluxGateRelease, fluxNamespace, values)
	if err != nil {
		return err
	}
	argo, err := renderChart(ctx, d.cluster.cfg, d.kubeVersion, filepath.Join(root, "charts", "argocd-promotion-gate"), argoCDRelease, argoCDNamespace, values)
	if err != nil {
		return err
	}
	kinds, err := d.cluster.installCRDs([]string{filepath.Join(root, "flux-gate", "config", "testdata", "crds")}, flux.CRDs, d.cfg.Timeout)
	if err != nil {
		return err
	}
	d.field("CRDs", "%s (PromotionGate from charts/flux-gate/crds, Flux's from flux-gate/config/testdata/crds)", strings.Join(kinds, ", "))

	for _, ns := range []string{fluxNamespace, argoCDNamespace} {
		if err := d.cluster.ensureNamespace(ctx, ns); err != nil {
			return err
		}
	}
	applied, skipped, err := d.cluster.apply(ctx, flux.Objects, "Deployment", "Service", "ServiceMonitor")
	if err != nil {
		return fmt.Errorf("install the flux-gate chart: %w", err)
	}
	d.field("charts/flux-gate", "rendered by the Helm SDK with examples/policy and %s as values; installed %s", supplyChainPolicy, kindSummary(applied))
	d.field("", "not installed: %s (no kubelet here: the demo runs the binary itself)", objectNames(skipped))
	applied, _, err = d.cluster.apply(ctx, argo.Objects)
	if err != nil {
		return fmt.Errorf("install the argocd-promotion-gate chart: %w", err)
	}
	d.field("charts/argocd-…", "rendered with the same values; installed %s", kindSummary(applied))

	if err := d.createTrust(ctx, fluxNamespace, argoCDNamespace); err != nil {
		return err
	}
	d.field("ConfigMap", "%s in %s and %s: the release key's %s and the log's %s, which the policy names",
		trustConfigMap, fluxNamespace, argoCDNamespace, trustKeyFile, trustRootFile)

	dep, err := chartDeployment(flux.Objects)
	if err != nil {
		return err
	}
	if err := d.startFluxGate(ctx, dep); err != nil {
		return err
	}
	return d.startSidecar(ctx, argoCDNamespace)
}

// teardown stops every part that was started, last started first.
func (d *demo) teardown() error {
	var errs []error
	if d.sidecar != nil {
		if err := d.sidecar.stop(); err != nil {
			errs = append(errs, err)
		} else {
			d.say("argocd-cmp-server stopped")
		}
	}
	if d.fluxGate != nil {
		if err := d.fluxGate.stop(15 * time.Second); err != nil {
			errs = append(errs, err)
		} else {
			d.say("flux-gate stopped")
		}
	}
	if d.registry != nil {
		d.rep.Authorized, d.rep.Refused = int(d.registry.authorized.Load()), int(d.registry.refused.Load())
		d.registry.stop()
		d.say("OCI registry stopped (as %s it served %d requests with the pull secret's credentials and refused %d without)",
			publicRegistry, d.rep.Authorized, d.rep.Refused)
	}
	if d.git != nil {
		d.git.stop()
		d.say("Git server stopped")
	}
	if d.cluster != nil {
		if err := d.cluster.stop(); err != nil {
			errs = append(errs, err)
		} else {
			d.say("kube-apiserver and etcd stopped")
		}
	}
	return errors.Join(errs...)
}

// logs prints the end of each process's log after a failure, and keeps the directory.
func (d *demo) logs() {
	for _, p := range []*process{d.fluxGate, d.sidecarProc()} {
		if p == nil {
			continue
		}
		fmt.Fprintf(d.out, "\n-- last lines of %s's log (%s):\n%s\n", p.name, p.log, p.tail(40))
	}
}

func (d *demo) sidecarProc() *process {
	if d.sidecar == nil {
		return nil
	}
	return d.sidecar.proc
}
