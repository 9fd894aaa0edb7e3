package render

import (
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	. "github.com/onsi/gomega"
)

// cachedRender renders opts through cache and says whether it was a hit.
func cachedRender(t *testing.T, cache *Cache, opts Options) (*Result, bool) {
	t.Helper()
	var stats Stats
	opts.Cache, opts.Stats = cache, &stats
	res, err := Render(context.Background(), opts)
	if err != nil {
		t.Fatalf("render %s: %v", opts.Path, err)
	}
	return res, stats.CacheHit
}

func newTestCache(t *testing.T) *Cache {
	t.Helper()
	c, err := NewCache(filepath.Join(t.TempDir(), "cache"), 0, func(err error) { t.Errorf("cache warning: %v", err) })
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// repoCopy is a writable copy of the fixture repository.
func repoCopy(t *testing.T) string {
	t.Helper()
	dst := filepath.Join(t.TempDir(), "repo")
	if err := os.CopyFS(dst, os.DirFS(repo)); err != nil {
		t.Fatal(err)
	}
	return dst
}

var cacheApps = []struct {
	name string
	opts func(root string) Options
}{
	{"kustomize overlay with a generator, patches, images and a file elsewhere", func(r string) Options {
		return Options{Path: r + "/apps/web/overlays/dev", RepoRoot: r}
	}},
	{"kustomize overlay over a base", func(r string) Options { return Options{Path: r + "/apps/web/overlays/prod", RepoRoot: r} }},
	{"Helm chart with values files and CRDs", func(r string) Options {
		return Options{Path: r + "/charts/web", RepoRoot: r, ValuesFiles: []string{"values-prod.yaml", "values-canary.yaml"}, ReleaseName: "web", Namespace: "web"}
	}},
	{"Helm chart with a subchart", func(r string) Options { return Options{Path: r + "/charts/umbrella", RepoRoot: r} }},
	{"plain YAML", func(r string) Options { return Options{Path: r + "/apps/plain", RepoRoot: r} }},
}

// TestCacheHitIsTheRender: a hit gives the bytes, documents and inputs of the render,
// also in a fresh copy of the repository elsewhere.
func TestCacheHitIsTheRender(t *testing.T) {
	for _, app := range cacheApps {
		t.Run(app.name, func(t *testing.T) {
			g := NewWithT(t)
			cache := newTestCache(t)
			root := repoCopy(t)
			miss, hit := cachedRender(t, cache, app.opts(root))
			g.Expect(hit).To(BeFalse())
			again, hit := cachedRender(t, cache, app.opts(root))
			g.Expect(hit).To(BeTrue())
			g.Expect(again.YAML).To(Equal(miss.YAML))
			g.Expect(summary(again)).To(Equal(summary(miss)))
			g.Expect(again.Inputs).To(Equal(miss.Inputs))
			for i := range miss.Documents {
				g.Expect(again.Documents[i].Node.Line).To(Equal(miss.Documents[i].Node.Line))
			}
			uncached, err := Render(context.Background(), app.opts(root))
			g.Expect(err).NotTo(HaveOccurred())
			g.Expect(again.YAML).To(Equal(uncached.YAML))

			elsewhere := repoCopy(t)
			fresh, hit := cachedRender(t, cache, app.opts(elsewhere))
			g.Expect(hit).To(BeTrue(), "a checkout elsewhere has the same inputs")
			g.Expect(fresh.YAML).To(Equal(miss.YAML))
		})
	}
}

// TestCacheMissesOnAnyChange: every kind of input the render depended on, and every
// option, changes the key.
func TestCacheMissesOnAnyChange(t *testing.T) {
	tests := []struct {
		name   string
		app    func(root string) Options
		change func(t *testing.T, root string, opts *Options)
	}{
		{"a byte of a base resource", cacheApps[1].opts, func(t *testing.T, r string, _ *Options) {
			replace(t, r+"/apps/web/base/deployment.yaml", "web", "wab")
		}},
		{"a patch outside the application", cacheApps[0].opts, func(t *testing.T, r string, _ *Options) {
			appendTo(t, r+"/apps/web/common/debug.yaml", "\n# changed\n")
		}},
		{"a kustomization file added where kustomize looked", cacheApps[1].opts, func(t *testing.T, r string, _ *Options) {
			write(t, r+"/apps/web/overlays/prod/Kustomization", "resources: [../../base]\n")
		}},
		{"a template added to a chart", cacheApps[2].opts, func(t *testing.T, r string, _ *Options) {
			write(t, r+"/charts/web/templates/extra.yaml", "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: extra}\n")
		}},
		{"a chart file removed", cacheApps[2].opts, func(t *testing.T, r string, _ *Options) {
			if err := os.Remove(r + "/charts/web/README.md"); err != nil {
				t.Fatal(err)
			}
		}},
		{"a values file", cacheApps[2].opts, func(t *testing.T, r string, _ *Options) {
			appendTo(t, r+"/charts/web/values-canary.yaml", "\nextra: 1\n")
		}},
		{"a subchart template", cacheApps[3].opts, func(t *testing.T, r string, _ *Options) {
			appendTo(t, r+"/charts/umbrella/charts/cache/templates/statefulset.yaml", "\n# changed\n")
		}},
		{"a plain file added", cacheApps[4].opts, func(t *testing.T, r string, _ *Options) {
			write(t, r+"/apps/plain/40-more.yaml", "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: more}\n")
		}},
		{"a link pointed elsewhere", cacheApps[4].opts, func(t *testing.T, r string, _ *Options) {
			write(t, r+"/apps/other/cm.yaml", "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: other}\n")
			write(t, r+"/apps/other2/cm.yaml", "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: other2}\n")
			if err := os.Remove(r + "/apps/plain/50-link.yaml"); err != nil {
				t.Fatal(err)
			}
			if err := os.Symlink("../other2/cm.yaml", r+"/apps/plain/50-link.yaml"); err != nil {
				t.Fatal(err)
			}
		}},
		{"the path", cacheApps[0].opts, func(t *testing.T, r string, o *Options) { o.Path = r + "/apps/web/overlays/prod" }},
		{"the values files", cacheApps[2].opts, func(t *testing.T, r string, o *Options) { o.ValuesFiles = o.ValuesFiles[:1] }},
		{"the release name", cacheApps[2].opts, func(t *testing.T, r string, o *Options) { o.ReleaseName = "other" }},
		{"the namespace", cacheApps[2].opts, func(t *testing.T, r string, o *Options) { o.Namespace = "other" }},
		{"the Kubernetes version", cacheApps[2].opts, func(t *testing.T, r string, o *Options) { o.KubeVersion = "1.30.0" }},
		{"the API versions", cacheApps[2].opts, func(t *testing.T, r string, o *Options) { o.APIVersions = []string{"example.com/v1"} }},
		{"the limits", cacheApps[4].opts, func(t *testing.T, r string, o *Options) { o.Limits.MaxDocuments = 100 }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			g := NewWithT(t)
			cache := newTestCache(t)
			root := repoCopy(t)
			if tt.name == "a link pointed elsewhere" {
				write(t, root+"/apps/other/cm.yaml", "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: other}\n")
				if err := os.Symlink("../other/cm.yaml", root+"/apps/plain/50-link.yaml"); err != nil {
					t.Fatal(err)
				}
			}
			opts := tt.app(root)
			cachedRender(t, cache, opts)
			tt.change(t, root, &opts)
			var stats Stats
			o := opts
			o.Cache, o.Stats = cache, &stats
			after, cerr := Render(context.Background(), o)
			g.Expect(stats.CacheHit).To(BeFalse())
			// Whatever the change did to the render, the cache answers as a render does.
			fresh, ferr := Render(context.Background(), opts)
			g.Expect(cerr != nil).To(Equal(ferr != nil), "cached: %v, uncached: %v", cerr, ferr)
			if ferr == nil {
				g.Expect(after.YAML).To(Equal(fresh.YAML))
			}
		})
	}
}

