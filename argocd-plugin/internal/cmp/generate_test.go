package cmp

import (
	"bytes"
	"context"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	. "github.com/onsi/gomega"

	"github.com/promotion-gate/promotion-gate/shared/render/rendertest"
)

// The examples of the repository: a real platform-config repository and its policy.
var (
	examplesRepo   = filepath.Join("..", "..", "..", "examples", "platform-config")
	examplesPolicy = filepath.Join("..", "..", "..", "examples", "policy")
)

const prodPath = "apps/payments-api/overlays/prod"

func copyExamples(t *testing.T) string {
	t.Helper()
	dst := t.TempDir()
	err := filepath.WalkDir(examplesRepo, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(examplesRepo, p)
		if d.IsDir() {
			return os.MkdirAll(filepath.Join(dst, rel), 0o755)
		}
		b, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		return os.WriteFile(filepath.Join(dst, rel), b, 0o644)
	})
	if err != nil {
		t.Fatal(err)
	}
	return dst
}

func settings(t *testing.T) Settings {
	abs, err := filepath.Abs(examplesPolicy)
	if err != nil {
		t.Fatal(err)
	}
	return Settings{PolicyDir: abs, Timeout: time.Minute, MaxOutputBytes: DefaultMaxOutputBytes, RegistryTimeout: DefaultRegistryTimeout}
}

func generate(t *testing.T, root, path string, s Settings, environ ...string) (int, string, string) {
	t.Helper()
	environ = append([]string{"ARGOCD_APP_SOURCE_PATH=" + path, "KUBE_VERSION=1.31.0"}, environ...)
	var stdout, stderr bytes.Buffer
	code := Generate(context.Background(), Request{Settings: s, Dir: filepath.Join(root, filepath.FromSlash(path)), Environ: environ}, &stdout, &stderr)
	return code, stdout.String(), stderr.String()
}

