package render

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
)

// confinement is the file access of one render: every path is resolved through its
// symlinks and must stay under the repository root, every read counts against the
// limits. It is used by one render at a time.
type confinement struct {
	ctx    context.Context
	limits Limits
	// lexical is the absolute, cleaned root as given; real is the same with every
	// symlink resolved. Paths may come in either form.
	lexical, real string
	total         int64
	counted       map[string]bool
	// inputs records what the render read, by path: see Result.Inputs.
	inputs map[string]Input
	// sticky holds the first confinement, limit or cancellation error. Renderers that
	// swallow file errors (kustomize probes for files) report it instead of their own.
	sticky error
	// callerParses is set in a render worker: the process that started it parses the
	// output back and compares it (workerReply.result), so the worker does not.
	callerParses bool
}

func newConfinement(ctx context.Context, root string, limits Limits) (*confinement, error) {
	abs, err := filepath.Abs(root)
	if err != nil {
		return nil, fmt.Errorf("repository root %s: %w", root, err)
	}
	real, err := filepath.EvalSymlinks(abs)
	if err != nil {
		return nil, fmt.Errorf("repository root %s: %w", root, err)
	}
	return &confinement{ctx: ctx, limits: limits, lexical: abs, real: real,
		counted: map[string]bool{}, inputs: map[string]Input{}}, nil
}

// record notes that the render depended on p (an absolute path inside the root) as
// kind, having seen sum there. A file read wins over a listing, a listing over a link,
// and any of them over a probe that found nothing.
func (c *confinement) record(p string, kind InputKind, sum string) {
	if prev, ok := c.inputs[p]; !ok || kind > prev.Kind {
		c.inputs[p] = Input{Path: c.display(p), Kind: kind, Sum: sum}
	}
}

// listDir lists a directory inside the root and records the listing as an input.
func (c *confinement) listDir(p string) ([]os.DirEntry, error) {
	real, err := c.resolve(p)
	if err != nil {
		return nil, err
	}
	entries, err := os.ReadDir(real)
	if err != nil {
		return nil, fmt.Errorf("list %s: %w", c.display(p), err)
	}
	c.record(real, InputDir, listingSum(entries))
	return entries, nil
}

// recordDir records the listing of a directory a renderer listed on its own.
func (c *confinement) recordDir(real string) {
	if entries, err := os.ReadDir(real); err == nil {
		c.record(real, InputDir, listingSum(entries))
	}
}

// listingSum is the sha256 of a directory's names and kinds of entry.
func listingSum(entries []os.DirEntry) string {
	h := sha256.New()
	for _, e := range entries {
		fmt.Fprintf(h, "%s\x00%d\x00", e.Name(), e.Type())
	}
	return hex.EncodeToString(h.Sum(nil))
}

// fileSum is the sha256 of a file's bytes.
func fileSum(data []byte) string {
	sum := sha256.Sum256(data)
	return hex.EncodeToString(sum[:])
}

// Inputs returns what the render read, repository-relative and sorted.
func (c *confinement) Inputs() []Input {
	out := make([]Input, 0, len(c.inputs))
	for _, in := range c.inputs {
		out = append(out, in)
	}
	slices.SortFunc(out, func(a, b Input) int { return strings.Compare(a.Path, b.Path) })
	return out
}

// stick records err as the render's failure unless one is already recorded.
func (c *confinement) stick(err error) error {
	if c.sticky == nil {
		c.sticky = err
	}
	return err
}

// live reports cancellation of the render's context.
func (c *confinement) live() error {
	if err := c.ctx.Err(); err != nil {
		return c.stick(fmt.Errorf("render canceled: %w", err))
	}
	return nil
}

// under reports whether p is root or below it.
func under(root, p string) bool {
	return p == root || strings.HasPrefix(p, root+string(filepath.Separator)) || root == string(filepath.Separator)
}

// display names p for people: repository-relative and slash-separated when it is
// inside the root, else as given.
func (c *confinement) display(p string) string {
	for _, root := range []string{c.real, c.lexical} {
		if under(root, p) {
			rel, err := filepath.Rel(root, p)
			if err == nil {
				return filepath.ToSlash(rel)
			}
		}
	}
	return p
}

