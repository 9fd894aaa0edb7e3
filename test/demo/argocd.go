package demo

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"

	corev1 "k8s.io/api/core/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"
)

// pluginName is how an Application names the plugin: <name>-<version> of plugin.yaml,
// which is also the name of its socket.
const pluginName = "promotion-gate-v1"

// sidecar is a running argocd-cmp-server with the promotion-gate plugin.
type sidecar struct {
	proc    *process
	sockDir string
	base    string
}

// projectConfigMaps writes every key of the ConfigMaps as a file in dir: what the
// kubelet does for the sidecar's projected volumes.
func projectConfigMaps(cms []corev1.ConfigMap, dir string) ([]string, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, err
	}
	var files []string
	for _, cm := range cms {
		for key, value := range cm.Data {
			if err := os.WriteFile(filepath.Join(dir, key), []byte(value), 0o644); err != nil {
				return nil, err
			}
			files = append(files, key)
		}
	}
	sort.Strings(files)
	return files, nil
}

// startSidecar reads the plugin and policy ConfigMaps the argocd-promotion-gate chart
// installed in namespace, mounts them as the chart's sidecar does, and starts
// argocd-cmp-server with argocd-promotion-gate on its PATH.
func (d *demo) startSidecar(ctx context.Context, namespace string) error {
	var cms corev1.ConfigMapList
	if err := d.cluster.k8s.List(ctx, &cms, client.InNamespace(namespace)); err != nil {
		return fmt.Errorf("list ConfigMaps in %s: %w", namespace, err)
	}
	var plugin, policies []corev1.ConfigMap
	for _, cm := range cms.Items {
		switch {
		case cm.Labels["promotion-gate.io/policy"] == "true":
			policies = append(policies, cm)
		case cm.Data["plugin.yaml"] != "":
			plugin = append(plugin, cm)
		}
	}
	if len(plugin) != 1 || len(policies) == 0 {
		return fmt.Errorf("the argocd-promotion-gate chart installed %d plugin ConfigMap(s) and %d policy ConfigMap(s) in %s; want 1 and at least 1",
			len(plugin), len(policies), namespace)
	}
	// Unix socket paths are limited to about 108 bytes: keep the directory short.
	base, err := os.MkdirTemp("/tmp", "pgd")
	if err != nil {
		return err
	}
	sc := &sidecar{base: base, sockDir: filepath.Join(base, "s")}
	d.sidecar = sc
	configDir, workDir, policyDir := filepath.Join(base, "c"), filepath.Join(base, "w"), filepath.Join(base, "p")
	for _, dir := range []string{sc.sockDir, workDir} {
		if err := os.MkdirAll(dir, 0o700); err != nil {
			return err
		}
	}
	if _, err := projectConfigMaps(plugin, configDir); err != nil {
		return fmt.Errorf("mount plugin.yaml: %w", err)
	}
	policyFiles, err := projectConfigMaps(policies, policyDir)
	if err != nil {
		return fmt.Errorf("mount the policy: %w", err)
	}
	pluginDir, err := filepath.Abs(filepath.Dir(d.cfg.Plugin))
	if err != nil {
		return err
	}
	trustDir, err := d.projectTrust(ctx, namespace, filepath.Join(base, "t"))
	if err != nil {
		return err
	}
	env := cleanEnv(append(d.registryEnv(d.sidecarDockerConfig),
		"PATH="+pluginDir+string(os.PathListSeparator)+os.Getenv("PATH"),
		"ARGOCD_PLUGINSOCKFILEPATH="+sc.sockDir,
		"ARGOCD_CMP_WORKDIR="+workDir,
		"PROMOTION_GATE_POLICY_DIR="+policyDir,
		"PROMOTION_GATE_TRUST_DIR="+trustDir,
		"TMPDIR="+d.work,
	)...)
	bin := filepath.Join(d.cfg.ArgoCDBin, "argocd-cmp-server")
	sc.proc, err = startProcess("argocd-cmp-server", bin, []string{"--config-dir-path", configDir, "--loglevel", "info"},
		env, base, filepath.Join(d.work, "argocd-cmp-server.log"))
	if err != nil {
		return err
	}
	sock := filepath.Join(sc.sockDir, pluginName+".sock")
	err = d.waitFor(ctx, "argocd-cmp-server to listen on "+sock, func() (bool, string, error) {
		if err := sc.proc.running(); err != nil {
			return false, "", err
		}
		fi, err := os.Stat(sock)
		if err != nil {
			return false, "no socket yet", nil
		}
		return fi.Mode()&os.ModeSocket != 0, "", nil
	})
	if err != nil {
		return err
	}
	d.field("argocd-cmp-server", "pid %d, Argo CD's real CMP server with plugin %s (plugin.yaml from ConfigMap %s/%s)",
		sc.proc.cmd.Process.Pid, pluginName, namespace, plugin[0].Name)
	d.field("", "policy mounted as files, as the chart's sidecar mounts it: %s", strings.Join(policyFiles, ", "))
	d.field("", "ConfigMap %s/%s mounted in its trust directory, as the chart's sidecar.trust.configMaps does", namespace, trustConfigMap)
	d.field("", "a docker config with the %s credentials as DOCKER_CONFIG, as the chart's sidecar.registryCredentialsSecret mounts it", publicRegistry)
	return nil
}

