package forge

import (
	"context"
	"fmt"
	"net/http"
	"strings"

	"code.gitea.io/sdk/gitea"
)

// giteaClient speaks Gitea's API, which Forgejo serves too.
type giteaClient struct {
	repo  Repository
	token string
	hc    *http.Client
	ua    string
}

func newGitea(repo Repository, opts Options, hc *http.Client) (Client, error) {
	if opts.Credentials.Token == "" {
		return nil, fmt.Errorf("%s: Gitea and Forgejo need a token", repo)
	}
	return &giteaClient{repo: repo, token: opts.Credentials.Token, hc: hc, ua: opts.UserAgent}, nil
}

func (c *giteaClient) Provider() Provider { return c.repo.Provider }

// api returns an SDK client bound to ctx: the SDK takes its context per client.
// The server version is not asked for: every call here exists since Gitea 1.11.
func (c *giteaClient) api(ctx context.Context) (*gitea.Client, error) {
	api, err := gitea.NewClient(c.repo.Address, gitea.SetToken(c.token), gitea.SetHTTPClient(c.hc),
		gitea.SetContext(ctx), gitea.SetUserAgent(c.ua), gitea.SetGiteaVersion(""))
	if err != nil {
		return nil, fmt.Errorf("%s API at %s: %w", c.repo.Provider, c.repo.Address, err)
	}
	return api, nil
}

func (c *giteaClient) SetStatus(ctx context.Context, s Status) error {
	api, err := c.api(ctx)
	if err != nil {
		return err
	}
	_, resp, err := api.CreateStatus(c.repo.Owner, c.repo.Name, s.Commit, gitea.CreateStatusOption{
		State:       gitea.StatusState(s.State),
		Context:     s.Context,
		Description: shorten(s.Description, DescriptionLimit(c.repo.Provider)),
		TargetURL:   s.TargetURL,
	})
	if err != nil {
		return fmt.Errorf("post status %s=%s on %s in %s: %w%s", s.Context, s.State, s.Commit, c.repo, err, giteaHint(resp))
	}
	return nil
}

func (c *giteaClient) EnsureChange(ctx context.Context, req ChangeRequest) (*Change, error) {
	api, err := c.api(ctx)
	if err != nil {
		return nil, err
	}
	open, err := c.find(api, gitea.StateOpen, func(pr *gitea.PullRequest) bool {
		return pr.Base != nil && giteaHead(pr) == req.Head && pr.Base.Ref == req.Base
	})
	if err != nil {
		return nil, err
	}
	if open == nil {
		pr, resp, err := api.CreatePullRequest(c.repo.Owner, c.repo.Name, gitea.CreatePullRequestOption{
			Head: req.Head, Base: req.Base, Title: req.Title, Body: req.Body,
		})
		if err != nil {
			return nil, fmt.Errorf("open a pull request from %s to %s in %s: %w%s", req.Head, req.Base, c.repo, err, giteaHint(resp))
		}
		return giteaChange(pr), nil
	}
	if open.Title == req.Title && open.Body == req.Body {
		return giteaChange(open), nil
	}
	body := req.Body
	pr, resp, err := api.EditPullRequest(c.repo.Owner, c.repo.Name, open.Index, gitea.EditPullRequestOption{Title: req.Title, Body: &body})
	if err != nil {
		return nil, fmt.Errorf("update pull request #%d in %s: %w%s", open.Index, c.repo, err, giteaHint(resp))
	}
	return giteaChange(pr), nil
}

