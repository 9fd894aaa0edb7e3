package forge

import (
	"context"
	"fmt"
	"net/http"
	"strings"

	gitlab "gitlab.com/gitlab-org/api/client-go/v2"
)

// gitlabClient speaks GitLab's REST API v4: commit statuses, merge requests and
// their approvals.
type gitlabClient struct {
	repo Repository
	api  *gitlab.Client
}

func newGitLab(repo Repository, opts Options, hc *http.Client) (Client, error) {
	if opts.Credentials.Token == "" {
		return nil, fmt.Errorf("%s: GitLab needs a token", repo)
	}
	// The retry transport retries for every provider alike; the client's own
	// retries would multiply them.
	api, err := gitlab.NewClient(opts.Credentials.Token, gitlab.WithBaseURL(strings.TrimSuffix(repo.Address, "/")+"/api/v4"),
		gitlab.WithHTTPClient(hc), gitlab.WithoutRetries(), gitlab.WithUserAgent(opts.UserAgent))
	if err != nil {
		return nil, fmt.Errorf("%s: %w", repo, err)
	}
	return &gitlabClient{repo: repo, api: api}, nil
}

func (c *gitlabClient) Provider() Provider { return GitLab }

func (c *gitlabClient) project() string { return c.repo.Owner + "/" + c.repo.Name }

// gitlabState maps a status state to GitLab's: GitLab has no "error", and a commit
// that could not be judged must not look mergeable, so it is "failed" too (as
// Flux's notification-controller maps it).
func gitlabState(s State) gitlab.BuildStateValue {
	switch s {
	case Success:
		return gitlab.Success
	case Pending:
		return gitlab.Running
	}
	return gitlab.Failed
}

func (c *gitlabClient) SetStatus(ctx context.Context, s Status) error {
	opt := &gitlab.SetCommitStatusOptions{
		State:       gitlabState(s.State),
		Name:        gitlab.Ptr(s.Context),
		Description: gitlab.Ptr(shorten(s.Description, otherDescriptionMax)),
	}
	if s.TargetURL != "" {
		opt.TargetURL = gitlab.Ptr(s.TargetURL)
	}
	_, resp, err := c.api.Commits.SetCommitStatus(c.project(), s.Commit, opt, gitlab.WithContext(ctx))
	if err != nil {
		return fmt.Errorf("post status %s=%s on %s in %s: %w%s", s.Context, s.State, s.Commit, c.repo, err, gitlabHint(resp))
	}
	return nil
}

func (c *gitlabClient) EnsureChange(ctx context.Context, req ChangeRequest) (*Change, error) {
	mrs, resp, err := c.api.MergeRequests.ListProjectMergeRequests(c.project(), &gitlab.ListProjectMergeRequestsOptions{
		State: gitlab.Ptr("opened"), SourceBranch: gitlab.Ptr(req.Head), TargetBranch: gitlab.Ptr(req.Base),
	}, gitlab.WithContext(ctx))
	if err != nil {
		return nil, fmt.Errorf("list merge requests from %s to %s in %s: %w%s", req.Head, req.Base, c.repo, err, gitlabHint(resp))
	}
	if len(mrs) == 0 {
		mr, resp, err := c.api.MergeRequests.CreateMergeRequest(c.project(), &gitlab.CreateMergeRequestOptions{
			Title: gitlab.Ptr(req.Title), Description: gitlab.Ptr(req.Body),
			SourceBranch: gitlab.Ptr(req.Head), TargetBranch: gitlab.Ptr(req.Base),
		}, gitlab.WithContext(ctx))
		if err != nil {
			return nil, fmt.Errorf("open a merge request from %s to %s in %s: %w%s", req.Head, req.Base, c.repo, err, gitlabHint(resp))
		}
		return gitlabChange(&mr.BasicMergeRequest), nil
	}
	open := mrs[0]
	if open.Title == req.Title && open.Description == req.Body {
		return gitlabChange(open), nil
	}
	mr, resp, err := c.api.MergeRequests.UpdateMergeRequest(c.project(), open.IID, &gitlab.UpdateMergeRequestOptions{
		Title: gitlab.Ptr(req.Title), Description: gitlab.Ptr(req.Body),
	}, gitlab.WithContext(ctx))
	if err != nil {
		return nil, fmt.Errorf("update merge request !%d in %s: %w%s", open.IID, c.repo, err, gitlabHint(resp))
	}
	return gitlabChange(&mr.BasicMergeRequest), nil
}

func (c *gitlabClient) MergedChange(ctx context.Context, head, base, commit string) (*Change, error) {
	mrs, resp, err := c.api.MergeRequests.ListProjectMergeRequests(c.project(), &gitlab.ListProjectMergeRequestsOptions{
		State: gitlab.Ptr("merged"), SourceBranch: gitlab.Ptr(head), TargetBranch: gitlab.Ptr(base),
		OrderBy: gitlab.Ptr("updated_at"),
	}, gitlab.WithContext(ctx))
	if err != nil {
		return nil, fmt.Errorf("list merge requests from %s to %s in %s: %w%s", head, base, c.repo, err, gitlabHint(resp))
	}
	for _, mr := range mrs {
		if mr.SHA != commit && mr.MergeCommitSHA != commit {
			continue
		}
		ch := gitlabChange(mr)
		// GitLab keeps the approvals that stand (a new push may reset them, as the
		// project decides); approved_by lists exactly those.
		ap, resp, err := c.api.MergeRequestApprovals.GetConfiguration(c.project(), mr.IID, gitlab.WithContext(ctx))
		if err != nil {
			return nil, fmt.Errorf("get approvals of merge request !%d in %s: %w%s", mr.IID, c.repo, err, gitlabHint(resp))
		}
		var reviews []review
		for _, a := range ap.ApprovedBy {
			if a.User != nil {
				reviews = append(reviews, review{user: a.User.Username, says: approved})
			}
		}
		ch.ApprovedBy = approvers(reviews, ch.HeadCommit)
		return ch, nil
	}
	return nil, nil
}

func gitlabChange(mr *gitlab.BasicMergeRequest) *Change {
	ch := &Change{
		Number: mr.IID, URL: mr.WebURL, Title: mr.Title, Body: mr.Description,
		Head: mr.SourceBranch, Base: mr.TargetBranch, HeadCommit: mr.SHA,
		Open: mr.State == "opened", Merged: mr.State == "merged", MergeCommit: mr.MergeCommitSHA,
	}
	if ch.MergeCommit == "" && ch.Merged {
		// A fast-forward merge adds no commit: the target is at the head itself.
		ch.MergeCommit = mr.SHA
	}
	if mr.MergedBy != nil {
		ch.MergedBy = mr.MergedBy.Username
	}
	return ch
}

func gitlabHint(resp *gitlab.Response) string {
	if resp == nil || resp.Response == nil {
		return ""
	}
	return statusHint(resp.StatusCode)
}
