// Package gitrev writes the files of one Git revision into a directory, so that the
// renderer can read a past revision of a repository the same way it reads the work tree:
// the CLI compares a change with its base this way (changeScope).
package gitrev

import (
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/go-git/go-git/v5"
	"github.com/go-git/go-git/v5/plumbing"
	"github.com/go-git/go-git/v5/plumbing/filemode"
	"github.com/go-git/go-git/v5/plumbing/object"
)

// Limits bound what Export writes, so that a hostile or huge repository cannot fill the
// disk: the renderer reads at most this much anyway.
type Limits struct {
	MaxFileBytes  int64
	MaxTotalBytes int64
	MaxFiles      int
}

// DefaultLimits match the renderer's own limits.
var DefaultLimits = Limits{MaxFileBytes: 5 << 20, MaxTotalBytes: 256 << 20, MaxFiles: 100_000}

// ErrLimit is wrapped when a revision is larger than the limits.
var ErrLimit = errors.New("revision too large")

// Export resolves rev (a branch, tag, commit or expression such as HEAD~1) in the Git
// repository that contains repoDir, and writes the revision's regular files under dir.
// Symbolic links and submodules are skipped: the renderer would refuse a link that
// leaves the repository, and a submodule's content is not in this repository.
// It returns the commit it exported and the root of the work tree that contains repoDir:
// repoDir's counterpart in dir is dir joined with repoDir relative to that root.
func Export(repoDir, rev, dir string, lim Limits) (Exported, error) {
	repo, err := git.PlainOpenWithOptions(repoDir, &git.PlainOpenOptions{DetectDotGit: true})
	if err != nil {
		return Exported{}, fmt.Errorf("open Git repository at %s: %w (--base needs a Git work tree)", repoDir, err)
	}
	wt, err := repo.Worktree()
	if err != nil {
		return Exported{}, fmt.Errorf("open the work tree of %s: %w (--base needs a Git work tree, not a bare repository)", repoDir, err)
	}
	out := Exported{WorkTree: wt.Filesystem.Root()}
	hash, err := repo.ResolveRevision(plumbing.Revision(rev))
	if err != nil {
		return Exported{}, fmt.Errorf("resolve revision %q: %w (fetch it first, e.g. git fetch origin main)", rev, err)
	}
	commit, err := repo.CommitObject(*hash)
	if err != nil {
		return Exported{}, fmt.Errorf("read commit %s: %w", hash, err)
	}
	tree, err := commit.Tree()
	if err != nil {
		return Exported{}, fmt.Errorf("read tree of %s: %w", hash, err)
	}
	w := writer{dir: dir, lim: lim}
	if err := tree.Files().ForEach(w.write); err != nil {
		return Exported{}, fmt.Errorf("export %s (%s): %w", rev, hash.String()[:12], err)
	}
	out.Commit = hash.String()
	return out, nil
}

// Exported says what Export wrote.
type Exported struct {
	// Commit is the hash of the exported commit.
	Commit string
	// WorkTree is the root of the Git work tree the revision was read from.
	WorkTree string
}

type writer struct {
	dir   string
	lim   Limits
	keep  func(string) bool // nil keeps every file
	files int
	total int64
}

func (w *writer) write(f *object.File) error {
	if f.Mode != filemode.Regular && f.Mode != filemode.Executable {
		return nil
	}
	if w.keep != nil && !w.keep(f.Name) {
		return nil
	}
	if !filepath.IsLocal(filepath.FromSlash(f.Name)) || strings.Contains(f.Name, "\\") {
		return fmt.Errorf("file %q: path leaves the repository", f.Name)
	}
	w.files++
	w.total += f.Size
	switch {
	case f.Size > w.lim.MaxFileBytes:
		return fmt.Errorf("file %s is %d bytes, over %d: %w", f.Name, f.Size, w.lim.MaxFileBytes, ErrLimit)
	case w.total > w.lim.MaxTotalBytes:
		return fmt.Errorf("more than %d bytes of files: %w", w.lim.MaxTotalBytes, ErrLimit)
	case w.files > w.lim.MaxFiles:
		return fmt.Errorf("more than %d files: %w", w.lim.MaxFiles, ErrLimit)
	}
	p := filepath.Join(w.dir, filepath.FromSlash(f.Name))
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		return err
	}
	r, err := f.Reader()
	if err != nil {
		return fmt.Errorf("read %s: %w", f.Name, err)
	}
	defer r.Close()
	out, err := os.OpenFile(p, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o644)
	if err != nil {
		return err
	}
	if _, err := io.Copy(out, io.LimitReader(r, w.lim.MaxFileBytes)); err != nil {
		out.Close()
		return fmt.Errorf("write %s: %w", f.Name, err)
	}
	return out.Close()
}
