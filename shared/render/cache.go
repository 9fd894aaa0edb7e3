package render

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/gob"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"runtime/debug"
	"slices"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/promotion-gate/promotion-gate/shared/cachedir"
)

// Cache keeps successful renders on disk, content-addressed, so that the same inputs
// are rendered once: the key is the render's options (and the versions of the
// renderers) plus what the render read — every file's bytes, every directory listing,
// every link and every path it found missing — recorded as it read them. A lookup
// re-checks the recorded inputs in the current tree, the way ccache's direct mode and
// Bazel's action cache do; paths are repository-relative, so a fresh checkout of a new
// commit hits when the application's inputs did not change.
//
// The cache never serves a render whose inputs changed, never stores a failed render,
// and never fails a render: an entry that is corrupt, unreadable or owned by another
// user is a miss, and a cache that cannot be written (a full disk, a read-only volume)
// is reported once through Warn and then left alone.
type Cache struct {
	dir      string
	maxBytes int64
	warn     func(error)
	once     sync.Once
	broken   bool
	mu       sync.Mutex
}

// Layout: m/<options key>/<inputs key> holds a manifest (the inputs and the digest of
// the result), r/<digest> the result: the worker's reply, named by its own sha256.
const (
	manifestsDir = "m"
	resultsDir   = "r"
	// maxVariants bounds the input sets kept per options key: a few branches of one
	// application (main, a proposal) alternate without evicting each other.
	maxVariants = 8
	// cacheFormat changes whenever a cached render would no longer be what a render
	// gives, beyond the versions in the key.
	cacheFormat = "promotion-gate render cache v3"
)

// DefaultCacheBytes is a cache's size bound when none is given.
const DefaultCacheBytes = 1 << 30

// NewCache opens (creating) a private cache directory bounded to maxBytes (0 means
// DefaultCacheBytes). warn receives the one warning a cache that cannot be written
// gives; nil drops it.
func NewCache(dir string, maxBytes int64, warn func(error)) (*Cache, error) {
	if maxBytes <= 0 {
		maxBytes = DefaultCacheBytes
	}
	if err := cachedir.Open(dir, "render cache"); err != nil {
		return nil, err
	}
	for _, sub := range []string{manifestsDir, resultsDir} {
		if err := os.MkdirAll(filepath.Join(dir, sub), 0o700); err != nil {
			return nil, fmt.Errorf("render cache directory %s: %w", dir, err)
		}
	}
	if warn == nil {
		warn = func(error) {}
	}
	return &Cache{dir: dir, maxBytes: maxBytes, warn: warn}, nil
}

// render serves opts from the cache, or renders it and keeps the result.
func (c *Cache) render(ctx context.Context, opts Options) (*Result, error) {
	root, key, err := c.key(opts)
	if err != nil {
		return nil, err
	}
	opts.Limits = opts.Limits.withDefaults()
	if reply, ok := c.lookup(root, key, opts.Limits); ok {
		res, err := reply.result(opts.Limits)
		if err == nil {
			if opts.Stats != nil {
				*opts.Stats = Stats{CacheHit: true}
			}
			return res, nil
		}
	}
	opts.Cache = nil
	res, err := Render(ctx, opts)
	if err != nil {
		return nil, err
	}
	c.store(key, res)
	return res, nil
}

// key is the hex sha256 of everything but the inputs that decides a render.
func (c *Cache) key(opts Options) (root, key string, err error) {
	root = opts.RepoRoot
	if root == "" {
		root = opts.Path
		if fi, err := os.Stat(root); err == nil && !fi.IsDir() {
			root = filepath.Dir(root)
		}
	}
	if root, err = filepath.Abs(root); err != nil {
		return "", "", err
	}
	abs, err := filepath.Abs(opts.Path)
	if err != nil {
		return "", "", err
	}
	rel, err := filepath.Rel(root, abs)
	if err != nil {
		return "", "", err
	}
	data, err := json.Marshal(struct {
		Format, Versions, Path, ReleaseName, Namespace, KubeVersion string
		ValuesFiles, APIVersions                                    []string
		Limits                                                      Limits
		Origins                                                     bool
	}{cacheFormat, versions(), filepath.ToSlash(rel), opts.ReleaseName, opts.Namespace, opts.KubeVersion,
		opts.ValuesFiles, opts.APIVersions, opts.Limits.withDefaults(), opts.Origins})
	if err != nil {
		return "", "", err
	}
	sum := sha256.Sum256(data)
	return root, hex.EncodeToString(sum[:]), nil
}