func (s *sidecar) stop() error {
	if s == nil {
		return nil
	}
	err := s.proc.stop(0) // it does not exit on SIGTERM while serving
	if rmErr := os.RemoveAll(s.base); rmErr != nil {
		err = errors.Join(err, rmErr)
	}
	return err
}

// application is the part of an Argo CD Application that reaches the plugin.
type application struct {
	Name, Namespace, Path, TargetRevision string
}

// cmpResult is what the repo-server gets back from the sidecar.
type cmpResult struct {
	Manifests string
	Error     string
	ExitCode  int
}

// generate plays Argo CD's repo-server: it streams the checkout in repoDir to the
// sidecar, with the Application's variables, through the cmp-client built from
// argo-cd's own client code, and returns the manifests or the error.
func (d *demo) generate(ctx context.Context, repoDir, revision string, app application) (cmpResult, error) {
	args := []string{"-plugin-dir", d.sidecar.sockDir, "-plugin", pluginName, "-repo", repoDir,
		"-path", app.Path, "-app", app.Name, "-namespace", app.Namespace, "-revision", revision,
		"-repo-url", d.git.url, "-target-revision", app.TargetRevision, "-timeout", "60s"}
	ctx, cancel := context.WithTimeout(ctx, d.cfg.Timeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, filepath.Join(d.cfg.ArgoCDBin, "cmp-client"), args...)
	cmd.Env = cleanEnv("PATH=" + os.Getenv("PATH"))
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	res := cmpResult{Manifests: stdout.String(), Error: strings.TrimRight(stderr.String(), "\n")}
	var exit *exec.ExitError
	switch {
	case errors.As(err, &exit) && exit.ExitCode() == 1:
		res.ExitCode = 1
	case err != nil:
		return res, fmt.Errorf("cmp-client %s: %w (stderr: %s)", strings.Join(args, " "), err, res.Error)
	}
	return res, nil
}

// comparisonError is the Application condition Argo CD v2.14 shows for a sidecar's
// error: the application-controller prefixes "Failed to load target state: failed to
// generate manifest for source 1 of 1: " to the repo-server's gRPC error, and the
// repo-server prefixes "plugin sidecar failed. error generating manifests in cmp: " to
// the sidecar's gRPC error, which is what the repo-server stand-in received.
func comparisonError(sidecarError string) string {
	return "Failed to load target state: failed to generate manifest for source 1 of 1: " +
		"rpc error: code = Unknown desc = plugin sidecar failed. error generating manifests in cmp: " + sidecarError
}