// TestCacheMissesOnARandomByte: change one byte of one file the render read; the
// cache must miss, or give exactly what a render gives.
func TestCacheMissesOnARandomByte(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	for i := 0; i < 12; i++ {
		app := cacheApps[i%len(cacheApps)]
		t.Run(fmt.Sprintf("%d %s", i, app.name), func(t *testing.T) {
			g := NewWithT(t)
			cache := newTestCache(t)
			root := repoCopy(t)
			opts := app.opts(root)
			first, _ := cachedRender(t, cache, opts)
			files := Files(first.Inputs)
			g.Expect(files).NotTo(BeEmpty())
			f := filepath.Join(root, files[rng.IntN(len(files))])
			data, err := os.ReadFile(f)
			g.Expect(err).NotTo(HaveOccurred())
			if len(data) == 0 {
				return
			}
			at := rng.IntN(len(data))
			data[at] ^= byte(1 + rng.IntN(255))
			g.Expect(os.WriteFile(f, data, 0o644)).To(Succeed())
			var stats Stats
			o := opts
			o.Cache, o.Stats = cache, &stats
			cached, cerr := Render(context.Background(), o)
			g.Expect(stats.CacheHit).To(BeFalse(), "changed byte %d of %s", at, f)
			fresh, ferr := Render(context.Background(), opts)
			g.Expect(cerr != nil).To(Equal(ferr != nil))
			if ferr == nil {
				g.Expect(cached.YAML).To(Equal(fresh.YAML))
			}
		})
	}
}