// versions names the renderers and this program: a new kustomize, Helm or
// promotion-gate is a miss. A development build without a version or revision is
// named by its executable, so each build has its own entries.
var versions = sync.OnceValue(func() string {
	info, ok := debug.ReadBuildInfo()
	if !ok {
		return "unknown"
	}
	var parts []string
	parts = append(parts, info.Main.Path+"@"+info.Main.Version)
	for _, s := range info.Settings {
		if s.Key == "vcs.revision" || s.Key == "vcs.modified" {
			parts = append(parts, s.Key+"="+s.Value)
		}
	}
	for _, d := range info.Deps {
		switch {
		case d.Path == "sigs.k8s.io/kustomize/api", d.Path == "sigs.k8s.io/kustomize/kyaml", d.Path == "helm.sh/helm/v3",
			strings.HasPrefix(d.Path, "github.com/promotion-gate/promotion-gate/"):
			parts = append(parts, d.Path+"@"+d.Version)
		}
	}
	if info.Main.Version == "(devel)" || info.Main.Version == "" {
		if exe, err := os.Executable(); err == nil {
			if fi, err := os.Stat(exe); err == nil {
				parts = append(parts, fmt.Sprintf("exe=%s:%d:%d", exe, fi.Size(), fi.ModTime().UnixNano()))
			}
		}
	}
	return strings.Join(parts, " ")
})

// manifest is what a render read and where its result is.
type manifest struct {
	Inputs []Input
	Result string
}

// lookup finds a manifest of key whose inputs are all unchanged under root, and its
// result.
func (c *Cache) lookup(root, key string, limits Limits) (*workerReply, bool) {
	dir := filepath.Join(c.dir, manifestsDir, key)
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil, false
	}
	for _, e := range newestFirst(dir, entries) {
		var m manifest
		p := filepath.Join(dir, e)
		if !c.readEntry(p, &m, "") || !unchanged(root, m.Inputs, limits) {
			continue
		}
		var reply workerReply
		if !c.readEntry(filepath.Join(c.dir, resultsDir, m.Result), &reply, m.Result) {
			continue
		}
		now := time.Now()
		_ = os.Chtimes(p, now, now)
		_ = os.Chtimes(filepath.Join(c.dir, resultsDir, m.Result), now, now)
		return &reply, true
	}
	return nil, false
}

// newestFirst orders a directory's entries by modification time, newest first.
func newestFirst(dir string, entries []fs.DirEntry) []string {
	type named struct {
		name string
		mod  time.Time
	}
	var out []named
	for _, e := range entries {
		if strings.HasPrefix(e.Name(), ".") {
			continue
		}
		if fi, err := e.Info(); err == nil {
			out = append(out, named{e.Name(), fi.ModTime()})
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].mod.After(out[j].mod) })
	names := make([]string, len(out))
	for i, n := range out {
		names[i] = n.name
	}
	return names
}

