package giteatest

import (
	"context"
	"encoding/base64"
	"fmt"
	"net/http"
	"sort"
	"time"

	"code.gitea.io/sdk/gitea"
)

// CommitFile writes path on branch as user, through the API (one commit), creating
// branch from base when it does not exist. It returns the new commit.
func (s *Server) CommitFile(ctx context.Context, user, repo, base, branch, path, content string) (string, error) {
	c, err := s.Client(ctx, user)
	if err != nil {
		return "", err
	}
	opts := gitea.FileOptions{Message: "Update " + path, BranchName: branch}
	if _, resp, err := c.GetRepoBranch(Admin, repo, branch); err != nil {
		if resp == nil || resp.StatusCode != http.StatusNotFound {
			return "", fmt.Errorf("read branch %s: %w", branch, err)
		}
		opts.BranchName, opts.NewBranchName = base, branch
	}
	enc := base64.StdEncoding.EncodeToString([]byte(content))
	ref := opts.BranchName
	var fr *gitea.FileResponse
	if cur, _, err := c.GetContents(Admin, repo, ref, path); err == nil && cur != nil {
		fr, _, err = c.UpdateFile(Admin, repo, path, gitea.UpdateFileOptions{FileOptions: opts, SHA: cur.SHA, Content: enc})
		if err != nil {
			return "", fmt.Errorf("update %s on %s: %w", path, branch, err)
		}
	} else {
		fr, _, err = c.CreateFile(Admin, repo, path, gitea.CreateFileOptions{FileOptions: opts, Content: enc})
		if err != nil {
			return "", fmt.Errorf("create %s on %s: %w", path, branch, err)
		}
	}
	if fr.Commit == nil {
		return "", fmt.Errorf("commit of %s on %s: the server named no commit", path, branch)
	}
	return fr.Commit.SHA, nil
}

// Head is the commit branch points at; "" when it does not exist.
func (s *Server) Head(ctx context.Context, repo, branch string) (string, error) {
	c, err := s.Client(ctx, Admin)
	if err != nil {
		return "", err
	}
	b, resp, err := c.GetRepoBranch(Admin, repo, branch)
	if resp != nil && resp.StatusCode == http.StatusNotFound {
		return "", nil
	}
	if err != nil {
		return "", fmt.Errorf("read branch %s: %w", branch, err)
	}
	return b.Commit.ID, nil
}

// Approve submits user's approving review of pull request number.
func (s *Server) Approve(ctx context.Context, user, repo string, number int64) error {
	c, err := s.Client(ctx, user)
	if err != nil {
		return err
	}
	if _, _, err := c.CreatePullReview(Admin, repo, number, gitea.CreatePullReviewOptions{
		State: gitea.ReviewStateApproved, Body: "Looks right to me.",
	}); err != nil {
		return fmt.Errorf("%s approves #%d: %w", user, number, err)
	}
	return nil
}

// Merge asks, as user, for a fast-forward-only merge of pull request number and
// returns the server's HTTP status: 200 when merged, 405 when branch protection (a
// required status that is not success) refuses it. It first waits until Gitea has
// checked the pull request's head for conflicts, which it does in the background
// after each push; before that Gitea refuses every merge, for that reason alone.
func (s *Server) Merge(ctx context.Context, user, repo string, number int64) (int, error) {
	return s.merge(ctx, user, repo, number, false)
}

// MergeDeletingBranch is Merge with the head branch deleted after the merge, as
// forges do when a repository asks them to.
func (s *Server) MergeDeletingBranch(ctx context.Context, user, repo string, number int64) (int, error) {
	return s.merge(ctx, user, repo, number, true)
}