// resolve makes p absolute, resolves its symlinks and refuses a result outside the
// root. A path that does not exist gives the os error (kustomize probes for files).
func (c *confinement) resolve(p string) (string, error) {
	if err := c.live(); err != nil {
		return "", err
	}
	abs, err := filepath.Abs(p)
	if err != nil {
		return "", err
	}
	if !under(c.lexical, abs) && !under(c.real, abs) {
		return "", c.stick(fmt.Errorf("%s is %w %s: only files inside the repository are rendered", p, ErrOutsideRoot, c.lexical))
	}
	real, err := filepath.EvalSymlinks(abs)
	if err != nil {
		if isNotExist(err) && under(c.lexical, abs) {
			// A probe that found nothing is an input too: a file added there later
			// changes what kustomize builds.
			c.record(abs, InputMissing, "")
		}
		return "", err
	}
	if !under(c.real, real) {
		return "", c.stick(c.escape(abs, real))
	}
	if rel := c.display(real); rel != c.display(abs) {
		// Reached through a link: where it points is an input, as the file is.
		c.record(abs, InputLink, rel)
	}
	return real, nil
}

// escape explains why abs resolved to real outside the root, naming the symlink that
// leaves it and that symlink's target.
func (c *confinement) escape(abs, real string) error {
	root := c.lexical
	if !under(root, abs) {
		root = c.real
	}
	rel, _ := filepath.Rel(root, abs)
	prefix := root
	for _, part := range strings.Split(rel, string(filepath.Separator)) {
		prefix = filepath.Join(prefix, part)
		fi, err := os.Lstat(prefix)
		if err != nil || fi.Mode()&fs.ModeSymlink == 0 {
			continue
		}
		resolved, err := filepath.EvalSymlinks(prefix)
		if err != nil || under(c.real, resolved) {
			continue
		}
		target, _ := os.Readlink(prefix)
		if target != resolved {
			target += " (" + resolved + ")"
		}
		return fmt.Errorf("symlink %s -> %s points %w: remove the link or copy the file into the repository",
			c.display(prefix), target, ErrOutsideRoot)
	}
	return fmt.Errorf("%s resolves to %s, %w: remove the link or copy the file into the repository",
		c.display(abs), real, ErrOutsideRoot)
}

// stat resolves p and stats the result.
func (c *confinement) stat(p string) (string, os.FileInfo, error) {
	real, err := c.resolve(p)
	if err != nil {
		return "", nil, err
	}
	fi, err := os.Stat(real)
	return real, fi, err
}

// readFile reads a regular file inside the root, within the per-file limit and the
// total budget. A file read twice is counted once.
func (c *confinement) readFile(p string) ([]byte, error) {
	real, fi, err := c.stat(p)
	if err != nil {
		return nil, err
	}
	name := c.display(p)
	if !fi.Mode().IsRegular() {
		return nil, fmt.Errorf("read %s: not a regular file", name)
	}
	if fi.Size() > c.limits.MaxFileBytes {
		return nil, c.stick(fmt.Errorf("%s is %d bytes, over the limit of %d bytes per file: %w", name, fi.Size(), c.limits.MaxFileBytes, ErrLimit))
	}
	if !c.counted[real] && c.total+fi.Size() > c.limits.MaxTotalBytes {
		return nil, c.stick(fmt.Errorf("reading %s takes the input over the limit of %d bytes in total: %w", name, c.limits.MaxTotalBytes, ErrLimit))
	}
	f, err := os.Open(real)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	// Read at most one byte past the limit: the file may grow after the stat.
	data, err := io.ReadAll(io.LimitReader(f, c.limits.MaxFileBytes+1))
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", name, err)
	}
	if int64(len(data)) > c.limits.MaxFileBytes {
		return nil, c.stick(fmt.Errorf("%s is over the limit of %d bytes per file: %w", name, c.limits.MaxFileBytes, ErrLimit))
	}
	if !c.counted[real] {
		c.counted[real] = true
		c.total += int64(len(data))
	}
	c.record(real, InputFile, fileSum(data))
	return data, nil
}

// isNotExist reports whether err says that a file is missing (and nothing worse).
func isNotExist(err error) bool {
	return errors.Is(err, fs.ErrNotExist)
}
