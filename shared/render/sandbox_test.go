package render

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	. "github.com/onsi/gomega"
)

// testBudget is the memory budget of the hostile renders below: small, so that each
// test meets it quickly.
const testBudget = 384 << 20

// TestSandboxBoundsMemory renders templates and kustomizations written to exhaust
// memory. Each must end in a refusal (over the memory budget, a limit, or out of
// time), and the worker's peak resident memory, as the kernel measured it, must stay
// under the budget.
func TestSandboxBoundsMemory(t *testing.T) {
	if testing.Short() {
		t.Skip("renders to exhaustion: several seconds")
	}
	chart := func(template string) map[string]string {
		return map[string]string{
			"Chart.yaml":          "apiVersion: v2\nname: bomb\nversion: 0.1.0\n",
			"templates/bomb.yaml": template,
		}
	}
	tests := []struct {
		name  string
		files map[string]string
	}{
		{"helm repeat", chart(`x: {{ repeat 1500000000 "x" }}` + "\n")},
		{"helm range until", chart("{{ range until 100000000 }}- {{ . }}\n{{ end }}")},
		{"helm recursive tpl", chart(`{{ define "grow" }}{{ $s := . }}{{ $s = printf "%s%s" $s $s }}{{ if lt (len $s) 2000000000 }}{{ include "grow" $s }}{{ end }}{{ end }}x: {{ include "grow" "xxxxxxxxxxxxxxxx" }}` + "\n")},
		{"kustomize namePrefix diamonds", diamonds(7, 5<<20-1024)},
		{"kustomize huge generated ConfigMaps", hugeConfigMaps(12, 5<<20-1024)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			g := NewWithT(t)
			dir := t.TempDir()
			tree(t, dir, tt.files)
			ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			defer cancel()
			var stats Stats
			_, err := Render(ctx, Options{Path: dir, RepoRoot: dir, MaxMemory: testBudget, Stats: &stats})
			t.Logf("peak RSS %d MiB of a %d MiB budget: %v", stats.PeakRSS>>20, testBudget>>20, err)
			g.Expect(err).To(HaveOccurred())
			g.Expect(errors.Is(err, ErrMemory) || errors.Is(err, ErrLimit) || errors.Is(err, context.DeadlineExceeded)).To(BeTrue(), err.Error())
			g.Expect(stats.PeakRSS).To(BeNumerically(">", 0))
			g.Expect(stats.PeakRSS).To(BeNumerically("<=", testBudget))
			if errors.Is(err, ErrMemory) {
				g.Expect(err.Error()).To(ContainSubstring("memory budget of 384 MiB"))
				g.Expect(err.Error()).To(ContainSubstring("PROMOTION_GATE_MAX_MEMORY"))
			}
		})
	}
}

// diamonds is a kustomization tree in which every level includes the level below
// twice, under two name prefixes: 2^levels copies of a base of size bytes.
func diamonds(levels, size int) map[string]string {
	files := map[string]string{
		"l0/kustomization.yaml": "resources: [cm.yaml]\n",
		"l0/cm.yaml":            fmt.Sprintf("apiVersion: v1\nkind: ConfigMap\nmetadata: {name: big}\ndata:\n  big: %q\n", strings.Repeat("x", size)),
	}
	for i := 1; i <= levels; i++ {
		for _, side := range []string{"a", "b"} {
			files[fmt.Sprintf("l%d/%s/kustomization.yaml", i, side)] = fmt.Sprintf("namePrefix: %s-\nresources: [../../l%d%s]\n", side, i-1, map[bool]string{true: "", false: "/a"}[i == 1])
		}
		if i > 1 {
			// Level i includes both sides of level i-1.
			files[fmt.Sprintf("l%d/a/kustomization.yaml", i)] = fmt.Sprintf("namePrefix: a-\nresources: [../../l%d/a, ../../l%d/b]\n", i-1, i-1)
			files[fmt.Sprintf("l%d/b/kustomization.yaml", i)] = fmt.Sprintf("namePrefix: b-\nresources: [../../l%d/a, ../../l%d/b]\n", i-1, i-1)
		}
	}
	files["kustomization.yaml"] = fmt.Sprintf("resources: [l%d/a, l%d/b]\n", levels, levels)
	return files
}