func (s *Server) merge(ctx context.Context, user, repo string, number int64, deleteBranch bool) (int, error) {
	c, err := s.Client(ctx, user)
	if err != nil {
		return 0, err
	}
	for deadline := time.Now().Add(30 * time.Second); ; time.Sleep(100 * time.Millisecond) {
		pr, _, err := c.GetPullRequest(Admin, repo, number)
		if err != nil {
			return 0, fmt.Errorf("read #%d: %w", number, err)
		}
		if pr.Mergeable {
			break
		}
		if time.Now().After(deadline) {
			return 0, fmt.Errorf("#%d: Gitea never found it mergeable (conflicts, or the check did not run)", number)
		}
	}
	_, resp, err := c.MergePullRequest(Admin, repo, number, gitea.MergePullRequestOption{Style: gitea.MergeStyleFastForwardOnly,
		DeleteBranchAfterMerge: &deleteBranch})
	if resp == nil {
		return 0, fmt.Errorf("%s merges #%d: %w", user, number, err)
	}
	return resp.StatusCode, nil
}

// Pull reads pull request number as the administrator.
func (s *Server) Pull(ctx context.Context, repo string, number int64) (*gitea.PullRequest, error) {
	c, err := s.Client(ctx, Admin)
	if err != nil {
		return nil, err
	}
	pr, _, err := c.GetPullRequest(Admin, repo, number)
	return pr, err
}

// Statuses are the statuses of commit, newest first, as the administrator reads them.
func (s *Server) Statuses(ctx context.Context, repo, commit string) ([]*gitea.Status, error) {
	c, err := s.Client(ctx, Admin)
	if err != nil {
		return nil, err
	}
	st, _, err := c.ListStatuses(Admin, repo, commit, gitea.ListStatusesOption{})
	sort.Slice(st, func(i, j int) bool { return st[i].ID > st[j].ID })
	return st, err
}

// Commit is one commit written through the API.
type Commit struct {
	// User writes it (with their token); the author is User unless AuthorName is set.
	User                    string
	AuthorName, AuthorEmail string
	// Branch gets the commit; when it does not exist it is made from Base ("" on an
	// empty repository).
	Base, Branch string
	Message      string
	// Files are the paths and contents to write; others stay as they are.
	Files map[string]string
}

// CommitFiles writes c as one commit and returns it.
func (s *Server) CommitFiles(ctx context.Context, repo string, c Commit) (string, error) {
	api, err := s.Client(ctx, c.User)
	if err != nil {
		return "", err
	}
	opts := gitea.ChangeFilesOptions{Message: c.Message, Branch: c.Branch}
	if c.AuthorName != "" {
		opts.Author = gitea.Identity{Name: c.AuthorName, Email: c.AuthorEmail}
		opts.Committer = opts.Author
	}
	ref := c.Branch
	if _, resp, err := api.GetRepoBranch(Admin, repo, c.Branch); err != nil {
		if resp == nil || resp.StatusCode != http.StatusNotFound {
			return "", fmt.Errorf("read branch %s: %w", c.Branch, err)
		}
		opts.Branch, opts.NewBranch, ref = c.Base, c.Branch, c.Base
	}
	paths := make([]string, 0, len(c.Files))
	for p := range c.Files {
		paths = append(paths, p)
	}
	sort.Strings(paths)
	for _, p := range paths {
		op := &gitea.ChangeFileOperation{Operation: "create", Path: p, Content: base64.StdEncoding.EncodeToString([]byte(c.Files[p]))}
		if ref != "" {
			if cur, _, err := api.GetContents(Admin, repo, ref, p); err == nil && cur != nil {
				op.Operation, op.SHA = "update", cur.SHA
			}
		}
		opts.Files = append(opts.Files, op)
	}
	fr, _, err := api.ChangeFiles(Admin, repo, opts)
	if err != nil {
		return "", fmt.Errorf("commit %d file(s) to %s: %w", len(paths), c.Branch, err)
	}
	if fr.Commit == nil {
		return "", fmt.Errorf("commit to %s: the server named no commit", c.Branch)
	}
	return fr.Commit.SHA, nil
}

// ReadFile reads path at ref.
func (s *Server) ReadFile(ctx context.Context, repo, ref, path string) ([]byte, error) {
	api, err := s.Client(ctx, Admin)
	if err != nil {
		return nil, err
	}
	data, _, err := api.GetFile(Admin, repo, ref, path)
	if err != nil {
		return nil, fmt.Errorf("read %s at %s: %w", path, ref, err)
	}
	return data, nil
}
