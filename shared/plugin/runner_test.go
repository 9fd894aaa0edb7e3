package plugin_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"

	. "github.com/onsi/gomega"

	"github.com/promotion-gate/promotion-gate/shared/evaluate"
	"github.com/promotion-gate/promotion-gate/shared/imageref"
	"github.com/promotion-gate/promotion-gate/shared/plugin"
	"github.com/promotion-gate/promotion-gate/shared/policy"
)

const testDigest = "sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"

// pids records the plugin processes a runner starts.
type pids struct {
	mu   sync.Mutex
	list []int
}

func (p *pids) add(pid int) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.list = append(p.list, pid)
}

func (p *pids) get() []int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return append([]int(nil), p.list...)
}

// alive reports whether a process exists (a zombie counts: it was not reaped).
func alive(pid int) bool {
	return !errors.Is(syscall.Kill(pid, 0), syscall.ESRCH)
}

func newRunner(t *testing.T) (*plugin.Runner, *pids) {
	t.Helper()
	r := plugin.NewRunner(plugin.Options{})
	started := &pids{}
	r.OnStart(started.add)
	t.Cleanup(func() {
		_ = r.Close()
		for _, pid := range started.get() {
			if alive(pid) {
				t.Errorf("plugin process %d still running after Close", pid)
			}
		}
	})
	return r, started
}

func check(t *testing.T, image string, plugins ...policy.Plugin) evaluate.ImageCheck {
	t.Helper()
	ref, err := imageref.Parse(image)
	if err != nil {
		t.Fatal(err)
	}
	return evaluate.ImageCheck{
		Rule:           policy.Rule{Name: "external", Plugins: plugins},
		Environment:    policy.Classification{Environment: "prod", Protected: true},
		Ref:            ref,
		PolicyRevision: "rev-1",
	}
}

func testPluginDecl(name, mode string) policy.Plugin {
	return policy.Plugin{Name: name, Path: testPlugin.path, SHA256: testPlugin.sha256, Args: []string{mode}, Timeout: "20s"}
}

func TestRunPluginsAnswers(t *testing.T) {
	tests := []struct {
		name string
		mode string
		want []evaluate.Violation
	}{
		{name: "pass", mode: "pass", want: nil},
		{name: "fail", mode: "fail", want: []evaluate.Violation{{
			Message: `plugin "fail": image ghcr.io/example/app:v1@` + testDigest + ` is not allowed here second line`,
			Fix:     "use another image",
		}}},
		{name: "refuses", mode: "error", want: []evaluate.Violation{{
			Message: `plugin "refuses" could not check the image: registry r.example unreachable`,
			Fix:     "fix what the plugin reports; the image passes only once the plugin can decide",
		}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			g := NewWithT(t)
			r, _ := newRunner(t)
			p := testPluginDecl(tt.name, tt.mode)
			p.Parameters = map[string]string{"registry": "r.example"}
			vs, err := r.RunPlugins(context.Background(), check(t, "ghcr.io/example/app:v1@"+testDigest, p))
			g.Expect(err).NotTo(HaveOccurred())
			g.Expect(vs).To(Equal(tt.want))
		})
	}
}

func TestRunPluginsSendsTheRequestAndReusesTheProcess(t *testing.T) {
	g := NewWithT(t)
	r, started := newRunner(t)
	p := testPluginDecl("echo", "echo")
	p.Parameters = map[string]string{"severity": "high", "format": "sarif"}
	var pidsSeen []string
	for _, image := range []string{"ghcr.io/example/app@" + testDigest, "ghcr.io/example/app:v2"} {
		vs, err := r.RunPlugins(context.Background(), check(t, image, p))
		g.Expect(err).NotTo(HaveOccurred())
		g.Expect(vs).To(HaveLen(1))
		msg, pid, _ := strings.Cut(vs[0].Message, " pid=")
		pidsSeen = append(pidsSeen, pid)
		digest := testDigest
		if !strings.Contains(image, "@") {
			digest = ""
		}
		ref, _ := imageref.Parse(image)
		g.Expect(msg).To(Equal(`plugin "echo": image=` + ref.String() + ` digest=` + digest +
			` env=prod protected=true rule=external plugin=echo revision=rev-1 params=format=sarif,severity=high`))
		g.Expect(vs[0].Fix).To(Equal(`see plugin "echo"'s documentation`))
	}
	g.Expect(pidsSeen[0]).To(Equal(pidsSeen[1]), "the second check reuses the running plugin")
	g.Expect(started.get()).To(HaveLen(1))
	g.Expect(alive(started.get()[0])).To(BeTrue())
}