func (c *giteaClient) MergedChange(ctx context.Context, head, base, commit string) (*Change, error) {
	api, err := c.api(ctx)
	if err != nil {
		return nil, err
	}
	pr, err := c.find(api, gitea.StateClosed, func(pr *gitea.PullRequest) bool {
		return pr.HasMerged && pr.Head != nil && pr.Base != nil && giteaHead(pr) == head && pr.Base.Ref == base &&
			(pr.Head.Sha == commit || (pr.MergedCommitID != nil && *pr.MergedCommitID == commit))
	})
	if err != nil || pr == nil {
		return nil, err
	}
	// A listed pull request may leave out who merged it: read it whole.
	full, resp, err := api.GetPullRequest(c.repo.Owner, c.repo.Name, pr.Index)
	if err != nil {
		return nil, fmt.Errorf("get pull request #%d in %s: %w%s", pr.Index, c.repo, err, giteaHint(resp))
	}
	ch := giteaChange(full)
	var reviews []review
	for page := 1; ; page++ {
		rs, resp, err := api.ListPullReviews(c.repo.Owner, c.repo.Name, pr.Index, gitea.ListPullReviewsOptions{ListOptions: gitea.ListOptions{Page: page, PageSize: 50}})
		if err != nil {
			return nil, fmt.Errorf("list reviews of pull request #%d in %s: %w%s", pr.Index, c.repo, err, giteaHint(resp))
		}
		for _, r := range rs {
			if r.Reviewer == nil {
				continue
			}
			says := commented
			switch r.State {
			case gitea.ReviewStateApproved:
				says = approved
			case gitea.ReviewStateRequestChanges:
				says = changesRequested
			}
			reviews = append(reviews, review{user: r.Reviewer.UserName, says: says, dismissed: r.Dismissed, commit: r.CommitID})
		}
		if resp == nil || resp.NextPage == 0 || len(rs) == 0 {
			break
		}
	}
	ch.ApprovedBy = approvers(reviews, ch.HeadCommit)
	return ch, nil
}

// find returns the most recently updated pull request in state that matches, looking
// at the first pages only: the gate's own pull request is among the recent ones.
func (c *giteaClient) find(api *gitea.Client, state gitea.StateType, match func(*gitea.PullRequest) bool) (*gitea.PullRequest, error) {
	for page := 1; page <= 5; page++ {
		prs, resp, err := api.ListRepoPullRequests(c.repo.Owner, c.repo.Name, gitea.ListPullRequestsOptions{
			ListOptions: gitea.ListOptions{Page: page, PageSize: 50}, State: state, Sort: "recentupdate",
		})
		if err != nil {
			return nil, fmt.Errorf("list pull requests of %s: %w%s", c.repo, err, giteaHint(resp))
		}
		for _, pr := range prs {
			if match(pr) {
				return pr, nil
			}
		}
		if resp == nil || resp.NextPage == 0 || len(prs) == 0 {
			return nil, nil
		}
	}
	return nil, nil
}

func giteaChange(pr *gitea.PullRequest) *Change {
	ch := &Change{Number: pr.Index, URL: pr.HTMLURL, Title: pr.Title, Body: pr.Body,
		Open: pr.State == gitea.StateOpen, Merged: pr.HasMerged}
	if pr.Head != nil {
		ch.Head, ch.HeadCommit = giteaHead(pr), pr.Head.Sha
	}
	if pr.Base != nil {
		ch.Base = pr.Base.Ref
	}
	if pr.MergedCommitID != nil {
		ch.MergeCommit = *pr.MergedCommitID
	}
	if pr.MergedBy != nil {
		ch.MergedBy = pr.MergedBy.UserName
	}
	return ch
}

// giteaHead is a pull request's head branch. Once the branch is deleted (after a
// merge, when asked to), Gitea names refs/pull/N/head as the ref and keeps the
// branch's name in the label.
func giteaHead(pr *gitea.PullRequest) string {
	if pr.Head == nil {
		return ""
	}
	if strings.HasPrefix(pr.Head.Ref, "refs/pull/") && pr.Head.Name != "" {
		return pr.Head.Name
	}
	return pr.Head.Ref
}

// giteaHint adds what a person can do about the usual refusals.
func giteaHint(resp *gitea.Response) string {
	if resp == nil || resp.Response == nil {
		return ""
	}
	return statusHint(resp.StatusCode)
}
