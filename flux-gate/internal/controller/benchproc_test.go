package controller_test

import (
	"bufio"
	"context"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// controllerProcess is the flux-gate binary running against the envtest API server,
// so that its CPU time and memory are its own, not the test's.
type controllerProcess struct {
	cmd     *exec.Cmd
	metrics string // http://127.0.0.1:port/metrics
	log     string
}

var (
	buildOnce sync.Once
	binary    string
	buildErr  error
)

// buildBinary builds cmd/flux-gate once per test process.
func buildBinary(tb testing.TB) string {
	tb.Helper()
	buildOnce.Do(func() {
		dir, err := os.MkdirTemp("", "flux-gate-bench-")
		if err != nil {
			buildErr = err
			return
		}
		binary = filepath.Join(dir, "flux-gate")
		out, err := exec.Command("go", "build", "-o", binary, "../../cmd/flux-gate").CombinedOutput()
		if err != nil {
			buildErr = fmt.Errorf("go build: %v\n%s", err, out)
		}
	})
	if buildErr != nil {
		tb.Fatal(buildErr)
	}
	return binary
}

func freePort(tb testing.TB) int {
	tb.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		tb.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

// startController runs the binary for one namespace (watched, and holding the
// policy), and stops it when the test ends.
func startController(tb testing.TB, ns string, concurrent int) *controllerProcess {
	tb.Helper()
	bin := buildBinary(tb)
	dir := tb.TempDir()
	kc := filepath.Join(dir, "kubeconfig")
	if err := os.WriteFile(kc, kubeconfig, 0o600); err != nil {
		tb.Fatal(err)
	}
	port := freePort(tb)
	logFile := filepath.Join(dir, "flux-gate.log")
	out, err := os.Create(logFile)
	if err != nil {
		tb.Fatal(err)
	}
	cmd := exec.Command(bin,
		"--policy-namespace="+ns,
		"--watch-namespaces="+ns,
		fmt.Sprintf("--concurrent=%d", concurrent),
		"--git-cache-dir="+filepath.Join(dir, "git"),
		"--allow-insecure-http",
		fmt.Sprintf("--metrics-addr=127.0.0.1:%d", port),
		"--health-addr=0",
		"--retry-interval=200ms",
		"--log-level=info",
	)
	cmd.Env = append(os.Environ(), "KUBECONFIG="+kc)
	cmd.Stdout, cmd.Stderr = out, out
	if err := cmd.Start(); err != nil {
		tb.Fatal(err)
	}
	p := &controllerProcess{cmd: cmd, metrics: fmt.Sprintf("http://127.0.0.1:%d/metrics", port), log: logFile}
	tb.Cleanup(func() {
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
		out.Close()
		if tb.Failed() {
			data, _ := os.ReadFile(logFile)
			tb.Logf("flux-gate log:\n%s", tail(string(data), 4000))
		}
	})
	return p
}

func tail(s string, n int) string {
	if len(s) > n {
		return s[len(s)-n:]
	}
	return s
}

// cpuSeconds is the process's user+system CPU time so far, from /proc.
func (p *controllerProcess) cpuSeconds(tb testing.TB) float64 {
	tb.Helper()
	data, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", p.cmd.Process.Pid))
	if err != nil {
		tb.Fatal(err)
	}
	// Fields after the parenthesised command name; utime and stime are fields 14
	// and 15 of the whole line, in clock ticks (100 per second on Linux).
	rest := string(data[strings.LastIndexByte(string(data), ')')+2:])
	f := strings.Fields(rest)
	utime, _ := strconv.ParseFloat(f[11], 64)
	stime, _ := strconv.ParseFloat(f[12], 64)
	return (utime + stime) / 100
}

// peakRSS is the process's peak resident memory (VmHWM), in bytes.
func (p *controllerProcess) peakRSS(tb testing.TB) int64 {
	tb.Helper()
	f, err := os.Open(fmt.Sprintf("/proc/%d/status", p.cmd.Process.Pid))
	if err != nil {
		tb.Fatal(err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if v, ok := strings.CutPrefix(sc.Text(), "VmHWM:"); ok {
			kb, _ := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(v), " kB"), 10, 64)
			return kb * 1024
		}
	}
	return 0
}

// metric sums the samples of a metric whose labels contain every given pair
// (e.g. `name="x"`), from the controller's Prometheus endpoint.
func (p *controllerProcess) metric(tb testing.TB, name string, labels ...string) float64 {
	tb.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, p.metrics, nil)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		tb.Fatalf("scrape %s: %v", p.metrics, err)
	}
	defer resp.Body.Close()
	var sum float64
	sc := bufio.NewScanner(resp.Body)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		line := sc.Text()
		if !strings.HasPrefix(line, name+"{") && !strings.HasPrefix(line, name+" ") {
			continue
		}
		ok := true
		for _, l := range labels {
			ok = ok && strings.Contains(line, l)
		}
		if !ok {
			continue
		}
		v, err := strconv.ParseFloat(line[strings.LastIndexByte(line, ' ')+1:], 64)
		if err == nil {
			sum += v
		}
	}
	return sum
}