func TestRunnerOptions(t *testing.T) {
	g := NewWithT(t)
	t.Setenv("PROMOTION_GATE_TEST_VALUE", "from-host")
	var log bytes.Buffer
	r := plugin.NewRunner(plugin.Options{
		Dir: filepath.Dir(testPlugin.path),
		Env: []string{"PROMOTION_GATE_TEST_VALUE=from-options"},
		Log: &log,
	})
	defer r.Close()
	p := testPluginDecl("env", "env")
	p.Path = filepath.Base(testPlugin.path) // relative to Dir, never looked up in PATH
	vs, err := r.RunPlugins(context.Background(), check(t, "ghcr.io/example/app@"+testDigest, p))
	g.Expect(err).NotTo(HaveOccurred())
	g.Expect(vs).To(Equal([]evaluate.Violation{{Message: `plugin "env": value=from-options`, Fix: `see plugin "env"'s documentation`}}))

	_, err = r.RunPlugins(context.Background(), check(t, "ghcr.io/example/app@"+testDigest, testPluginDecl("crash", "crash")))
	g.Expect(err).NotTo(HaveOccurred())
	g.Expect(log.String()).To(ContainSubstring("plugin.crash"))
}

func TestRunPluginsCapsFindings(t *testing.T) {
	g := NewWithT(t)
	r, _ := newRunner(t)
	vs, err := r.RunPlugins(context.Background(), check(t, "ghcr.io/example/app@"+testDigest, testPluginDecl("many", "many")))
	g.Expect(err).NotTo(HaveOccurred())
	g.Expect(vs).To(HaveLen(51))
	g.Expect(vs[50].Message).To(Equal(`plugin "many": 70 more findings not shown`))
}

func TestRunPluginsRestartsAfterACrash(t *testing.T) {
	g := NewWithT(t)
	r, started := newRunner(t)
	good := testPluginDecl("good", "pass")
	for range 2 {
		vs, err := r.RunPlugins(context.Background(), check(t, "ghcr.io/example/app@"+testDigest, good))
		g.Expect(err).NotTo(HaveOccurred())
		g.Expect(vs).To(BeEmpty())
	}
	g.Expect(started.get()).To(HaveLen(1))
	// Kill the running plugin behind the runner's back: the next check starts a new one.
	g.Expect(syscall.Kill(started.get()[0], syscall.SIGKILL)).To(Succeed())
	g.Eventually(func() []evaluate.Violation {
		vs, err := r.RunPlugins(context.Background(), check(t, "ghcr.io/example/app@"+testDigest, good))
		g.Expect(err).NotTo(HaveOccurred())
		return vs
	}).Should(BeEmpty())
	g.Expect(len(started.get())).To(BeNumerically(">=", 2))
}

func TestCloseStopsTheProcessGroup(t *testing.T) {
	g := NewWithT(t)
	r := plugin.NewRunner(plugin.Options{})
	vs, err := r.RunPlugins(context.Background(), check(t, "ghcr.io/example/app@"+testDigest, testPluginDecl("spawn", "spawn")))
	g.Expect(err).NotTo(HaveOccurred())
	g.Expect(vs).To(HaveLen(1))
	child, err := strconv.Atoi(strings.TrimPrefix(vs[0].Message, `plugin "spawn": child=`))
	g.Expect(err).NotTo(HaveOccurred())
	g.Expect(running(child)).To(BeTrue())
	g.Expect(r.Close()).To(Succeed())
	// The orphan is reaped by whoever adopts it, perhaps later: a zombie counts as gone.
	g.Eventually(func() bool { return running(child) }).Should(BeFalse())
}

// running reports whether a process exists and is not a zombie.
func running(pid int) bool {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return alive(pid)
	}
	_, rest, _ := strings.Cut(string(b), ") ")
	return !strings.HasPrefix(rest, "Z")
}

func TestRunPluginsCancelled(t *testing.T) {
	g := NewWithT(t)
	r, started := newRunner(t)
	ctx, cancel := context.WithCancel(context.Background())
	go func() {
		// Cancel once the hanging plugin has been started and called.
		g.Eventually(started.get).ShouldNot(BeEmpty())
		cancel()
	}()
	_, err := r.RunPlugins(ctx, check(t, "ghcr.io/example/app@"+testDigest, testPluginDecl("hang", "hang")))
	g.Expect(err).To(MatchError(ContainSubstring(`plugin "hang": context canceled`)))
	for _, pid := range started.get() {
		g.Expect(alive(pid)).To(BeFalse())
	}
}

func TestRunnerClosed(t *testing.T) {
	g := NewWithT(t)
	r := plugin.NewRunner(plugin.Options{})
	g.Expect(r.Close()).To(Succeed())
	_, err := r.RunPlugins(context.Background(), check(t, "ghcr.io/example/app@"+testDigest, testPluginDecl("x", "pass")))
	g.Expect(err).To(MatchError(ContainSubstring("plugin runner is closed")))
}

func sha256Of(t *testing.T, path string) string {
	t.Helper()
	_, sum, err := hashFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return sum
}