func TestGenerate(t *testing.T) {
	mutable := copyExamples(t)
	kust := filepath.Join(mutable, prodPath, "kustomization.yaml")
	b, err := os.ReadFile(kust)
	if err != nil {
		t.Fatal(err)
	}
	var kept []string
	for _, line := range strings.Split(string(b), "\n") {
		if !strings.Contains(line, "digest:") {
			kept = append(kept, line)
		}
	}
	if err := os.WriteFile(kust, []byte(strings.Join(kept, "\n")), 0o644); err != nil {
		t.Fatal(err)
	}
	examples, err := filepath.Abs(examplesRepo)
	if err != nil {
		t.Fatal(err)
	}
	missing := copyExamples(t)
	mk := filepath.Join(missing, prodPath, "kustomization.yaml")
	mb, err := os.ReadFile(mk)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(mk, []byte(strings.Replace(string(mb), "  - ../../base\n", "  - ../../base\n  - missing.yaml\n", 1)), 0o644); err != nil {
		t.Fatal(err)
	}
	broken := t.TempDir()
	if err := os.WriteFile(filepath.Join(broken, "broken.yaml"), []byte("apiVersion: promotion-gate.io/v1alpha1\nkind: PromotionPolicy\nmetadata: {name: b}\nspec: {rulez: []}\n"), 0o644); err != nil {
		t.Fatal(err)
	}

	tests := []struct {
		name       string
		root, path string
		settings   func(*Settings)
		environ    []string
		wantCode   int
		wantStdout string
		wantStderr []string
	}{
		{
			name: "prod pinned by digest renders quietly", root: examples, path: prodPath,
			environ:    []string{"ARGOCD_APP_NAME=payments-api-prod", "ARGOCD_APP_NAMESPACE=payments-prod"},
			wantCode:   ExitRendered,
			wantStdout: "image: ghcr.io/example/payments-api:1.8.3@sha256:",
		},
		{
			name: "prod with a mutable tag is refused", root: mutable, path: prodPath,
			wantCode:   ExitRefused,
			wantStderr: []string{`promotion-gate refused to render apps/payments-api/overlays/prod for environment "prod" (protected): 1 finding`, "- Deployment payments-prod/payments-api, container api, image ghcr.io/example/payments-api:1.8.3: rule prod-immutable-images"},
		},
		{
			name: "dev warns and renders", root: examples, path: "apps/payments-api/overlays/dev",
			wantCode:   ExitRendered,
			wantStdout: "image: ghcr.io/example/payments-api:main",
			wantStderr: []string{`promotion-gate: warning: apps/payments-api/overlays/dev for environment "dev": 1 finding, not enforced there`},
		},
		{
			name: "no policy mounted", root: examples, path: "apps/payments-api/overlays/dev",
			settings:   func(s *Settings) { s.PolicyDir = "/nonexistent/policy" },
			wantCode:   ExitRefused,
			wantStderr: []string{"for an unclassified environment (treated as protected): the check failed", "/nonexistent/policy", "mount the policy ConfigMaps", EnvPolicyDir},
		},
		{
			name: "invalid policy mounted", root: examples, path: "apps/payments-api/overlays/dev",
			settings:   func(s *Settings) { s.PolicyDir = broken },
			wantCode:   ExitRefused,
			wantStderr: []string{"treated as protected): the check failed", "broken.yaml", "is invalid: correct the policy ConfigMaps"},
		},
		{
			name: "render errors name repository paths, not the sidecar's checkout", root: missing, path: prodPath,
			wantCode:   ExitRefused,
			wantStderr: []string{"- render apps/payments-api/overlays/prod: ", "missing.yaml"},
		},
		{
			name: "out of time", root: examples, path: prodPath,
			settings:   func(s *Settings) { s.Timeout = time.Nanosecond },
			wantCode:   ExitRefused,
			wantStderr: []string{"did not finish within 1ns", EnvTimeout},
		},
		{
			name: "output over the limit", root: examples, path: prodPath,
			settings:   func(s *Settings) { s.MaxOutputBytes = 100 },
			wantCode:   ExitRefused,
			wantStderr: []string{"over the sidecar's output limit of 100 bytes", EnvMaxOutputBytes},
		},
		{
			name: "unknown parameter", root: examples, path: prodPath,
			environ:    []string{`ARGOCD_APP_PARAMETERS=[{"name":"enforce","string":"false"}]`},
			wantCode:   ExitInvalid,
			wantStderr: []string{"promotion-gate refused to render apps/payments-api/overlays/prod: the request is invalid", `unknown plugin parameter "enforce"`},
		},
		{
			name: "the application's env cannot move the policy", root: mutable, path: prodPath,
			environ:    []string{"ARGOCD_ENV_PROMOTION_GATE_POLICY_DIR=/nonexistent", "ARGOCD_ENV_ENVIRONMENT=dev"},
			wantCode:   ExitRefused,
			wantStderr: []string{`for environment "prod" (protected): 1 finding`},
		},
		{
			name: "a requested environment cannot weaken prod", root: mutable, path: prodPath,
			environ:    []string{"PARAM_ENVIRONMENT=dev"},
			wantCode:   ExitRefused,
			wantStderr: []string{`for environment "prod" (protected): 1 finding`},
		},
		{
			name: "a requested environment makes dev strict", root: examples, path: "apps/payments-api/overlays/dev",
			environ:    []string{"PARAM_ENVIRONMENT=prod"},
			wantCode:   ExitRefused,
			wantStderr: []string{`for environment "prod" (protected)`, "ghcr.io/example/payments-api:main"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			g := NewWithT(t)
			s := settings(t)
			if tt.settings != nil {
				tt.settings(&s)
			}
			code, stdout, stderr := generate(t, tt.root, tt.path, s, tt.environ...)
			expectGenerated(g, code, stdout, stderr, tt.wantCode, tt.wantStdout, tt.wantStderr)
		})
	}
}