// hugeConfigMaps generates n ConfigMaps from files of size bytes each.
func hugeConfigMaps(n, size int) map[string]string {
	files := map[string]string{}
	var gens strings.Builder
	gens.WriteString("configMapGenerator:\n")
	for i := 0; i < n; i++ {
		name := fmt.Sprintf("f%d.txt", i)
		files[name] = strings.Repeat("y", size)
		fmt.Fprintf(&gens, "  - name: cm%d\n    files: [%s]\n", i, name)
	}
	files["kustomization.yaml"] = gens.String()
	return files
}

// TestSandboxIsOffline points every kustomize field that takes a path or a URL at a
// loopback HTTP listener. The render must send it no request and refuse, naming the
// field and saying to vendor the content.
func TestSandboxIsOffline(t *testing.T) {
	var requests atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		requests.Add(1)
		fmt.Fprint(w, "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: fetched}\n")
	}))
	defer srv.Close()
	u := srv.URL + "/x.yaml"
	git := srv.URL + "/org/repo.git//deploy?ref=main"
	tests := []struct {
		field string // what the refusal must name
		kust  string // the kustomization; URL stands for a quoted URL, GIT for a Git URL, RAW for the URL unquoted
		extra map[string]string
	}{
		{"resources", "resources: [URL]\n", nil},
		{"resources", "resources: [GIT]\n", nil},
		{"bases", "bases: [GIT]\n", nil},
		{"components", "components: [GIT]\n", nil},
		{"crds", "crds: [URL]\n", nil},
		{"configurations", "configurations: [URL]\n", nil},
		{"generators", "generators: [URL]\n", nil},
		{"transformers", "transformers: [URL]\n", nil},
		{"validators", "validators: [URL]\n", nil},
		{"openapi", "openapi: {path: URL}\n", nil},
		{"patchesStrategicMerge", "resources: [cm.yaml]\npatchesStrategicMerge: [URL]\n", nil},
		{"patches", "resources: [cm.yaml]\npatches: [{path: URL}]\n", nil},
		{"patchesJson6902", "resources: [cm.yaml]\npatchesJson6902: [{path: URL, target: {kind: ConfigMap, name: a}}]\n", nil},
		{"replacements", "resources: [cm.yaml]\nreplacements: [{path: URL}]\n", nil},
		{"configMapGenerator", "configMapGenerator: [{name: a, files: [URL]}]\n", nil},
		{"configMapGenerator", "configMapGenerator: [{name: a, files: [\"a/b=RAW\"]}]\n", nil},
		{"configMapGenerator", "configMapGenerator: [{name: a, envs: [URL]}]\n", nil},
		{"configMapGenerator", "configMapGenerator: [{name: a, env: URL}]\n", nil},
		{"secretGenerator", "secretGenerator: [{name: a, files: [\"k=RAW\"]}]\n", nil},
		{"secretGenerator", "secretGenerator: [{name: a, envs: [URL]}]\n", nil},
		{"helmCharts", "helmCharts: [{name: x, repo: URL, version: 1.0.0}]\n", nil},
		{"generators", "generators:\n- |\n  apiVersion: builtin\n  kind: ConfigMapGenerator\n  metadata: {name: g}\n  envs: [URL]\n", nil},
		{"gen.yaml: ConfigMapGenerator g: files[0]", "generators: [gen.yaml]\n", map[string]string{"gen.yaml": "apiVersion: builtin\nkind: ConfigMapGenerator\nmetadata: {name: g}\nfiles: [URL]\n"}},
		{"transformers", "resources: [cm.yaml]\ntransformers:\n- |\n  apiVersion: builtin\n  kind: PatchTransformer\n  metadata: {name: p}\n  path: URL\n", nil},
		{"patch.yaml: PatchTransformer p: path", "resources: [cm.yaml]\ntransformers: [patch.yaml]\n", map[string]string{"patch.yaml": "apiVersion: builtin\nkind: PatchTransformer\nmetadata: {name: p}\npath: URL\n"}},
	}
	for _, tt := range tests {
		fill := strings.NewReplacer("URL", `"`+u+`"`, "GIT", `"`+git+`"`, "RAW", u).Replace
		kust := fill(tt.kust)
		t.Run(strings.TrimSpace(kust), func(t *testing.T) {
			g := NewWithT(t)
			dir := t.TempDir()
			files := map[string]string{
				"app/kustomization.yaml": kust,
				"app/cm.yaml":            "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: a}\n",
			}
			for name, content := range tt.extra {
				files["app/"+name] = fill(content)
			}
			tree(t, dir, files)
			before := requests.Load()
			_, err := Render(context.Background(), Options{Path: filepath.Join(dir, "app"), RepoRoot: dir})
			g.Expect(requests.Load()).To(Equal(before), "the render reached the listener")
			g.Expect(err).To(HaveOccurred())
			t.Log(err)
			g.Expect(errors.Is(err, ErrRemote)).To(BeTrue(), err.Error())
			g.Expect(err.Error()).To(ContainSubstring(tt.field))
			g.Expect(err.Error()).To(ContainSubstring("vendor"))
		})
	}
}

