package git

import (
	"errors"
	"fmt"

	"github.com/go-git/go-git/v5/plumbing"
	"github.com/go-git/go-git/v5/plumbing/object"
	"github.com/go-git/go-git/v5/plumbing/storer"

	"github.com/promotion-gate/promotion-gate/shared/gitrev"
)

// ErrBranchNotFound is returned by Head when the remote has no such branch.
var ErrBranchNotFound = errors.New("branch not found")

// Head returns the commit a remote branch pointed to at the last fetch.
func (s *Session) Head(branch string) (string, error) {
	ref, err := s.e.repo.Reference(plumbing.NewRemoteReferenceName("origin", branch), true)
	if errors.Is(err, plumbing.ErrReferenceNotFound) {
		return "", fmt.Errorf("%w: %s in %s", ErrBranchNotFound, branch, Redact(s.url))
	}
	if err != nil {
		return "", fmt.Errorf("read branch %s of %s: %w", branch, Redact(s.url), err)
	}
	return ref.Hash().String(), nil
}

// Commit returns a commit object, with its signature, for checks that need more than
// the summary CommitsAhead gives (commit signatures).
func (s *Session) Commit(hash string) (*object.Commit, error) {
	return s.commit(hash)
}

func (s *Session) commit(hash string) (*object.Commit, error) {
	c, err := s.e.repo.CommitObject(plumbing.NewHash(hash))
	if err != nil {
		return nil, fmt.Errorf("read commit %s of %s: %w", hash, Redact(s.url), err)
	}
	return c, nil
}

// IsAncestor reports whether ancestor is reachable from commit (a commit is its own
// ancestor), as `git merge-base --is-ancestor` does. The walk starts at commit, so
// the common case, a proposal a few commits ahead of its target, ends quickly.
func (s *Session) IsAncestor(ancestor, commit string) (bool, error) {
	if ancestor == commit {
		return true, nil
	}
	a, err := s.commit(ancestor)
	if err != nil {
		return false, err
	}
	c, err := s.commit(commit)
	if err != nil {
		return false, err
	}
	// Walk newest first and give up below the ancestor's commit time (less a day
	// for clock skew): a descendant is not older than its ancestor, so a stale
	// proposal does not cost a walk of the whole history.
	floor := a.Committer.When.AddDate(0, 0, -1)
	found := false
	err = object.NewCommitIterCTime(c, nil, nil).ForEach(func(x *object.Commit) error {
		if x.Hash == a.Hash {
			found = true
			return storer.ErrStop
		}
		if x.Committer.When.Before(floor) {
			return storer.ErrStop
		}
		return nil
	})
	if err != nil {
		return false, fmt.Errorf("walk history of %s: %w", commit, err)
	}
	return found, nil
}

// ChangedFiles lists the files (repository-relative, slash-separated, sorted) that
// differ between the trees of two commits; a rename counts as both names.
func (s *Session) ChangedFiles(from, to string) ([]string, error) {
	return s.revisions().ChangedFiles(from, to)
}

// revisions reads this session's clone as the promotion engine reads any revisions.
func (s *Session) revisions() *gitrev.Repository { return gitrev.New(s.e.repo) }

// ErrFileNotFound is returned by ReadFile when the commit has no such file; it is the
// sentinel of shared/gitrev, so that the promotion engine recognises it.
var ErrFileNotFound = gitrev.ErrFileNotFound

// ReadFile returns a file's content at a commit, refusing files larger than limit
// bytes: the content comes from whoever can push to the proposal branch.
func (s *Session) ReadFile(commit, path string, limit int64) ([]byte, error) {
	return s.revisions().ReadFile(commit, path, limit)
}

// Commit is who wrote one commit and what it says.
type Commit struct {
	Hash        string
	AuthorName  string
	AuthorEmail string
	Subject     string
	// Parents is the number of parents: more than one for a merge.
	Parents int
}

// ErrTooManyCommits is returned by CommitsAhead when the walk exceeds its bound.
var ErrTooManyCommits = errors.New("too many commits")

// CommitsAhead lists the commits reachable from head but not from base, newest
// first, as `git log base..head` would, walking at most max commits. It stops at
// the merge bases of the two, which is exact for a branch forked from base's
// history and merged only from it.
func (s *Session) CommitsAhead(base, head string, max int) ([]Commit, error) {
	b, err := s.commit(base)
	if err != nil {
		return nil, err
	}
	h, err := s.commit(head)
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
	var out []Commit
	err = object.NewCommitPreorderIter(h, stop, nil).ForEach(func(c *object.Commit) error {
		if len(out) == max {
			return ErrTooManyCommits
		}
		out = append(out, Commit{
			Hash:        c.Hash.String(),
			AuthorName:  c.Author.Name,
			AuthorEmail: c.Author.Email,
			Subject:     subject(c.Message),
			Parents:     c.NumParents(),
		})
		return nil
	})
	if errors.Is(err, ErrTooManyCommits) {
		return out, fmt.Errorf("%w: more than %d commits in %s..%s", ErrTooManyCommits, max, base, head)
	}
	if err != nil {
		return nil, fmt.Errorf("walk %s..%s: %w", base, head, err)
	}
	return out, nil
}

// Commits returns the commit objects of base..head, newest first, with their
// signatures, at most max.
func (s *Session) Commits(base, head string, max int) ([]*object.Commit, error) {
	return s.revisions().Commits(base, head, max)
}

// Export writes the regular files of a commit that keep accepts (all when nil) under
// dir, within lim, so that the renderer reads the commit as it reads a work tree.
func (s *Session) Export(commit, dir string, lim gitrev.Limits, keep func(path string) bool) error {
	return s.revisions().Export(commit, dir, lim, keep)
}

func subject(msg string) string {
	for i, r := range msg {
		if r == '\n' {
			return msg[:i]
		}
	}
	return msg
}