func TestRepoRoot(t *testing.T) {
	tmp := t.TempDir()
	tree := func(dirs ...string) {
		for _, d := range dirs {
			if err := os.MkdirAll(filepath.Join(tmp, d), 0o755); err != nil {
				t.Fatal(err)
			}
		}
	}
	tree("w/abc/apps/x/overlays/prod", "w/abc/other", "repo/apps/x/overlays", "outside/overlays/prod", "elsewhere/apps/x/overlays/prod")
	if err := os.Symlink(filepath.Join(tmp, "outside/overlays/prod"), filepath.Join(tmp, "repo/apps/x/overlays/prod")); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(filepath.Join(tmp, "outside"), filepath.Join(tmp, "w/abc/linked")); err != nil {
		t.Fatal(err)
	}
	work := filepath.Join(tmp, "w")
	tests := []struct {
		name, dir, sourcePath, want, wantErr string
	}{
		{name: "the whole repository streamed", dir: "w/abc/apps/x/overlays/prod", sourcePath: "apps/x/overlays/prod", want: "w/abc"},
		{name: "the root application", dir: "w/abc", sourcePath: ".", want: "w/abc"},
		// manifest-generate-paths: Argo CD streamed a common root only.
		{name: "part of the repository streamed", dir: "w/abc/apps/x/overlays/prod", sourcePath: "x/overlays/prod", want: "w/abc"},
		{name: "the application alone streamed", dir: "w/abc/other", sourcePath: "apps/x/overlays/prod", want: "w/abc"},
		{name: "outside the CMP server", dir: "elsewhere/apps/x/overlays/prod", sourcePath: "apps/x/overlays/prod", want: "elsewhere"},
		{name: "outside the CMP server, trailing slash", dir: "elsewhere/apps/x/overlays/prod/", sourcePath: "apps/x/overlays/prod", want: "elsewhere"},
		{name: "a symlinked application directory, as the shell names it", dir: "repo/apps/x/overlays/prod", sourcePath: "apps/x/overlays/prod", wantErr: "outside the repository"},
		{name: "a symlinked application directory, as the kernel names it", dir: "outside/overlays/prod", sourcePath: "apps/x/overlays/prod", wantErr: "does not end with its source path"},
		{name: "a link out of the CMP server's copy", dir: "w/abc/linked/overlays/prod", sourcePath: "linked/overlays/prod", wantErr: "outside the repository"},
		{name: "a part of the path that merely matches", dir: "outside/overlays/prod", sourcePath: "apps/x/overlays/prod", wantErr: "does not end with"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			g := NewWithT(t)
			got, err := repoRoot(filepath.Join(tmp, tt.dir), tt.sourcePath, work)
			if tt.wantErr != "" {
				g.Expect(err).To(MatchError(ContainSubstring(tt.wantErr)))
				return
			}
			g.Expect(err).NotTo(HaveOccurred())
			g.Expect(got).To(Equal(realPath(filepath.Join(tmp, tt.want))))
		})
	}
}

// BenchmarkGenerate is one generate of the example prod overlay, in process: what the
// plugin does per render, without the process start that make bench-cmp includes.
func BenchmarkGenerate(b *testing.B) {
	root, err := filepath.Abs(examplesRepo)
	if err != nil {
		b.Fatal(err)
	}
	policyDir, err := filepath.Abs(examplesPolicy)
	if err != nil {
		b.Fatal(err)
	}
	req := Request{
		Settings: Settings{PolicyDir: policyDir, Timeout: time.Minute, MaxOutputBytes: DefaultMaxOutputBytes, RegistryTimeout: DefaultRegistryTimeout},
		Dir:      filepath.Join(root, prodPath),
		Environ:  []string{"ARGOCD_APP_SOURCE_PATH=" + prodPath, "ARGOCD_APP_NAME=payments-api-prod", "ARGOCD_APP_NAMESPACE=payments-prod"},
	}
	for b.Loop() {
		var stdout, stderr bytes.Buffer
		if code := Generate(context.Background(), req, &stdout, &stderr); code != ExitRendered {
			b.Fatalf("exit %d: %s", code, stderr.String())
		}
	}
}

// expectGenerated checks one generate call: the exit code, the manifests on stdout (none
// unless rendered), and stderr holding each wanted line, or nothing when none is wanted.
func expectGenerated(g Gomega, code int, stdout, stderr string, wantCode int, wantStdout string, wantStderr []string) {
	g.Expect(code).To(Equal(wantCode), "stderr:\n%s", stderr)
	if wantStdout != "" {
		g.Expect(stdout).To(ContainSubstring(wantStdout))
	}
	if wantCode != ExitRendered {
		g.Expect(stdout).To(BeEmpty())
	}
	if len(wantStderr) == 0 {
		g.Expect(stderr).To(BeEmpty())
	}
	for _, want := range wantStderr {
		g.Expect(stderr).To(ContainSubstring(want))
	}
}

// TestCMPWorkDir follows Argo CD's common.GetCMPWorkDir.
func TestCMPWorkDir(t *testing.T) {
	g := NewWithT(t)
	g.Expect(cmpWorkDir([]string{"ARGOCD_CMP_WORKDIR=/w", "TMPDIR=/t"})).To(Equal("/w/_cmp_server"))
	g.Expect(cmpWorkDir([]string{"TMPDIR=/t"})).To(Equal("/t/_cmp_server"))
	g.Expect(cmpWorkDir(nil)).To(Equal("/tmp/_cmp_server"))
}