// TestCacheNeverServesABadEntry: corrupt and foreign entries are misses, not errors.
func TestCacheNeverServesABadEntry(t *testing.T) {
	g := NewWithT(t)
	cache := newTestCache(t)
	root := repoCopy(t)
	opts := cacheApps[1].opts(root)
	first, _ := cachedRender(t, cache, opts)
	results, err := filepath.Glob(filepath.Join(cache.dir, resultsDir, "*"))
	g.Expect(err).NotTo(HaveOccurred())
	g.Expect(results).To(HaveLen(1))
	g.Expect(os.WriteFile(results[0], []byte("tampered"), 0o600)).To(Succeed())
	again, hit := cachedRender(t, cache, opts)
	g.Expect(hit).To(BeFalse())
	g.Expect(again.YAML).To(Equal(first.YAML))
	_, hit = cachedRender(t, cache, opts)
	g.Expect(hit).To(BeTrue(), "the render after a bad entry is kept again")

	if os.Getuid() == 0 {
		manifests, _ := filepath.Glob(filepath.Join(cache.dir, manifestsDir, "*", "*"))
		for _, m := range manifests {
			g.Expect(os.Chown(m, 4242, 4242)).To(Succeed())
		}
		_, hit = cachedRender(t, cache, opts)
		g.Expect(hit).To(BeFalse(), "an entry another user wrote is not trusted")
	}
}

// TestCacheThatCannotBeWritten degrades to uncached rendering with one warning. (A
// file where the results directory should be fails every write, as a full disk or a
// read-only volume does, even for root, which CI runs as.)
func TestCacheThatCannotBeWritten(t *testing.T) {
	g := NewWithT(t)
	dir := filepath.Join(t.TempDir(), "cache")
	var warnings []error
	cache, err := NewCache(dir, 0, func(err error) { warnings = append(warnings, err) })
	g.Expect(err).NotTo(HaveOccurred())
	g.Expect(os.Remove(filepath.Join(dir, resultsDir))).To(Succeed())
	g.Expect(os.WriteFile(filepath.Join(dir, resultsDir), nil, 0o600)).To(Succeed())
	root := repoCopy(t)
	for i := 0; i < 3; i++ {
		res, hit := cachedRender(t, cache, cacheApps[1].opts(root))
		g.Expect(hit).To(BeFalse())
		g.Expect(res.Documents).NotTo(BeEmpty())
	}
	g.Expect(warnings).To(HaveLen(1))
	g.Expect(warnings[0].Error()).To(ContainSubstring("rendering without it"))
}

// TestCacheStaysWithinItsSize evicts the least recently used entries.
func TestCacheStaysWithinItsSize(t *testing.T) {
	g := NewWithT(t)
	dir := filepath.Join(t.TempDir(), "cache")
	cache, err := NewCache(dir, 24<<10, nil)
	g.Expect(err).NotTo(HaveOccurred())
	root := repoCopy(t)
	for _, app := range cacheApps {
		cachedRender(t, cache, app.opts(root))
		g.Expect(dirSize(t, dir)).To(BeNumerically("<=", 24<<10))
	}
	_, hit := cachedRender(t, cache, cacheApps[len(cacheApps)-1].opts(root))
	g.Expect(hit).To(BeTrue(), "the newest entry survives")
}

// TestCacheConcurrentRenders: several processes' worth of renders of one application
// at once, each with its own Cache on one directory, agree and leave a usable cache.
func TestCacheConcurrentRenders(t *testing.T) {
	g := NewWithT(t)
	dir := filepath.Join(t.TempDir(), "cache")
	root := repoCopy(t)
	want, err := Render(context.Background(), cacheApps[2].opts(root))
	g.Expect(err).NotTo(HaveOccurred())
	var wg sync.WaitGroup
	outs := make([][]byte, 6)
	for i := range outs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			cache, err := NewCache(dir, 0, nil)
			if err != nil {
				t.Error(err)
				return
			}
			res, _ := cachedRender(t, cache, cacheApps[2].opts(root))
			outs[i] = res.YAML
		}()
	}
	wg.Wait()
	for _, out := range outs {
		g.Expect(out).To(Equal(want.YAML))
	}
	cache, err := NewCache(dir, 0, nil)
	g.Expect(err).NotTo(HaveOccurred())
	res, hit := cachedRender(t, cache, cacheApps[2].opts(root))
	g.Expect(hit).To(BeTrue())
	g.Expect(res.YAML).To(Equal(want.YAML))
}

func dirSize(t *testing.T, dir string) int64 {
	var total int64
	_ = filepath.Walk(dir, func(_ string, fi os.FileInfo, err error) error {
		if err == nil && !fi.IsDir() {
			total += fi.Size()
		}
		return nil
	})
	return total
}

func write(t *testing.T, p, content string) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
}

func appendTo(t *testing.T, p, content string) {
	t.Helper()
	data, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	write(t, p, string(data)+content)
}

func replace(t *testing.T, p, old, new string) {
	t.Helper()
	data, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(data), old) {
		t.Fatalf("%s does not contain %q", p, old)
	}
	write(t, p, strings.Replace(string(data), old, new, 1))
}
