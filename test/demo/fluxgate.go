package demo

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"path/filepath"
	"strings"
	"time"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
)

// fluxGateDeployment is what the chart's Deployment says about running flux-gate.
type fluxGateDeployment struct {
	Namespace      string
	ServiceAccount string
	Args           []string
}

// chartDeployment reads the controller's namespace, ServiceAccount and args from the
// rendered flux-gate chart.
func chartDeployment(objs []*unstructured.Unstructured) (*fluxGateDeployment, error) {
	for _, o := range objs {
		if o.GetKind() != "Deployment" {
			continue
		}
		sa, _, _ := unstructured.NestedString(o.Object, "spec", "template", "spec", "serviceAccountName")
		containers, _, _ := unstructured.NestedSlice(o.Object, "spec", "template", "spec", "containers")
		if sa == "" || len(containers) == 0 {
			return nil, fmt.Errorf("the chart's Deployment %s has no serviceAccountName or container", o.GetName())
		}
		c, _ := containers[0].(map[string]any)
		args, _, err := unstructured.NestedStringSlice(c, "args")
		if err != nil {
			return nil, fmt.Errorf("the chart's Deployment %s: container args: %w", o.GetName(), err)
		}
		return &fluxGateDeployment{Namespace: o.GetNamespace(), ServiceAccount: sa, Args: args}, nil
	}
	return nil, fmt.Errorf("the flux-gate chart rendered no Deployment")
}

// processArgs are the chart's args with what differs for a process outside a cluster:
// loopback probe address, no metrics listener, a temporary clone cache, no leader
// election (it needs the pod's namespace file), and readable logs.
func (dep *fluxGateDeployment) processArgs(healthAddr, cacheDir string) []string {
	overrides := []string{
		"--health-addr=" + healthAddr,
		"--metrics-addr=0",
		"--git-cache-dir=" + cacheDir,
		"--enable-leader-election=false",
		"--log-encoding=console",
	}
	var out []string
	for _, a := range dep.Args {
		name, _, _ := strings.Cut(a, "=")
		overridden := false
		for _, o := range overrides {
			if strings.HasPrefix(o, name+"=") {
				overridden = true
			}
		}
		if !overridden {
			out = append(out, a)
		}
	}
	return append(out, overrides...)
}

// startFluxGate runs the flux-gate binary with the chart's args against the API server,
// as the chart's ServiceAccount, and waits until its readiness probe answers.
func (d *demo) startFluxGate(ctx context.Context, dep *fluxGateDeployment) error {
	kubeconfig := filepath.Join(d.work, "flux-gate", "kubeconfig")
	if err := d.cluster.writeKubeconfig(kubeconfig, dep.Namespace, dep.ServiceAccount); err != nil {
		return err
	}
	healthAddr, err := freeLoopbackAddr()
	if err != nil {
		return err
	}
	args := dep.processArgs(healthAddr, filepath.Join(d.work, "flux-gate", "git-cache"))
	env := cleanEnv(append(d.registryEnv(d.fluxGateDockerConfig), "KUBECONFIG="+kubeconfig, "RUNTIME_NAMESPACE="+dep.Namespace, "TMPDIR="+d.work)...)
	p, err := startProcess("flux-gate", d.cfg.FluxGate, args, env, d.work, filepath.Join(d.work, "flux-gate.log"))
	if err != nil {
		return err
	}
	d.fluxGate = p
	url := "http://" + healthAddr + "/readyz"
	err = d.waitFor(ctx, "flux-gate's readiness probe "+url, func() (bool, string, error) {
		if err := p.running(); err != nil {
			return false, "", err
		}
		resp, err := http.Get(url)
		if err != nil {
			return false, err.Error(), nil
		}
		resp.Body.Close()
		return resp.StatusCode == http.StatusOK, resp.Status, nil
	})
	if err != nil {
		return err
	}
	d.field("flux-gate", "pid %d: the real binary, with the chart Deployment's args, ready (%s)", p.cmd.Process.Pid, url)
	d.field("", "runs as ServiceAccount %s/%s, so with exactly the chart's RBAC", dep.Namespace, dep.ServiceAccount)
	return nil
}

func freeLoopbackAddr() (string, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", fmt.Errorf("find a free port: %w", err)
	}
	defer l.Close()
	return l.Addr().String(), nil
}

// waitFor polls check until it reports done, an error, or the timeout; on timeout the
// error says what was last seen.
func (d *demo) waitFor(ctx context.Context, what string, check func() (done bool, lastSeen string, err error)) error {
	deadline := time.Now().Add(d.cfg.Timeout)
	last := "nothing yet"
	for {
		done, seen, err := check()
		if err != nil {
			return fmt.Errorf("waiting for %s: %w", what, err)
		}
		if seen != "" {
			last = seen
		}
		if done {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("timed out after %s waiting for %s; last seen: %s", d.cfg.Timeout, what, last)
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("interrupted while waiting for %s (%w); last seen: %s", what, ctx.Err(), last)
		case <-time.After(250 * time.Millisecond):
		}
	}
}