// TestGenerateWithRenderCache: the second generate of an unchanged application is
// served from the sidecar's render cache, with the same output; a cache directory
// that cannot be used is a notice, and the render goes on.
func TestGenerateWithRenderCache(t *testing.T) {
	g := NewWithT(t)
	root, err := filepath.Abs(examplesRepo)
	g.Expect(err).NotTo(HaveOccurred())
	policyDir, err := filepath.Abs(examplesPolicy)
	g.Expect(err).NotTo(HaveOccurred())
	settings := DefaultSettings()
	settings.PolicyDir = policyDir
	settings.RenderCacheDir = filepath.Join(t.TempDir(), "renders")
	req := Request{
		Settings: settings,
		Dir:      filepath.Join(root, prodPath),
		Environ:  []string{"ARGOCD_APP_SOURCE_PATH=" + prodPath, "ARGOCD_APP_NAME=payments-api-prod", "ARGOCD_APP_NAMESPACE=payments-prod"},
	}
	var first, second, stderr bytes.Buffer
	g.Expect(Generate(context.Background(), req, &first, &stderr)).To(Equal(ExitRendered), stderr.String())
	entries, err := os.ReadDir(filepath.Join(settings.RenderCacheDir, "r"))
	g.Expect(err).NotTo(HaveOccurred())
	g.Expect(entries).To(HaveLen(1), "the render is kept")
	kept := filepath.Join(settings.RenderCacheDir, "r", entries[0].Name())
	old := time.Now().Add(-time.Hour)
	g.Expect(os.Chtimes(kept, old, old)).To(Succeed())
	g.Expect(Generate(context.Background(), req, &second, &stderr)).To(Equal(ExitRendered), stderr.String())
	fi, err := os.Stat(kept)
	g.Expect(err).NotTo(HaveOccurred())
	g.Expect(fi.ModTime()).To(BeTemporally(">", old.Add(time.Minute)), "a hit marks the entry used")
	g.Expect(second.String()).To(Equal(first.String()))
	g.Expect(stderr.String()).To(BeEmpty())

	shared := t.TempDir()
	g.Expect(os.Chmod(shared, 0o777)).To(Succeed())
	req.Settings.RenderCacheDir = shared
	var out bytes.Buffer
	stderr.Reset()
	g.Expect(Generate(context.Background(), req, &out, &stderr)).To(Equal(ExitRendered))
	g.Expect(out.String()).To(Equal(first.String()))
	g.Expect(stderr.String()).To(ContainSubstring("rendering without the render cache (PROMOTION_GATE_RENDER_CACHE_DIR)"))
	g.Expect(stderr.String()).To(ContainSubstring("others can write it"))
}

// BenchmarkGenerateChart is generate on the generated chart of 2,000 Deployments with
// prod values that make bench-cmp compares with helm template. The render runs in a
// worker process of its own, so a CPU profile of this benchmark shows the plugin
// process's share: the engine, the parse of the emitted bytes, the write.
func BenchmarkGenerateChart(b *testing.B) {
	root := b.TempDir()
	chart := filepath.Join(root, "charts", "fleet")
	if err := rendertest.GenerateChart(chart, 2000); err != nil {
		b.Fatal(err)
	}
	policyDir, err := filepath.Abs(examplesPolicy)
	if err != nil {
		b.Fatal(err)
	}
	req := Request{
		Settings: Settings{PolicyDir: policyDir, Timeout: time.Minute, MaxOutputBytes: DefaultMaxOutputBytes, RegistryTimeout: DefaultRegistryTimeout},
		Dir:      chart,
		Environ:  []string{"ARGOCD_APP_SOURCE_PATH=charts/fleet", "ARGOCD_APP_NAME=bench", "ARGOCD_APP_NAMESPACE=bench", "PARAM_VALUES_FILES=values-prod.yaml"},
	}
	for b.Loop() {
		var stdout, stderr bytes.Buffer
		if code := Generate(context.Background(), req, &stdout, &stderr); code != ExitRendered {
			b.Fatalf("exit %d: %s", code, stderr.String())
		}
	}
}
