package cmpharness

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// ServerOptions configure one sidecar.
type ServerOptions struct {
	// PluginBinDir holds argocd-promotion-gate; it goes first on the server's PATH, so
	// plugin.yaml runs unchanged.
	PluginBinDir string
	// PluginYAML is the plugin.yaml to serve.
	PluginYAML string
	// Env is the sidecar container's environment (PROMOTION_GATE_POLICY_DIR, ...).
	Env []string
}

// Server is a running argocd-cmp-server.
type Server struct {
	bin     string
	sockDir string
	log     string
}

// StartServer starts argocd-cmp-server the way the sidecar runs, with its config,
// socket and work directories in a fresh directory under /tmp, and stops it (SIGKILL:
// it does not exit on SIGTERM while serving) when the test ends.
func StartServer(t testing.TB, bin string, opts ServerOptions) *Server {
	t.Helper()
	// Unix socket paths are limited to about 108 bytes: keep the directory short.
	base, err := os.MkdirTemp("", "pg")
	if err != nil || len(base) > 60 {
		base, err = os.MkdirTemp("/tmp", "pg")
	}
	if err != nil {
		t.Fatalf("create the sidecar directory: %v", err)
	}
	t.Cleanup(func() { _ = os.RemoveAll(base) })
	s := &Server{bin: bin, sockDir: filepath.Join(base, "s"), log: filepath.Join(base, "server.log")}
	configDir := filepath.Join(base, "c")
	for _, d := range []string{s.sockDir, configDir, filepath.Join(base, "w")} {
		if err := os.MkdirAll(d, 0o700); err != nil {
			t.Fatal(err)
		}
	}
	pluginYAML, err := os.ReadFile(opts.PluginYAML)
	if err != nil {
		t.Fatalf("read plugin.yaml: %v", err)
	}
	if err := os.WriteFile(filepath.Join(configDir, "plugin.yaml"), pluginYAML, 0o600); err != nil {
		t.Fatal(err)
	}
	logFile, err := os.Create(s.log)
	if err != nil {
		t.Fatal(err)
	}
	defer logFile.Close()

	cmd := exec.Command(filepath.Join(bin, "argocd-cmp-server"), "--config-dir-path", configDir, "--loglevel", "info")
	cmd.Env = append(cleanEnviron(),
		"PATH="+opts.PluginBinDir+string(os.PathListSeparator)+os.Getenv("PATH"),
		"ARGOCD_PLUGINSOCKFILEPATH="+s.sockDir,
		"ARGOCD_CMP_WORKDIR="+filepath.Join(base, "w"),
	)
	cmd.Env = append(cmd.Env, opts.Env...)
	cmd.Stdout, cmd.Stderr = logFile, logFile
	// Its own process group, killed with the test binary if that dies first.
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
	if err := cmd.Start(); err != nil {
		t.Fatalf("start argocd-cmp-server: %v", err)
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	t.Cleanup(func() {
		_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
		<-exited
		if t.Failed() {
			b, _ := os.ReadFile(s.log)
			t.Logf("argocd-cmp-server log:\n%s", tail(string(b), 8000))
		}
	})

	sock := filepath.Join(s.sockDir, PluginName+".sock")
	deadline := time.Now().Add(2 * time.Minute) // a loaded CI machine can be slow to start it
	for {
		if fi, err := os.Stat(sock); err == nil && fi.Mode()&os.ModeSocket != 0 {
			return s
		}
		select {
		case err := <-exited:
			exited <- err
			b, _ := os.ReadFile(s.log)
			t.Fatalf("argocd-cmp-server exited before serving (%v):\n%s", err, b)
		case <-time.After(50 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			b, _ := os.ReadFile(s.log)
			t.Fatalf("argocd-cmp-server did not create %s:\n%s", sock, b)
		}
	}
}

// Call is one request of the repo-server stand-in.
type Call struct {
	// Op is generate (default), parameters or check.
	Op string
	// Repo is the repository root streamed; Path the application path in it.
	Repo, Path string
	// App and Namespace are the Application's name and destination namespace.
	App, Namespace string
	// TargetRevision is spec.source.targetRevision.
	TargetRevision string
	// Params are string parameters NAME=VALUE; Parameters is the JSON of
	// spec.source.plugin.parameters (for arrays).
	Params     []string
	Parameters string
	// Env is spec.source.plugin.env as NAME=VALUE (sent as ARGOCD_ENV_NAME).
	Env []string
	// Output is the generate output: yaml (default) or json.
	Output string
}

// Result is what the repo-server stand-in printed.
type Result struct {
	Stdout, Stderr string
	ExitCode       int
}

// Call sends one request to the sidecar through the cmp-client.
func (s *Server) Call(t testing.TB, c Call) Result {
	t.Helper()
	args := []string{"-plugin-dir", s.sockDir, "-plugin", PluginName, "-repo", c.Repo, "-path", c.Path,
		"-app", c.App, "-namespace", c.Namespace, "-timeout", "60s"}
	if c.Op != "" {
		args = append(args, "-op", c.Op)
	}
	if c.TargetRevision != "" {
		args = append(args, "-target-revision", c.TargetRevision)
	}
	for _, p := range c.Params {
		args = append(args, "-param", p)
	}
	if c.Parameters != "" {
		args = append(args, "-parameters", c.Parameters)
	}
	for _, e := range c.Env {
		args = append(args, "-env", e)
	}
	if c.Output != "" {
		args = append(args, "-o", c.Output)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, filepath.Join(s.bin, "cmp-client"), args...)
	cmd.Env = cleanEnviron()
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	res := Result{Stdout: stdout.String(), Stderr: stderr.String()}
	var exit *exec.ExitError
	switch {
	case errors.As(err, &exit):
		res.ExitCode = exit.ExitCode()
	case err != nil:
		t.Fatalf("run cmp-client %s: %v\n%s", strings.Join(args, " "), err, stderr.String())
	}
	if res.ExitCode == 2 {
		t.Fatalf("cmp-client usage error: %s", res.Stderr)
	}
	return res
}

// String describes a result for failure messages.
func (r Result) String() string {
	return fmt.Sprintf("exit %d\nstdout:\n%s\nstderr:\n%s", r.ExitCode, tail(r.Stdout, 4000), tail(r.Stderr, 8000))
}

func tail(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return "..." + s[len(s)-n:]
}
