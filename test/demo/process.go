package demo

import (
	"fmt"
	"os"
	"os/exec"
	"strings"
	"syscall"
	"time"
)

// process is a binary the demo runs, in its own process group, its output in a log file.
type process struct {
	name   string
	cmd    *exec.Cmd
	log    string
	exited chan struct{}
	err    error // set when exited is closed
}

// startProcess runs bin with args and exactly env, its output in logPath. The process
// is killed with the demo if the demo dies first (Pdeathsig).
func startProcess(name, bin string, args, env []string, dir, logPath string) (*process, error) {
	logFile, err := os.Create(logPath)
	if err != nil {
		return nil, err
	}
	defer logFile.Close()
	cmd := exec.Command(bin, args...)
	cmd.Env = env
	cmd.Dir = dir
	cmd.Stdout, cmd.Stderr = logFile, logFile
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("start %s (%s): %w", name, bin, err)
	}
	p := &process{name: name, cmd: cmd, log: logPath, exited: make(chan struct{})}
	go func() {
		p.err = cmd.Wait()
		close(p.exited)
	}()
	return p, nil
}

// running reports an error when the process has exited.
func (p *process) running() error {
	select {
	case <-p.exited:
		return fmt.Errorf("%s exited (%v); its log ends with:\n%s", p.name, p.err, p.tail(30))
	default:
		return nil
	}
}

// stop asks the process group to stop (SIGTERM), waits up to grace, then kills it.
// A grace of zero kills at once (argocd-cmp-server does not exit on SIGTERM).
func (p *process) stop(grace time.Duration) error {
	if p == nil {
		return nil
	}
	select {
	case <-p.exited:
		return nil // already gone (reported by running)
	default:
	}
	pgid := p.cmd.Process.Pid
	if grace > 0 {
		_ = syscall.Kill(-pgid, syscall.SIGTERM)
		select {
		case <-p.exited:
		case <-time.After(grace):
		}
	}
	select {
	case <-p.exited:
	default:
		_ = syscall.Kill(-pgid, syscall.SIGKILL)
		select {
		case <-p.exited:
		case <-time.After(30 * time.Second):
			return fmt.Errorf("%s (pid %d) did not exit after SIGKILL", p.name, pgid)
		}
	}
	// Nothing of its process group may outlive it.
	for i := 0; syscall.Kill(-pgid, 0) == nil; i++ {
		if i == 50 {
			return fmt.Errorf("%s: processes of group %d are still running", p.name, pgid)
		}
		_ = syscall.Kill(-pgid, syscall.SIGKILL)
		time.Sleep(100 * time.Millisecond)
	}
	return nil
}

// tail returns the last n lines of the log.
func (p *process) tail(n int) string {
	b, err := os.ReadFile(p.log)
	if err != nil {
		return fmt.Sprintf("(no log: %v)", err)
	}
	lines := splitLines(strings.TrimRight(string(b), "\n"))
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}

func splitLines(s string) []string {
	return strings.Split(strings.TrimRight(s, "\n"), "\n")
}

// cleanEnv is this process's environment without anything that could change what
// flux-gate, the sidecar or the plugin do (registry credentials, proxies and trusted
// CAs included), so that the demo states all of it.
func cleanEnv(extra ...string) []string {
	var env []string
	for _, kv := range os.Environ() {
		name, _, _ := strings.Cut(kv, "=")
		switch {
		case strings.HasPrefix(name, "PROMOTION_GATE_"), strings.HasPrefix(name, "ARGOCD_"),
			strings.HasPrefix(name, "PARAM_"), strings.HasPrefix(name, "KUBE"),
			name == "RUNTIME_NAMESPACE", name == "PATH", name == "TMPDIR",
			name == "DOCKER_CONFIG", name == "SSL_CERT_FILE", name == "SSL_CERT_DIR",
			strings.HasSuffix(strings.ToUpper(name), "_PROXY"):
			continue
		}
		env = append(env, kv)
	}
	return append(env, extra...)
}