// readEntry decodes the entry at p into v. It must be this user's, and when digest is
// set, its bytes must hash to it. A bad entry is removed and counts as missing.
func (c *Cache) readEntry(p string, v any, digest string) bool {
	f, err := os.Open(p)
	if err != nil {
		return false
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil || !fi.Mode().IsRegular() || !cachedir.Mine(fi) || fi.Size() > c.maxBytes {
		return false
	}
	data, err := io.ReadAll(f)
	if err != nil {
		return false
	}
	if digest != "" && fileSum(data) != digest {
		_ = os.Remove(p)
		return false
	}
	if err := gob.NewDecoder(bytes.NewReader(data)).Decode(v); err != nil {
		_ = os.Remove(p)
		return false
	}
	return true
}

// unchanged reports whether every recorded input is as the render saw it.
func unchanged(root string, inputs []Input, limits Limits) bool {
	realRoot, err := filepath.EvalSymlinks(root)
	if err != nil || len(inputs) == 0 {
		return false
	}
	for _, in := range inputs {
		if current(realRoot, root, in, limits) != in.Sum {
			return false
		}
	}
	return true
}

// invalid never equals a recorded Sum.
const invalid = "\x00"

// current is the Sum an input has now: what the render would record.
func current(realRoot, root string, in Input, limits Limits) string {
	p := filepath.Join(root, filepath.FromSlash(in.Path))
	real, err := filepath.EvalSymlinks(p)
	switch {
	case in.Kind == InputMissing:
		if errors.Is(err, fs.ErrNotExist) {
			return ""
		}
		return invalid
	case err != nil || !under(realRoot, real):
		return invalid
	}
	rel, err := filepath.Rel(realRoot, real)
	if err != nil {
		return invalid
	}
	rel = filepath.ToSlash(rel)
	switch in.Kind {
	case InputLink:
		return rel
	case InputDir:
		entries, err := os.ReadDir(real)
		if err != nil {
			return invalid
		}
		return listingSum(entries)
	case InputFile, InputLoaded:
		fi, err := os.Stat(real)
		if err != nil || !fi.Mode().IsRegular() || fi.Size() > limits.MaxFileBytes || rel != in.Path {
			return invalid
		}
		data, err := os.ReadFile(real)
		if err != nil {
			return invalid
		}
		return fileSum(data)
	}
	return invalid
}

// store keeps a successful render: its reply, named by its hash, and a manifest of
// its inputs. A cache that cannot be written warns once and stops trying.
func (c *Cache) store(key string, res *Result) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.broken || len(res.Inputs) == 0 {
		return
	}
	reply := replyOf(res)
	var data, mdata bytes.Buffer
	err := gob.NewEncoder(&data).Encode(&reply)
	if err == nil {
		err = gob.NewEncoder(&mdata).Encode(&manifest{Inputs: res.Inputs, Result: fileSum(data.Bytes())})
	}
	if err != nil {
		return
	}
	size := int64(data.Len() + mdata.Len())
	if size > c.maxBytes/2 {
		return // one entry may not push out everything else
	}
	c.evict(c.maxBytes - size)
	mdir := filepath.Join(c.dir, manifestsDir, key)
	err = errors.Join(
		cachedir.WriteAtomic(filepath.Join(c.dir, resultsDir), fileSum(data.Bytes()), data.Bytes()),
		os.MkdirAll(mdir, 0o700),
	)
	if err == nil {
		err = cachedir.WriteAtomic(mdir, fileSum(mdata.Bytes()), mdata.Bytes())
	}
	if err != nil {
		c.broken = true
		c.once.Do(func() {
			c.warn(fmt.Errorf("render cache %s cannot be written (%w): rendering without it", c.dir, err))
		})
		return
	}
	c.trimVariants(mdir)
}

// trimVariants keeps the newest maxVariants manifests of a key.
func (c *Cache) trimVariants(mdir string) {
	entries, err := os.ReadDir(mdir)
	if err != nil || len(entries) <= maxVariants {
		return
	}
	for _, name := range newestFirst(mdir, entries)[maxVariants:] {
		_ = os.Remove(filepath.Join(mdir, name))
	}
}

// evict removes the least recently used files until the cache holds at most limit
// bytes. A manifest whose result is gone is a miss, removed when next seen.
func (c *Cache) evict(limit int64) {
	type file struct {
		path string
		size int64
		mod  time.Time
	}
	var files []file
	var total int64
	_ = filepath.WalkDir(c.dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return nil
		}
		if fi, err := d.Info(); err == nil {
			files = append(files, file{p, fi.Size(), fi.ModTime()})
			total += fi.Size()
		}
		return nil
	})
	if total <= limit {
		return
	}
	slices.SortFunc(files, func(a, b file) int { return a.mod.Compare(b.mod) })
	for _, f := range files {
		if total <= limit {
			break
		}
		if os.Remove(f.path) == nil {
			total -= f.size
		}
	}
}
