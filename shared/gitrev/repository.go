package gitrev

import (
	"errors"
	"fmt"
	"io"
	"sort"

	"github.com/go-git/go-git/v5"
	"github.com/go-git/go-git/v5/plumbing"
	"github.com/go-git/go-git/v5/plumbing/object"
)

// Repository reads the revisions of a local Git repository the way the promotion
// engine asks (check.Revisions): the files changed between two revisions, a file at a
// revision, the commits between, and a revision written into a directory.
type Repository struct {
	repo *git.Repository
}

// Open opens the Git repository that contains dir (a work tree or a bare repository).
func Open(dir string) (*Repository, error) {
	repo, err := git.PlainOpenWithOptions(dir, &git.PlainOpenOptions{DetectDotGit: true})
	if err != nil {
		return nil, fmt.Errorf("open Git repository at %s: %w", dir, err)
	}
	return &Repository{repo: repo}, nil
}

// New reads the revisions of a repository already open (a clone cache's).
func New(repo *git.Repository) *Repository { return &Repository{repo: repo} }

func (r *Repository) commit(rev string) (*object.Commit, error) {
	hash, err := r.repo.ResolveRevision(plumbing.Revision(rev))
	if err != nil {
		return nil, fmt.Errorf("resolve revision %q: %w (fetch it first, e.g. git fetch origin main)", rev, err)
	}
	c, err := r.repo.CommitObject(*hash)
	if err != nil {
		return nil, fmt.Errorf("read commit %s: %w", hash, err)
	}
	return c, nil
}

// ChangedFiles lists the files (repository-relative, slash-separated, sorted) that
// differ between the trees of two revisions; a rename counts as both names.
func (r *Repository) ChangedFiles(base, head string) ([]string, error) {
	var trees [2]*object.Tree
	for i, rev := range []string{base, head} {
		c, err := r.commit(rev)
		if err != nil {
			return nil, err
		}
		if trees[i], err = c.Tree(); err != nil {
			return nil, fmt.Errorf("read tree of %s: %w", rev, err)
		}
	}
	changes, err := object.DiffTree(trees[0], trees[1])
	if err != nil {
		return nil, fmt.Errorf("compare %s..%s: %w", base, head, err)
	}
	seen := map[string]bool{}
	for _, ch := range changes {
		for _, name := range []string{ch.From.Name, ch.To.Name} {
			if name != "" {
				seen[name] = true
			}
		}
	}
	files := make([]string, 0, len(seen))
	for f := range seen {
		files = append(files, f)
	}
	sort.Strings(files)
	return files, nil
}

// ReadFile returns a file at a revision, refusing more than limit bytes; a file the
// revision does not have wraps ErrFileNotFound.
func (r *Repository) ReadFile(rev, path string, limit int64) ([]byte, error) {
	c, err := r.commit(rev)
	if err != nil {
		return nil, err
	}
	f, err := c.File(path)
	if errors.Is(err, object.ErrFileNotFound) {
		return nil, fmt.Errorf("%w: %s at %s", ErrFileNotFound, path, rev)
	}
	if err != nil {
		return nil, fmt.Errorf("read %s at %s: %w", path, rev, err)
	}
	if limit > 0 && f.Size > limit {
		return nil, fmt.Errorf("read %s at %s: %d bytes is over the limit of %d: %w", path, rev, f.Size, limit, ErrLimit)
	}
	rd, err := f.Reader()
	if err != nil {
		return nil, fmt.Errorf("read %s at %s: %w", path, rev, err)
	}
	defer rd.Close()
	return io.ReadAll(rd)
}

// errStop ends a commit walk at its bound.
var errStop = errors.New("stop")

// Commits returns the commits reachable from head but not from base, newest first, as
// `git log base..head`; more than max is an error.
func (r *Repository) Commits(base, head string, max int) ([]*object.Commit, error) {
	b, err := r.commit(base)
	if err != nil {
		return nil, err
	}
	h, err := r.commit(head)
	if err != nil {
		return nil, err
	}
	bases, err := h.MergeBase(b)
	if err != nil {
		return nil, fmt.Errorf("find merge base of %s and %s: %w", base, head, err)
	}
	stop := map[plumbing.Hash]bool{}
	for _, mb := range bases {
		stop[mb.Hash] = true
	}
	var out []*object.Commit
	err = object.NewCommitPreorderIter(h, stop, nil).ForEach(func(c *object.Commit) error {
		if len(out) == max {
			return errStop
		}
		out = append(out, c)
		return nil
	})
	if errors.Is(err, errStop) {
		return nil, fmt.Errorf("more than %d commits in %s..%s: %w", max, base, head, ErrLimit)
	}
	if err != nil {
		return nil, fmt.Errorf("walk %s..%s: %w", base, head, err)
	}
	return out, nil
}

// Export writes the regular files of a revision that keep accepts (all when nil)
// under dir, within lim.
func (r *Repository) Export(rev, dir string, lim Limits, keep func(path string) bool) error {
	c, err := r.commit(rev)
	if err != nil {
		return err
	}
	return ExportCommit(c, dir, lim, keep)
}