// TestSandboxStopsAtTheDeadline: a render that computes without end is ended at the
// caller's deadline, with a reason.
func TestSandboxStopsAtTheDeadline(t *testing.T) {
	g := NewWithT(t)
	dir := t.TempDir()
	tree(t, dir, map[string]string{
		"Chart.yaml":          "apiVersion: v2\nname: spin\nversion: 0.1.0\n",
		"templates/spin.yaml": "{{ range until 100000 }}{{ range until 100000 }}{{ end }}{{ end }}x: 1\n",
	})
	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	_, err := Render(ctx, Options{Path: dir, RepoRoot: dir})
	g.Expect(err).To(MatchError(context.DeadlineExceeded))
	g.Expect(err.Error()).To(ContainSubstring("render canceled"))
}

// TestPrestartedWorker: a worker started ahead by Prestart serves the next sandboxed
// render, under the same bounds (a render past its deadline still stops), and a spare
// that is never sent a request exits quietly.
func TestPrestartedWorker(t *testing.T) {
	g := NewWithT(t)
	dir := t.TempDir()
	tree(t, dir, map[string]string{"cm.yaml": "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: a}\ndata: {k: v}\n"})

	Prestart()
	Prestart() // one spare at a time
	spare.Lock()
	first := spare.w
	spare.Unlock()
	g.Expect(first).NotTo(BeNil())
	res, err := Render(context.Background(), Options{Path: dir, RepoRoot: dir})
	g.Expect(err).NotTo(HaveOccurred())
	g.Expect(res.Documents).To(HaveLen(1))
	g.Expect(takeSpare()).To(BeNil(), "the render took the spare")

	spin := t.TempDir()
	tree(t, spin, map[string]string{
		"Chart.yaml":          "apiVersion: v2\nname: spin\nversion: 0.1.0\n",
		"templates/spin.yaml": "{{ range until 100000 }}{{ range until 100000 }}{{ end }}{{ end }}x: 1\n",
	})
	Prestart()
	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	_, err = Render(ctx, Options{Path: spin, RepoRoot: spin})
	g.Expect(err).To(MatchError(context.DeadlineExceeded))

	w, err := startWorker("")
	g.Expect(err).NotTo(HaveOccurred())
	g.Expect(w.stdin.Close()).To(Succeed())
	g.Expect(w.cmd.Wait()).To(Succeed(), "an unused spare exits 0")
	g.Expect(w.stderr.String()).To(BeEmpty())
	w.result.Close()
}
